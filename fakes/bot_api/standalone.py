"""Run the fake Bot API as its own process, for the demo, benchmarks and scripts."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal

from fakes.bot_api.server import FakeBotApi


def _optional_float(value: str) -> float | None:
    return None if value.lower() in ("none", "off", "0") else float(value)


def main(argv: list[str] | None = None) -> None:
    """Serve the fake until interrupted: ``python -m fakes.bot_api --token T --port P``."""
    parser = argparse.ArgumentParser(
        description="A strict fake Telegram Bot API server for end-to-end tests."
    )
    parser.add_argument("--token", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--global-rate", type=_optional_float, default=30.0)
    parser.add_argument("--group-per-minute", type=_optional_float, default=20.0)
    parser.add_argument("--private-rate", type=_optional_float, default=1.0)
    parser.add_argument("--private-burst", type=float, default=5.0)
    parser.add_argument("--no-rate-limit", action="store_true", help="disable flood control")
    parser.add_argument("--lenient-html", action="store_true", help="accept what Telegram does")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    no_limit = args.no_rate_limit
    api = FakeBotApi(
        args.token,
        host=args.host,
        port=args.port,
        global_rate=None if no_limit else args.global_rate,
        group_per_minute=None if no_limit else args.group_per_minute,
        private_rate=None if no_limit else args.private_rate,
        private_burst=args.private_burst,
        strict_html=not args.lenient_html,
    )

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        async with api:
            # The first stdout line is the contract for scripts that started us with --port 0.
            print(api.root_url, flush=True)
            await stop.wait()

    asyncio.run(serve())
