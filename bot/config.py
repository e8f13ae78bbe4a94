"""Settings read once at start-up: environment over .env over defaults."""

from __future__ import annotations

import logging
import os
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from news.ingest.sources import PROFILES
from news.ingest.sources_file import SourcesError, parse_sources
from news.models import SourceConfig

DEFAULT_API_URL = "https://api.telegram.org"
TOKEN_HELP = (
    "newsbot: no bot token. Get one from @BotFather in Telegram, put it in .env as "
    "NEWSBOT_TOKEN=... (copy .env.example to .env), or run `make demo` to see the bot "
    "without Telegram."
)


class ConfigError(Exception):
    """A setting is missing or malformed; the message is one line naming the variable."""


@dataclass(frozen=True, slots=True)
class Secret:
    """A string that never shows itself in a repr, a log line or an f-string."""

    _value: str = field(repr=False)

    def reveal(self) -> str:
        """Return the secret value; call only where it is handed to the Bot API client."""
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __str__(self) -> str:
        return "***" if self._value else ""

    def __repr__(self) -> str:
        return "Secret('***')" if self._value else "Secret('')"


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the bot and the CLI need to know about their environment."""

    token: Secret
    api_url: str
    db_path: Path
    tz: ZoneInfo
    admins: frozenset[int]
    sources_path: Path
    log_level: str
    fetch_proxy: str | None
    catch_up_hours: float = 3.0
    feeds_listen: tuple[str, int] | None = None  # host, port of the Atom feed listener

    @property
    def bot_base_url(self) -> str:
        """Return the base URL PTB appends the token to (`{root}/bot{token}/{method}`)."""
        return f"{self.api_url}/bot"

    def require_token(self) -> str:
        """Return the token, or raise ConfigError with the how-to line if there is none."""
        if not self.token:
            raise ConfigError(TOKEN_HELP)
        return self.token.reveal()


def read_dotenv(path: Path) -> dict[str, str]:
    """Parse a .env file of KEY=VALUE lines (comments, `export`, and quotes allowed)."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = key.strip().removeprefix("export ").strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        values[key] = value
    return values


def _parse_tz(value: str) -> ZoneInfo:
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder, e.g. 'Asia'
        raise ConfigError(
            f"NEWSBOT_TZ: unknown time zone {value!r} (use an IANA name such as Asia/Shanghai)"
        ) from None


def _parse_admins(value: str) -> frozenset[int]:
    ids: set[int] = set()
    for part in value.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if not part.lstrip("-").isdigit():
            raise ConfigError(
                f"NEWSBOT_ADMINS: {part!r} is not a numeric Telegram user id "
                "(expected ids separated by commas, e.g. 12345,67890)"
            )
        ids.add(int(part))
    return frozenset(ids)


def _parse_api_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(
            f"NEWSBOT_API_URL: {value!r} is not an http(s) URL (default {DEFAULT_API_URL})"
        )
    return value.rstrip("/")


def _parse_hours(value: str) -> float:
    try:
        hours = float(value)
    except ValueError:
        hours = -1.0
    if not 0 <= hours <= 24:
        raise ConfigError(
            f"NEWSBOT_CATCH_UP_HOURS: {value!r} is not a number of hours between 0 and 24"
        )
    return hours


def _parse_listen(value: str) -> tuple[str, int] | None:
    value = value.strip()
    if not value:
        return None
    host, sep, port_text = value.rpartition(":")
    host = host.strip("[]")  # [::1]:8080
    if not sep or not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ConfigError(
            f"NEWSBOT_FEEDS_LISTEN: {value!r} is not host:port (e.g. 127.0.0.1:8080; "
            "unset for no feed server)"
        )
    return host, int(port_text)


def _parse_log_level(value: str) -> str:
    level = value.strip().upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ConfigError(
            f"NEWSBOT_LOG_LEVEL: {value!r} is not one of DEBUG, INFO, WARNING, ERROR, CRITICAL"
        )
    return level


def check_db_path(path: Path) -> None:
    """Create the database's folder and make sure the file can be written, or raise ConfigError."""
    if str(path) == ":memory:":
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"NEWSBOT_DB: cannot create folder {str(path.parent)!r}: {exc.strerror}"
        ) from None
    if path.is_dir():
        raise ConfigError(f"NEWSBOT_DB: {str(path)!r} is a folder, not a file")
    target = path if path.exists() else path.parent
    if not os.access(target, os.W_OK):
        raise ConfigError(f"NEWSBOT_DB: {str(path)!r} is not writable")


def load_settings(
    environ: Mapping[str, str] | None = None, dotenv: Path | None = Path(".env")
) -> Settings:
    """Read settings from the environment, then .env, then defaults; raise ConfigError if bad."""
    env = dict(os.environ if environ is None else environ)
    file_values = read_dotenv(dotenv) if dotenv is not None else {}

    def get(name: str, default: str) -> str:
        if name in env:
            return env[name]
        return file_values.get(name, default)

    db_path = Path(get("NEWSBOT_DB", "data/newsbot.db")).expanduser()
    check_db_path(db_path)
    proxy = get("NEWSBOT_FETCH_PROXY", "").strip() or None
    if proxy is not None and urlsplit(proxy).scheme not in ("http", "https", "socks5"):
        raise ConfigError(f"NEWSBOT_FETCH_PROXY: {proxy!r} is not a proxy URL (http://host:port)")
    return Settings(
        token=Secret(get("NEWSBOT_TOKEN", "").strip()),
        api_url=_parse_api_url(get("NEWSBOT_API_URL", DEFAULT_API_URL).strip()),
        db_path=db_path,
        tz=_parse_tz(get("NEWSBOT_TZ", "Asia/Shanghai").strip()),
        admins=_parse_admins(get("NEWSBOT_ADMINS", "")),
        sources_path=Path(get("NEWSBOT_SOURCES", "sources.toml")).expanduser(),
        log_level=_parse_log_level(get("NEWSBOT_LOG_LEVEL", "INFO")),
        fetch_proxy=proxy,
        catch_up_hours=_parse_hours(get("NEWSBOT_CATCH_UP_HOURS", "3")),
        feeds_listen=_parse_listen(get("NEWSBOT_FEEDS_LISTEN", "")),
    )


def load_sources(settings: Settings) -> tuple[SourceConfig, ...]:
    """Read the sources file named by NEWSBOT_SOURCES, or raise ConfigError with one line."""
    path = settings.sources_path
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"NEWSBOT_SOURCES: {str(path)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"NEWSBOT_SOURCES: cannot read {str(path)!r}: {exc}") from None
    try:
        return parse_sources(text, str(path), PROFILES)
    except SourcesError as exc:
        raise ConfigError(str(exc)) from None


class RedactingFilter(logging.Filter):
    """Replace the token wherever it appears in a log record, as a last line of defence."""

    def __init__(self, secret: str) -> None:
        super().__init__()
        self._secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message without the secret."""
        if not self._secret:
            return True
        message = record.getMessage()
        if self._secret in message:
            record.msg = message.replace(self._secret, "***")
            record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            # Tracebacks are formatted later; pre-render them redacted.
            text = "".join(traceback.format_exception(*record.exc_info))
            record.exc_text = text.replace(self._secret, "***").rstrip("\n")
            record.exc_info = None
        return True
