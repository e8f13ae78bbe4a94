"""Search across traditional and simplified text with the real bot against the fake Bot API."""

from __future__ import annotations

from datetime import UTC, datetime

import opencc
import pytest

from fakes import LEADERS
from fakes.archive import seed_store
from news.ingest.fingerprint import fingerprint
from news.models import ParsedArticle
from news.nlp.analysis import analyse
from storage import open_store

# On SQLite and, with NEWSBOT_TEST_POSTGRES, on PostgreSQL.
pytestmark = pytest.mark.both_backends

CHAT = 3003
BIG5 = "big5cri_2018-07-27_jiangyouwei.txt"  # a real big5.cri.cn text, traditional characters
# A simplified text (辽宁日报 via lnd.com.cn, 2026) written out in traditional characters by
# OpenCC s2t, as big5.cri.cn republishes mainland reports: the corpus has no traditional text
# saying 全面振興.
SIMPLIFIED = "lnd_news_2026-01-27_030544224.txt"
TRADITIONAL_TITLE = "許昆林周波與省政協港澳委員座談"


def traditional_article() -> ParsedArticle:
    text = (LEADERS / SIMPLIFIED).read_text(encoding="utf-8")
    lines = [line.strip() for line in opencc.OpenCC("s2t").convert(text).splitlines()]
    paragraphs = tuple(line for line in lines[1:] if line)
    assert any("全面振興" in p for p in paragraphs)
    return ParsedArticle(
        url="http://big5.cri.cn/gate/big5/ln.cri.cn/2026/01/27/1.shtml",
        title=TRADITIONAL_TITLE,
        published_at=datetime(2026, 1, 27, 3, 0, tzinfo=UTC),
        paragraphs=paragraphs,
        source="国际在线",
    )


async def add_traditional(target: str) -> None:
    article = traditional_article()
    async with await open_store(target) as store:
        await store.add_article(
            article,
            url_key=article.url,
            fingerprint=fingerprint(article.title, article.body),
            source_name=None,
            analysis=analyse(article.title, article.paragraphs),
        )


@pytest.fixture
async def scripts_bot(make_settings, start_bot):
    settings = make_settings()
    # The traditional rendition first: it is the story, and the seeded simplified text of the
    # same report becomes its reprint (stories fold scripts), not the other way round.
    await add_traditional(settings.db)
    await seed_store(settings.db)
    return await start_bot(settings)


async def test_simplified_query_finds_a_traditional_article(scripts_bot, bot_api) -> None:
    bot_api.push_text(CHAT, "/search 全面振兴")
    [reply] = await bot_api.wait_for_messages(CHAT, 1)
    text = reply.plain_text
    assert TRADITIONAL_TITLE in text
    assert "全面振興" in text  # the snippet shows the article's own characters
    bold = [text_of(reply, e) for e in reply.entities if e["type"] == "bold"]
    assert "全面振興" in bold and "全面振兴" in bold  # both forms highlighted


async def test_traditional_query_finds_simplified_articles(scripts_bot, bot_api) -> None:
    bot_api.push_text(CHAT, "/search 振興")
    bot_api.push_text(CHAT, "/search 全面振興")
    replies = await bot_api.wait_for_messages(CHAT, 2)
    # Updates are handled concurrently: the answers may come in either order.
    [short] = [r for r in replies if r.plain_text.startswith("搜索“振興”")]
    [long] = [r for r in replies if r.plain_text.startswith("搜索“全面振興”")]
    assert "振兴" in short.plain_text  # simplified articles, found by a traditional word
    assert "全面振兴" in long.plain_text and TRADITIONAL_TITLE in long.plain_text


async def test_real_big5_text_is_found_by_simplified_words(scripts_bot, bot_api) -> None:
    bot_api.push_text(CHAT, "/search 沈阳振兴发展")  # the text writes 瀋陽振興發展
    [reply] = await bot_api.wait_for_messages(CHAT, 1)
    assert "瀋陽振興發展" in reply.plain_text
    assert BIG5  # named for the reader: the seeded file this hit comes from


async def test_keyword_follow_in_traditional_matches_simplified_titles(
    make_settings, start_bot, bot_api
) -> None:
    settings = make_settings()
    await start_bot(settings)
    bot_api.push_text(CHAT, "/keyword 黨組")
    [reply] = await bot_api.wait_for_messages(CHAT, 1)
    assert "党组" in reply.plain_text  # stored and shown in search form
    bot_api.push_text(CHAT, "/following")
    [listing] = await bot_api.wait_for_messages(CHAT, 1)
    assert "党组" in listing.plain_text


def text_of(message, entity: dict) -> str:
    """Return the text an entity covers (offsets are UTF-16 units; these texts are BMP only)."""
    return message.plain_text[entity["offset"] : entity["offset"] + entity["length"]]
