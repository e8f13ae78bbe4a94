"""Three `newsbot run` in webhook mode on one PostgreSQL, behind a round-robin balancer."""

from __future__ import annotations

import asyncio
import os
import signal
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

import pytest

from benchmarks import scale as bench_scale
from benchmarks.scale import SECRET, TOKEN, Cluster, delivered, wait_until
from fakes.bot_api import FakeBotApi

SUBSCRIBERS = 300
PG_ENV = "NEWSBOT_TEST_POSTGRES"


@pytest.fixture
def postgres_url() -> str:
    admin = os.environ.get(PG_ENV, "").strip()
    if not admin:
        pytest.skip(f"three instances need PostgreSQL: set {PG_ENV} (an admin URL)")
    url = asyncio.run(bench_scale.create_database(admin))
    yield url  # type: ignore[misc]
    asyncio.run(bench_scale.drop_database(admin, url))


def test_three_instances_answer_anything_and_deliver_every_digest_once_across_a_sigkill(
    postgres_url: str, tmp_path: Path
) -> None:
    asyncio.run(bench_scale.prepare_store(postgres_url, SUBSCRIBERS))
    api = FakeBotApi(TOKEN, global_rate=bench_scale.TELEGRAM_RATE)
    api.run_in_thread()
    cluster = Cluster(postgres_url, api, tmp_path, size=3, log_level="DEBUG")
    try:
        cluster.start()  # three at once: one of them migrates, under the advisory lock
        assert cluster.wait_ready(), "an instance did not answer /healthz"

        # The digests go out; the instance that sends them dies with SIGKILL half-way.
        assert wait_until(lambda: len(delivered(api)) >= SUBSCRIBERS // 3, 60)
        victim = cluster.sender()
        assert victim is not None, "nobody holds the sender lease while digests go out"
        victim.process.send_signal(signal.SIGKILL)
        victim.process.wait(timeout=10)
        at_kill = len(delivered(api))
        assert at_kill < SUBSCRIBERS, "the run ended before the kill"
        # Another instance takes over within a minute; at two thirds it is stopped cleanly
        # (SIGTERM): its in-flight sends finish, it hands the lease over, the last one ends.
        assert wait_until(lambda: len(delivered(api)) >= 2 * SUBSCRIBERS // 3, 90)
        second = cluster.sender()
        assert second is not None and second is not victim
        second.process.send_signal(signal.SIGTERM)
        assert second.process.wait(timeout=60) == 0
        assert wait_until(bench_scale.all_delivered(api, SUBSCRIBERS), 90), (
            f"{len({m.chat_id for m in delivered(api)})} of {SUBSCRIBERS} got their digest"
        )
        per_chat = Counter(m.chat_id for m in delivered(api))
        assert set(per_chat) == {bench_scale.FIRST_CHAT + i for i in range(SUBSCRIBERS)}
        repeated = [chat for chat, n in per_chat.items() if n > 1]
        assert len(repeated) <= 4, repeated  # at most the sends in flight at the kill
        # Three instances together stay under 30/s, but for a few sends at a handover: the
        # new sender's first second can meet the last second of its predecessor's sends in
        # Telegram's window. A 429 is retried after its retry_after; nothing is lost.
        assert api.rate_limited_count <= 4
        survivor = cluster.sender()
        assert survivor is not None and survivor not in (victim, second)

        # Commands and button presses, whichever instance the balancer gives them to.
        for n in range(3):
            api.push_text(500 + n, "/latest 3")
        assert wait_until(lambda: all(api.messages_to(500 + n) for n in range(3)), 20)
        [page] = api.messages_to(500)
        buttons = [b for row in page.reply_markup["inline_keyboard"] for b in row]
        next_page = next(b for b in buttons if b["text"].startswith("下一页"))
        for _ in range(2):  # two presses land on two instances
            api.push_callback(500, page.message_id, next_page["callback_data"])
        assert wait_until(lambda: len(api.edits_to(500)) >= 1, 20)
        assert "第 2/" in api.edits_to(500)[-1].plain_text

        # Updates without the secret are refused by every live instance and never handled.
        for instance in cluster.instances:
            if instance in (victim, second):
                continue
            request = urllib.request.Request(
                f"http://{instance.listen}/tg/hook", data=b"{}", method="POST"
            )
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(request, timeout=5)
            assert refused.value.code == 401
            refused.value.close()  # the error holds the answer's socket
    finally:
        codes = cluster.stop()
        api.stop_thread()
    assert [code for i, code in zip(cluster.instances, codes, strict=True) if i is not victim] == [
        0,
        0,
    ]  # clean SIGTERM stops
    for instance in cluster.instances:
        log = instance.log_text()
        assert TOKEN not in log and TOKEN.split(":")[1] not in log
        assert SECRET not in log  # not even at DEBUG, where PTB logs setWebhook's parameters
        assert "Traceback" not in log or instance is victim


def test_three_instances_share_one_send_budget_for_a_burst_beside_the_digests(
    postgres_url: str, tmp_path: Path
) -> None:
    asyncio.run(bench_scale.prepare_store(postgres_url, SUBSCRIBERS))
    api = FakeBotApi(TOKEN, global_rate=bench_scale.TELEGRAM_RATE)
    api.run_in_thread()
    cluster = Cluster(postgres_url, api, tmp_path, size=3)
    try:
        cluster.start()
        assert cluster.wait_ready(), "an instance did not answer /healthz"
        assert wait_until(lambda: len(delivered(api)) >= SUBSCRIBERS // 5, 60)
        # 300 /subscribe at 50 a second, spread over the three instances by the balancer,
        # while the sender is busy with the digests: each instance alone at 28/s drew 429s.
        pushed = bench_scale.push_burst(api)
        assert wait_until(bench_scale.all_delivered(api, SUBSCRIBERS), 90)
        assert wait_until(lambda: len(bench_scale.burst_replies(api, pushed)) == len(pushed), 60), (
            f"{len(bench_scale.burst_replies(api, pushed))} of {len(pushed)} answered"
        )
        messages = len(delivered(api)) + len(pushed)
        assert api.rate_limited_count < 0.01 * messages, api.rate_limited_count
        assert all(
            m.plain_text.startswith("✅ 已订阅")
            for m in api.sent_messages
            if m.chat_id >= bench_scale.BURST_FIRST_CHAT and m.chat_id < bench_scale.FIRST_CHAT
        )
    finally:
        cluster.stop()
        api.stop_thread()
    for instance in cluster.instances:
        assert "Traceback" not in instance.log_text()
