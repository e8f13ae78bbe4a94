"""Settings read once at start-up: environment over .env over defaults."""

from __future__ import annotations

import logging
import os
import re
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from news.ingest.sources import PROFILES
from news.ingest.sources_file import (
    CATALOGUE_ORIGIN,
    SourcesError,
    catalogue_text,
    parse_sources,
)
from news.models import SourceConfig
from storage import StoreError, is_postgres_url, redact_target
from storage.target import check_target, looks_like_url

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
    # A file path (SQLite) or a postgresql:// URL, which may hold a password: never in a repr.
    db: str = field(repr=False)
    tz: ZoneInfo
    admins: frozenset[int]
    sources_path: Path | None  # None: the packaged catalogue
    log_level: str
    fetch_proxy: str | None
    catch_up_hours: float = 3.0
    # Webhook mode (several instances behind a proxy): the public URL Telegram posts to and the
    # secret Telegram sends back in a header; updates arrive on http_listen.
    webhook_url: str | None = None
    webhook_secret: Secret = Secret("")
    # The one HTTP listener (host, port): /healthz, /metrics, the Atom feeds and, in webhook
    # mode, the webhook path. None: no listener (polling without NEWSBOT_HTTP_LISTEN).
    http_listen: tuple[str, int] | None = None

    @property
    def webhook_path(self) -> str:
        """Return the path of the webhook URL, where this instance takes updates."""
        return urlsplit(self.webhook_url or "").path or "/"

    @property
    def db_path(self) -> Path:
        """Return the SQLite file NEWSBOT_DB names (only for tools that need a file)."""
        if is_postgres_url(self.db):
            raise ConfigError("NEWSBOT_DB: this command needs an SQLite file, not a URL")
        return Path(self.db)

    @property
    def db_shown(self) -> str:
        """Return NEWSBOT_DB as it may appear in a log or a message: without a password."""
        return redact_target(self.db)

    # What one user may ask: requests a minute (0: no limit) and how many at once.
    user_rate: float = 20.0
    user_burst: int = 10

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


def _parse_user_rate(value: str) -> float:
    try:
        rate = float(value)
    except ValueError:
        rate = -1.0
    if not 0 <= rate <= 6000:
        raise ConfigError(
            f"NEWSBOT_USER_RATE: {value!r} is not a number of requests a minute from 0 (no limit) "
            "to 6000 (default 20)"
        )
    return rate


def _parse_user_burst(value: str) -> int:
    if not value.strip().isdigit() or not 1 <= int(value) <= 1000:
        raise ConfigError(
            f"NEWSBOT_USER_BURST: {value!r} is not a whole number from 1 to 1000 (default 10)"
        )
    return int(value)


def _parse_log_level(value: str) -> str:
    level = value.strip().upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ConfigError(
            f"NEWSBOT_LOG_LEVEL: {value!r} is not one of DEBUG, INFO, WARNING, ERROR, CRITICAL"
        )
    return level


_SECRET_CHARS = re.compile(r"[A-Za-z0-9_-]{1,256}")


def _parse_webhook_url(value: str) -> str | None:
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname:
        raise ConfigError(
            f"NEWSBOT_WEBHOOK_URL: {value!r} is not an https URL (Telegram only posts to https, "
            "e.g. https://bot.example.org/tg/hook)"
        )
    return value


# Older names of NEWSBOT_HTTP_LISTEN, still read when it is unset.
LISTEN_ALIASES = ("NEWSBOT_WEBHOOK_LISTEN", "NEWSBOT_FEEDS_LISTEN")
DEFAULT_WEBHOOK_LISTEN = ("127.0.0.1", 8080)


def _parse_listen(name: str, value: str) -> tuple[str, int]:
    host, sep, port = value.strip().rpartition(":")
    host = host.strip("[]")  # [::1]:8080
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(
            f"{name}: {value!r} is not host:port (e.g. 127.0.0.1:8080, [::1]:8080, "
            "0.0.0.0:8080 in a container)"
        )
    return host, int(port)


def _http_listen(get: Callable[[str, str], str], webhook: bool) -> tuple[str, int] | None:
    """Return the one listener's address: NEWSBOT_HTTP_LISTEN, else an older name, else none.

    Webhook mode always listens (127.0.0.1:8080 unless told otherwise): updates arrive there.
    """
    value = get("NEWSBOT_HTTP_LISTEN", "").strip()
    if value:
        return _parse_listen("NEWSBOT_HTTP_LISTEN", value)
    older = {n: _parse_listen(n, v) for n in LISTEN_ALIASES if (v := get(n, "").strip())}
    if len(set(older.values())) > 1:
        raise ConfigError(
            "NEWSBOT_WEBHOOK_LISTEN and NEWSBOT_FEEDS_LISTEN name two addresses; one listener "
            "serves the webhook, the feeds, /healthz and /metrics: set NEWSBOT_HTTP_LISTEN"
        )
    if older:
        return next(iter(older.values()))
    return DEFAULT_WEBHOOK_LISTEN if webhook else None


