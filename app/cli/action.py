"""``cairn action``: the review of a pull request in a GitHub Actions job."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from app.cli.common import FAIL_ON, cairn_version
from app.settings import Settings
from checks.config import CONFIG_FILE


def add_commands(sub: Any) -> None:
    """Register ``cairn action``."""
    p = sub.add_parser(
        "action", help="in a GitHub Actions job: review the pull request of the event, publish"
    )
    p.add_argument(
        "--config", type=Path, help=f"configuration file (default: {CONFIG_FILE} at the base)"
    )
    p.add_argument(
        "--fail-on",
        choices=FAIL_ON,
        default="error",
        help="exit 1 when a finding is at least this severe (default: error)",
    )
    p.add_argument(
        "--comment",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="post inline review comments (default: yes; check runs either way)",
    )
    p.add_argument("--sarif-file", type=Path, help="also write the findings here as SARIF 2.1.0")
    p.set_defaults(run=_action)


async def _action(args: argparse.Namespace, settings: Settings) -> int:
    from app.action import ActionEnv, ActionOptions, run

    options = ActionOptions(
        config=args.config,
        fail_on=args.fail_on,
        comment=args.comment,
        sarif_file=args.sarif_file,
        tool_version=cairn_version(),
    )
    return await run(options, ActionEnv.from_env(settings.env), settings, sys.stdout)
