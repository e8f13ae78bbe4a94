"""The `newsbot` command line: run the bot and its tools."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Sequence

from bot.config import ConfigError, RedactingFilter, Settings, load_settings
from storage import Store, StoreError

logger = logging.getLogger("newsbot")


def configure_logging(settings: Settings) -> None:
    """Log to stderr at the configured level, never showing the token."""
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
        force=True,
    )
    # httpx logs every request URL at INFO, and a Bot API URL holds the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    redactor = RedactingFilter(settings.token.reveal())
    for handler in logging.getLogger().handlers:
        handler.addFilter(redactor)


async def check_store(settings: Settings) -> None:
    """Open and migrate the database once, so a bad file stops start-up before polling."""
    store = await Store.open(settings.db_path)
    await store.close()


def cmd_run(settings: Settings) -> int:
    """Start the bot with long polling until SIGINT or SIGTERM."""
    from bot.app import run_bot

    settings.require_token()

    async def main() -> None:
        await check_store(settings)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_bot(settings, stop)

    asyncio.run(main())
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Describe the subcommands."""
    parser = argparse.ArgumentParser(prog="newsbot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("run", help="run the bot (long polling)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line, load settings, and dispatch; exit 2 on a bad setting."""
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        configure_logging(settings)
        if args.command == "run":
            return cmd_run(settings)
    except (ConfigError, StoreError) as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 2


if __name__ == "__main__":
    sys.exit(main())
