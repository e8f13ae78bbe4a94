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
    assert data["format"] == "newsbot-settings" and data["version"] == 1
    assert data["digest"]["time"] == "07:30" and data["follows"] == ["易炼红"]
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
    newer = json.dumps({**data, "version": 99}).encode()
    broken = json.dumps({**data, "digest": {"time": "25:99", "time_zone": "Asia/Shanghai"}})
    cases = [
        (b"not json at all", "不是本机器人导出"),
        (json.dumps({"hello": 1}).encode(), "不是本机器人导出"),
        (newer, "更新版本"),
        (broken.encode(), "digest.time"),
        (b" " * (65 * 1024), "文件太大"),
    ]
    for payload, why in cases:
        bot_api.clear_records()
        bot_api.push_document(third, payload, "x.json")
        [answer] = await bot_api.wait_for_messages(third, 1)
        assert why in answer.plain_text and "什么也没有改变" in answer.plain_text
        assert not buttons(answer)
    bot_api.clear_records()
    bot_api.push_text(third, "/following")
    [nothing] = await bot_api.wait_for_messages(third, 1)
    assert nothing.plain_text.startswith("还没有关注")


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
