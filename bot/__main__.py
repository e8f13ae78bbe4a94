"""The `newsbot` command line: run the bot and its tools."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path

from bot import ingest_cli
from bot.commands import Command, installed_commands
from bot.config import ConfigError, RedactingFilter, Settings, load_settings
from news.ingest.sources import PROFILES
from storage import StoreError, StoreUnavailable, open_store

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
    # matplotlib and Pillow narrate font and image loading at DEBUG; nothing of the bot's.
    logging.getLogger("matplotlib").setLevel(logging.WARNING)
    logging.getLogger("PIL").setLevel(logging.WARNING)
    # The generic profile asks trafilatura, readability and htmldate about every page; they log
    # ERROR for a page they cannot read (an XML-wrapped forum post), which it reads on its own.
    for library in ("trafilatura", "readability", "htmldate"):
        logging.getLogger(library).setLevel(logging.CRITICAL)
    redactor = RedactingFilter(settings.token.reveal(), settings.webhook_secret.reveal())
    for handler in logging.getLogger().handlers:
        handler.addFilter(redactor)


async def check_store(settings: Settings) -> None:
    """Open and migrate the database once, so a bad file stops start-up before polling."""
    store = await open_store(settings.db)
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


def day_arg(text: str) -> date:
    """Parse YYYY-MM-DD (an argparse type)."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def build_parser(commands: Mapping[str, Command] | None = None) -> argparse.ArgumentParser:
    """Describe the subcommands: the bot's own, then the installed tools' (or commands)."""
    parser = argparse.ArgumentParser(prog="newsbot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("run", help="run the bot (long polling)")
    ingest = sub.add_parser("ingest", help="crawl the news sources now")
    ingest.add_argument(
        "--source", metavar="NAME", help="only this source of the catalogue (or NEWSBOT_SOURCES)"
    )
    ingest.add_argument("--once", action="store_true", help="one pass, then exit")
    backfill = sub.add_parser("backfill", help="walk the sources back in time to a date")
    backfill.add_argument(
        "--source", metavar="NAME", action="append", default=[], help="only this source (repeat)"
    )
    backfill.add_argument("--region", help="only this region's sources (辽宁 or a city: 大连)")
    backfill.add_argument("--since", type=day_arg, required=True, metavar="YYYY-MM-DD")
    backfill.add_argument("--until", type=day_arg, metavar="YYYY-MM-DD", help="default: today")
    sources = sub.add_parser("sources", help="check the sources, or probe a new list page")
    sources_sub = sources.add_subparsers(dest="sources_command", required=True, metavar="ACTION")
    check = sources_sub.add_parser("check", help="fetch each source's list and newest article")
    check.add_argument("names", nargs="*", metavar="NAME")
    probe = sources_sub.add_parser("probe", help="print a [[source]] table for a list page")
    probe.add_argument("url", metavar="URL")
    parse = sub.add_parser("parse", help="print the article extracted from a file or URL as JSON")
    parse.add_argument("target", metavar="FILE_OR_URL")
    parse.add_argument("--profile", choices=sorted(PROFILES), default="nen")
    parse.add_argument("--url", help="the page's URL, to resolve relative links in a file")
    speakers = sub.add_parser("speakers", help="print the people found in a text or HTML file")
    speakers.add_argument("file", type=Path)
    summarize = sub.add_parser("summarize", help="print the summary of a page or text file")
    summarize.add_argument("file", type=Path)
    summarize.add_argument("--max-chars", type=int, default=150)
    sub.add_parser(
        "health", help="ask the running bot's /healthz (NEWSBOT_HTTP_LISTEN); exit 1 if unhealthy"
    )
    copy = sub.add_parser("copy-db", help="copy a whole store from SQLite to PostgreSQL")
    copy.add_argument("source", metavar="FROM", help="the SQLite file")
    copy.add_argument("target", metavar="TO", help="postgresql://user[:password]@host[:port]/db")
    export = sub.add_parser(
        "export", help="write the archive (or part of it) as CSV or JSON Lines, in id order"
    )
    export.add_argument("--since", metavar="YYYY-MM-DD", help="first day kept (local time)")
    export.add_argument("--until", metavar="YYYY-MM-DD", help="last day kept (local time)")
    export.add_argument("--source", metavar="NAME", help="a sources.toml name, or the 来源")
    export.add_argument("--speaker", metavar="NAME", help="articles naming this person")
    export.add_argument("--query", metavar="WORDS", help="articles holding every word")
    export.add_argument("--format", choices=("csv", "jsonl"), default="csv")
    export.add_argument("-o", "--output", metavar="FILE", help="default: standard output")
    group = sub.add_parser(
        "group-stories",
        help="group an archive stored before stories into stories (once, with a progress bar)",
    )
    group.add_argument(
        "--batch", type=int, default=500, help="articles a transaction (default 500)"
    )
    # The tools' commands (demo, chat, bench), declared by their packages as entry points.
    for name, command in (installed_commands() if commands is None else commands).items():
        tool = sub.add_parser(name, help=command.help)
        command.add_arguments(tool)
        tool.set_defaults(tool=command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line, load settings, and dispatch; exit 2 on a bad setting."""
    args = build_parser().parse_args(argv)
    # Opt in to PTB 23's timedelta durations now: silences PTB 22's deprecation warnings.
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    try:
        settings = load_settings()
        configure_logging(settings)
        if args.command == "run":
            return cmd_run(settings)
        if args.command == "ingest":
            return asyncio.run(ingest_cli.ingest(settings, args.source, args.once, sys.stdout))
        if args.command in ("backfill", "sources") and "NEWSBOT_LOG_LEVEL" not in os.environ:
            # Their own lines say what went wrong; a warning per failed fetch (an e-paper's
            # every holiday) would bury them.
            logging.getLogger().setLevel(logging.ERROR)
        if args.command == "backfill":
            from bot import backfill_cli

            return asyncio.run(backfill_cli.backfill(settings, args, sys.stdout))
        if args.command == "sources":
            from bot import sources_cli

            if args.sources_command == "check":
                return asyncio.run(sources_cli.check(settings, args.names, sys.stdout))
            return asyncio.run(sources_cli.probe(settings, args.url, sys.stdout))
        if args.command == "parse":
            return asyncio.run(
                ingest_cli.parse(settings, args.target, args.profile, args.url, sys.stdout)
            )
        if args.command == "speakers":
            from bot import speakers_cli

            return speakers_cli.run(args.file, sys.stdout)
        if args.command == "summarize":
            from bot import summarize_cli

            return summarize_cli.run(args.file, sys.stdout, args.max_chars)
        if args.command == "health":
            from bot import health_cli

            return health_cli.run(settings, sys.stdout)
        if args.command == "copy-db":
            from bot import copy_cli

            return asyncio.run(copy_cli.copy_db(args.source, args.target, sys.stdout))
        if args.command == "export":
            from bot import export_cli

            return asyncio.run(export_cli.run(settings, args, sys.stderr))
        if args.command == "group-stories":
            from bot import stories_cli

            return asyncio.run(stories_cli.group_stories(settings, args.batch, sys.stdout))
        tool: Command | None = getattr(args, "tool", None)
        if tool is not None:
            if tool.quiet and "NEWSBOT_LOG_LEVEL" not in os.environ:
                logging.getLogger().setLevel(logging.WARNING)
            return tool.run(args)
    except StoreUnavailable as exc:  # a full disk, a read-only file: one line, nothing lost
        print(str(exc), file=sys.stderr)
        return 1
    except (ConfigError, StoreError) as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 2


if __name__ == "__main__":
    sys.exit(main())
