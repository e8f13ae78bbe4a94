"""/said, the 导出 button and /settings files with the real bot against the fake Bot API."""

from __future__ import annotations

import csv
import io
import json

import openpyxl
import pytest

from fakes.archive import seed_store

# On SQLite and, with NEWSBOT_TEST_POSTGRES, on PostgreSQL.
pytestmark = pytest.mark.both_backends

CHAT = 5005


@pytest.fixture
async def said_bot(make_settings, start_bot):
    settings = make_settings()
    await seed_store(settings.db)
    return await start_bot(settings)


def buttons(message) -> list[dict]:
    markup = message.reply_markup or {}
    return [b for row in markup.get("inline_keyboard", []) for b in row]


async def test_said_lists_the_statement_with_the_words_in_bold(said_bot, bot_api) -> None:
    # The seed article: 易炼红 spoke of 城市品质 (corpus README). Traditional and pinyin work too.
    for query in (
        "/said 易炼红 城市品质",
        "/said 易煉紅 城市品質 2000..2099",
        "/said yilianhong 城市品质",
    ):
        bot_api.push_text(CHAT, query)
        [reply] = await bot_api.wait_for_messages(CHAT, 1)
        assert "易炼红" in reply.plain_text and "第 1 页" in reply.plain_text
        assert "<b>城市品质</b>" in reply.text and "奋力拼搏" in reply.plain_text
        assert any(b["text"] == "导出" for b in buttons(reply))
        assert all(len(b.get("callback_data", "").encode()) <= 64 for b in buttons(reply))
        bot_api.clear_records()


async def test_said_bad_input_gets_usage_or_closest_names(said_bot, bot_api) -> None:
    bot_api.push_text(CHAT, "/said 易炼红")
    [usage] = await bot_api.wait_for_messages(CHAT, 1)
    assert usage.plain_text.startswith("用法：/said")
    bot_api.clear_records()
    bot_api.push_text(CHAT, "/said 易练红 城市品质")
    [unknown] = await bot_api.wait_for_messages(CHAT, 1)
    assert "易炼红" in unknown.plain_text and "用法：/said" in unknown.plain_text
    bot_api.clear_records()
    bot_api.push_text(CHAT, "/said 易炼红 城市品质 2020-13..2021")
    [bad_range] = await bot_api.wait_for_messages(CHAT, 1)
    assert bad_range.plain_text.startswith("用法：/said")
    bot_api.clear_records()
    bot_api.push_text(CHAT, "/said 易炼红 城市品质 2000..2001")
    [outside] = await bot_api.wait_for_messages(CHAT, 1)
    assert "没有找到" in outside.plain_text and not buttons(outside)
    bot_api.clear_records()
    bot_api.push_text(CHAT, "/said 易炼红 一个不存在的词语")
    [empty] = await bot_api.wait_for_messages(CHAT, 1)
    assert "没有找到" in empty.plain_text and not buttons(empty)  # no 导出 for nothing


async def test_speaker_page_asks_for_words_and_a_reply_is_a_said(said_bot, bot_api) -> None:
    bot_api.push_text(CHAT, "/speaker 易炼红")
    [page] = await bot_api.wait_for_messages(CHAT, 1)
    [ask] = [b for b in buttons(page) if b["text"].startswith("🔎")]
    bot_api.push_callback(CHAT, page.message_id, ask["callback_data"])
    await bot_api.wait_for_messages(CHAT, 2)
    prompt = bot_api.messages_to(CHAT)[-1]
    assert prompt.plain_text.startswith("🔎 易炼红")
    bot_api.push_text(CHAT, "城市品质", reply_to_message_id=prompt.message_id)
    messages = await bot_api.wait_for_messages(CHAT, 3)
    assert "<b>城市品质</b>" in messages[-1].text


