"""A strict fake Telegram Bot API server for end-to-end tests.

The server speaks enough of the Bot API (https://core.telegram.org/bots/api) for the real
python-telegram-bot ``Application`` to long-poll against it, and it is deliberately *stricter*
than lenient mocks: HTML is parsed with Telegram's rules, limits are enforced, flood control
answers 429 and every call is recorded for assertions.

Typical use::

    async with FakeBotApi("123456:TEST") as api:
        app = Application.builder().token("123456:TEST").base_url(f"{api.root_url}/bot").build()
        ...
        api.push_text(42, "/start")
        [reply] = await api.wait_for_messages(42, 1)

Run standalone (for demos and benchmarks) with
``python -m fakes.bot_api --token T --port P``; the ``/_fake/*`` control endpoints are in
``control.py``.

``server.FakeBotApi`` puts together one mixin per group of methods over ``state.BotApiState``:
``messages``, ``photos``, ``updates`` (polling and webhooks), ``chats``, ``inline``,
``bot_settings`` and the tests' ``control`` API. Beside them: ``telegram_html`` (the HTML parse
mode), ``message_content`` (text, caption and keyboard checks), ``request_params`` (request
bodies into parameters), ``records``, ``flood_control``, ``waiters`` and ``protocol``.
"""

from fakes.bot_api.bot_settings import MAX_COMMANDS
from fakes.bot_api.flood_control import RateLimits
from fakes.bot_api.inline import MAX_INLINE_ID_BYTES, MAX_INLINE_QUERY_LENGTH, MAX_INLINE_RESULTS
from fakes.bot_api.message_content import (
    MAX_CALLBACK_DATA_BYTES,
    MAX_CAPTION_LENGTH,
    MAX_MESSAGE_LENGTH,
)
from fakes.bot_api.photos import MAX_PHOTO_BYTES, jpeg_size, png_size
from fakes.bot_api.protocol import ApiError, JSONDict
from fakes.bot_api.records import FakeChat, MessageKind, RecordedCall, SentMessage
from fakes.bot_api.request_params import decode_param
from fakes.bot_api.server import FakeBotApi
from fakes.bot_api.standalone import main
from fakes.bot_api.state import DEFAULT_BOT_USERNAME, MethodHandler
from fakes.bot_api.telegram_html import (
    ALLOWED_HTML_TAGS,
    HtmlParseError,
    parse_html,
    trim_text,
    utf16_len,
)

__all__ = [
    "ALLOWED_HTML_TAGS",
    "DEFAULT_BOT_USERNAME",
    "MAX_CALLBACK_DATA_BYTES",
    "MAX_CAPTION_LENGTH",
    "MAX_COMMANDS",
    "MAX_INLINE_ID_BYTES",
    "MAX_INLINE_QUERY_LENGTH",
    "MAX_INLINE_RESULTS",
    "MAX_MESSAGE_LENGTH",
    "MAX_PHOTO_BYTES",
    "ApiError",
    "FakeBotApi",
    "FakeChat",
    "HtmlParseError",
    "JSONDict",
    "MessageKind",
    "MethodHandler",
    "RateLimits",
    "RecordedCall",
    "SentMessage",
    "decode_param",
    "jpeg_size",
    "main",
    "parse_html",
    "png_size",
    "trim_text",
    "utf16_len",
]
