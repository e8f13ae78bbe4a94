"""/speaker with the real bot: every article a person appears in, by role; a title at a time."""

from __future__ import annotations

import pytest

from fakes.archive import seed_store

# On SQLite and, with NEWSBOT_TEST_POSTGRES, on PostgreSQL.
pytestmark = pytest.mark.both_backends

CHAT = 4004


@pytest.fixture
async def roles_bot(make_settings, start_bot):
    settings = make_settings()
    await seed_store(settings.db)
    return await start_bot(settings)


def buttons(message) -> list[dict]:
    markup = message.reply_markup or {}
    return [b for row in markup.get("inline_keyboard", []) for b in row]


async def test_a_leader_who_presided_lists_those_meetings_with_roles(roles_bot, bot_api) -> None:
    # 于振明 presided over the seed article's meeting and spoke nowhere (corpus README).
    bot_api.push_text(CHAT, "/speaker 于振明")
    [reply] = await bot_api.wait_for_messages(CHAT, 1)
    text = reply.plain_text
    assert "还没有收录" not in text
    assert "主持 1" in text.splitlines()[2]  # the profile's counts by role
    assert "全部文章（第 1/1 页）" in text
    assert "【主持】" in text and "奋力拼搏" in text


async def test_speeches_only_and_everything_buttons(roles_bot, bot_api) -> None:
    bot_api.push_text(CHAT, "/speaker 易炼红")
    [reply] = await bot_api.wait_for_messages(CHAT, 1)
    assert "全部文章" in reply.plain_text
    [only] = [b for b in buttons(reply) if b["text"] == "只看讲话"]
    assert len(only["callback_data"].encode()) <= 64
    bot_api.push_callback(CHAT, reply.message_id, only["callback_data"])
    [edit] = await bot_api.wait_for_messages(CHAT, 1, kind="edit")
    assert "讲话（第 1/1 页）" in edit.plain_text
    assert "【提及】" not in edit.plain_text and "【讲话" in edit.plain_text
    [back] = [b for b in buttons(edit) if b["text"] == "全部文章"]
    bot_api.push_callback(CHAT, edit.message_id, back["callback_data"])
    edits = await bot_api.wait_for_messages(CHAT, 2, kind="edit")
    assert "全部文章（第 1/1 页）" in edits[-1].plain_text
    # Stale or forged view buttons get an answer, never a traceback.
    for data in ("spk:1:0:x", "spk:1:9:a", "spk:999:0:s", "spk:1:0"):
        bot_api.push_callback(CHAT, reply.message_id, data, check_button=False)


async def test_title_and_month_names_the_governor_of_that_month(roles_bot, bot_api) -> None:
    # leaders.json: 李乐成 辽宁省省长 2021–2025; 王新伟 became 代省长, then 省长, in 2025.
    bot_api.push_text(CHAT, "/speaker 省长 2024-03")
    [reply] = await bot_api.wait_for_messages(CHAT, 1)
    first = reply.plain_text.splitlines()[0]
    assert first == "2024-03 的省长：李乐成"
    assert "李乐成" in reply.plain_text.splitlines()[2]  # then his page
    bot_api.push_text(CHAT, "/speaker 沈阳市委书记 2018")
    [_, second] = await bot_api.wait_for_messages(CHAT, 2)
    assert second.plain_text.startswith("2018 的沈阳市委书记：易炼红")


@pytest.mark.parametrize(
    ("query", "expected"),
    [("省长 1900", "没有找到 1900 担任“省长”的人"), ("省长 2024-13", "没有找到“省长 2024-13”")],
)
async def test_title_at_a_time_with_nobody_or_a_bad_month(
    roles_bot, bot_api, query, expected
) -> None:
    bot_api.push_text(CHAT, f"/speaker {query}")
    [reply] = await bot_api.wait_for_messages(CHAT, 1)
    assert reply.plain_text.startswith(expected)
