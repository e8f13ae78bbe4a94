"""The ledger under accidents: Telegram away for minutes, a digest cut off half-way, two senders."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from telegram.ext import ExtBot

from fakes.archive import seed_store
from fakes.bot_api import FakeBotApi
from handlers import delivery as delivery_module
from handlers.delivery import Deliverer
from handlers.link import TelegramLink, WatchedRequest
from news.ingest.fingerprint import fingerprint
from news.models import ParsedArticle
from storage import Store, open_store

TOKEN = "556:delivery-safety-token"
SHANGHAI = ZoneInfo("Asia/Shanghai")
DUE = datetime(2026, 11, 26, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai
CHATS = range(1, 21)


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi(TOKEN, private_rate=None, global_rate=None) as fake:
        yield fake


# Every accident here is tested on SQLite and, with NEWSBOT_TEST_POSTGRES, on PostgreSQL.
pytestmark = pytest.mark.both_backends


@pytest.fixture
def db_path(db_target: str) -> str:
    return db_target


@pytest.fixture
async def store(db_target: str) -> AsyncIterator[Store]:
    await seed_store(
        db_target, fetched_at=DUE - timedelta(hours=2), published_at=DUE - timedelta(hours=5)
    )
    opened = await open_store(db_target)
    yield opened
    await opened.close()


async def subscribe_all(store: Store, chats: range = CHATS) -> None:
    for chat_id in chats:
        await store.upsert_chat(chat_id, "private", "zh", "Asia/Shanghai")
        await store.subscriptions.subscribe(chat_id, "08:00", "Asia/Shanghai", DUE, None)


def watched_bot(api: FakeBotApi, link: TelegramLink) -> ExtBot[None]:
    request = WatchedRequest(link, connect_timeout=1, read_timeout=2)
    return ExtBot(TOKEN, base_url=api.base_url, request=request)


async def test_an_outage_across_the_due_time_loses_nothing_and_logs_two_lines(
    api: FakeBotApi, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await subscribe_all(store)
    link = TelegramLink()
    bot = watched_bot(api, link)
    await bot.initialize()
    try:
        deliverer = Deliverer(bot=bot, store=store, default_tz=SHANGHAI)
        await api.stop()  # Telegram away from two minutes before the due time ...
        for minute in range(-2, 8):  # ... for ten ticks, well past five attempts
            report = await deliverer.tick(DUE + timedelta(minutes=minute))
            assert report.sent == 0 and report.failed == 0
        assert not link.reachable
        counts = await store.ledger.delivery_counts()
        assert counts == {"pending": len(CHATS)}  # nothing marked failed, nothing lost
        await api.start()  # back, on the same address
        report = await deliverer.tick(DUE + timedelta(minutes=9))
    finally:
        await bot.shutdown()
    assert report.sent == len(CHATS)
    for chat_id in CHATS:
        assert len(api.messages_to(chat_id)) == 1, chat_id  # every digest, once
    assert await store.ledger.delivery_counts() == {"sent": len(CHATS)}
    ours = [r for r in caplog.records if r.name == "handlers.link"]
    assert [r.levelname for r in ours] == ["WARNING", "INFO"], [r.getMessage() for r in ours]
    assert "unreachable" in ours[0].getMessage() and "reachable again" in ours[1].getMessage()
    assert not [r for r in caplog.records if r.exc_info], "no traceback per retry"


async def test_an_outage_past_the_catch_up_window_skips_the_day(
    api: FakeBotApi, store: Store
) -> None:
    await subscribe_all(store, range(1, 3))
    link = TelegramLink()
    bot = watched_bot(api, link)
    await bot.initialize()
    try:
        deliverer = Deliverer(bot=bot, store=store, default_tz=SHANGHAI)
        await api.stop()
        await deliverer.tick(DUE + timedelta(minutes=1))
        await api.start()
        report = await deliverer.tick(DUE + timedelta(hours=3, minutes=5))
    finally:
        await bot.shutdown()
    assert report.skipped == 2 and api.messages_to(1) == []
    assert await store.ledger.delivery_counts() == {"skipped": 2}


async def add_long_articles(store: Store, count: int) -> None:
    for n in range(count):
        title = f"第{n}条：" + "辽宁全面振兴新突破三年行动推进会议召开部署重点任务" * 3
        article = ParsedArticle(
            url=f"https://liaoning.nen.com.cn/network/long/{n}.shtml",
            title=title,
            published_at=DUE - timedelta(hours=3, minutes=n),
            paragraphs=("正文。",),
            channel="辽宁 > 时政要闻",
        )
        await store.add_article(
            article,
            url_key=article.url,
            fingerprint=fingerprint(article.title, str(n)),
            source_name=None,
            fetched_at=DUE - timedelta(hours=1),
        )


async def test_a_split_digest_cut_off_resumes_at_the_unsent_part(
    api: FakeBotApi, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(delivery_module, "DIGEST_ITEMS", 80)
    await add_long_articles(store, 80)
    await subscribe_all(store, range(1, 2))
    sent = 0
    original = api._methods["sendmessage"][1]

    async def second_part_fails_once(params: dict[str, object]) -> object:
        nonlocal sent
        sent += 1
        if sent == 2:
            from fakes.bot_api import ApiError

            raise ApiError(502, "Bad Gateway")
        return await original(params)

    api.register_method("sendMessage", second_part_fails_once)
    bot = watched_bot(api, TelegramLink())
    await bot.initialize()
    try:
        deliverer = Deliverer(bot=bot, store=store, default_tz=SHANGHAI)
        first = await deliverer.tick(DUE + timedelta(minutes=1))
        assert first.retry == 1 and len(api.messages_to(1)) == 1
        second = await deliverer.tick(DUE + timedelta(minutes=2))
    finally:
        await bot.shutdown()
    assert second.sent == 1
    parts = [m.plain_text for m in api.messages_to(1)]
    # Part 1 went out, part 2 met a 502; the next tick sent part 2 only.
    assert len(parts) == 2
    assert parts[0].startswith("📰") and not parts[1].startswith("📰")
    assert sum(p.count("• ") for p in parts) == 80 and "还有 15 篇" in parts[1]


async def test_two_processes_on_one_file_never_send_a_row_twice(
    api: FakeBotApi, store: Store, db_path: str
) -> None:
    await subscribe_all(store)
    other = await open_store(db_path)  # a second connection, as a second process would have
    bots = [watched_bot(api, TelegramLink()) for _ in range(2)]
    for bot in bots:
        await bot.initialize()
    try:
        first = Deliverer(bot=bots[0], store=store, default_tz=SHANGHAI)
        second = Deliverer(bot=bots[1], store=other, default_tz=SHANGHAI)
        now = DUE + timedelta(minutes=1)
        reports = await asyncio.gather(first.tick(now), second.tick(now))
    finally:
        for bot in bots:
            await bot.shutdown()
        await other.close()
    assert sum(r.sent for r in reports) == len(CHATS)
    for chat_id in CHATS:
        assert len(api.messages_to(chat_id)) == 1, chat_id


async def test_a_claimed_row_is_not_claimed_again_until_its_lease_ends(
    store: Store, db_path: str
) -> None:
    await subscribe_all(store, range(1, 2))
    await store.ledger.schedule_digest(
        (await store.subscriptions.subscription(1)),  # type: ignore[arg-type]
        key="2026-11-26",
        next_due_at=DUE + timedelta(days=1),
        payload={"since": DUE.isoformat(), "until": DUE.isoformat()},
    )
    [row] = await store.ledger.open_deliveries()
    other = await open_store(db_path)
    try:
        now = datetime.now(UTC)
        got = await store.ledger.claim_deliveries([row.id], "a", now + timedelta(seconds=45))
        assert [d.attempts for d in got] == [1]
        assert await other.ledger.claim_deliveries([row.id], "b", now + timedelta(seconds=45)) == []
        assert await other.ledger.open_deliveries() == []
        later = now + timedelta(seconds=46)  # "a" died: its lease ends, "b" takes over
        taken = await other.ledger.claim_deliveries(
            [row.id], "b", later + timedelta(seconds=45), now=later
        )
        assert [d.id for d in taken] == [row.id]
        # "a" coming back cannot put b's row back to pending.
        await store.ledger.release_deliveries([row.id], "a", refund_attempt=True)
        assert await other.ledger.delivery_status(1, "digest", "2026-11-26") == "sending"
        await other.ledger.release_deliveries([row.id], "b", "network", refund_attempt=True)
        [back] = await store.ledger.open_deliveries()
        assert back.attempts == 1  # b's claim was refunded, a's stays counted
    finally:
        await other.close()


async def test_a_lease_is_held_by_one_owner_until_it_expires(store: Store) -> None:
    now = datetime(2026, 11, 26, tzinfo=UTC)
    leases = store.leases
    assert await leases.take("sender", "a", now + timedelta(seconds=30), now=now)
    assert not await leases.take("sender", "b", now + timedelta(seconds=30), now=now)
    assert await leases.take("sender", "a", now + timedelta(seconds=60), now=now)  # renew
    assert await leases.holder("sender", now=now) == "a"
    later = now + timedelta(seconds=61)
    assert await leases.holder("sender", now=later) is None  # expired
    assert await leases.take("sender", "b", later + timedelta(seconds=30), now=later)
    await leases.release("sender", "a")  # not a's any more: nothing happens
    assert not await leases.take("sender", "a", later + timedelta(seconds=30), now=later)
    await leases.release("sender", "b")
    assert await leases.take("sender", "a", later + timedelta(seconds=30), now=later)


async def test_one_sender_at_a_time_and_a_clean_stop_hands_over_at_once(
    api: FakeBotApi, store: Store, db_path: str
) -> None:
    await subscribe_all(store, range(1, 3))
    other = await open_store(db_path)
    bots = [watched_bot(api, TelegramLink()) for _ in range(2)]
    for bot in bots:
        await bot.initialize()
    try:
        sender = Deliverer(bot=bots[0], store=store, default_tz=SHANGHAI)
        standby = Deliverer(bot=bots[1], store=other, default_tz=SHANGHAI)
        now = DUE + timedelta(minutes=1)
        assert (await sender.tick(now)).sent == 2
        await subscribe_all(store, range(3, 5))  # two more chats fall due
        standby_report = await standby.tick(now)
        assert standby_report.scheduled == 2 and standby_report.sent == 0  # it only schedules
        await sender.release()  # SIGTERM: the lease goes at once
        assert (await standby.tick(now)).sent == 2
    finally:
        for bot in bots:
            await bot.shutdown()
        await other.close()
    assert all(len(api.messages_to(chat_id)) == 1 for chat_id in range(1, 5))