async def test_export_button_sends_a_csv_and_an_xlsx_read_back(said_bot, bot_api) -> None:
    bot_api.push_text(CHAT, "/said 易炼红 城市品质")
    [reply] = await bot_api.wait_for_messages(CHAT, 1)
    [export] = [b for b in buttons(reply) if b["text"] == "导出"]
    bot_api.push_callback(CHAT, reply.message_id, export["callback_data"])
    sent = await bot_api.wait_for_messages(CHAT, 3)
    documents = [m for m in sent if m.method == "sendDocument"]
    assert [d.document["file_name"].rsplit(".", 1)[1] for d in documents] == ["csv", "xlsx"]
    assert "1 条" in documents[0].plain_text
    raw = bot_api.files[documents[0].document["file_id"]]
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs for Chinese
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == [
        "日期",
        "来源",
        "标题",
        "链接",
        "刊载媒体",
        "讲话及出席领导",
        "摘要",
        "讲话内容",
    ]
    [row] = rows[1:]
    assert row[0][:4].isdigit() and "奋力拼搏" in row[2] and row[3].startswith("http")
    assert "易炼红（讲话" in row[5] and "城市品质" in row[7]
    book = openpyxl.load_workbook(io.BytesIO(bot_api.files[documents[1].document["file_id"]]))
    sheet = book.active
    assert [[c.value or "" for c in r] for r in sheet.iter_rows()] == rows


async def test_search_and_speaker_export(said_bot, bot_api) -> None:
    bot_api.push_text(CHAT, "/search 振兴")
    [reply] = await bot_api.wait_for_messages(CHAT, 1)
    [export] = [b for b in buttons(reply) if b["text"] == "导出"]
    bot_api.push_callback(CHAT, reply.message_id, export["callback_data"])
    sent = await bot_api.wait_for_messages(CHAT, 3)
    [csv_doc, _] = [m for m in sent if m.method == "sendDocument"]
    rows = list(
        csv.reader(io.StringIO(bot_api.files[csv_doc.document["file_id"]].decode("utf-8-sig")))
    )
    assert len(rows) > 2 and len(rows[0]) == 7
    dates = [r[0] for r in rows[1:]]
    assert dates == sorted(dates, reverse=True)  # newest first
    bot_api.clear_records()
    bot_api.push_text(CHAT, "/speaker 易炼红")
    [page] = await bot_api.wait_for_messages(CHAT, 1)
    [export] = [b for b in buttons(page) if b["text"] == "导出"]
    bot_api.push_callback(CHAT, page.message_id, export["callback_data"])
    sent = await bot_api.wait_for_messages(CHAT, 3)
    assert len([m for m in sent if m.method == "sendDocument"]) == 2
    # A forged export button is answered, not a traceback or a file.
    bot_api.push_callback(CHAT, page.message_id, "exp:s:99999", check_button=False)
    bot_api.push_callback(CHAT, page.message_id, "exp:p:x:a", check_button=False)


async def test_settings_round_trip_and_bad_files(said_bot, bot_api) -> None:
    for command in ("/subscribe 07:30", "/follow 易炼红", "/keyword 振兴"):
        bot_api.push_text(CHAT, command)
    await bot_api.wait_for_messages(CHAT, 3)
    bot_api.clear_records()
    bot_api.push_text(CHAT, "/settings")
    [card] = await bot_api.wait_for_messages(CHAT, 1)
    [export] = [b for b in buttons(card) if b["text"] == "导出设置"]
    bot_api.push_callback(CHAT, card.message_id, export["callback_data"])
    [card, document] = await bot_api.wait_for_messages(CHAT, 2)
    content = bot_api.files[document.document["file_id"]]
    data = json.loads(content)
    assert data["format"] == "newsbot-settings" and data["version"] == 2
    assert data["digest"]["times"] == ["07:30"] and data["follows"] == ["易炼红"]
    assert data["keywords"] == ["振兴"]
    # Into another chat: a confirmation first, then everything is set.
    other = CHAT + 1
    bot_api.push_document(other, content, "settings.json")
    [confirm] = await bot_api.wait_for_messages(other, 1)
    assert "07:30" in confirm.plain_text and "关注领导 1 位" in confirm.plain_text
    [button] = buttons(confirm)
    bot_api.push_callback(other, confirm.message_id, button["callback_data"])
    [done] = await bot_api.wait_for_messages(other, 1, kind="edit")
    assert done.plain_text.startswith("已导入")
    bot_api.clear_records()
    bot_api.push_text(other, "/following")
    [following] = await bot_api.wait_for_messages(other, 1)
    assert "易炼红" in following.plain_text and "振兴" in following.plain_text
    # Bad files: one line each, nothing changed.
    third = CHAT + 2
    newer = json.dumps({**data, "version": 3}).encode()
    broken = json.dumps({**data, "digest": {"times": ["25:99"], "time_zone": "Asia/Shanghai"}})
    five = {**data["digest"], "times": ["06:00", "07:00", "08:00", "09:00", "10:00"]}
    cases = [
        (b"not json at all", "不是本机器人导出"),
        (json.dumps({"hello": 1}).encode(), "不是本机器人导出"),
        (newer, "更新版本的机器人（版本 3）"),
        (broken.encode(), "digest.times"),
        (json.dumps({**data, "digest": five}).encode(), "digest.times"),
        (json.dumps({**data, "quiet_hours": {"start": "07:00", "end": "23:00"}}), "quiet_hours"),
        (json.dumps({**data, "digest_order": "random"}), "digest_order"),
        (json.dumps({**data, "city": "北京"}), "city"),
        (json.dumps({**data, "silent": "yes"}), "silent"),
        (json.dumps({**data, "keywords": ["振兴", "-招聘"]}), "keywords: -招聘"),
        (json.dumps({**data, "watches": [{"kind": "person", "target": "x"}]}), "watches"),
        (b" " * (65 * 1024), "文件太大"),
    ]
    for payload, why in cases:
        bot_api.clear_records()
        raw = payload.encode() if isinstance(payload, str) else payload
        bot_api.push_document(third, raw, "x.json")
        [answer] = await bot_api.wait_for_messages(third, 1)
        assert why in answer.plain_text and "什么也没有改变" in answer.plain_text
        assert "\n" not in answer.plain_text and not buttons(answer)
    bot_api.clear_records()
    bot_api.push_text(third, "/following")
    [nothing] = await bot_api.wait_for_messages(third, 1)
    assert nothing.plain_text.startswith("还没有关注")


