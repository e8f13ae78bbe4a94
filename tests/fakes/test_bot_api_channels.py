"""The fake Bot API's channels: administrators, channel_post, the bot removed or demoted."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from fakes.bot_api import FakeBotApi

TOKEN = "777:fake-channels-token"
CHANNEL = -1004445556667


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi(TOKEN, global_rate=None, group_per_minute=None) as server:
        server.add_channel(CHANNEL, username="lnchan", title="辽宁频道", admins=(11,))
        yield server


@pytest.fixture
async def client(api: FakeBotApi) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"{api.root_url}/bot{TOKEN}/", timeout=10) as c:
        yield c


async def call(client: httpx.AsyncClient, method: str, **params: object) -> dict:
    return (await client.post(method, json=params)).json()


async def test_a_channel_its_administrators_and_subscribers(client, api) -> None:
    chat = await call(client, "getChat", chat_id="@lnchan")
    assert chat["result"]["type"] == "channel" and chat["result"]["id"] == CHANNEL
    admin = await call(client, "getChatMember", chat_id=CHANNEL, user_id=11)
    assert admin["result"]["status"] == "administrator"
    assert admin["result"]["can_post_messages"] is True
    reader = await call(client, "getChatMember", chat_id=CHANNEL, user_id=12)
    assert reader["result"]["status"] == "member"
    admins = await call(client, "getChatAdministrators", chat_id=CHANNEL)
    assert sorted(m["user"]["id"] for m in admins["result"]) == [11, api.bot_user["id"]]
    sent = await call(client, "sendMessage", chat_id=CHANNEL, text="hi")
    assert sent["ok"]


async def test_demoted_then_removed_the_sends_are_refused_and_updates_queued(client, api) -> None:
    api.demote_bot(CHANNEL, by_user=11)
    refused = await call(client, "sendMessage", chat_id=CHANNEL, text="hi")
    assert refused["error_code"] == 400
    assert refused["description"] == "Bad Request: need administrator rights in the channel chat"
    api.remove_bot(CHANNEL, by_user=11)
    gone = await call(client, "sendMessage", chat_id=CHANNEL, text="hi")
    assert gone["error_code"] == 403
    changes = [u["my_chat_member"] for u in api.pending_updates if "my_chat_member" in u]
    assert [c["new_chat_member"]["status"] for c in changes] == ["administrator", "left"]
    assert changes[0]["new_chat_member"]["can_post_messages"] is False
    assert changes[0]["old_chat_member"]["can_post_messages"] is True


async def test_a_channel_post_has_no_sender_but_the_channel(api) -> None:
    update = api.push_channel_post(CHANNEL, "/subscribe 08:00")
    post = update["channel_post"]
    assert "from" not in post and post["sender_chat"]["id"] == CHANNEL
    assert post["entities"][0]["type"] == "bot_command"
