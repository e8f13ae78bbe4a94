"""`newsbot chat` and `newsbot demo`: talk to the real bot in a terminal, as one Telegram user.

Each line typed is pushed to the fake Bot API as a message of one private chat; the bot's
sendMessage and editMessageText calls to that chat are printed back readably: bold as ANSI bold
on a terminal, links as `text <url>`, inline buttons numbered under their message. Typing a
button's number (`1` or `#1`) presses it on the most recent message that has buttons. A photo
(a chart) is saved as a PNG file and its path printed above its caption.
`@ 易炼红` is an inline query (as typing `@bot 易炼红` in any chat): the results are listed as
`[@1] …`, and `@#1` posts the first one into the chat, as the user choosing it would.
`--script FILE` runs the file's lines instead (`#` starts a comment) and prints the transcript.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, TextIO

if TYPE_CHECKING:
    from demo.harness import DemoOptions

JSON = dict[str, Any]

# After a line is sent: the bot is done once it has been quiet this long after its first reply.
# Longer than the bot's pace in one chat (about one message a second after a burst of three,
# as Telegram wants), so a reply held back by it is not taken for the next line's.
QUIET_SECONDS = 1.2
# How long to wait for a first reply before moving on (a command may legitimately say nothing).
FIRST_REPLY_SECONDS = 5.0
# Never wait longer than this for one line, however chatty the bot is.
MAX_WAIT_SECONDS = 20.0
POLL_SECONDS = 0.03
INDENT = "  "

_BUTTON_NUMBER = re.compile(r"^#?(\d{1,3})$")
_INLINE_CHOICE = re.compile(r"^@#(\d{1,2})$")
_METHODS = ("sendMessage", "editMessageText", "editMessageReplyMarkup", "answerCallbackQuery")

# ANSI on/off pairs: specific "off" codes, so closing one style keeps an enclosing one (only
# bold and dim share theirs).
_ANSI = {
    "bold": ("\x1b[1m", "\x1b[22m"),
    "italic": ("\x1b[3m", "\x1b[23m"),
    "underline": ("\x1b[4m", "\x1b[24m"),
    "strikethrough": ("\x1b[9m", "\x1b[29m"),
    "code": ("\x1b[2m", "\x1b[22m"),
    "pre": ("\x1b[2m", "\x1b[22m"),
}


class SentRecord(Protocol):
    """What the chat reads of a message the bot sent or edited (the fake's SentMessage)."""

    @property
    def kind(self) -> Literal["send", "edit"]: ...

    @property
    def message_id(self) -> int: ...

    @property
    def plain_text(self) -> str: ...

    @property
    def entities(self) -> list[JSON]: ...

    @property
    def reply_markup(self) -> JSON | None: ...

    @property
    def photo(self) -> list[JSON] | None: ...


class CallRecord(Protocol):
    """What the chat reads of one Bot API call (the fake's RecordedCall)."""

    @property
    def method(self) -> str: ...

    @property
    def params(self) -> JSON: ...

    @property
    def status(self) -> int: ...

    @property
    def response(self) -> JSON: ...


class ChatApi(Protocol):
    """The part of the fake Bot API the chat drives (fakes.bot_api.FakeBotApi)."""

    @property
    def calls(self) -> Sequence[CallRecord]: ...

    @property
    def callback_answers(self) -> Mapping[str, JSON]: ...

    @property
    def inline_answers(self) -> Mapping[str, JSON]: ...

    @property
    def files(self) -> Mapping[str, bytes]: ...

    def push_inline_query(
        self, user_id: int, query: str, *, first_name: str = ..., language_code: str | None = ...
    ) -> JSON: ...

    def choose_inline_result(self, query_id: str, result_id: str, chat_id: int) -> JSON: ...

    def push_text(
        self, chat_id: int, text: str, *, language_code: str | None = ..., first_name: str = ...
    ) -> JSON: ...

    def push_callback(
        self,
        chat_id: int,
        message_id: int,
        data: str,
        *,
        first_name: str = ...,
        language_code: str | None = ...,
        check_button: bool = ...,
    ) -> JSON: ...

    def messages_to(
        self, chat_id: int, kind: Literal["send", "edit"] | None = ...
    ) -> Sequence[SentRecord]: ...


@dataclass(frozen=True, slots=True)
class Button:
    """An inline button as shown: its label, and what pressing it does."""

    label: str
    callback_data: str | None = None
    url: str | None = None


def _utf16_positions(text: str) -> list[int]:
    """Map each UTF-16 offset of text (Telegram's unit) to a Python string index."""
    positions: list[int] = []
    for index, char in enumerate(text):
        positions.extend([index] * (2 if ord(char) > 0xFFFF else 1))
    positions.append(len(text))
    return positions


def render_text(text: str, entities: Sequence[Mapping[str, Any]], *, tty: bool) -> str:
    """Render a message's text: styles as ANSI on a tty (plain otherwise), links as text <url>."""
    positions = _utf16_positions(text)
    last = len(positions) - 1
    # (index, closes before opens, outer opens first / inner closes first, entity order, text):
    # entities spanning the same text close in the reverse order they opened.
    marks: list[tuple[int, int, int, int, str]] = []
    for number, entity in enumerate(entities):
        offset = int(entity.get("offset", 0))
        length = int(entity.get("length", 0))
        start = positions[min(offset, last)]
        end = positions[min(offset + length, last)]
        kind = str(entity.get("type", ""))
        if kind == "text_link" and entity.get("url"):
            url = str(entity["url"])
            if text[start:end].strip() != url:
                marks.append((end, 0, -start, -number, f" <{url}>"))
        elif tty and kind in _ANSI:
            on, off = _ANSI[kind]
            marks.append((start, 1, -end, number, on))
            marks.append((end, 0, -start, -number, off))
    marks.sort(key=lambda mark: mark[:4])
    pieces: list[str] = []
    cursor = 0
    for index, _, _, _, string in marks:
        pieces.append(text[cursor:index])
        pieces.append(string)
        cursor = index
    pieces.append(text[cursor:])
    return "".join(pieces)


def keyboard_buttons(markup: Mapping[str, Any] | None) -> list[list[Button]]:
    """Return the rows of an inline keyboard (empty for none)."""
    if not markup:
        return []
    rows: list[list[Button]] = []
    for row in markup.get("inline_keyboard") or []:
        buttons = [
            Button(
                label=str(button.get("text", "")),
                callback_data=button.get("callback_data"),
                url=button.get("url"),
            )
            for button in row
        ]
        if buttons:
            rows.append(buttons)
    return rows


def render_keyboard(rows: Sequence[Sequence[Button]]) -> list[str]:
    """Number the buttons from 1 across rows: one line per row, `[1] 摘要  [2] 下一页`."""
    lines: list[str] = []
    number = 0
    for row in rows:
        cells = []
        for button in row:
            number += 1
            cell = f"[{number}] {button.label}"
            if button.url:
                cell += f" <{button.url}>"
            cells.append(cell)
        lines.append("  ".join(cells))
    return lines


def render_message(record: SentRecord, *, tty: bool) -> str:
    """Render one sent or edited message (text, then its numbered buttons), indented."""
    lines: list[str] = []
    if record.kind == "edit":
        lines.append("(edited)")
    lines += render_text(record.plain_text, record.entities, tty=tty).split("\n")
    lines += render_keyboard(keyboard_buttons(record.reply_markup))
    return "\n".join(f"{INDENT}{line}" if line else "" for line in lines)


class ChatSession:
    """One user in one private chat with the bot, through the fake Bot API."""

    def __init__(
        self,
        api: ChatApi,
        chat_id: int,
        out: TextIO,
        *,
        lang: str = "zh",
        tty: bool = False,
        first_name: str = "演示用户",
        quiet: float = QUIET_SECONDS,
        first_reply: float = FIRST_REPLY_SECONDS,
        max_wait: float = MAX_WAIT_SECONDS,
        photo_dir: Path = Path("data") / "chat-photos",
    ) -> None:
        self.api = api
        self.chat_id = chat_id
        self.out = out
        self.language_code = "en" if lang == "en" else "zh-hans"
        self.tty = tty
        self.first_name = first_name
        self.quiet = quiet
        self.first_reply = first_reply
        self.max_wait = max_wait
        self._shown = 0  # messages of this chat already printed
        self._calls_seen = len(api.calls)
        self._keyboard: tuple[int, list[Button]] | None = None  # message id, its buttons
        self.photo_dir = photo_dir
        self.saved_photos: list[Path] = []
        self._inline: tuple[str, list[JSON]] | None = None  # last inline query id, its results

    @property
    def buttons(self) -> list[Button]:
        """Return the buttons a number presses: those of the latest message that has any."""
        return list(self._keyboard[1]) if self._keyboard is not None else []

    def button_for(self, line: str) -> tuple[int, int, Button] | None:
        """Return (message id, number, button) if line numbers a button to press, else None."""
        match = _BUTTON_NUMBER.match(line)
        if match is None or self._keyboard is None:
            return None
        message_id, buttons = self._keyboard
        number = int(match.group(1))
        if not 1 <= number <= len(buttons):
            return None
        return message_id, number, buttons[number - 1]

    async def say(self, line: str) -> None:
        """Send a line, press the button it numbers, or ask inline (`@ words`); print replies."""
        choice = _INLINE_CHOICE.match(line)
        if choice is not None:
            self.choose_inline(int(choice.group(1)))
            return
        if line.startswith("@"):
            await self.ask_inline(line[1:].strip())
            return
        target = self.button_for(line)
        if target is None:
            self.api.push_text(
                self.chat_id, line, language_code=self.language_code, first_name=self.first_name
            )
            await self.wait_for_replies()
            return
        message_id, number, button = target
        if button.callback_data is None:
            self.echo(f"{INDENT}(button [{number}] opens {button.url or 'nothing'})\n")
            return
        update = self.api.push_callback(
            self.chat_id,
            message_id,
            button.callback_data,
            first_name=self.first_name,
            language_code=self.language_code,
        )
        await self.wait_for_replies(str(update["callback_query"]["id"]))

    async def ask_inline(self, query: str) -> None:
        """Send an inline query as this user and print the results the bot answers with."""
        update = self.api.push_inline_query(
            self.chat_id, query, first_name=self.first_name, language_code=self.language_code
        )
        query_id = str(update["inline_query"]["id"])
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.first_reply
        while query_id not in self.api.inline_answers:
            if loop.time() >= deadline:
                self.show_new()  # a refused answer shows as a failed call
                self.echo(f"{INDENT}(no inline answer within {self.first_reply:g} s)\n")
                return
            await asyncio.sleep(POLL_SECONDS)
        self.show_new()
        answer = self.api.inline_answers[query_id]
        results = list(answer.get("results") or [])
        self._inline = (query_id, results)
        lines = [
            f"(inline: {len(results)} results"
            + (", more" if answer.get("next_offset") else "")
            + ")"
        ]
        for number, result in enumerate(results[:10], start=1):
            lines.append(f"[@{number}] {result.get('title', '')}")
            description = str(result.get("description") or "").replace("\n", " · ")
            if description:
                lines.append(f"     {description}")
        if len(results) > 10:
            lines.append(f"… {len(results) - 10} more")
        button = answer.get("button")
        if isinstance(button, dict) and button.get("text"):
            lines.append(f"(button: {button['text']})")
        if results:
            lines.append("(@#1 posts the first into the chat)")
        self.echo("\n".join(f"{INDENT}{line}" for line in lines) + "\n")

    def choose_inline(self, number: int) -> None:
        """Post result `number` of the last inline answer into the chat, and print the card."""
        if self._inline is None or not 1 <= number <= len(self._inline[1]):
            self.echo(f"{INDENT}(no inline result {number}: ask with `@ words` first)\n")
            return
        query_id, results = self._inline
        message = self.api.choose_inline_result(
            query_id, str(results[number - 1]["id"]), self.chat_id
        )
        text = render_text(str(message.get("text", "")), message.get("entities", []), tty=self.tty)
        lines = ["(you, via the bot)", *text.split("\n")]
        self.echo("\n".join(f"{INDENT}{line}" if line else "" for line in lines) + "\n")

    def save_photo(self, record: SentRecord) -> Path | None:
        """Write a photo the bot sent to photo_dir; return its path (None if it is unknown)."""
        sizes = record.photo or []
        content = self.api.files.get(str(sizes[-1].get("file_id"))) if sizes else None
        if content is None:
            return None
        self.photo_dir.mkdir(parents=True, exist_ok=True)
        path = self.photo_dir / f"photo-{record.message_id}.png"
        path.write_bytes(content)
        self.saved_photos.append(path)
        return path

    async def wait_for_replies(self, query_id: str | None = None) -> None:
        """Print replies as they come until the bot has been quiet for a moment."""
        loop = asyncio.get_running_loop()
        start = last_change = loop.time()
        replied = answered = False
        while True:
            await asyncio.sleep(POLL_SECONDS)
            now = loop.time()
            messages, calls = self.show_new()
            if query_id is not None and not answered and query_id in self.api.callback_answers:
                answered = True
                self._show_answer(self.api.callback_answers[query_id])
            if messages or calls or (answered and not replied):
                last_change = now
            replied = replied or messages > 0 or answered
            if replied and now - last_change >= self.quiet:
                break
            # A bot that says "typing…" (sendChatAction) gets more time for its first reply.
            if not replied and now - last_change >= self.first_reply:
                self.echo(f"{INDENT}(no reply within {self.first_reply:g} s)\n")
                break
            if now - start >= self.max_wait:
                break

    def show_new(self) -> tuple[int, int]:
        """Print messages and failed Bot API calls not shown yet; return (messages, calls) new.

        Calls count the bot's sends, edits, answers and chat actions in any chat, so a busy bot
        is not taken for a quiet one.
        """
        records = self.api.messages_to(self.chat_id, None)
        for record in records[self._shown :]:
            if record.photo:
                path = self.save_photo(record)
                size = record.photo[-1]
                where = str(path) if path is not None else "not kept"
                self.echo(
                    f"{INDENT}(photo {size.get('width')}×{size.get('height')}, saved to {where})"
                )
            self.echo(render_message(record, tty=self.tty) + "\n")
            self._track_keyboard(record)
        messages = len(records) - self._shown
        self._shown = len(records)
        calls = self.api.calls[self._calls_seen :]
        self._calls_seen += len(calls)
        busy = 0
        for call in calls:
            if call.method in _METHODS or call.method == "sendChatAction":
                busy += 1
                self._show_failure(call)
        return messages, busy

    def _track_keyboard(self, record: SentRecord) -> None:
        buttons = [button for row in keyboard_buttons(record.reply_markup) for button in row]
        if buttons:
            self._keyboard = (record.message_id, buttons)
        elif self._keyboard is not None and self._keyboard[0] == record.message_id:
            self._keyboard = None  # an edit took this message's buttons away

    def _show_answer(self, params: Mapping[str, Any]) -> None:
        text = params.get("text")
        if text:
            kind = "alert" if params.get("show_alert") else "notice"
            self.echo(f"{INDENT}({kind}) {text}\n")

    def _show_failure(self, call: CallRecord) -> None:
        """Show a Bot API call of this chat that Telegram would have refused: a bot bug."""
        if call.status < 400:
            return
        chat = call.params.get("chat_id")
        if call.method != "answerCallbackQuery" and str(chat) != str(self.chat_id):
            return
        description = call.response.get("description", "")
        self.echo(f"{INDENT}! {call.method} failed: {call.status} {description}\n")

    def echo(self, text: str) -> None:
        """Print a line of the transcript."""
        print(text, file=self.out, flush=True)


async def run_script(session: ChatSession, lines: Sequence[str]) -> None:
    """Send each line of a script (blank lines and # comments skipped), echoing `> line`."""
    for raw in lines:
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line == "/quit":
            break
        session.echo(f"> {line}")
        await session.say(line)


class LineReader:
    """Read terminal lines in a daemon thread, one per request, so the event loop keeps running.

    A daemon thread (not asyncio.to_thread) because input() cannot be interrupted: on Ctrl-C the
    process must be able to exit while it waits.
    """

    def __init__(self, prompt: str) -> None:
        self._prompt = prompt
        # Lines piped in are not echoed by a terminal: echo them, so the output reads as a chat.
        self._echo = not sys.stdin.isatty()
        self._loop = asyncio.get_running_loop()
        self._wanted = threading.Event()
        self._lines: asyncio.Queue[str | None] = asyncio.Queue()
        threading.Thread(target=self._run, name="chat-input", daemon=True).start()

    def _run(self) -> None:
        while True:
            self._wanted.wait()
            self._wanted.clear()
            try:
                line: str | None = input(self._prompt)
            except (EOFError, OSError):
                line = None
            if line is None or self._echo:
                print(line or "", flush=True)  # end the prompt's line
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                self._loop.call_soon_threadsafe(self._lines.put_nowait, line)
            if line is None:
                return

    async def readline(self) -> str | None:
        """Return the next line typed, or None at end of input (Ctrl-D)."""
        self._wanted.set()
        return await self._lines.get()


async def run_interactive(session: ChatSession) -> None:
    """Prompt for lines until Ctrl-D or /quit, printing the bot's replies after each."""
    with contextlib.suppress(ImportError):
        import readline  # noqa: F401  (line editing and history for input())
    reader = LineReader("> ")
    while True:
        line = await reader.readline()
        if line is None:
            break
        line = line.strip()
        if line == "/quit":
            break
        if line:
            await session.say(line)
        else:
            session.show_new()


def demo_options(db: Path | None) -> DemoOptions:
    """Return the demo's files: data/demo.db, or db with its sources file beside it."""
    from demo.harness import DemoOptions

    if db is None:
        return DemoOptions()
    return DemoOptions(db_path=db, sources_path=db.parent / f"{db.stem}-sources.toml")


async def chat_main(
    *, lang: str, script: Path | None, options: DemoOptions, out: TextIO, err: TextIO
) -> int:
    """Run the demo set-up, then the chat (interactive, or the script); stop everything after."""
    from demo.harness import DEMO_USER_NAME, running_demo

    lines: list[str] | None = None
    if script is not None:
        try:
            lines = script.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            print(f"newsbot chat: cannot read {script}: {exc.strerror}", file=err)
            return 2
    async with running_demo(options, progress=err) as demo:
        t = demo.timings
        print(
            f"demo: ready in {t['total']:.1f} s (servers {t['servers']:.1f} s, ingest "
            f"{t['ingest']:.1f} s: {demo.article_count} articles, bot {t['bot']:.1f} s)",
            file=err,
            flush=True,
        )
        session = ChatSession(
            demo.api,
            demo.user_id,
            out,
            lang=lang,
            tty=out.isatty(),
            first_name=DEMO_USER_NAME,
            photo_dir=options.db_path.parent / "chat-photos",
        )
        if lines is not None:
            await run_script(session, lines)
            return 0
        out.write(
            f"You are {DEMO_USER_NAME} (user {demo.user_id}, language {lang}, an admin) in a "
            f"private chat with @{demo.api.bot_user['username']}.\n"
            "Type a command (/help lists them); a button's number presses it; "
            "`@ 易炼红` asks inline, `@#1` posts a result; Ctrl-D or /quit leaves.\n"
        )
        await run_interactive(session)
    return 0


def run(lang: str, script: Path | None = None, db: Path | None = None) -> int:
    """Run `newsbot chat` / `newsbot demo` to the end; return the exit status."""
    try:
        options = demo_options(db)
        main = chat_main(lang=lang, script=script, options=options, out=sys.stdout, err=sys.stderr)
        return asyncio.run(main)
    except KeyboardInterrupt:
        print(file=sys.stderr)  # Ctrl-C left the cursor after the prompt
        return 130