# Two sources, the province's and a city's, for digests by source and watches.
SOURCES = """
[[source]]
name = "nen-liaoning"
title = "东北新闻网·辽宁要闻"
profile = "nen"
lists = ["http://127.0.0.1:9/list.shtml"]
interval_minutes = 600

[[source]]
name = "dalian-news"
title = "大连新闻网·要闻"
region = "大连"
profile = "generic"
lists = ["http://127.0.0.1:9/dl.shtml"]
interval_minutes = 600
"""
USER = 5151  # a channel's administrator, in a private chat with the bot
CHANNEL = -1002003004005
NAME = "@lnnews_test"


@pytest.fixture
async def settings_bot(make_settings, start_bot, bot_api):
    settings = make_settings(SOURCES)
    await seed_store(settings.db)
    bot_api.add_channel(CHANNEL, username=NAME[1:], title="辽宁新闻频道", admins=(USER,))
    return await start_bot(settings)


async def press(bot_api, chat: int, message_id: int, data: str, user_id: int | None = None):
    """Press a button the bot's message shows; return the message as edited."""
    before = len(bot_api.edits_to(chat))
    bot_api.push_callback(chat, message_id, data, user_id=user_id)
    return (await bot_api.wait_for_messages(chat, before + 1, kind="edit"))[-1]


async def export_file(bot_api, chat: int, ref: str = "", user_id: int | None = None) -> dict:
    """Press 导出设置 on a chat's (or a channel's) /settings card; return the file's JSON."""
    before = len(bot_api.messages_to(chat))
    bot_api.push_text(chat, f"/settings {ref}".strip(), user_id=user_id)
    card = (await bot_api.wait_for_messages(chat, before + 1))[-1]
    [export] = [b for b in buttons(card) if b["callback_data"].startswith("sexp")]
    bot_api.push_callback(chat, card.message_id, export["callback_data"], user_id=user_id)
    document = (await bot_api.wait_for_messages(chat, before + 2))[-1]
    assert document.document["file_name"].endswith(".json")
    data = json.loads(bot_api.files[document.document["file_id"]])
    data.pop("exported_at")
    return data


async def import_file(bot_api, chat: int, content: bytes, choice: int = 0, user_id=None):
    """Send a settings file, press the confirmation's button `choice`; return both texts."""
    before = len(bot_api.messages_to(chat))
    bot_api.push_document(chat, content, "settings.json", user_id=user_id)
    confirm = (await bot_api.wait_for_messages(chat, before + 1))[-1]
    data = buttons(confirm)[choice]["callback_data"]
    done = await press(bot_api, chat, confirm.message_id, data, user_id)
    return confirm, done.plain_text


