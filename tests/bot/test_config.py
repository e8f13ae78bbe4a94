"""Settings: environment over .env over defaults; bad values stop with one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, Secret, load_settings


def test_defaults(tmp_path: Path) -> None:
    settings = load_settings({"NEWSBOT_DB": str(tmp_path / "d" / "x.db")}, dotenv=None)
    assert settings.api_url == "https://api.telegram.org"
    assert settings.tz.key == "Asia/Shanghai"
    assert settings.admins == frozenset()
    assert settings.sources_path is None  # the packaged catalogue
    assert settings.log_level == "INFO"
    assert settings.http_listen is None  # polling listens only when asked to
    assert not settings.token
    assert (tmp_path / "d").is_dir()  # the database folder is created


def test_environment_beats_dotenv_beats_default(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        "# comment\nNEWSBOT_TOKEN='123:abc'\nexport NEWSBOT_TZ=Europe/Berlin\n"
        f"NEWSBOT_DB={tmp_path / 'a.db'}\nNEWSBOT_ADMINS=1, 2\n",
        encoding="utf-8",
    )
    settings = load_settings({"NEWSBOT_TZ": "UTC"}, dotenv=dotenv)
    assert settings.token.reveal() == "123:abc"
    assert settings.tz.key == "UTC"
    assert settings.admins == frozenset({1, 2})


def test_token_never_shows(tmp_path: Path) -> None:
    settings = load_settings(
        {"NEWSBOT_TOKEN": "999:SECRET", "NEWSBOT_DB": str(tmp_path / "a.db")}, dotenv=None
    )
    assert "SECRET" not in repr(settings)
    assert "SECRET" not in str(settings.token)
    assert "SECRET" not in f"{settings}"
    assert repr(Secret("")) == "Secret('')"


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"NEWSBOT_TZ": "Mars/Olympus"}, "NEWSBOT_TZ"),
        ({"NEWSBOT_TZ": "Asia"}, "NEWSBOT_TZ"),
        ({"NEWSBOT_ADMINS": "12,abc"}, "NEWSBOT_ADMINS"),
        ({"NEWSBOT_API_URL": "telegram"}, "NEWSBOT_API_URL"),
        ({"NEWSBOT_LOG_LEVEL": "LOUD"}, "NEWSBOT_LOG_LEVEL"),
        ({"NEWSBOT_DB": "/proc/newsbot/x.db"}, "NEWSBOT_DB"),
        ({"NEWSBOT_HTTP_LISTEN": "8080"}, "NEWSBOT_HTTP_LISTEN"),
        ({"NEWSBOT_HTTP_LISTEN": "localhost:http"}, "NEWSBOT_HTTP_LISTEN"),
        ({"NEWSBOT_HTTP_LISTEN": "127.0.0.1:70000"}, "NEWSBOT_HTTP_LISTEN"),
        ({"NEWSBOT_FEEDS_LISTEN": "8080"}, "NEWSBOT_FEEDS_LISTEN"),
        (
            {"NEWSBOT_FEEDS_LISTEN": "127.0.0.1:8080", "NEWSBOT_WEBHOOK_LISTEN": "127.0.0.1:8081"},
            "NEWSBOT_WEBHOOK_LISTEN and NEWSBOT_FEEDS_LISTEN name two addresses",
        ),
        ({"NEWSBOT_USER_RATE": "fast"}, "NEWSBOT_USER_RATE"),
        ({"NEWSBOT_USER_RATE": "-1"}, "NEWSBOT_USER_RATE"),
        ({"NEWSBOT_USER_BURST": "0"}, "NEWSBOT_USER_BURST"),
        ({"NEWSBOT_USER_BURST": "2.5"}, "NEWSBOT_USER_BURST"),
    ],
)
def test_bad_values_name_the_variable(tmp_path: Path, env: dict[str, str], variable: str) -> None:
    env = {"NEWSBOT_DB": str(tmp_path / "a.db"), **env}
    with pytest.raises(ConfigError) as info:
        load_settings(env, dotenv=None)
    message = str(info.value)
    assert message.startswith(variable)
    assert "\n" not in message


def test_db_path_that_is_a_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="NEWSBOT_DB"):
        load_settings({"NEWSBOT_DB": str(tmp_path)}, dotenv=None)


def test_missing_token_explains_how(tmp_path: Path) -> None:
    settings = load_settings({"NEWSBOT_DB": str(tmp_path / "a.db")}, dotenv=None)
    with pytest.raises(ConfigError) as info:
        settings.require_token()
    assert "@BotFather" in str(info.value)
    assert ".env" in str(info.value)
    assert "make demo" in str(info.value)


@pytest.mark.parametrize(
    ("env", "listen"),
    [
        ({"NEWSBOT_HTTP_LISTEN": "127.0.0.1:8080"}, ("127.0.0.1", 8080)),
        ({"NEWSBOT_HTTP_LISTEN": "[::1]:8443"}, ("::1", 8443)),
        ({"NEWSBOT_HTTP_LISTEN": "0.0.0.0:8080"}, ("0.0.0.0", 8080)),
        ({"NEWSBOT_HTTP_LISTEN": ""}, None),
        # The older names still work, alone or naming the same address.
        ({"NEWSBOT_FEEDS_LISTEN": "127.0.0.1:9000"}, ("127.0.0.1", 9000)),
        (
            {"NEWSBOT_FEEDS_LISTEN": "127.0.0.1:9000", "NEWSBOT_WEBHOOK_LISTEN": "127.0.0.1:9000"},
            ("127.0.0.1", 9000),
        ),
        ({"NEWSBOT_HTTP_LISTEN": "[::]:80", "NEWSBOT_FEEDS_LISTEN": "127.0.0.1:1"}, ("::", 80)),
        # Webhook mode always listens: updates arrive there.
        (
            {
                "NEWSBOT_WEBHOOK_URL": "https://bot.example.org/hook",
                "NEWSBOT_WEBHOOK_SECRET": "s",
            },
            ("127.0.0.1", 8080),
        ),
    ],
)
def test_http_listen(tmp_path: Path, env: dict[str, str], listen: tuple[str, int] | None) -> None:
    env = {"NEWSBOT_DB": str(tmp_path / "a.db"), **env}
    assert load_settings(env, dotenv=None).http_listen == listen


def test_a_postgres_url_is_taken_as_it_is_and_never_shown_with_its_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    url = "postgresql://newsbot:hunter2@db.example.org:5433/newsbot"
    settings = load_settings({"NEWSBOT_DB": url}, dotenv=None)
    assert settings.db == url
    assert "hunter2" not in repr(settings) and "hunter2" not in settings.db_shown
    assert settings.db_shown == "postgresql://newsbot:***@db.example.org:5433/newsbot"
    assert list(tmp_path.iterdir()) == []  # no folder named postgresql:
    with pytest.raises(ConfigError, match="NEWSBOT_DB"):
        _ = settings.db_path  # the SQLite-only tools say so


@pytest.mark.parametrize(
    "value",
    [
        "postgres:/x",
        "postgres://u:hunter2@h/db",
        "mysql://u:hunter2@h/db",
        "postgresql://u:hunter2@h:notaport/db",
        "postgresql://u:hunter2@h/",
        "postgresql://u:hunter2@h/a/b",
        "sqlite:data.db",
    ],
)
def test_other_urls_stop_start_up_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as info:
        load_settings({"NEWSBOT_DB": value}, dotenv=None)
    message = str(info.value)
    assert message.startswith("NEWSBOT_DB") and "\n" not in message
    assert "hunter2" not in message
    assert list(tmp_path.iterdir()) == []


def test_user_limits_default_and_set(tmp_path: Path) -> None:
    env = {"NEWSBOT_DB": str(tmp_path / "a.db")}
    default = load_settings(env, dotenv=None)
    assert (default.user_rate, default.user_burst) == (20.0, 10)
    env |= {"NEWSBOT_USER_RATE": "0", "NEWSBOT_USER_BURST": "3"}
    off = load_settings(env, dotenv=None)
    assert (off.user_rate, off.user_burst) == (0.0, 3)
