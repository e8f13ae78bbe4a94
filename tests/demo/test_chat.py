"""`newsbot chat`: rendering the bot's messages, pressing buttons, and a scripted conversation."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx
import pytest

from demo.chat import (
    Button,
    ChatSession,
    chat_main,
    keyboard_buttons,
    render_keyboard,
    render_message,
    render_text,
    run_script,
)
from demo.harness import DemoOptions
from fakes.bot_api import FakeBotApi, parse_html
from handlers.texts import text as bot_text

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SCRIPT = FIXTURES / "chat_script.txt"
TOKEN = "123456:TEST-chat-token"
CHAT = 4242
BOLD, UNBOLD = "\x1b[1m", "\x1b[22m"


def rendered(html: str, *, tty: bool = False) -> str:
    """Render HTML the way the chat shows it, via the fake's Telegram-exact entity parser."""
    plain, entities = parse_html(html)
    return render_text(plain, entities, tty=tty)


# --- rendering ---------------------------------------------------------------------------------


def test_bold_is_plain_text_off_a_terminal() -> None:
    assert rendered("<b>最新新闻</b>\n<b>1.</b> 正文") == "最新新闻\n1. 正文"


def test_bold_is_ansi_bold_on_a_terminal() -> None:
    assert rendered("<b>最新新闻</b> 正文", tty=True) == f"{BOLD}最新新闻{UNBOLD} 正文"


def test_a_link_shows_its_text_then_its_url() -> None:
    url = "https://liaoning.nen.com.cn/system/2018/03/02/020390512.shtml"
    html = f'2018-03-02 <a href="{url}">易炼红</a> · 沈阳日报'
    assert rendered(html) == f"2018-03-02 易炼红 <{url}> · 沈阳日报"


def test_a_link_whose_text_is_its_url_is_not_repeated() -> None:
    assert (
        rendered('<a href="https://nen.com.cn/">https://nen.com.cn/</a>') == "https://nen.com.cn/"
    )


def test_offsets_count_utf16_units_like_telegram() -> None:
    # 📰 is two UTF-16 units: a renderer counting code points would shift the bold by one.
    assert rendered("📰 <b>摘要</b>!", tty=True) == f"📰 {BOLD}摘要{UNBOLD}!"
    assert rendered('📰📰 <a href="https://a.cn/x">标题</a>。') == "📰📰 标题 <https://a.cn/x>。"


def test_nested_styles_close_inside_out() -> None:
    html = '<b>1. <a href="https://a.cn/1">标题</a></b> 来源'
    assert rendered(html) == "1. 标题 <https://a.cn/1> 来源"
    assert rendered(html, tty=True) == f"{BOLD}1. 标题 <https://a.cn/1>{UNBOLD} 来源"
    italic, unitalic = "\x1b[3m", "\x1b[23m"
    assert rendered("<b><i>粗斜</i></b>", tty=True) in (
        f"{BOLD}{italic}粗斜{unitalic}{UNBOLD}",
        f"{italic}{BOLD}粗斜{UNBOLD}{unitalic}",
    )
    assert rendered("<b>粗<i>斜</i></b>", tty=True) == f"{BOLD}粗{italic}斜{unitalic}{UNBOLD}"


def test_buttons_are_numbered_across_rows() -> None:
    markup = {
        "inline_keyboard": [
            [
                {"text": "摘要 1", "callback_data": "s:1"},
                {"text": "摘要 2", "callback_data": "s:2"},
            ],
            [{"text": "下一页 ➡️", "callback_data": "p:2"}],
            [{"text": "原文", "url": "https://nen.com.cn/a.shtml"}],
        ]
    }
    rows = keyboard_buttons(markup)
    assert rows[1] == [Button("下一页 ➡️", callback_data="p:2")]
    assert render_keyboard(rows) == [
        "[1] 摘要 1  [2] 摘要 2",
        "[3] 下一页 ➡️",
        "[4] 原文 <https://nen.com.cn/a.shtml>",
    ]
    assert keyboard_buttons(None) == [] and keyboard_buttons({}) == []


@dataclass
class Record:
    """A stand-in for the fake's SentMessage."""

    kind: Literal["send", "edit"]
    message_id: int
    plain_text: str
    entities: list[dict[str, Any]] = field(default_factory=list)
    reply_markup: dict[str, Any] | None = None


def test_a_message_is_indented_with_its_buttons_and_an_edit_says_so() -> None:
    plain, entities = parse_html("<b>最新新闻</b>\n\n1. 标题")
    markup = {"inline_keyboard": [[{"text": "摘要", "callback_data": "s"}]]}
    sent = Record("send", 7, plain, entities, markup)
    assert render_message(sent, tty=False) == "  最新新闻\n\n  1. 标题\n  [1] 摘要"
    edited = Record("edit", 7, "第 2 页")
    assert render_message(edited, tty=False) == "  (edited)\n  第 2 页"


