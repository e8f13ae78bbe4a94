"""Find the `newsbot` subcommands that packages above the bot declare as entry points."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points

# The entry-point group in pyproject.toml: each name is a subcommand, each value a Command. The
# tools (demo, benchmarks) compose the real bot, so they import it; the bot finds them here by
# name of group only, so that no arrow runs back from the bot to them.
GROUP = "newsbot.commands"


def _no_arguments(parser: argparse.ArgumentParser) -> None:
    """Add nothing to a subcommand's parser."""


@dataclass(frozen=True, slots=True)
class Command:
    """A `newsbot` subcommand: its help line, its arguments, and what it runs."""

    help: str
    run: Callable[[argparse.Namespace], int]  # the exit status
    add_arguments: Callable[[argparse.ArgumentParser], None] = _no_arguments
    quiet: bool = False  # log at WARNING unless NEWSBOT_LOG_LEVEL says otherwise


def installed_commands() -> dict[str, Command]:
    """Return the subcommands the installed packages declare in GROUP, in order of name."""
    commands: dict[str, Command] = {}
    for point in sorted(entry_points(group=GROUP), key=lambda point: point.name):
        command = point.load()
        if not isinstance(command, Command):
            raise TypeError(f"entry point {point.name} = {point.value!r} is not a Command")
        commands.setdefault(point.name, command)
    return commands