def _parse_secret(value: str, url: str | None) -> Secret:
    if url is None:
        return Secret(value)
    if not value:
        raise ConfigError(
            "NEWSBOT_WEBHOOK_SECRET: required with NEWSBOT_WEBHOOK_URL "
            "(1-256 characters of A-Z a-z 0-9 _ -)"
        )
    if not _SECRET_CHARS.fullmatch(value):
        # The value itself is never shown: it is a secret even when malformed.
        raise ConfigError(
            "NEWSBOT_WEBHOOK_SECRET: must be 1-256 characters of A-Z a-z 0-9 _ - only"
        )
    return Secret(value)


def parse_db_target(value: str) -> str:
    """Return NEWSBOT_DB as the store opener takes it: a checked URL, or a usable file path."""
    value = value.strip()
    if looks_like_url(value):
        try:
            check_target(value)
        except StoreError as exc:
            raise ConfigError(str(exc)) from None
        return value
    path = Path(value).expanduser()
    check_db_path(path)
    return str(path)


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

    db = parse_db_target(get("NEWSBOT_DB", "data/newsbot.db"))
    proxy = get("NEWSBOT_FETCH_PROXY", "").strip() or None
    if proxy is not None and urlsplit(proxy).scheme not in ("http", "https", "socks5"):
        raise ConfigError(f"NEWSBOT_FETCH_PROXY: {proxy!r} is not a proxy URL (http://host:port)")
    webhook_url = _parse_webhook_url(get("NEWSBOT_WEBHOOK_URL", "").strip())
    return Settings(
        token=Secret(get("NEWSBOT_TOKEN", "").strip()),
        api_url=_parse_api_url(get("NEWSBOT_API_URL", DEFAULT_API_URL).strip()),
        db=db,
        tz=_parse_tz(get("NEWSBOT_TZ", "Asia/Shanghai").strip()),
        admins=_parse_admins(get("NEWSBOT_ADMINS", "")),
        sources_path=_parse_sources_path(get("NEWSBOT_SOURCES", "")),
        log_level=_parse_log_level(get("NEWSBOT_LOG_LEVEL", "INFO")),
        fetch_proxy=proxy,
        catch_up_hours=_parse_hours(get("NEWSBOT_CATCH_UP_HOURS", "3")),
        webhook_url=webhook_url,
        webhook_secret=_parse_secret(get("NEWSBOT_WEBHOOK_SECRET", "").strip(), webhook_url),
        http_listen=_http_listen(get, webhook_url is not None),
        user_rate=_parse_user_rate(get("NEWSBOT_USER_RATE", "20").strip()),
        user_burst=_parse_user_burst(get("NEWSBOT_USER_BURST", "10").strip()),
    )


def _parse_sources_path(value: str) -> Path | None:
    """Read NEWSBOT_SOURCES: a file replacing the catalogue, or empty for the catalogue."""
    value = value.strip()
    return Path(value).expanduser() if value else None


def sources_origin(settings: Settings) -> str:
    """Say where the sources come from: the NEWSBOT_SOURCES file or the packaged catalogue."""
    return str(settings.sources_path) if settings.sources_path else CATALOGUE_ORIGIN


def load_sources(settings: Settings) -> tuple[SourceConfig, ...]:
    """Read NEWSBOT_SOURCES (or the packaged catalogue), or raise ConfigError with one line."""
    path = settings.sources_path
    if path is None:
        try:
            return parse_sources(catalogue_text(), CATALOGUE_ORIGIN, PROFILES)
        except SourcesError as exc:  # pragma: no cover - a test parses the catalogue
            raise ConfigError(str(exc)) from None
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
    """Replace the token and the webhook secret wherever they appear in a log record."""

    def __init__(self, *secrets: str) -> None:
        super().__init__()
        self._secrets = tuple(s for s in secrets if s)

    def _redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message without the secrets."""
        if not self._secrets:
            return True
        message = record.getMessage()
        if any(secret in message for secret in self._secrets):
            record.msg = self._redact(message)
            record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            # Tracebacks are formatted later; pre-render them redacted.
            text = "".join(traceback.format_exception(*record.exc_info))
            record.exc_text = self._redact(text).rstrip("\n")
            record.exc_info = None
        return True
