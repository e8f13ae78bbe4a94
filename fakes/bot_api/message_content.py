"""Validate what a message carries (text, caption, inline keyboard) as Telegram does."""

from __future__ import annotations

from fakes.bot_api.protocol import JSONDict, bad_request
from fakes.bot_api.telegram_html import URL_RE, HtmlParseError, parse_html, trim_text, utf16_len

MAX_MESSAGE_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)


def _html_entities(text: str, strict: bool) -> tuple[str, list[JSONDict]]:
    """Parse HTML parse mode text, refusing bad HTML with Telegram's 400."""
    try:
        return parse_html(text, strict=strict)
    except HtmlParseError as exc:
        raise bad_request(f"can't parse entities: {exc}") from None


def _explicit_entities(value: object, field: str) -> list[JSONDict]:
    """Take entities given as a list instead of a parse mode; refuse anything else with a 400."""
    if not isinstance(value, list):
        raise bad_request(f"can't parse {field} JSON object")
    return [dict(e) for e in value if isinstance(e, dict)]


def formatted_text(
    params: JSONDict, *, strict_html: bool
) -> tuple[str, str | None, list[JSONDict]]:
    """Validate text + parse_mode/entities like Telegram; return (plain, parse_mode, entities)."""
    raw = params.get("text")
    text = raw if isinstance(raw, str) else ("" if raw is None else str(raw))
    parse_mode = params.get("parse_mode") or None
    if parse_mode is not None:
        parse_mode = str(parse_mode)
    explicit = params.get("entities")
    if explicit is not None:
        plain, entities = text, _explicit_entities(explicit, "entities")
    elif parse_mode is None:
        plain, entities = text, []
    elif parse_mode.lower() == "html":
        plain, entities = _html_entities(text, strict_html)
    elif parse_mode.lower() in ("markdown", "markdownv2"):
        # Markdown is not validated by this fake; the text is recorded as is.
        plain, entities = text, []
    else:
        raise bad_request("unsupported parse_mode")
    plain, entities = trim_text(plain, entities)
    if not plain:
        raise bad_request("message text is empty")
    if utf16_len(plain) > MAX_MESSAGE_LENGTH:
        raise bad_request("message is too long")
    return plain, parse_mode, entities


def caption(params: JSONDict, *, strict_html: bool) -> tuple[str, list[JSONDict]]:
    """Validate a media caption like Telegram: parsed, trimmed, at most 1024 characters."""
    raw = params.get("caption")
    if raw is None or raw == "":
        return "", []
    explicit = params.get("caption_entities")
    if explicit is not None:
        plain, entities = str(raw), _explicit_entities(explicit, "caption entities")
    elif str(params.get("parse_mode") or "").lower() == "html":
        plain, entities = _html_entities(str(raw), strict_html)
    else:
        plain, entities = str(raw), []
    plain, entities = trim_text(plain, entities)
    if utf16_len(plain) > MAX_CAPTION_LENGTH:
        raise bad_request("message caption is too long")
    return plain, entities


def reply_markup(params: JSONDict, *, inline_only: bool) -> JSONDict | None:
    """Validate ``reply_markup`` like Telegram; return it decoded (None if absent)."""
    markup = params.get("reply_markup")
    if markup is None or markup == "":
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" not in markup:
        if inline_only:
            raise bad_request("inline keyboard expected")
        if any(k in markup for k in ("keyboard", "remove_keyboard", "force_reply")):
            return markup
        raise bad_request("can't parse reply keyboard markup JSON object")
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request(
            'can\'t parse reply keyboard markup JSON object: Field "inline_keyboard" of '
            "the InlineKeyboardMarkup should be an Array of Arrays"
        )
    if sum(len(row) for row in rows) > 100:
        raise bad_request("reply markup is too long")
    for row in rows:
        for button in row:
            if not isinstance(button, dict):
                raise bad_request(
                    "can't parse inline keyboard button: InlineKeyboardButton should be an Object"
                )
            if not isinstance(button.get("text"), str):
                raise bad_request(
                    'can\'t parse inline keyboard button: Field "text" must be of type String'
                )
            if not button["text"].strip():
                raise bad_request("BUTTON_TEXT_INVALID")
            actions = [name for name in _BUTTON_ACTIONS if name in button]
            if not actions:
                raise bad_request(
                    "can't parse inline keyboard button: Text buttons are unallowed in the "
                    "inline keyboard"
                )
            if len(actions) > 1:
                raise bad_request(
                    "can't parse inline keyboard button: exactly one of the optional "
                    f"fields must be used, got {', '.join(actions)}"
                )
            if "callback_data" in button:
                data = button["callback_data"]
                if not isinstance(data, str) or not data:
                    raise bad_request("BUTTON_DATA_INVALID")
                if len(data.encode("utf-8")) > MAX_CALLBACK_DATA_BYTES:
                    raise bad_request("BUTTON_DATA_INVALID")
            if "url" in button:
                url = button["url"]
                if not isinstance(url, str) or not URL_RE.match(url):
                    raise bad_request("BUTTON_URL_INVALID")
    return markup
