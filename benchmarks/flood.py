"""`newsbot bench flood`: one chat sending 100 /search a second beside a busy mix of chats.

The whole bot (run_bot, as `newsbot run` starts it) answers, through the fake Bot API with
Telegram's limits (30 messages a second, about one a second in a private chat), a steady mix
of everyday commands from 50 chats at 20 a second. The mix runs twice for the same time: alone,
then with one more chat sending 100 `/search` a second. Each of the other chats' commands is
timed from its push to the reply's arrival at the fake; the flood must leave their p99 where it
was, and the flooding chat must get its burst of answers and one polite line, no error.
"""

from __future__ import annotations

import asyncio
import itertools
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from benchmarks.query.round_trip import FAKE_TOKEN, bench_settings, running_bot
from benchmarks.report import percentile
from fakes.archive import add_numbered_articles, seed_store
from fakes.bot_api import FakeBotApi

MIX_RATE = 20.0  # updates a second from the other chats
MIX_CHATS = 100  # 12 commands a minute each: within the per-user limit
MIX_FIRST_CHAT = 40_001
FLOOD_RATE = 100.0  # /search a second from the flooding chat
FLOOD_CHAT = 49_999
PHASE_SECONDS = 40.0
ARCHIVE_EXTRA = 3000  # short numbered articles beside the leader texts
# Commands of one reply each (a chat's n-th reply answers its n-th command).
MIX = ("/latest", "/search 振兴", "/latest 5", "/search 营商环境", "/speakers", "/help")
# Quiet and flooded phases alternate, so that what else the machine does falls on both.
ROUNDS = 2
# The flood may cost the other chats this much of their p99 at most.
P99_TOLERANCE = 1.25


@dataclass(frozen=True, slots=True)
class Phase:
    """The other chats' latencies in one phase, and what the flooding chat got."""

    latencies: tuple[float, ...]  # milliseconds, push to reply
    unanswered: int
    flood_pushed: int = 0
    flood_answers: int = 0
    flood_polite: int = 0
    flood_errors: int = 0
    rate_limited: int = 0


