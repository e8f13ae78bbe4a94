"""`newsbot demo` and `newsbot chat`: the commands, declared to the bot's CLI as entry points."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.commands import Command


def add_demo_arguments(demo: argparse.ArgumentParser) -> None:
    """Describe `newsbot demo`'s arguments."""
    demo.add_argument("--lang", choices=["zh", "en"], default="zh", help="the user's language")


def add_chat_arguments(chat: argparse.ArgumentParser) -> None:
    """Describe `newsbot chat`'s arguments."""
    chat.add_argument("--lang", choices=["zh", "en"], default="zh", help="the user's language")
    chat.add_argument(
        "--script", type=Path, metavar="FILE", help="send FILE's lines, print the transcript"
    )
    chat.add_argument(
        "--db", type=Path, metavar="PATH", help="the demo database (default data/demo.db)"
    )


def run(args: argparse.Namespace) -> int:
    """Run `newsbot demo` or `newsbot chat` with its parsed arguments."""
    from demo import chat  # the demo's whole set-up: only when it runs, not for the CLI's help

    return chat.run(args.lang, getattr(args, "script", None), getattr(args, "db", None))


# Quiet: the bot's logs would interleave with the chat and make it unreadable.
DEMO = Command(
    help="chat with the bot in this terminal (no Telegram needed)",
    run=run,
    add_arguments=add_demo_arguments,
    quiet=True,
)
CHAT = Command(
    help="like demo; --script FILE prints a transcript",
    run=run,
    add_arguments=add_chat_arguments,
    quiet=True,
)