# --- the session against the fake Bot API (no bot: the test plays the bot over HTTP) -----------


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi(TOKEN, private_rate=None) as fake:
        yield fake


async def bot_call(api: FakeBotApi, method: str, **params: Any) -> dict[str, Any]:
    """Call the fake Bot API as the bot would."""
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{api.base_url}{TOKEN}/{method}", json=params)
    result: dict[str, Any] = response.json()
    return result


def session_on(api: FakeBotApi, out: io.StringIO, *, lang: str = "zh") -> ChatSession:
    return ChatSession(api, CHAT, out, lang=lang, quiet=0.1, first_reply=0.3, max_wait=2.0)


KEYBOARD = {
    "inline_keyboard": [
        [
            {"text": "摘要 1", "callback_data": "sum:1"},
            {"text": "摘要 2", "callback_data": "sum:2"},
        ],
        [{"text": "原文", "url": "https://nen.com.cn/a.shtml"}],
    ]
}


async def test_a_number_presses_a_button_of_the_latest_message_with_buttons(
    api: FakeBotApi,
) -> None:
    out = io.StringIO()
    session = session_on(api, out)
    await bot_call(api, "sendMessage", chat_id=CHAT, text="<b>列表</b>", parse_mode="HTML")
    sent = await bot_call(api, "sendMessage", chat_id=CHAT, text="第 1 页", reply_markup=KEYBOARD)
    await bot_call(api, "sendMessage", chat_id=CHAT, text="没有按钮的消息")
    session.show_new()
    assert "  列表\n" in out.getvalue() and "  [1] 摘要 1  [2] 摘要 2\n" in out.getvalue()
    assert [b.label for b in session.buttons] == ["摘要 1", "摘要 2", "原文"]

    await session.say("#2")
    [update] = api.pending_updates
    query = update["callback_query"]
    assert query["data"] == "sum:2"
    assert query["message"]["message_id"] == sent["result"]["message_id"]
    assert query["from"]["language_code"] == "zh-hans"

    await session.say("3")  # a URL button: nothing to send, the chat says where it leads
    assert "(button [3] opens https://nen.com.cn/a.shtml)" in out.getvalue()
    await session.say("9")  # no such button: sent as text
    assert api.pending_updates[-1]["message"]["text"] == "9"
    assert "(no reply within 0.3 s)" in out.getvalue()


async def test_replies_to_a_line_and_edits_are_printed_then_the_chat_waits_for_quiet(
    api: FakeBotApi,
) -> None:
    out = io.StringIO()
    session = session_on(api, out, lang="en")
    session.quiet = 0.6  # longer than the bot's pause between its message and its edit

    async def play_bot() -> None:
        # Answers the way a handler would: a message with buttons, then an edit removing them.
        while not api.pending_updates:
            await asyncio.sleep(0.01)
        assert api.pending_updates[0]["message"]["from"]["language_code"] == "en"
        sent = await bot_call(
            api, "sendMessage", chat_id=CHAT, text="<b>Latest</b>", parse_mode="HTML",
            reply_markup=KEYBOARD,
        )  # fmt: skip
        await asyncio.sleep(0.05)
        await bot_call(
            api, "editMessageText", chat_id=CHAT, message_id=sent["result"]["message_id"],
            text="Page 2",
        )  # fmt: skip

    bot = asyncio.create_task(play_bot())
    await session.say("/latest")
    await bot
    assert out.getvalue().splitlines() == [
        "  Latest",
        "  [1] 摘要 1  [2] 摘要 2",
        "  [3] 原文 <https://nen.com.cn/a.shtml>",
        "",
        "  (edited)",
        "  Page 2",
        "",
    ]
    assert session.buttons == []  # the edit took the buttons away: numbers are text again


async def test_a_bot_api_call_telegram_would_refuse_is_shown(api: FakeBotApi) -> None:
    out = io.StringIO()
    session = session_on(api, out)
    await bot_call(api, "sendMessage", chat_id=CHAT, text="<b>未闭合", parse_mode="HTML")
    session.show_new()
    assert "! sendMessage failed: 400 Bad Request: can't parse entities" in out.getvalue()


async def test_a_script_skips_comments_and_stops_at_quit(api: FakeBotApi) -> None:
    out = io.StringIO()
    session = session_on(api, out)
    await run_script(session, ["# a comment", "", "  /start  ", "#expect: x", "/quit", "/help"])
    assert out.getvalue().splitlines()[0] == "> /start"
    assert [u["message"]["text"] for u in api.pending_updates] == ["/start"]


# --- the whole thing: `newsbot chat --script tests/fixtures/chat_script.txt` ---------------------


@dataclass
class Step:
    """One line of the script and what its replies must (not) contain."""

    line: str
    expect: list[str] = field(default_factory=list)
    expect_not: list[str] = field(default_factory=list)