async def test_every_setting_round_trips_into_another_chat(settings_bot, bot_api) -> None:
    commands = (
        "/subscribe 08:00 18:00 工作日 Asia/Tokyo",
        "/quiet 22:00 07:00",
        "/follow 易炼红",
        "/keyword 营商环境 沈阳 -招聘",
        "/keyword 振兴",
        "/watch 大连",
        "/watch dalian-news",
    )
    for command in commands:
        bot_api.push_text(CHAT, command)
    await bot_api.wait_for_messages(CHAT, len(commands))
    bot_api.push_text(CHAT, "/settings")
    card = (await bot_api.wait_for_messages(CHAT, len(commands) + 1))[-1]
    for data in ("set:e:x", "set:m:x", "set:k:x", "set:o:1", "set:y:1", "set:l:en"):
        await press(bot_api, CHAT, card.message_id, data)
    # The digest's sources, chosen by region: every source but the city's one.
    await press(bot_api, CHAT, card.message_id, "set:p:x")
    await press(bot_api, CHAT, card.message_id, "set:r:2")
    await press(bot_api, CHAT, card.message_id, "set:s:dalian-news")
    data = await export_file(bot_api, CHAT)
    assert data == {
        "format": "newsbot-settings",
        "version": 2,
        "language": "en",
        "digest": {
            "times": ["08:00", "18:00"],
            "time_zone": "Asia/Tokyo",
            "weekdays_only": True,
            "channels": ["nen-liaoning"],
            "send_empty": True,
        },
        "quiet_hours": {"start": "22:00", "end": "07:00"},
        "silent": True,
        "keyword_body": True,
        "digest_order": "region",
        "city": "大连",
        "follows": ["易炼红"],
        "keywords": ["振兴", "营商环境 沈阳 -招聘"],
        "watches": [
            {"kind": "source", "target": "dalian-news"},
            {"kind": "region", "target": "大连"},
        ],
    }
    # Into another chat that had its own quiet hours and a digest: the file's win, nothing lost.
    other = CHAT + 10
    bot_api.push_text(other, "/quiet 23:00 06:00")
    await bot_api.wait_for_messages(other, 1)
    content = json.dumps(data, ensure_ascii=False).encode()
    confirm, done = await import_file(bot_api, other, content)
    summary = "摘要 08:00、18:00 Asia/Tokyo（仅工作日）；关注领导 1 位；关键词 2 个；来源/地区 2 个"
    assert summary in confirm.plain_text and len(buttons(confirm)) == 1
    assert done == "已导入：" + summary
    assert await export_file(bot_api, other) == data
    bot_api.clear_records()
    bot_api.push_text(other, "/settings")
    [card] = await bot_api.wait_for_messages(other, 1)
    assert "08:00、18:00" in card.plain_text and "22:00–07:00" in card.plain_text
    # Sources, regions and people this bot does not know are skipped and named; the rest is set.
    unknown = {
        **data,
        "follows": ["易炼红", "无此人"],
        "digest": {**data["digest"], "channels": ["nen-liaoning", "gone-news"]},
        "watches": [*data["watches"], {"kind": "source", "target": "gone-news"}],
    }
    third = CHAT + 11
    content = json.dumps(unknown, ensure_ascii=False).encode()
    _confirm, done = await import_file(bot_api, third, content)
    assert done.endswith("；跳过本机器人不认识的：gone-news、无此人")
    assert await export_file(bot_api, third) == data


async def test_a_version_1_file_still_imports(settings_bot, bot_api) -> None:
    # As the first version wrote it, two digests a day as one string included.
    v1 = {
        "format": "newsbot-settings",
        "version": 1,
        "exported_at": "2026-12-01T00:00:00+00:00",
        "language": "zh",
        "digest": {
            "time": "08:00,18:00",
            "time_zone": "Asia/Shanghai",
            "channels": ["nen-liaoning"],
            "send_empty": False,
        },
        "follows": ["易炼红"],
        "keywords": ["振兴"],
    }
    bot_api.push_text(CHAT, "/quiet 23:00 06:00")
    await bot_api.wait_for_messages(CHAT, 1)
    content = json.dumps(v1, ensure_ascii=False).encode()
    confirm, done = await import_file(bot_api, CHAT, content)
    assert "摘要 08:00、18:00 Asia/Shanghai；关注领导 1 位；关键词 1 个" in confirm.plain_text
    assert done.startswith("已导入：摘要 08:00、18:00")
    data = await export_file(bot_api, CHAT)
    assert data["digest"]["times"] == ["08:00", "18:00"]
    assert data["digest"]["channels"] == ["nen-liaoning"] and not data["digest"]["weekdays_only"]
    assert data["follows"] == ["易炼红"] and data["keywords"] == ["振兴"]
    # A first-version file knows nothing of quiet hours: the chat's own are kept.
    assert data["quiet_hours"] == {"start": "23:00", "end": "06:00"}


async def test_a_channels_settings_export_and_import_with_the_admin_checks(
    settings_bot, bot_api
) -> None:
    commands = (f"/subscribe {NAME} 08:00 18:00", f"/watch {NAME} 沈阳", "/keyword 振兴")
    for command in (*commands, "/subscribe 07:00"):
        bot_api.push_text(USER, command)
    await bot_api.wait_for_messages(USER, 4)
    # The channel's card offers the export button with the channel in it.
    channel = await export_file(bot_api, USER, NAME, USER)
    assert channel["digest"]["times"] == ["08:00", "18:00"]
    assert channel["watches"] == [{"kind": "region", "target": "沈阳"}]
    assert channel["keywords"] == []  # /keyword went to the private chat, not the channel
    # The user's own settings into the channel: the confirmation offers it by name.
    own = await export_file(bot_api, USER, "", USER)
    own["digest"]["channels"] = ["dalian-news"]  # a channel's digest takes every source
    mine = json.dumps(own, ensure_ascii=False).encode()
    confirm, done = await import_file(bot_api, USER, mine, 1, USER)
    assert [b["text"] for b in buttons(confirm)] == ["确认导入", "导入到频道 @lnnews_test"]
    assert buttons(confirm)[1]["callback_data"] == f"simp:{CHANNEL}"
    assert done.startswith(f"频道 {NAME} 已导入")
    after = await export_file(bot_api, USER, NAME, USER)
    assert after["keywords"] == ["振兴"] and after["digest"]["times"] == ["07:00"]
    assert after["digest"]["channels"] == [] and after["watches"] == channel["watches"]
    # No longer an administrator: the channel's buttons are refused, nothing changes.
    bot_api.set_chat_member(CHANNEL, USER, "member")
    edits = len(bot_api.edits_to(USER))
    before = len(bot_api.calls_to("answerCallbackQuery"))
    bot_api.push_document(USER, mine, "settings.json", user_id=USER)
    confirm = (await bot_api.wait_for_messages(USER, len(bot_api.messages_to(USER)) + 1))[-1]
    bot_api.push_callback(USER, confirm.message_id, f"simp:{CHANNEL}", user_id=USER)
    bot_api.push_callback(USER, confirm.message_id, f"sexp:{CHANNEL}", check_button=False)
    calls = await bot_api.wait_for_calls("answerCallbackQuery", before + 2)
    refusals = [c.params.get("text") for c in calls[before:]]
    assert refusals == ["你不能修改这个设置。", "你不能修改这个设置。"]
    assert len(bot_api.edits_to(USER)) == edits  # nothing imported, nothing exported


async def test_inline_name_and_words_lists_statements_first(make_settings, start_bot, bot_api):
    settings = make_settings()
    await seed_store(settings.db)
    bot_api.enable_inline_mode()
    await start_bot(settings)
    update = bot_api.push_inline_query(CHAT, "易炼红 城市品质")
    answer = await bot_api.wait_for_inline_answer(update["inline_query"]["id"])
    first = answer["results"][0]
    assert "奋力拼搏" in first["title"] and "“" in first["description"]
    assert "城市品质" in first["description"]
    assert len({r["id"] for r in answer["results"]}) == len(answer["results"])
    # A forged offset gets no results, not a traceback.
    update = bot_api.push_inline_query(CHAT, "易炼红 城市品质", offset="x.1")
    forged = await bot_api.wait_for_inline_answer(update["inline_query"]["id"])
    assert forged["results"] == []
