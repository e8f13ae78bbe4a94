"""The fake Bot API's sendPhoto and inline mode: what Telegram accepts, and what it refuses."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import telegram
from PIL import Image
from telegram import InlineQueryResultArticle, InputTextMessageContent
from telegram.error import BadRequest

from fakes.bot_api import FakeBotApi

TOKEN = "123456:TEST-photos-inline"
CHAT = 42


def png(width: int = 64, height: int = 32) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "white").save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi(TOKEN, private_rate=None) as server:
        yield server


@pytest.fixture
async def client(api: FakeBotApi) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"{api.root_url}/bot{TOKEN}/", timeout=10) as c:
        yield c


async def send_photo(
    client: httpx.AsyncClient, content: bytes, **fields: str
) -> tuple[int, dict[str, Any]]:
    response = await client.post(
        "sendPhoto",
        data={"chat_id": str(CHAT), **fields},
        files={"photo": ("chart.png", content, "image/png")},
    )
    return response.status_code, response.json()


async def test_a_png_upload_is_a_photo_and_its_file_id_can_be_resent(
    api: FakeBotApi, client: httpx.AsyncClient
) -> None:
    content = png(1280, 640)
    status, body = await send_photo(
        client, content, caption="<b>振兴</b> 共 3 篇", parse_mode="HTML"
    )
    assert status == 200, body
    message = body["result"]
    assert message["caption"] == "振兴 共 3 篇"
    assert message["caption_entities"] == [{"type": "bold", "offset": 0, "length": 2}]
    largest = message["photo"][-1]
    assert (largest["width"], largest["height"], largest["file_size"]) == (1280, 640, len(content))
    assert api.files[largest["file_id"]] == content
    [record] = api.messages_to(CHAT)
    assert record.method == "sendPhoto" and record.photo == message["photo"]
    assert "content" not in api.calls[-1].params["photo"]  # records keep no bytes
    response = await client.post(
        "sendPhoto", json={"chat_id": CHAT, "photo": largest["file_id"], "caption": "again"}
    )
    assert response.status_code == 200, response.json()
    assert response.json()["result"]["photo"][-1]["file_id"] == largest["file_id"]


@pytest.mark.parametrize(
    ("content", "fields", "description"),
    [
        (png(), {"caption": "x" * 1025}, "Bad Request: message caption is too long"),
        (png(), {"caption": "<b>x", "parse_mode": "HTML"}, "Bad Request: can't parse entities"),
        (b"not an image", {}, "Bad Request: IMAGE_PROCESS_FAILED"),
        (png(2100, 100), {}, "Bad Request: PHOTO_INVALID_DIMENSIONS"),
        (b"", {}, "Bad Request: file must be non-empty"),
    ],
)
async def test_photos_telegram_refuses(
    client: httpx.AsyncClient, content: bytes, fields: dict[str, str], description: str
) -> None:
    status, body = await send_photo(client, content, **fields)
    assert status == 400
    assert body["description"].startswith(description)


async def test_an_unknown_file_id_or_a_url_is_refused(client: httpx.AsyncClient) -> None:
    for photo in ("AgACAgNoSuchFile", "https://example.com/a.png"):
        response = await client.post("sendPhoto", json={"chat_id": CHAT, "photo": photo})
        assert response.status_code == 400
        assert "wrong file identifier" in response.json()["description"]


async def test_the_real_ptb_client_sends_a_photo(api: FakeBotApi) -> None:
    async with telegram.Bot(TOKEN, base_url=api.base_url) as bot:
        sent = await bot.send_photo(CHAT, png(), caption="<i>图</i>", parse_mode="HTML")
    assert sent.photo[-1].width == 64 and sent.caption == "图"


# -- inline mode -----------------------------------------------------------------------------


def article(result_id: str, message: str = "<b>标题</b>", title: str = "标题") -> dict[str, Any]:
    return {
        "type": "article",
        "id": result_id,
        "title": title,
        "input_message_content": {"message_text": message, "parse_mode": "HTML"},
    }


async def answer(client: httpx.AsyncClient, query_id: str, **params: Any) -> tuple[int, Any]:
    response = await client.post("answerInlineQuery", json={"inline_query_id": query_id, **params})
    return response.status_code, response.json()


def test_inline_queries_need_inline_mode(api: FakeBotApi) -> None:
    with pytest.raises(RuntimeError, match="setinline"):
        api.push_inline_query(7, "易炼红")
    api.enable_inline_mode()
    update = api.push_inline_query(7, "易炼红", offset="20")
    assert update["inline_query"]["query"] == "易炼红"
    assert update["inline_query"]["offset"] == "20"
    assert api.bot_user["supports_inline_queries"] is True


@pytest.mark.parametrize(
    ("params", "description"),
    [
        ({"results": [article(str(n)) for n in range(51)]}, "RESULTS_TOO_MUCH"),
        ({"results": [article("1"), article("1")]}, "RESULT_ID_DUPLICATE"),
        ({"results": [article("x" * 65)]}, "RESULT_ID_INVALID"),
        ({"results": [article("")]}, "RESULT_ID_EMPTY"),
        ({"results": [article("1", title=" ")]}, "RESULT_TITLE_EMPTY"),
        ({"results": [article("1", message="x" * 4097)]}, "MESSAGE_TOO_LONG"),
        ({"results": [article("1", message="<p>x</p>")]}, "can't parse entities"),
        ({"results": [article("1", message="<b> </b>")]}, "message text is empty"),
        ({"results": [], "next_offset": "9" * 65}, "NEXT_OFFSET_INVALID"),
        ({"results": [], "button": {"text": "帮助", "start_parameter": "帮助"}}, "START_PARAM"),
        ({"results": [], "button": {"text": " ", "start_parameter": "help"}}, "BUTTON_TEXT"),
        ({"results": [{**article("1"), "type": "poll"}]}, "unsupported inline query result"),
    ],
)
async def test_answers_telegram_refuses(
    api: FakeBotApi, client: httpx.AsyncClient, params: dict[str, Any], description: str
) -> None:
    api.enable_inline_mode()
    query_id = api.push_inline_query(7, "词")["inline_query"]["id"]
    status, body = await answer(client, query_id, **params)
    assert status == 400
    assert description in body["description"]
    assert query_id not in api.inline_answers  # a refused answer may be retried


async def test_a_query_is_answered_once_and_its_result_can_be_posted(
    api: FakeBotApi, client: httpx.AsyncClient
) -> None:
    api.enable_inline_mode()
    query_id = api.push_inline_query(7, "词")["inline_query"]["id"]
    results = [article(str(n), f'<a href="https://nen.com.cn/{n}">标题{n}</a>') for n in range(50)]
    button = json.dumps({"text": "帮助", "start_parameter": "inline_help"})
    status, body = await answer(
        client, query_id, results=results, next_offset="50", is_personal=False, button=button
    )
    assert status == 200, body
    assert (await api.wait_for_inline_answer(query_id))["next_offset"] == "50"
    status, body = await answer(client, query_id, results=[])
    assert status == 400 and "query is too old" in body["description"]
    message = api.choose_inline_result(query_id, "7", -100123)
    assert message["text"] == "标题7" and message["via_bot"]["id"] == api.bot_user["id"]
    assert message["entities"][0]["url"] == "https://nen.com.cn/7"


async def test_the_real_ptb_client_answers_an_inline_query(api: FakeBotApi) -> None:
    api.enable_inline_mode()
    query_id = api.push_inline_query(7, "词")["inline_query"]["id"]
    async with telegram.Bot(TOKEN, base_url=api.base_url) as bot:
        result = InlineQueryResultArticle(
            "1", "标题", InputTextMessageContent("<b>卡片</b>", "HTML")
        )
        assert await bot.answer_inline_query(query_id, [result], cache_time=30, is_personal=False)
        with pytest.raises(BadRequest, match=r"(?i)result_id_duplicate"):
            other = api.push_inline_query(7, "词")["inline_query"]["id"]
            await bot.answer_inline_query(other, [result, result])
    assert api.inline_answers[query_id]["cache_time"] == 30