class Mix:
    """The other chats' commands, pushed on a fixed schedule, and when each was pushed."""

    def __init__(self, api: FakeBotApi) -> None:
        self.api = api
        self.pushed: dict[int, list[float]] = defaultdict(list)

    def run(self, seconds: float) -> None:
        """Push MIX_RATE updates a second, in turn from MIX_CHATS chats, for `seconds`.

        In a thread of its own: the pushes must not take the bot's event loop.
        """
        started = time.monotonic()
        for n in itertools.count():
            at = started + n / MIX_RATE
            if at - started >= seconds:
                return
            time.sleep(max(0.0, at - time.monotonic()))
            chat = MIX_FIRST_CHAT + n % MIX_CHATS
            self.pushed[chat].append(time.time())
            self.api.push_text(chat, MIX[(n // MIX_CHATS) % len(MIX)])

    def latencies(self) -> tuple[list[float], int]:
        """Match each chat's n-th push to its n-th reply (one each); return ms and unanswered."""
        replies: dict[int, list[float]] = defaultdict(list)
        for call in self.api.calls_to("sendMessage"):
            if call.status == 200:
                replies[int(call.params.get("chat_id", 0))].append(call.time)
        found: list[float] = []
        unanswered = 0
        for chat, pushes in self.pushed.items():
            answers = sorted(replies.get(chat, []))
            unanswered += max(0, len(pushes) - len(answers))
            found.extend(1000 * (a - p) for p, a in zip(pushes, answers, strict=False))
        return found, unanswered


def flood(api: FakeBotApi, seconds: float) -> int:
    """Push FLOOD_RATE /search a second from one chat for `seconds` (a thread); return how many."""
    started = time.monotonic()
    for n in itertools.count():
        at = started + n / FLOOD_RATE
        if at - started >= seconds:
            return n
        time.sleep(max(0.0, at - time.monotonic()))
        api.push_text(FLOOD_CHAT, "/search 振兴")
    return 0


async def _settle(api: FakeBotApi, timeout: float = 60.0) -> None:
    """Wait until every update was taken and nothing was sent for two seconds."""
    deadline = time.monotonic() + timeout
    sent = -1
    while time.monotonic() < deadline:
        now_sent = len(api.calls_to("sendMessage"))
        if not api.pending_updates and now_sent == sent:
            return
        sent = now_sent
        await asyncio.sleep(2.0)


async def run_phase(db: Path, scratch: Path, with_flood: bool, seconds: float) -> Phase:
    """Run the bot against a fresh fake Telegram for one phase; return what it measured."""
    api = FakeBotApi(FAKE_TOKEN)  # Telegram's limits: 30 a second, ~1 a second in a chat
    api.run_in_thread()
    try:
        sources = scratch / "sources.toml"
        sources.write_text("", encoding="utf-8")
        # The limit as shipped (20 a minute, 10 at once): what the flood meets.
        async with running_bot(bench_settings(api, db, sources, user_rate="20")):
            mix = Mix(api)
            # Warm the caches (and the chats' first replies) before the timed phase.
            for chat in range(MIX_FIRST_CHAT, MIX_FIRST_CHAT + MIX_CHATS):
                api.push_text(chat, "/latest")
            await _settle(api)
            api.clear_records()
            mixing = asyncio.to_thread(mix.run, seconds)
            flooding = asyncio.to_thread(flood, api, seconds if with_flood else 0.0)
            _, flood_pushed = await asyncio.gather(mixing, flooding)
            await _settle(api)
        latencies, unanswered = mix.latencies()
        flood_texts = [m.plain_text for m in api.messages_to(FLOOD_CHAT)]
        return Phase(
            latencies=tuple(latencies),
            unanswered=unanswered,
            flood_pushed=flood_pushed,
            flood_answers=sum(t.startswith("搜索") for t in flood_texts),
            flood_polite=sum("你发得太快了" in t for t in flood_texts),
            flood_errors=sum("出了点问题" in t for t in flood_texts),
            rate_limited=api.rate_limited_count,
        )
    finally:
        api.stop_thread()


def _row(name: str, phase: Phase) -> str:
    samples: Sequence[float] = phase.latencies
    return (
        f"| {name} | {len(samples)} | {phase.unanswered} | {percentile(samples, 50):.0f} "
        f"| {percentile(samples, 99):.0f} | {phase.flood_pushed} | {phase.flood_answers} "
        f"| {phase.flood_polite} | {phase.flood_errors} | {phase.rate_limited} |"
    )


def pooled(phases: Sequence[Phase]) -> Phase:
    """Return the phases' samples and counts together."""
    return Phase(
        latencies=tuple(t for p in phases for t in p.latencies),
        unanswered=sum(p.unanswered for p in phases),
        flood_pushed=sum(p.flood_pushed for p in phases),
        flood_answers=sum(p.flood_answers for p in phases),
        flood_polite=sum(p.flood_polite for p in phases),
        flood_errors=sum(p.flood_errors for p in phases),
        rate_limited=sum(p.rate_limited for p in phases),
    )


def run(out: TextIO, seconds: float = PHASE_SECONDS, rounds: int = ROUNDS) -> int:
    """Measure the mix alone and beside the flood, in turn; print the table; 0 if targets hold."""
    with tempfile.TemporaryDirectory(prefix="newsbot-bench-flood-") as tmp:
        scratch = Path(tmp)
        db = scratch / "flood.db"

        async def measure() -> list[tuple[Phase, Phase]]:
            await seed_store(db)
            await add_numbered_articles(
                db, ARCHIVE_EXTRA, title="第{n}期 振兴简报", body="第{n}期：营商环境与全面振兴。"
            )
            return [
                (
                    await run_phase(db, scratch, False, seconds),
                    await run_phase(db, scratch, True, seconds),
                )
                for _ in range(rounds)
            ]

        measured = asyncio.run(measure())
    print(
        f"flood: {MIX_CHATS} chats at {MIX_RATE:.0f} updates/s for {seconds:.0f} s, then the "
        f"same beside one chat sending {FLOOD_RATE:.0f} /search a second ({rounds} rounds); "
        "fake Telegram with its limits (30/s, ~1/s a chat)",
        file=out,
    )
    print("", file=out)
    print(
        "| phase | other chats' commands | unanswered | p50 ms | p99 ms | flood pushed "
        "| flood answered | polite lines | generic errors | 429 answers |",
        file=out,
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|", file=out)
    for number, (alone, flooded) in enumerate(measured, 1):
        print(_row(f"{number}. busy mix alone", alone), file=out)
        print(_row(f"{number}. busy mix + flood", flooded), file=out)
    quiet = pooled([alone for alone, _ in measured])
    loud = pooled([flooded for _, flooded in measured])
    print(_row("all: alone", quiet), file=out)
    print(_row("all: + flood", loud), file=out)
    p99_quiet = percentile(quiet.latencies, 99)
    p99_loud = percentile(loud.latencies, 99)
    sent = len(loud.latencies) + loud.flood_answers + loud.flood_polite
    ok = (
        loud.unanswered == 0
        and p99_loud <= max(P99_TOLERANCE * p99_quiet, p99_quiet + 50)
        and loud.flood_errors == 0
        and loud.flood_polite == rounds
        and loud.rate_limited < 0.01 * sent
    )
    print("", file=out)
    print("targets met" if ok else "TARGETS MISSED", file=out)
    return 0 if ok else 1
