"""``cairn demo``: a sample repository whose branch breaks all three checks, reviewed."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from app.cli.common import color, emit, repository, source_at
from app.git import GitRepo
from app.report import text
from app.review import review
from app.settings import Settings
from app.source import LocalSource
from app.store import Store, database
from checks.config import CairnConfig


def add_commands(sub: Any) -> None:
    """Register ``cairn demo``."""
    p = sub.add_parser(
        "demo",
        help="build a sample repository whose branch breaks all three checks, and review it",
    )
    p.add_argument("--dir", type=Path, help="where to create it (default: a temporary directory)")
    p.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    p.set_defaults(run=_demo)


async def _demo(args: argparse.Namespace, settings: Settings) -> int:
    from app.demo import build_demo

    root = build_demo(args.dir)
    print(f"sample repository: {root}", file=sys.stderr)
    git = GitRepo(root)
    base, head = git.resolve("main"), git.resolve("feature/export")
    async with database.connect(settings) as pool:
        store = Store(pool)
        repo = await repository(store, git)
        result = await review(store, repo, LocalSource(git), base, head, CairnConfig())
    print(f"$ cairn review --repo {root} --base main --head feature/export\n", file=sys.stderr)
    out = text.render_review(
        result.findings,
        source=source_at(git, head),
        color=color(args, sys.stdout),
        decisions=result.decisions,
    )
    emit(args, out)
    return 0 if result.findings else 1