def script_steps(path: Path) -> list[Step]:
    """Read the script's lines with their #expect / #expect-not lines."""
    steps: list[Step] = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("#expect:"):
            steps[-1].expect.append(line.removeprefix("#expect:").strip())
        elif line.startswith("#expect-not:"):
            steps[-1].expect_not.append(line.removeprefix("#expect-not:").strip())
        elif line and not line.startswith("#"):
            steps.append(Step(line))
    return steps


def transcript_sections(transcript: str) -> list[tuple[str, str]]:
    """Split a transcript into (line typed, replies printed after it)."""
    sections: list[tuple[str, str]] = []
    for row in transcript.splitlines():
        if row.startswith("> "):
            sections.append((row[2:], ""))
        elif sections:
            line, replies = sections[-1]
            sections[-1] = (line, replies + row + "\n")
    return sections


def test_the_script_format_is_read_as_a_table() -> None:
    steps = script_steps(SCRIPT)
    assert steps[0].line == "/start" and steps[0].expect
    assert {"/start", "/help", "/latest", "/latest 3", "/latest x", "/status", "1"} <= {
        step.line for step in steps
    }


async def test_newsbot_chat_script_runs_every_command_against_the_demo(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    options = DemoOptions(db_path=tmp_path / "demo.db", sources_path=tmp_path / "sources.toml")
    status = await asyncio.wait_for(
        chat_main(lang="zh", script=SCRIPT, options=options, out=out, err=err), timeout=240
    )
    transcript = out.getvalue()
    assert status == 0, err.getvalue()
    assert "new 15" in err.getvalue() and "new 11" in err.getvalue() and "new 6" in err.getvalue()
    steps = script_steps(SCRIPT)
    sections = transcript_sections(transcript)
    assert [line for line, _ in sections] == [step.line for step in steps]
    problems: list[str] = []
    apology = bot_text("zh", "error")
    for step, (_, replies) in zip(steps, sections, strict=True):
        if not replies.strip() or "(no reply within" in replies:
            problems.append(f"{step.line}: no reply")
        if " failed: " in replies or apology in replies:
            problems.append(f"{step.line}: the bot failed:\n{replies}")
        problems += [
            f"{step.line}: missing {text!r}" for text in step.expect if text not in replies
        ]
        problems += [
            f"{step.line}: unwanted {text!r}" for text in step.expect_not if text in replies
        ]
    assert not problems, "\n".join(problems) + "\n--- transcript ---\n" + transcript


async def test_an_inline_query_lists_results_and_a_number_posts_one(api: FakeBotApi) -> None:
    api.enable_inline_mode()
    out = io.StringIO()
    session = session_on(api, out)
    session.first_reply = 10.0  # the answer comes when play_bot gets to it
    card = '<b><a href="https://nen.com.cn/1.shtml">标题一</a></b>\n2026-11-26 · 来源：辽宁日报'

    async def play_bot() -> None:
        while not api.pending_updates:
            await asyncio.sleep(0.01)
        query = api.pending_updates[0]["inline_query"]
        assert query["query"] == "易炼红"
        result = {
            "type": "article",
            "id": "1",
            "title": "标题一",
            "description": "2026-11-26 · 辽宁日报\n摘要",
            "input_message_content": {"message_text": card, "parse_mode": "HTML"},
        }
        answer = await bot_call(
            api, "answerInlineQuery", inline_query_id=query["id"], results=[result],
            is_personal=False, cache_time=60,
        )  # fmt: skip
        assert answer["ok"], answer

    bot = asyncio.create_task(play_bot())
    await session.say("@ 易炼红")
    await bot
    assert "  [@1] 标题一\n       2026-11-26 · 辽宁日报 · 摘要\n" in out.getvalue()
    await session.say("@#1")
    assert "  (you, via the bot)\n  标题一 <https://nen.com.cn/1.shtml>\n" in out.getvalue()
    await session.say("@#5")
    assert "(no inline result 5" in out.getvalue()


async def test_a_photo_is_saved_and_its_path_printed(api: FakeBotApi, tmp_path: Path) -> None:
    out = io.StringIO()
    session = ChatSession(api, CHAT, out, quiet=0.1, first_reply=0.3, photo_dir=tmp_path)
    png = _tiny_png()
    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"{api.base_url}{TOKEN}/sendPhoto",
            data={"chat_id": str(CHAT), "caption": "<b>振兴</b> 共 3 篇", "parse_mode": "HTML"},
            files={"photo": ("chart.png", png, "image/png")},
        )
    assert response.json()["ok"], response.json()
    session.show_new()
    [saved] = session.saved_photos
    assert saved.read_bytes() == png
    assert f"(photo 2×1, saved to {saved})" in out.getvalue()
    assert "振兴 共 3 篇" in out.getvalue()


def _tiny_png() -> bytes:
    """Return a valid 2×1 PNG."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 2, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" + b"\xff\x00\x00" * 2)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )
