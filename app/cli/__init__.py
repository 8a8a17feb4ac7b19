"""``cairn``: index a repository, review a branch, scan for existing duplication.

Exit codes: 0 nothing blocking; 1 findings at or above ``--fail-on``; 2 usage, configuration
or environment error (not a repository, unknown ref, database unreachable, bad .cairn.yml).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Callable, Coroutine, Sequence

from app.cli import action, decisions, demo, mcp, review, rules, server
from app.cli.common import cairn_version, stopped
from app.errors import CairnError, ConfigError
from app.settings import Settings
from app.signals import Terminated, raise_on_sigterm

__all__ = ["build_parser", "main"]

logger = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cairn",
        description=(
            "Review changes against what the repository already has: code it duplicates, "
            "conventions it breaks, decisions it overrides."
        ),
        epilog=(
            "Exit codes: 0 nothing at or above --fail-on; 1 findings at or above it; 2 a usage, "
            "configuration or environment problem; 130 interrupted (Ctrl-C)."
        ),
    )
    parser.add_argument("--version", action="version", version=f"cairn {cairn_version()}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="log more (-vv: debug)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    for group in (review, server, action, demo, decisions, rules, mcp):
        group.add_commands(sub)
    for choice in sub._choices_actions:  # `cairn COMMAND --help` says what COMMAND does too
        command = sub.choices[choice.dest]
        if command.description is None and choice.help:
            command.description = choice.help[0].upper() + choice.help[1:] + "."
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    run: Callable[[argparse.Namespace, Settings], Coroutine[None, None, int]] = args.run
    raise_on_sigterm()  # finally blocks and exit handlers run: the embedded Postgres is released
    try:
        # only the App's commands read an env file: others may run in a checkout of anyone's
        settings = Settings.from_env(env_file=getattr(args, "env_file", None))
        level = [settings.log_level, "INFO", "DEBUG"][min(args.verbose, 2)]
        logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
        return asyncio.run(run(args, settings))
    except ConfigError as exc:
        _error(f"invalid configuration in {exc.source}:")
        for problem in exc.described:
            print(f"  - {problem}", file=sys.stderr)
        return 2
    except CairnError as exc:
        _error(str(exc))
        return 2
    except KeyboardInterrupt:
        return stopped(args, signal.SIGINT)
    except Terminated:
        return stopped(args, signal.SIGTERM)


def _error(message: str) -> None:
    print(f"cairn: error: {message}", file=sys.stderr)
