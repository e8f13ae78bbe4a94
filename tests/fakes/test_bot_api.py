"""Tests for the fake Telegram Bot API server (offline, 127.0.0.1 only)."""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import logging
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import telegram
from telegram import (
    ChatMemberAdministrator,
    ChatMemberMember,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.error import BadRequest, ChatMigrated, Forbidden, InvalidToken, RetryAfter
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from fakes.bot_api import FakeBotApi, HtmlParseError, parse_html, utf16_len

TOKEN = "123456:TEST-secret-token-xyz"
ROOT = Path(__file__).resolve().parents[2]


class FakeClock:
    """A hand-driven monotonic clock for flood-control tests."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi(TOKEN) as server:
        yield server


@pytest.fixture
async def client(api: FakeBotApi) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"{api.root_url}/bot{TOKEN}/", timeout=10) as c:
        yield c


@pytest.fixture
async def bot(api: FakeBotApi) -> AsyncIterator[telegram.Bot]:
    async with telegram.Bot(TOKEN, base_url=api.base_url) as b:
        yield b


async def call(client: httpx.AsyncClient, method: str, **params: Any) -> tuple[int, Any]:
    """POST a JSON body, as many Bot API clients do; return (status, decoded body)."""
    response = await client.post(method, json=params)
    return response.status_code, response.json()


def keyboard(*buttons: dict[str, Any]) -> dict[str, Any]:
    return {"inline_keyboard": [list(buttons)]}


# -- HTML parse mode ------------------------------------------------------------------------


def test_parse_html_decodes_entities_and_tags() -> None:
    text, entities = parse_html("<b>粗体</b> &lt;x&gt; &amp; &quot; &#65;&#x42; <i>i</i>")
    assert text == '粗体 <x> & " AB i'
    assert entities == [
        {"offset": 0, "length": 2, "type": "bold"},
        {"offset": 14, "length": 1, "type": "italic"},
    ]


def test_parse_html_all_supported_tags() -> None:
    html = (
        '<a href="https://www.nen.com.cn/a?b=1&amp;c=2">链接</a>'
        '<pre><code class="language-python">x = 1</code></pre>'
        "<blockquote expandable>q</blockquote><blockquote>r</blockquote>"
        '<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler>'
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>'
        "<STRONG>u</STRONG><em>v</em><ins>w</ins><u>w</u><s>x</s><strike>y</strike><del>z</del>"
        "<code>c</code>"
    )
    text, entities = parse_html(html)
    assert text == "链接x = 1qrst👍uvwwxyzc"
    types = [e["type"] for e in entities]
    assert types == [
        "text_link",
        "pre",
        "expandable_blockquote",
        "blockquote",
        "spoiler",
        "spoiler",
        "custom_emoji",
        "bold",
        "italic",
        "underline",
        "underline",
        "strikethrough",
        "strikethrough",
        "strikethrough",
        "code",
    ]
    assert entities[0]["url"] == "https://www.nen.com.cn/a?b=1&c=2"
    assert entities[1]["language"] == "python"
    assert entities[6] == {
        "offset": 11,
        "length": 2,  # 👍 is two UTF-16 code units
        "type": "custom_emoji",
        "custom_emoji_id": "5368324170671202286",
    }


def test_parse_html_offsets_are_utf16() -> None:
    text, entities = parse_html("😀<b>x</b>")
    assert text == "😀x"
    assert entities == [{"offset": 2, "length": 1, "type": "bold"}]
    assert utf16_len("😀a中") == 4


@pytest.mark.parametrize(
    ("html", "reason"),
    [
        ("<div>x</div>", 'Unsupported start tag "div" at byte offset 0'),
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("中<br>", 'Unsupported start tag "br" at byte offset 3'),
        ("<b/>x", 'Unsupported start tag "b/" at byte offset 0'),
        ("1<2", "Unclosed start tag at byte offset 1"),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b>x</b", "Unclosed end tag at byte offset 4"),
        ("&nbsp;", 'Unsupported HTML entity "&nbsp;" at byte offset 0'),
        ("AT&T", 'Character "&" at byte offset 2 must be escaped as "&amp;"'),
        ("a & b", 'Character "&" at byte offset 2 must be escaped as "&amp;"'),
        ("&amp", 'Unterminated HTML entity "&amp" at byte offset 0'),
        ('<a href="?a=1&b=2">x</a>', 'Character "&" at byte offset 13'),
        ('<span class="x">y</span>', 'Tag "span" must have class "tg-spoiler"'),
        ("<b class>x</b>", "Expected equal sign in declaration of an attribute of the tag"),
        ('<tg-emoji emoji-id="abc">x</tg-emoji>', "Invalid custom emoji identifier specified"),
        ("<a href=x!>y</a>", "Unexpected end of name token at byte offset 8"),
    ],
)
def test_parse_html_rejects_like_telegram(html: str, reason: str) -> None:
    with pytest.raises(HtmlParseError) as info:
        parse_html(html)
    assert reason in str(info.value)


def test_parse_html_lenient_mode_keeps_what_telegram_keeps() -> None:
    assert parse_html("AT&T &nbsp; &amp", strict=False) == ("AT&T &nbsp; &", [])


# -- routing, token, parameter encodings -----------------------------------------------------


async def test_wrong_token_and_unknown_method(api: FakeBotApi) -> None:
    async with httpx.AsyncClient(base_url=api.root_url) as c:
        wrong = await c.post("/bot999:nope/getMe")
        assert wrong.status_code == 401
        assert wrong.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
        unknown = await c.post(f"/bot{TOKEN}/sendTelepathy")
        assert unknown.status_code == 404
        assert unknown.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
        assert (await c.get("/")).status_code == 404
        # Telegram method names are case-insensitive; GET with a query string works too.
        me = await c.get(f"/bot{TOKEN}/GETME")
        assert me.status_code == 200
    assert me.json()["result"]["username"] == "newsbot_test_bot"
    assert [c.method for c in api.calls] == ["sendTelepathy", "getMe"]
    assert api.calls[0].status == 404
    assert api.calls[1].http_method == "GET"


async def test_get_me_fields(client: httpx.AsyncClient) -> None:
    status, body = await call(client, "getMe")
    assert status == 200
    assert body["result"] == {
        "id": 123456,
        "is_bot": True,
        "first_name": "Newsbot Test",
        "username": "newsbot_test_bot",
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


async def test_form_fields_are_decoded_per_field(
    api: FakeBotApi, client: httpx.AsyncClient
) -> None:
    # This is exactly what PTB sends: str values verbatim, everything else JSON-encoded.
    markup = json.dumps(keyboard({"text": "a", "callback_data": "x"}))
    response = await client.post(
        "sendMessage",
        data={
            "chat_id": "42",
            "text": "123",
            "disable_notification": "true",
            "message_thread_id": "7",
            "reply_markup": markup,
        },
    )
    assert response.status_code == 200, response.text
    params = api.calls[-1].params
    assert params == {
        "chat_id": 42,
        "text": "123",  # stays a string although it is valid JSON
        "disable_notification": True,
        "message_thread_id": 7,
        "reply_markup": keyboard({"text": "a", "callback_data": "x"}),
    }
    [sent] = api.messages_to(42)
    assert (sent.text, sent.message_thread_id, sent.kind) == ("123", 7, "send")
    assert response.json()["result"]["message_thread_id"] == 7


async def test_json_and_multipart_bodies(api: FakeBotApi, client: httpx.AsyncClient) -> None:
    # A JSON body may carry reply_markup as an object or as a JSON string.
    status, _ = await call(
        client,
        "sendMessage",
        chat_id=42,
        text="true",
        reply_markup=json.dumps(keyboard({"text": "a", "url": "https://t.me/x"})),
    )
    assert status == 200
    assert api.calls[-1].params["reply_markup"]["inline_keyboard"][0][0]["url"] == "https://t.me/x"
    response = await client.post(
        "sendMessage",
        data={"chat_id": "42", "text": "with file"},
        files={"document": ("a.txt", b"hello", "text/plain")},
    )
    assert response.status_code == 200
    assert api.calls[-1].params["document"] == {
        "filename": "a.txt",
        "content_type": "text/plain",
        "size": 5,
    }
    assert [m.text for m in api.messages_to(42)] == ["true", "with file"]


# -- sendMessage / editMessageText validation ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "parse_mode", "description"),
    [
        ("<p>x</p>", "HTML", 'Bad Request: can\'t parse entities: Unsupported start tag "p"'),
        ("<b>x", "html", "Bad Request: can't parse entities: Can't find end tag"),
        ("", None, "Bad Request: message text is empty"),
        ("  \n ", None, "Bad Request: message text is empty"),
        ("<b> </b>", "HTML", "Bad Request: message text is empty"),
        ("x" * 4097, None, "Bad Request: message is too long"),
        ("😀" * 2049, None, "Bad Request: message is too long"),  # 4098 UTF-16 units
        ("x", "Wiki", "Bad Request: unsupported parse_mode"),
    ],
)
async def test_send_message_rejections(
    client: httpx.AsyncClient, text: str, parse_mode: str | None, description: str
) -> None:
    params: dict[str, Any] = {"chat_id": 42, "text": text}
    if parse_mode:
        params["parse_mode"] = parse_mode
    status, body = await call(client, "sendMessage", **params)
    assert status == 400
    assert body["ok"] is False and body["error_code"] == 400
    assert body["description"].startswith(description)


@pytest.mark.parametrize(
    ("text", "parse_mode"),
    [
        ("x" * 4096, None),
        ("😀" * 2048, None),
        ("&lt;" * 4096, "HTML"),  # counted after entity parsing
        ("<b>" + "y" * 4096 + "</b>", "HTML"),
        ("\n  " + "z" * 4096 + "  \n", None),  # trimmed first, as Telegram does
    ],
)
async def test_send_message_length_limit_counts_parsed_text(
    client: httpx.AsyncClient, text: str, parse_mode: str | None
) -> None:
    params: dict[str, Any] = {"chat_id": 42, "text": text}
    if parse_mode:
        params["parse_mode"] = parse_mode
    status, body = await call(client, "sendMessage", **params)
    assert status == 200, body
    assert utf16_len(body["result"]["text"]) == 4096


async def test_send_message_result_has_parsed_text_and_entities(
    api: FakeBotApi, client: httpx.AsyncClient
) -> None:
    status, body = await call(
        client, "sendMessage", chat_id=-1001, text=" <b>标题</b>\n正文 ", parse_mode="HTML"
    )
    assert status == 200
    message = body["result"]
    assert message["text"] == "标题\n正文"
    assert message["entities"] == [{"offset": 0, "length": 2, "type": "bold"}]
    assert message["chat"] == {"id": -1001, "type": "group", "title": "Chat -1001"}
    assert message["from"]["username"] == "newsbot_test_bot"
    [sent] = api.messages_to(-1001)
    assert (sent.text, sent.plain_text, sent.parse_mode) == (
        " <b>标题</b>\n正文 ",
        "标题\n正文",
        "HTML",
    )


@pytest.mark.parametrize(
    ("markup", "description"),
    [
        (keyboard({"text": "a"}), "Text buttons are unallowed in the inline keyboard"),
        (keyboard({"text": "a", "url": "https://t.me/x", "callback_data": "x"}), "exactly one"),
        (keyboard({"callback_data": "x"}), 'Field "text" must be of type String'),
        (keyboard({"text": "a", "callback_data": "x" * 65}), "BUTTON_DATA_INVALID"),
        (keyboard({"text": "a", "callback_data": "中" * 22}), "BUTTON_DATA_INVALID"),  # 66 bytes
        (keyboard({"text": "a", "callback_data": ""}), "BUTTON_DATA_INVALID"),
        (keyboard({"text": "a", "url": "not a url"}), "BUTTON_URL_INVALID"),
        ({"inline_keyboard": [{"text": "a"}]}, "should be an Array of Arrays"),
        ("{not json", "can't parse reply keyboard markup JSON object"),
    ],
)
async def test_inline_keyboard_validation(
    client: httpx.AsyncClient, markup: Any, description: str
) -> None:
    status, body = await call(client, "sendMessage", chat_id=42, text="t", reply_markup=markup)
    assert status == 400
    assert description in body["description"]


async def test_callback_data_of_64_bytes_is_accepted(client: httpx.AsyncClient) -> None:
    for data in ("x" * 64, "中" * 21 + "x"):
        markup = keyboard({"text": "a", "callback_data": data})
        status, body = await call(client, "sendMessage", chat_id=42, text="t", reply_markup=markup)
        assert status == 200, body
        assert body["result"]["reply_markup"] == markup


async def test_edit_message_text(api: FakeBotApi, client: httpx.AsyncClient) -> None:
    markup = keyboard({"text": "更多", "callback_data": "more"})
    _, body = await call(client, "sendMessage", chat_id=42, text="<b>a</b>", parse_mode="HTML")
    message_id = body["result"]["message_id"]

    status, body = await call(client, "editMessageText", chat_id=42, message_id=999, text="b")
    assert (status, body["description"]) == (400, "Bad Request: message to edit not found")

    status, body = await call(
        client, "editMessageText", chat_id=42, message_id=message_id, text="<b>a</b>",
        parse_mode="HTML",
    )  # fmt: skip
    assert status == 400
    assert body["description"].startswith("Bad Request: message is not modified: ")

    # The same text without bold is a change; so is adding a keyboard.
    status, _ = await call(client, "editMessageText", chat_id=42, message_id=message_id, text="a")
    assert status == 200
    status, body = await call(
        client, "editMessageText", chat_id=42, message_id=message_id, text="a",
        reply_markup=markup,
    )  # fmt: skip
    assert status == 200
    assert body["result"]["reply_markup"] == markup and "edit_date" in body["result"]
    # Editing without reply_markup removes the keyboard, as in Telegram.
    status, body = await call(
        client, "editMessageText", chat_id=42, message_id=message_id, text="a"
    )
    assert status == 200 and "reply_markup" not in body["result"]

    status, body = await call(client, "editMessageReplyMarkup", chat_id=42, message_id=message_id)
    assert status == 400 and "message is not modified" in body["description"]

    assert [m.kind for m in api.messages_to(42, kind=None)] == ["send", "edit", "edit", "edit"]
    assert len(api.messages_to(42)) == 1
    assert [m.plain_text for m in api.edits_to(42)] == ["a", "a", "a"]
    assert api.message(42, message_id)["text"] == "a"  # type: ignore[index]


async def test_edit_of_a_users_message_is_refused(
    api: FakeBotApi, client: httpx.AsyncClient
) -> None:
    update = api.push_text(42, "hello")
    status, body = await call(
        client, "editMessageText", chat_id=42, message_id=update["message"]["message_id"], text="x"
    )
    assert (status, body["description"]) == (400, "Bad Request: message can't be edited")


async def test_delete_chat_action_and_callback_answers(
    api: FakeBotApi, client: httpx.AsyncClient
) -> None:
    markup = keyboard({"text": "a", "callback_data": "cb"})
    _, body = await call(client, "sendMessage", chat_id=42, text="t", reply_markup=markup)
    message_id = body["result"]["message_id"]

    update = api.push_callback(42, message_id, "cb")
    query = update["callback_query"]
    assert query["message"]["text"] == "t" and query["data"] == "cb"
    assert query["from"]["id"] == 42
    status, _ = await call(client, "answerCallbackQuery", callback_query_id=query["id"], text="ok")
    assert status == 200
    assert api.callback_answers[query["id"]]["text"] == "ok"
    status, body = await call(client, "answerCallbackQuery", callback_query_id=query["id"])
    assert status == 400 and "query is too old" in body["description"]
    with pytest.raises(ValueError, match="no button"):
        api.push_callback(42, message_id, "other")
    with pytest.raises(LookupError):
        api.push_callback(42, 12345, "cb")

    assert (await call(client, "sendChatAction", chat_id=42, action="typing"))[0] == 200
    status, body = await call(client, "sendChatAction", chat_id=42, action="dancing")
    assert (status, body["description"]) == (400, "Bad Request: wrong parameter action in request")

    assert (await call(client, "deleteMessage", chat_id=42, message_id=message_id))[0] == 200
    status, body = await call(client, "deleteMessage", chat_id=42, message_id=message_id)
    assert (status, body["description"]) == (400, "Bad Request: message to delete not found")
    assert api.deleted_messages == [(42, message_id)]


async def test_reply_to_missing_message(client: httpx.AsyncClient) -> None:
    status, body = await call(
        client, "sendMessage", chat_id=42, text="t", reply_parameters={"message_id": 77}
    )
    assert (status, body["description"]) == (400, "Bad Request: message to be replied not found")
    status, _ = await call(
        client,
        "sendMessage",
        chat_id=42,
        text="t",
        reply_parameters={"message_id": 77, "allow_sending_without_reply": True},
    )
    assert status == 200


# -- commands, chats, members -----------------------------------------------------------------


async def test_set_and_get_my_commands(api: FakeBotApi, client: httpx.AsyncClient) -> None:
    commands = [
        {"command": "start", "description": "开始"},
        {"command": "latest", "description": "x"},
    ]
    assert (await call(client, "setMyCommands", commands=commands))[0] == 200
    zh = [{"command": "help", "description": "帮助"}]
    scope = {"type": "all_private_chats"}
    status, _ = await call(client, "setMyCommands", commands=zh, scope=scope, language_code="zh")
    assert status == 200
    assert (await call(client, "getMyCommands"))[1]["result"] == commands
    _, body = await call(client, "getMyCommands", scope=scope, language_code="zh")
    assert body["result"] == zh
    assert api.commands() == commands
    assert api.commands(scope, "zh") == zh
    assert (await call(client, "deleteMyCommands"))[0] == 200
    assert api.commands() == []

    bad = [
        ({"command": "Start", "description": "x"}, "BOT_COMMAND_INVALID"),
        ({"command": "x" * 33, "description": "x"}, "BOT_COMMAND_INVALID"),
        ({"command": "", "description": "x"}, "BOT_COMMAND_INVALID"),
        ({"command": "a-b", "description": "x"}, "BOT_COMMAND_INVALID"),
        ({"command": "ok", "description": ""}, "BOT_COMMAND_DESCRIPTION_INVALID"),
        ({"command": "ok", "description": "x" * 257}, "BOT_COMMAND_DESCRIPTION_INVALID"),
    ]
    for command, reason in bad:
        status, body = await call(client, "setMyCommands", commands=[command])
        assert (status, body["description"]) == (400, f"Bad Request: {reason}"), command
    ok = [{"command": "a" * 32, "description": "d" * 256}]
    assert (await call(client, "setMyCommands", commands=ok))[0] == 200


async def test_get_chat_member_and_get_chat(api: FakeBotApi, client: httpx.AsyncClient) -> None:
    _, body = await call(client, "getChatMember", chat_id=-1001234567890, user_id=5)
    assert body["result"]["status"] == "administrator"
    assert body["result"]["user"]["id"] == 5
    api.set_chat_member(-1001234567890, 5, "member")
    _, body = await call(client, "getChatMember", chat_id=-1001234567890, user_id=5)
    assert body["result"]["status"] == "member"
    _, body = await call(client, "getChat", chat_id=-1001234567890)
    assert body["result"]["type"] == "supergroup"
    api.add_chat(-5, type="group", title="新闻群", username="news_group")
    _, body = await call(client, "getChat", chat_id="@news_group")
    assert body["result"]["title"] == "新闻群" and body["result"]["id"] == -5
    status, body = await call(client, "getChat", chat_id="@nobody")
    assert (status, body["description"]) == (400, "Bad Request: chat not found")


async def test_chat_states(api: FakeBotApi, client: httpx.AsyncClient) -> None:
    api.block_chat(42)
    status, body = await call(client, "sendMessage", chat_id=42, text="x")
    assert (status, body) == (
        403,
        {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"},
    )
    api.block_chat(-1001)
    status, body = await call(client, "sendMessage", chat_id=-1001, text="x")
    assert (status, body["description"]) == (403, "Forbidden: bot was kicked from the group chat")

    api.set_chat_not_found(43)
    status, body = await call(client, "sendMessage", chat_id=43, text="x")
    assert (status, body["description"]) == (400, "Bad Request: chat not found")

    api.migrate_chat(-1002, -1009999999999)
    status, body = await call(client, "sendMessage", chat_id=-1002, text="x")
    assert status == 400
    assert body == {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: group chat was upgraded to a supergroup chat",
        "parameters": {"migrate_to_chat_id": -1009999999999},
    }
    api.reset_chat(42)
    assert (await call(client, "sendMessage", chat_id=42, text="x"))[0] == 200
    status, body = await call(client, "sendMessage", text="x")
    assert (status, body["description"]) == (400, "Bad Request: chat_id is empty")


async def test_fail_next(api: FakeBotApi, client: httpx.AsyncClient) -> None:
    api.fail_next("sendMessage", error_code=502, description="Bad Gateway", times=2)
    assert (await call(client, "sendMessage", chat_id=1, text="x"))[0] == 502
    assert (await call(client, "sendMessage", chat_id=1, text="x"))[0] == 502
    assert (await call(client, "sendMessage", chat_id=1, text="x"))[0] == 200
    assert [c.status for c in api.calls_to("sendmessage")] == [502, 502, 200]


# -- flood control --------------------------------------------------------------------------------


async def test_global_flood_limit() -> None:
    clock = FakeClock()
    async with (
        FakeBotApi(TOKEN, global_rate=3, private_rate=None, clock=clock) as api,
        httpx.AsyncClient(base_url=f"{api.root_url}/bot{TOKEN}/") as c,
    ):
        for chat in (1, 2, 3):
            assert (await call(c, "sendMessage", chat_id=chat, text="x"))[0] == 200
        clock.now += 0.4
        status, body = await call(c, "sendMessage", chat_id=4, text="x")
        assert status == 429
        assert body == {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 1",
            "parameters": {"retry_after": 1},
        }
        clock.now += 0.6  # the first send leaves the 1 s window
        assert (await call(c, "sendMessage", chat_id=4, text="x"))[0] == 200
        # Rejected sends are not delivered and don't count against the window.
        assert len(api.sent_messages) == 4
        assert api.rate_limited_count == 1


async def test_group_flood_limit() -> None:
    clock = FakeClock()
    async with (
        FakeBotApi(TOKEN, group_per_minute=2, clock=clock) as api,
        httpx.AsyncClient(base_url=f"{api.root_url}/bot{TOKEN}/") as c,
    ):
        assert (await call(c, "sendMessage", chat_id=-100, text="x"))[0] == 200
        clock.now += 10
        assert (await call(c, "sendMessage", chat_id=-100, text="x"))[0] == 200
        status, body = await call(c, "sendMessage", chat_id=-100, text="x")
        assert status == 429 and body["parameters"] == {"retry_after": 50}
        # Other chats are unaffected.
        assert (await call(c, "sendMessage", chat_id=-200, text="x"))[0] == 200
        clock.now += 50
        assert (await call(c, "sendMessage", chat_id=-100, text="x"))[0] == 200
        assert api.rate_limited_count == 1


async def test_private_burst_limit() -> None:
    clock = FakeClock()
    async with (
        FakeBotApi(TOKEN, private_rate=0.5, private_burst=2, clock=clock) as api,
        httpx.AsyncClient(base_url=f"{api.root_url}/bot{TOKEN}/") as c,
    ):
        assert (await call(c, "sendMessage", chat_id=7, text="x"))[0] == 200
        assert (await call(c, "sendMessage", chat_id=7, text="x"))[0] == 200
        status, body = await call(c, "sendMessage", chat_id=7, text="x")
        assert status == 429 and body["parameters"] == {"retry_after": 2}
        clock.now += 2
        assert (await call(c, "sendMessage", chat_id=7, text="x"))[0] == 200
        assert api.rate_limited_count == 1


async def test_default_limits_let_normal_replies_through(
    api: FakeBotApi, client: httpx.AsyncClient
) -> None:
    for _ in range(5):
        assert (await call(client, "sendMessage", chat_id=42, text="x"))[0] == 200
    status, body = await call(client, "sendMessage", chat_id=42, text="x")
    assert status == 429 and body["parameters"]["retry_after"] == 1


async def test_flood_control_can_be_disabled() -> None:
    async with (
        FakeBotApi(TOKEN, global_rate=None, group_per_minute=None, private_rate=None) as api,
        httpx.AsyncClient(base_url=f"{api.root_url}/bot{TOKEN}/") as c,
    ):
        for i in range(40):
            chat = -100 if i % 2 else 100
            assert (await call(c, "sendMessage", chat_id=chat, text="x"))[0] == 200
        assert api.rate_limited_count == 0


# -- getUpdates -------------------------------------------------------------------------------


async def test_get_updates_offset_confirms(api: FakeBotApi, client: httpx.AsyncClient) -> None:
    ids = [api.push_text(42, f"m{i}")["update_id"] for i in range(3)]
    _, body = await call(client, "getUpdates")
    assert [u["update_id"] for u in body["result"]] == ids
    # Not confirmed yet: returned again.
    _, body = await call(client, "getUpdates", limit=1)
    assert [u["update_id"] for u in body["result"]] == ids[:1]
    _, body = await call(client, "getUpdates", offset=ids[2])
    assert [u["update_id"] for u in body["result"]] == ids[2:]
    _, body = await call(client, "getUpdates", offset=ids[2] + 1)
    assert body["result"] == []
    assert api.pending_updates == []

    more = [api.push_text(42, f"n{i}")["update_id"] for i in range(3)]
    _, body = await call(client, "getUpdates", offset=-1)
    assert [u["update_id"] for u in body["result"]] == more[-1:]


async def test_get_updates_message_shape(api: FakeBotApi, client: httpx.AsyncClient) -> None:
    api.push_text(42, "/start@newsbot_test_bot 参数")
    api.push_text(-1001234567890, "hi", user_id=9, message_thread_id=5)
    _, body = await call(client, "getUpdates")
    private, group = (u["message"] for u in body["result"])
    assert private["entities"] == [{"type": "bot_command", "offset": 0, "length": 23}]
    assert private["from"] == {
        "id": 42,
        "is_bot": False,
        "first_name": "测试用户",
        "language_code": "zh-hans",
    }
    assert private["chat"] == {"id": 42, "type": "private", "first_name": "测试用户"}
    assert group["chat"]["type"] == "supergroup" and group["from"]["id"] == 9
    assert group["message_thread_id"] == 5 and "entities" not in group


async def test_long_poll_times_out_empty(client: httpx.AsyncClient) -> None:
    started = time.monotonic()
    status, body = await call(client, "getUpdates", timeout=1)
    assert (status, body["result"]) == (200, [])
    assert time.monotonic() - started >= 0.9


async def test_long_poll_returns_early(api: FakeBotApi, client: httpx.AsyncClient) -> None:
    async def push_later() -> None:
        await asyncio.sleep(0.2)
        api.push_text(42, "ping")

    started = time.monotonic()
    (status, body), _ = await asyncio.gather(call(client, "getUpdates", timeout=20), push_later())
    assert status == 200 and body["result"][0]["message"]["text"] == "ping"
    assert time.monotonic() - started < 5


async def test_newer_poll_terminates_older_with_conflict(
    api: FakeBotApi, client: httpx.AsyncClient
) -> None:
    older = asyncio.create_task(call(client, "getUpdates", timeout=20))
    await asyncio.sleep(0.2)
    newer = asyncio.create_task(call(client, "getUpdates", timeout=20))
    status, body = await older
    assert status == 409 and body["description"].startswith("Conflict: terminated by other")
    api.push_text(1, "x")
    assert (await newer)[0] == 200
    assert api.conflict_count == 1


async def test_allowed_updates_and_webhook(api: FakeBotApi, client: httpx.AsyncClient) -> None:
    api.push_text(42, "dropped")
    _, body = await call(client, "getUpdates", allowed_updates=["callback_query"])
    assert body["result"] == []
    assert (await call(client, "setWebhook", url="https://example.invalid/hook"))[0] == 200
    status, body = await call(client, "getUpdates")
    assert status == 409 and "webhook is active" in body["description"]
    assert (await call(client, "deleteWebhook", drop_pending_updates=True))[0] == 200
    _, body = await call(client, "getWebhookInfo")
    assert body["result"]["url"] == ""


async def test_stop_releases_pending_long_poll() -> None:
    api = FakeBotApi(TOKEN)
    await api.start()
    async with httpx.AsyncClient(base_url=f"{api.root_url}/bot{TOKEN}/") as c:
        poll = asyncio.create_task(call(c, "getUpdates", timeout=30))
        await asyncio.sleep(0.2)
        started = time.monotonic()
        await api.stop()
        status, body = await poll
    assert (status, body["result"]) == (200, [])
    assert time.monotonic() - started < 5


# -- the real python-telegram-bot ----------------------------------------------------------------


async def test_ptb_bot_send_and_errors(api: FakeBotApi, bot: telegram.Bot) -> None:
    assert bot.username == "newsbot_test_bot"
    message = await bot.send_message(
        42,
        "<b>你好</b>",
        parse_mode="HTML",
        message_thread_id=3,
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("更多", callback_data="m:1")]]),
    )
    assert message.text == "你好" and message.entities[0].type == "bold"
    assert message.reply_markup is not None
    [sent] = api.messages_to(42)
    assert sent.message_thread_id == 3 and sent.reply_markup == message.reply_markup.to_dict()

    with pytest.raises(BadRequest, match="Can't parse entities: unsupported start tag"):
        await bot.send_message(42, "a <br> b", parse_mode="HTML")
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(42, "x" * 4097)
    assert (await bot.send_message(43, "x" * 4096)).text == "x" * 4096
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(
            44,
            "t",
            reply_markup=InlineKeyboardMarkup(
                [[InlineKeyboardButton("b", callback_data="x" * 65)]]
            ),
        )
    await bot.send_message(
        44,
        "t",
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("b", callback_data="x" * 64)]]),
    )

    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text(
            "<b>你好</b>",
            42,
            message.message_id,
            reply_markup=message.reply_markup,
            parse_mode="HTML",
        )

    api.block_chat(45)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(45, "x")
    api.migrate_chat(-46, -1004600000000)
    with pytest.raises(ChatMigrated) as migrated:
        await bot.send_message(-46, "x")
    assert migrated.value.new_chat_id == -1004600000000
    with pytest.raises(BadRequest, match="Chat not found"):
        api.set_chat_not_found(47)
        await bot.send_chat_action(47, "typing")


async def test_ptb_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    # PTB 22 warns (PTBDeprecationWarning) while *constructing* RetryAfter unless this opt-in is
    # set, and filterwarnings=error would turn that warning into the raised exception.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    clock = FakeClock()
    async with (
        FakeBotApi(TOKEN, private_rate=1, private_burst=1, clock=clock) as api,
        telegram.Bot(TOKEN, base_url=api.base_url) as bot,
    ):
        await bot.send_message(42, "one")
        clock.now += 0.25
        with pytest.raises(RetryAfter) as info:
            await bot.send_message(42, "two")
        assert info.value.retry_after == dtm.timedelta(seconds=1)
        assert api.rate_limited_count == 1
        clock.now += 1
        await bot.send_message(42, "two")


async def test_ptb_wrong_token_is_invalid_token(api: FakeBotApi) -> None:
    wrong = telegram.Bot("1:wrong", base_url=api.base_url)
    with pytest.raises(InvalidToken):
        await wrong.initialize()
    await wrong.shutdown()


async def test_ptb_get_updates(api: FakeBotApi, bot: telegram.Bot) -> None:
    first = api.push_text(42, "/start")
    second = api.push_text(42, "第二条")
    updates = await bot.get_updates()
    assert [u.update_id for u in updates] == [first["update_id"], second["update_id"]]
    assert updates[0].message is not None and updates[0].message.text == "/start"
    assert updates[0].message.entities[0].type == "bot_command"
    updates = await bot.get_updates(offset=second["update_id"] + 1, timeout=0)
    assert updates == ()

    async def push_later() -> None:
        await asyncio.sleep(0.2)
        api.push_text(42, "late")

    started = time.monotonic()
    updates, _ = await asyncio.gather(
        bot.get_updates(offset=second["update_id"] + 1, timeout=dtm.timedelta(seconds=20)),
        push_later(),
    )
    assert [u.message.text for u in updates if u.message] == ["late"]
    assert time.monotonic() - started < 5


async def test_ptb_other_methods(api: FakeBotApi, bot: telegram.Bot) -> None:
    await bot.set_my_commands([("start", "开始"), ("latest", "最新新闻")])
    assert [c.command for c in await bot.get_my_commands()] == ["start", "latest"]
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([("Bad", "x")])
    member = await bot.get_chat_member(-1001, 5)
    assert isinstance(member, ChatMemberAdministrator) and member.user.id == 5
    api.set_chat_member(-1001, 6, "member")
    assert isinstance(await bot.get_chat_member(-1001, 6), ChatMemberMember)
    chat = await bot.get_chat(-1001)
    assert chat.type == "group"
    message = await bot.send_message(
        42,
        "t",
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("b", callback_data="cb")]]),
    )
    query_id = api.push_callback(42, message.message_id, "cb")["callback_query"]["id"]
    [update] = await bot.get_updates()
    assert update.callback_query is not None
    assert isinstance(update.callback_query.message, telegram.Message)
    assert update.callback_query.message.text == "t"
    assert await update.callback_query.answer("好")
    assert api.callback_answers[query_id]["text"] == "好"
    assert await bot.delete_message(42, message.message_id)
    assert await bot.send_chat_action(42, "typing")
    assert await bot.delete_webhook()
    assert await bot.close()


async def test_ptb_application_long_polling(api: FakeBotApi) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_html(
            "<b>欢迎</b>",
            reply_markup=InlineKeyboardMarkup(
                [[InlineKeyboardButton("更多", callback_data="more")]]
            ),
        )

    async def more(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer()
        await query.edit_message_text(f"更多内容 {query.data}")

    app = Application.builder().token(TOKEN).base_url(api.base_url).build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(more))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(timeout=dtm.timedelta(seconds=2))
        api.push_text(42, "/start")
        [reply] = await api.wait_for_messages(42, 1)
        assert (reply.plain_text, reply.parse_mode) == ("欢迎", "HTML")
        api.push_callback(42, reply.message_id, "more")
        [edit] = await api.wait_for_messages(42, 1, kind="edit")
        assert edit.plain_text == "更多内容 more" and edit.method == "editMessageText"
        assert len(api.callback_answers) == 1
        await app.updater.stop()
        await app.stop()
    # The updater confirmed everything it fetched on the way out.
    assert api.pending_updates == []
    assert api.calls_to("deleteWebhook") and api.calls_to("getMe")
    assert all(c.status == 200 for c in api.calls)


# -- threads, processes and logging --------------------------------------------------------------


def test_run_in_thread_sync_use() -> None:
    with FakeBotApi(TOKEN) as api:
        response = httpx.post(f"{api.base_url}{TOKEN}/getMe", timeout=5)
        assert response.json()["result"]["username"] == "newsbot_test_bot"
    with pytest.raises(httpx.ConnectError):
        httpx.post(f"{api.base_url}{TOKEN}/getMe", timeout=5)


async def test_run_in_thread_wakes_across_loops() -> None:
    api = FakeBotApi(TOKEN)
    root = await asyncio.to_thread(api.run_in_thread)
    try:
        async with httpx.AsyncClient(base_url=f"{root}/bot{TOKEN}/", timeout=10) as c:

            async def push_later() -> None:
                await asyncio.sleep(0.2)
                api.push_text(42, "from the test loop")  # this loop, not the server's

            started = time.monotonic()
            (status, body), _ = await asyncio.gather(
                call(c, "getUpdates", timeout=20), push_later()
            )
            assert status == 200 and body["result"][0]["message"]["text"] == "from the test loop"
            assert time.monotonic() - started < 5

            waiter = asyncio.create_task(api.wait_for_messages(42, 2, timeout=5))
            await call(c, "sendMessage", chat_id=42, text="a")
            await call(c, "sendMessage", chat_id=42, text="b")
            assert [m.text for m in await waiter] == ["a", "b"]
            with pytest.raises(TimeoutError, match="got 2"):
                await api.wait_for_messages(42, 3, timeout=0.2)
    finally:
        await asyncio.to_thread(api.stop_thread)


def _read_line(proc: subprocess.Popen[str], timeout: float) -> str:
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    assert ready, "the fake server printed nothing"
    return proc.stdout.readline().strip()


def test_standalone_process() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "fakes.bot_api", "--token", TOKEN, "--port", "0"]
    with subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as proc:
        try:
            root = _read_line(proc, 20)
            assert root.startswith("http://127.0.0.1:")
            with httpx.Client(base_url=root, timeout=5) as c:
                assert c.post(f"/bot{TOKEN}/getMe").json()["ok"] is True
                assert c.post("/bot1:bad/getMe").status_code == 401
                pushed = c.post("/_fake/push_text", json={"chat_id": 42, "text": "/start"})
                assert pushed.json()["result"]["message"]["text"] == "/start"
                updates = c.post(f"/bot{TOKEN}/getUpdates", data={"timeout": "1"}).json()
                assert updates["result"][0]["message"]["entities"][0]["type"] == "bot_command"
                c.post(f"/bot{TOKEN}/sendMessage", data={"chat_id": "42", "text": "hi"})
                assert c.get("/_fake/messages").json()["result"][0]["text"] == "hi"
                stats = c.get("/_fake/stats").json()["result"]
                assert stats["by_method"] == {"getMe": 1, "getUpdates": 1, "sendMessage": 1}
        finally:
            proc.send_signal(signal.SIGTERM)
            _, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 0, stderr
    assert "listening on" in stderr
    assert TOKEN not in stderr and "1:bad" not in stderr


async def test_token_never_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with (
        FakeBotApi(TOKEN) as api,
        httpx.AsyncClient(base_url=api.root_url) as c,
    ):
        await c.post(f"/bot{TOKEN}/getMe")
        await c.post(f"/bot{TOKEN}/sendMessage", json={"chat_id": 1, "text": "<x>"})
        await c.post("/botOTHER:token/getMe")
        await c.post(f"/bot{TOKEN}/nosuchmethod")
    ours = [r for r in caplog.records if r.name.startswith(("fakes", "aiohttp"))]
    assert ours, "expected the fake to log something"
    for record in ours:
        assert TOKEN not in record.getMessage() and "OTHER:token" not in record.getMessage()
