"""``cairn rules``: the conventions mined from a repository, listed with their evidence, or
written into ``.cairn.yml`` (``--write``) as explicit rules a team can review, edit or delete."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from app.errors import ConfigError
from app.git import GitRepo
from app.indexer import index_commit
from app.rules import load_codebase, merge_rules, mined_rules, render_text, test_globs
from app.settings import Settings
from app.source import LocalSource
from app.store import Store, database
from checks.config import CONFIG_FILE, parse_config


def add_commands(sub: Any) -> None:
    """Register ``cairn rules`` on the CLI's subcommands."""
    p = sub.add_parser("rules", help="conventions mined from the code, with their evidence")
    p.add_argument("--repo", type=Path, default=Path.cwd(), help="repository path (default: .)")
    p.add_argument("--ref", default="HEAD", help="the commit to mine (default: HEAD)")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument(
        "--write",
        action="store_true",
        help=f"write them into the working copy's {CONFIG_FILE} as explicit rules",
    )
    p.set_defaults(run=run)


async def run(args: argparse.Namespace, settings: Settings) -> int:
    git = GitRepo.discover(args.repo)
    commit = git.resolve(args.ref)
    config_path = git.root / CONFIG_FILE  # the working copy's: --write edits it
    _check_config_path(config_path, git.root, writing=args.write)
    text = config_path.read_text(encoding="utf-8") if config_path.is_file() else None
    config = parse_config(text, str(config_path))
    async with database.connect(settings) as pool:
        store = Store(pool)
        repo = await store.repository(f"local:{git.root}", default_branch=git.default_branch())
        await index_commit(store, repo, LocalSource(git), commit, progress_stream=sys.stderr)
        codebase = await load_codebase(store, repo.id)
    rules = mined_rules(codebase, config)
    if args.write:
        tests = test_globs(codebase.files)
        merged = merge_rules(text or "", rules, commit, tests)
        if merged == (text or ""):
            print(f"no new rules to write into {config_path}", file=sys.stderr)
            return 0
        _write(config_path, merged)
        print(f"wrote {len(rules)} rules into {config_path}", file=sys.stderr)
        return 0
    if args.format == "json":
        print(json.dumps({"version": 1, "rules": [r.as_json() for r in rules]}, indent=2))
    else:
        print(render_text(rules, commit), end="")
    return 0


def _check_config_path(path: Path, root: Path, *, writing: bool) -> None:
    """Refuse a ``.cairn.yml`` that is a symbolic link when writing, or that leads out of the
    repository at all: a committed link would have Cairn read or write any file."""
    if not path.is_symlink():
        return
    target = path.resolve()
    outside = not target.is_relative_to(root.resolve())
    if writing or outside:
        where = "outside the repository" if outside else "elsewhere in the repository"
        raise ConfigError(
            [
                f"it is a symbolic link to {target} ({where}): Cairn "
                f"{'writes' if writing else 'reads'} only a plain file"
            ],
            str(path),
        )


def _write(path: Path, text: str) -> None:
    """Write ``text`` to ``path``, never through a symbolic link put there meanwhile."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW
    try:
        fd = os.open(path, flags, 0o644)
    except OSError as exc:
        raise ConfigError([f"cannot write it: {exc.strerror}"], str(path)) from exc
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
