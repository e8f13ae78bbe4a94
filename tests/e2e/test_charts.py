"""Charts with the real bot: /chart, the 活动图 button under /speaker, /trend; real PNGs."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import pytest
from PIL import Image

from fakes.archive import seed_store
from handlers import charts
from handlers.charts import last_months, month_bounds
from storage import open_store

# On SQLite and, with NEWSBOT_TEST_POSTGRES, on PostgreSQL.
pytestmark = pytest.mark.both_backends

CHAT = 3003
MAX_WIDTH = 1280


@pytest.fixture
async def chart_bot(make_settings, start_bot):
    settings = make_settings()
    ids = await seed_store(settings.db)
    bot = await start_bot(settings)
    return bot, ids


def decoded(api, message) -> Image.Image:
    """Return the photo a sendPhoto message carried, decoded (fails on a broken PNG)."""
    file_id = message.photo[-1]["file_id"]
    content = api.files[file_id]
    assert content.startswith(b"\x89PNG"), "not a PNG"
    assert len(content) < 1_000_000
    image = Image.open(io.BytesIO(content))
    image.load()
    assert image.format == "PNG"
    assert image.width <= MAX_WIDTH and image.height <= MAX_WIDTH
    return image


def caption_total(caption: str) -> int:
    match = re.search(r"共 (\d+) 篇", caption)
    assert match, caption
    return int(match.group(1))


async def test_chart_of_a_leader_counts_what_the_store_holds(chart_bot, bot_api) -> None:
    bot, _ids = chart_bot
    bot_api.push_text(CHAT, "/chart 易炼红")
    [photo] = await bot_api.wait_for_messages(CHAT, 1)
    assert photo.method == "sendPhoto"
    image = decoded(bot_api, photo)
    assert image.width == MAX_WIDTH
    caption = photo.plain_text
    assert caption.startswith("易炼红 ")
    store = await open_store(bot.settings.db)
    try:
        person = await store.person_by_name("易炼红")
        assert person is not None
        since, until = last_months(datetime.now(UTC), bot.settings.tz)
        activity = await store.person_activity(
            person.id, month_bounds(since, until, bot.settings.tz)
        )
        spoke = await store.count_person_statements(person.id)
    finally:
        await store.close()
    # Every seed article is from the last two years: the chart counts all of the person's.
    assert caption_total(caption) == person.article_count == sum(a.count for a in activity)
    assert f"讲话 {spoke}" in caption
    assert "最多在 " in caption
    assert photo.entities[0]["type"] == "bold"


async def test_the_speaker_page_has_a_chart_button_and_a_repeat_is_not_redrawn(
    chart_bot, bot_api
) -> None:
    bot_api.push_text(CHAT, "/speaker 易炼红")
    [page] = await bot_api.wait_for_messages(CHAT, 1)
    rows = page.reply_markup["inline_keyboard"]
    # The chart has a row of its own (the 🔎/导出 row of /said and export follows it).
    [chart_row] = [row for row in rows if any(b["text"] == "📊 活动图" for b in row)]
    assert [b["text"] for b in chart_row] == ["📊 活动图"]
    data = chart_row[0]["callback_data"]
    bot_api.push_callback(CHAT, page.message_id, data)
    replies = await bot_api.wait_for_messages(CHAT, 2)
    first = replies[1]
    assert first.method == "sendPhoto"
    decoded(bot_api, first)
    bot_api.push_text(CHAT, "/chart 易炼红")
    replies = await bot_api.wait_for_messages(CHAT, 3)
    second = replies[2]
    # Served from the cache: the same picture, resent by Telegram's file_id, not uploaded.
    assert second.params["photo"] == first.photo[-1]["file_id"]
    assert second.plain_text == first.plain_text


async def test_a_chart_being_drawn_says_sending_a_photo_and_a_cached_one_does_not(
    chart_bot, bot_api, monkeypatch
) -> None:
    # At once rather than after a second: a quick render would otherwise say nothing.
    monkeypatch.setattr(charts, "UPLOAD_ACTION_AFTER_SECONDS", 0.0)
    bot_api.push_text(CHAT, "/chart 易炼红")
    [photo] = await bot_api.wait_for_messages(CHAT, 1, timeout=60)
    actions = bot_api.calls_to("sendChatAction")
    assert [(a.params["chat_id"], a.params["action"], a.status) for a in actions][:1] == [
        (CHAT, "upload_photo", 200)
    ]
    [sent] = bot_api.calls_to("sendPhoto")
    assert actions[-1].monotonic < sent.monotonic
    bot_api.push_text(CHAT, "/chart 易炼红")
    replies = await bot_api.wait_for_messages(CHAT, 2)
    assert replies[1].method == "sendPhoto" and replies[1].plain_text == photo.plain_text
    assert len(bot_api.calls_to("sendChatAction")) == len(actions)


async def test_a_refused_chat_action_still_sends_the_chart(chart_bot, bot_api, monkeypatch) -> None:
    monkeypatch.setattr(charts, "UPLOAD_ACTION_AFTER_SECONDS", 0.0)
    bot_api.fail_next("sendChatAction", error_code=400, description="Bad Request: chat not found")
    bot_api.push_text(CHAT, "/trend 城市品质")
    [photo] = await bot_api.wait_for_messages(CHAT, 1, timeout=60)
    assert photo.method == "sendPhoto"
    assert [a.status for a in bot_api.calls_to("sendChatAction")] == [400]


async def test_chart_usage_and_unknown_names(chart_bot, bot_api) -> None:
    bot_api.push_text(CHAT, "/chart")
    bot_api.push_text(CHAT, "/chart 不存在的人名字")
    replies = await bot_api.wait_for_messages(CHAT, 2)
    texts = sorted(r.plain_text for r in replies)
    assert any(t.startswith("用法：/chart") for t in texts)
    assert any("没有找到“不存在的人名字”" in t for t in texts)
    assert all(r.method == "sendMessage" for r in replies)


async def test_trend_totals_equal_the_search_count(chart_bot, bot_api) -> None:
    bot, _ids = chart_bot
    bot_api.push_text(CHAT, "/trend 城市品质")
    [photo] = await bot_api.wait_for_messages(CHAT, 1)
    assert photo.method == "sendPhoto"
    decoded(bot_api, photo)
    store = await open_store(bot.settings.db)
    try:
        _hits, total = await store.search_articles(["城市品质"])
        top = await store.search_top_speakers(
            ["城市品质"], *last_months(datetime.now(UTC), bot.settings.tz)
        )
    finally:
        await store.close()
    assert total > 0
    assert caption_total(photo.plain_text) == total
    assert top and f"讲话最多：{top[0][0].name}（{top[0][1]}）" in photo.plain_text


async def test_trend_names_its_speakers_of_the_newest_matches_past_the_cap(
    chart_bot, bot_api, monkeypatch
) -> None:
    bot, _ids = chart_bot
    # The cap as if the archive held thousands of matches: 1 here.
    monkeypatch.setattr("handlers.charts.TOP_SPEAKERS_CAP", 1)
    bot_api.push_text(CHAT, "/trend 城市品质")
    [photo] = await bot_api.wait_for_messages(CHAT, 1)
    store = await open_store(bot.settings.db)
    try:
        top = await store.search_top_speakers(
            ["城市品质"], *last_months(datetime.now(UTC), bot.settings.tz), newest=1
        )
    finally:
        await store.close()
    assert caption_total(photo.plain_text) > 1
    assert top and [n for _person, n in top] == [1] * len(top)
    assert f"最近 1 篇中讲话最多：{top[0][0].name}（1）" in photo.plain_text


async def test_trend_traditional_characters_find_the_same(chart_bot, bot_api) -> None:
    bot_api.push_text(CHAT, "/trend 城市品質")
    bot_api.push_text(CHAT, "/trend 城市品质")
    first, second = await bot_api.wait_for_messages(CHAT, 2)
    assert caption_total(first.plain_text) == caption_total(second.plain_text)


@pytest.mark.parametrize(
    ("args", "answer"),
    [
        ("", "用法：/trend"),
        ("振兴 2024-13..2025-01", "用法：/trend"),
        ("振兴 2024-06..2024-01", "用法：/trend"),
        ("振兴 1900..2100", "用法：/trend"),
        ("一个不存在的词语", "没有文章包含“一个不存在的词语”"),
        ('"*) OR 1=1 --', "没有文章包含"),
        ("振兴 2001-01..2001-12", "没有文章包含“振兴”"),
    ],
)
async def test_trend_bad_or_empty_queries_get_a_sentence(chart_bot, bot_api, args, answer) -> None:
    bot_api.push_text(CHAT, f"/trend {args}".strip())
    [reply] = await bot_api.wait_for_messages(CHAT, 1)
    assert reply.method == "sendMessage"
    assert answer in reply.plain_text


async def test_someone_last_seen_years_ago_gets_their_last_active_months_or_a_range(
    make_settings, start_bot, bot_api
) -> None:
    from dataclasses import replace

    from fakes.archive import analysed_articles
    from news.ingest.fingerprint import fingerprint
    from news.nlp.analysis import analyse

    settings = make_settings()
    _name, article, analysis = next(a for a in analysed_articles() if a[2].people)
    person = analysis.people[0].name
    store = await open_store(settings.db)
    try:
        for n, when in enumerate(
            (datetime(2017, 5, 3, tzinfo=UTC), datetime(2018, 3, 2, tzinfo=UTC))
        ):
            # Two stories, not a story and its reprint: the second is written anew.
            paragraphs = (
                article.paragraphs
                if n == 0
                else (
                    f"{when:%Y}年3月2日，{person}主持召开专题会议，研究部署全年重点工作。",
                    f"{person}在会上讲话指出，要聚焦项目建设、民生保障和安全生产，"
                    "层层压实责任，确保全年目标任务圆满完成。",
                    "会议还听取了各地区各部门一季度工作情况汇报，并对下一步工作作出安排。",
                )
            )
            old = replace(
                article,
                url=f"https://liaoning.nen.com.cn/system/{when:%Y/%m/%d}/{n:09d}.shtml",
                title=article.title if n == 0 else f"{person}主持召开专题会议",
                published_at=when,
                paragraphs=(*paragraphs, f"（{when:%Y} 年旧闻）"),
            )
            await store.add_article(
                old,
                url_key=old.url,
                fingerprint=fingerprint(old.title, old.body),
                source_name=None,
                analysis=analyse(old.title, old.paragraphs),
            )
    finally:
        await store.close()
    await start_bot(settings)
    bot_api.push_text(CHAT, f"/chart {person}")
    [photo] = await bot_api.wait_for_messages(CHAT, 1)
    assert photo.method == "sendPhoto", photo.plain_text
    decoded(bot_api, photo)
    caption = photo.plain_text
    assert f"{person} 2016-04–2018-03：共 2 篇" in caption, caption
    assert caption.endswith("近两年没有文章提到，图为到最后一篇为止的 24 个月")
    bot_api.push_text(CHAT, f"/chart {person} 2017..2017")
    ranged = (await bot_api.wait_for_messages(CHAT, 2))[-1]
    assert f"{person} 2017-01–2017-12：共 1 篇" in ranged.plain_text
    assert "近两年" not in ranged.plain_text
    bot_api.push_text(CHAT, f"/chart {person} 2017-13..2018")
    usage = (await bot_api.wait_for_messages(CHAT, 3))[-1]
    assert usage.plain_text.startswith("用法：/chart")
    bot_api.push_text(CHAT, "/trend 旧闻")
    trend = (await bot_api.wait_for_messages(CHAT, 4))[-1]
    assert trend.method == "sendPhoto"
    assert "“旧闻” 2016-04–2018-03：共 2 篇" in trend.plain_text, trend.plain_text
    assert "近两年没有文章包含，图为到最后一篇为止的 24 个月" in trend.plain_text
    bot_api.push_text(CHAT, "/trend 旧闻 2017..2017")
    ranged_trend = (await bot_api.wait_for_messages(CHAT, 5))[-1]
    assert "“旧闻” 2017-01–2017-12：共 1 篇" in ranged_trend.plain_text
