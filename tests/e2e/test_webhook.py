"""Webhook mode through the real Application: updates by POST, the secret checked, one listener."""

from __future__ import annotations

import logging
import socket

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.webhook import SECRET_HEADER
from fakes.bot_api import FakeBotApi

SECRET = "s3cret_Token-for-tests"
PUBLIC_URL = "https://bot.example.org/tg/hook"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def webhook_settings(make_settings):
    port = free_port()
    settings = make_settings(
        NEWSBOT_WEBHOOK_URL=PUBLIC_URL,
        NEWSBOT_HTTP_LISTEN=f"127.0.0.1:{port}",
        NEWSBOT_WEBHOOK_SECRET=SECRET,
    )
    return settings, f"http://127.0.0.1:{port}"


async def test_webhook_mode_answers_updates_and_refuses_them_without_the_secret(
    webhook_settings, start_bot, bot_api: FakeBotApi, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    settings, local = webhook_settings
    bot_api.webhook_targets = [f"{local}/tg/hook"]  # the proxy in front of this instance
    await start_bot(settings)
    [registered] = bot_api.calls_to("setWebhook")
    assert registered.params["url"] == PUBLIC_URL
    assert registered.params["secret_token"] == SECRET
    assert "callback_query" in registered.params["allowed_updates"]
    assert bot_api.calls_to("getUpdates") == []  # no polling in webhook mode

    bot_api.push_text(11, "/start")
    [welcome] = await bot_api.wait_for_messages(11, 1)
    assert "东北新闻网" in welcome.plain_text
    assert bot_api.webhook_posts[-1][2] == 200

    update = {"update_id": 999, "message": {"message_id": 1, "date": 0, "text": "/help",
              "chat": {"id": 12, "type": "private"}, "from": {"id": 12, "is_bot": False,
              "first_name": "x"}, "entities": [{"type": "bot_command", "offset": 0,
              "length": 5}]}}  # fmt: skip
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{local}/tg/hook", json=update) as answer:
            assert answer.status == 401
        wrong = {SECRET_HEADER: "not-the-secret"}
        async with http.post(f"{local}/tg/hook", json=update, headers=wrong) as answer:
            assert answer.status == 403
        right = {SECRET_HEADER: SECRET}
        async with http.post(f"{local}/tg/hook", data=b"{not json", headers=right) as answer:
            assert answer.status == 400
        async with http.get(f"{local}/healthz") as answer:
            assert answer.status == 200
            body = await answer.json()
            assert body["ok"] is True and body["store"] == "answering"
    assert bot_api.messages_to(12) == []  # the refused update was never handled
    # PTB logs request parameters at DEBUG; `newsbot run` redacts them (see the subprocess
    # test in test_scale.py). Our own loggers never hold the secret in the first place.
    ours = [r for r in caplog.records if r.name.startswith(("bot", "handlers", "storage"))]
    assert not [r for r in ours if SECRET in r.getMessage()]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"NEWSBOT_WEBHOOK_URL": "http://bot.example.org/hook"}, "NEWSBOT_WEBHOOK_URL"),
        ({"NEWSBOT_WEBHOOK_URL": PUBLIC_URL}, "NEWSBOT_WEBHOOK_SECRET: required"),
        (
            {"NEWSBOT_WEBHOOK_URL": PUBLIC_URL, "NEWSBOT_WEBHOOK_SECRET": "has space!"},
            "NEWSBOT_WEBHOOK_SECRET: must be",
        ),
        ({"NEWSBOT_WEBHOOK_LISTEN": "8080"}, "NEWSBOT_WEBHOOK_LISTEN"),
        ({"NEWSBOT_HTTP_LISTEN": "8080"}, "NEWSBOT_HTTP_LISTEN"),
    ],
)
def test_bad_webhook_settings_stop_start_up_with_one_line(make_settings, env, message) -> None:
    from bot.config import ConfigError

    with pytest.raises(ConfigError) as raised:
        make_settings(**env)
    assert str(raised.value).startswith(message)
    assert "has space" not in str(raised.value)  # a secret is never echoed


async def test_one_listener_serves_the_webhook_feeds_health_and_metrics(
    make_settings, start_bot, bot_api: FakeBotApi
) -> None:
    port = free_port()
    listen = f"127.0.0.1:{port}"
    settings = make_settings(
        NEWSBOT_WEBHOOK_URL=PUBLIC_URL,
        NEWSBOT_WEBHOOK_SECRET=SECRET,
        NEWSBOT_HTTP_LISTEN=listen,
    )
    bot_api.webhook_targets = [f"http://{listen}/tg/hook"]
    await start_bot(settings)
    bot_api.push_text(13, "/help")
    await bot_api.wait_for_messages(13, 1)
    async with aiohttp.ClientSession() as http:
        async with http.get(f"http://{listen}/feeds/latest.atom") as answer:
            assert answer.status == 200
            assert "<feed" in await answer.text()
        async with http.get(f"http://{listen}/healthz") as answer:
            assert answer.status == 200
        async with http.get(f"http://{listen}/metrics") as answer:
            assert answer.status == 200
            families = {f.name: f for f in text_string_to_metric_families(await answer.text())}
    updates = families["newsbot_updates"].samples
    [helps] = [s for s in updates if s.name.endswith("_total") and s.labels["command"] == "help"]
    assert helps.value == 1  # the update came by webhook and was counted
