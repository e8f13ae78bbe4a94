"""Inline mode with the real bot: `@bot 易炼红` and `@bot 营商环境` in any chat, paging, cards."""

from __future__ import annotations

import pytest

from fakes.archive import add_numbered_articles, seed_store
from storage import open_store

# On SQLite and, with NEWSBOT_TEST_POSTGRES, on PostgreSQL.
pytestmark = pytest.mark.both_backends

USER = 5005
GROUP = -1_001_234_567_890  # a group the bot is not in: the card is the user's message
EXTRA = 45  # more than two pages of 20


@pytest.fixture
async def inline_bot(make_settings, start_bot, bot_api):
    settings = make_settings()
    await seed_store(settings.db)
    await add_numbered_articles(
        settings.db,
        EXTRA,
        title="第{n}次营商环境座谈会召开",
        body="会议围绕营商环境第{n}项举措展开讨论。",
    )
    bot_api.enable_inline_mode()
    return await start_bot(settings)


async def ask(api, query: str, offset: str = "") -> dict:
    update = api.push_inline_query(USER, query, offset=offset)
    return await api.wait_for_inline_answer(update["inline_query"]["id"])


def result_ids(answer: dict) -> list[int]:
    return [int(r["id"]) for r in answer["results"]]


async def test_a_leader_lists_where_he_spoke_first_and_a_card_can_be_posted(
    inline_bot, bot_api
) -> None:
    answer = await ask(bot_api, "易炼红")
    assert answer["is_personal"] is False
    assert 0 < answer["cache_time"] <= 300
    results = answer["results"]
    assert 0 < len(results) <= 50
    store = await open_store(inline_bot.settings.db)
    try:
        person = await store.person_by_name("易炼红")
        assert person is not None
        spoke = [s.article.id for s in await store.person_statements(person.id, limit=50)]
        articles = await store.articles_by_ids(result_ids(answer))
    finally:
        await store.close()
    assert spoke and result_ids(answer)[: len(spoke)] == spoke
    dates = [articles[i].published_at for i in spoke]
    assert dates == sorted(dates, reverse=True)
    first = results[0]
    assert first["title"] == articles[spoke[0]].title[:100].rstrip() or first["title"].endswith("…")
    assert first["description"].startswith(articles[spoke[0]].published_at.strftime("%Y-"))
    # Choosing it posts the card into a group the bot is not a member of.
    message = bot_api.choose_inline_result(answer_id(bot_api, answer), first["id"], GROUP)
    assert message["via_bot"]["username"] == bot_api.bot_user["username"]
    text = message["text"]
    assert text.startswith(articles[spoke[0]].title)
    assert "讲话：" in text and "易炼红" in text.split("讲话：")[1]
    link = next(e for e in message["entities"] if e["type"] == "text_link")
    assert link["url"] == articles[spoke[0]].url and link["offset"] == 0


def answer_id(api, answer: dict) -> str:
    return next(k for k, v in api.inline_answers.items() if v == answer)


async def test_a_word_pages_through_every_match_newest_first(inline_bot, bot_api) -> None:
    store = await open_store(inline_bot.settings.db)
    try:
        _hits, total = await store.search_articles(["营商环境"], limit=1)
    finally:
        await store.close()
    assert total >= EXTRA
    seen: list[int] = []
    offset = ""
    pages = 0
    while True:
        answer = await ask(bot_api, "营商环境", offset)
        pages += 1
        assert len(answer["results"]) <= 50
        seen += result_ids(answer)
        offset = answer.get("next_offset") or ""
        if not offset:
            break
        assert pages < 10
    assert pages >= 3
    assert len(seen) == len(set(seen)) == total


async def test_an_empty_query_shows_the_latest_headlines(inline_bot, bot_api) -> None:
    answer = await ask(bot_api, "")
    store = await open_store(inline_bot.settings.db)
    try:
        latest = await store.latest_articles(limit=20)
    finally:
        await store.close()
    assert result_ids(answer) == [a.id for a in latest]
    assert answer["next_offset"] == "20"
    assert answer["button"]["start_parameter"] == "inline_help"


@pytest.mark.parametrize(
    ("query", "offset"),
    [
        ("营商环境" * 30, ""),  # longer than /search takes
        ("一 二 三 四 五 六 七 八 九", ""),  # too many words
        ("振兴 2024-13..2025-01", ""),  # a bad date range
        ('"', ""),
        ("*", ""),
        ("NEAR(振兴 营商)", ""),
        ("(", ""),
        (")", ""),
        ("-", ""),
        ("a AND OR", ""),
        ("振兴 -", ""),
        ("'; DROP TABLE x;", ""),
        ("振兴 OR 1=1; DROP TABLE articles; --", ""),
        ("<script>alert(1)</script>", ""),
        ("&amp; &lt;b&gt;", ""),
        ("\u202e\u200b", ""),
        ("振兴", "abc"),  # a forged offset
        ("振兴", "99999999"),
    ],
)
async def test_hostile_queries_get_an_empty_list_or_a_hint(
    inline_bot, bot_api, query, offset
) -> None:
    answer = await ask(bot_api, query, offset)
    assert isinstance(answer["results"], list)
    bad = [c for c in bot_api.calls_to("answerInlineQuery") if c.status != 200]
    assert bad == []
    if not answer["results"]:
        assert answer.get("button") or answer.get("next_offset", "") == ""


async def test_the_traditional_spelling_finds_the_same(inline_bot, bot_api) -> None:
    simplified = await ask(bot_api, "易炼红")
    traditional = await ask(bot_api, "易煉紅")
    assert result_ids(traditional) == result_ids(simplified)
