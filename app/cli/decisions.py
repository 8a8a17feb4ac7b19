"""``cairn why`` and ``cairn decisions``: why the code is the way it is, and the decision log."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from app.errors import ConfigError
from app.git import GitRepo
from app.settings import Settings
from app.store import Repository, Store, database
from app.store.database import Pool
from app.why import (
    decision_log,
    decisions_document,
    parse_target,
    render_decisions,
    render_suggestions,
    render_why,
    suggestions,
    why,
    why_document,
)
from checks.config import CONFIG_FILE, CairnConfig, load_config


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``cairn why`` and ``cairn decisions``."""
    p = sub.add_parser("why", help="the decisions, pull requests and commits behind PATH[:LINE]")
    p.add_argument("target", metavar="PATH[:LINE]", help="a file at the ref, with a line or not")
    _common(p)
    p.set_defaults(run=_why)
    p = sub.add_parser("decisions", help="the decision log: statuses, supersession, constraints")
    _common(p)
    p.add_argument(
        "--suggest",
        action="store_true",
        help="print the explicit cairn: block of each constraint read from a decision's prose",
    )
    p.set_defaults(run=_decisions)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--repo", type=Path, default=Path.cwd(), help="repository path (default: .)")
    p.add_argument("--ref", default="HEAD", help="the commit to read (default: HEAD)")
    p.add_argument("--format", choices=("text", "json"), default="text")


async def _setup(
    args: argparse.Namespace, settings: Settings, pool: Pool
) -> tuple[GitRepo, str, Store, Repository, CairnConfig]:
    git = GitRepo.discover(args.repo)
    commit = git.resolve(args.ref)
    raw = git.file_at(commit, CONFIG_FILE)
    # Only the decisions section matters here: a broken patterns section does not stop `why`.
    config = load_config(raw.decode("utf-8", errors="replace") if raw is not None else None)
    broken = list(config.invalid.get("decisions", ()))
    if broken:
        raise ConfigError(broken, CONFIG_FILE)
    store = Store(pool)
    repo = await store.repository(f"local:{git.root}", default_branch=git.default_branch())
    return git, commit, store, repo, config


async def _why(args: argparse.Namespace, settings: Settings) -> int:
    path, line = parse_target(args.target)
    async with database.connect(settings) as pool:
        git, commit, store, repo, config = await _setup(args, settings, pool)
        items = await why(store, repo, git, commit, path, line, config)
    if args.format == "json":
        _print(json.dumps(why_document(path, line, items), indent=2))
    else:
        _print(render_why(path, line, items))
    return 0


async def _decisions(args: argparse.Namespace, settings: Settings) -> int:
    async with database.connect(settings) as pool:
        git, commit, store, repo, config = await _setup(args, settings, pool)
        log = await decision_log(store, repo, git, commit, config)
    if args.suggest:
        found = suggestions(log)
        if args.format == "json":
            doc = [{"path": a.path, "label": a.label, "block": b} for a, b in found]
            _print(json.dumps({"version": 1, "suggestions": doc}, indent=2))
        else:
            _print(render_suggestions(found))
    elif args.format == "json":
        _print(json.dumps(decisions_document(log), indent=2))
    else:
        _print(render_decisions(log))
    return 0


def _print(text: str) -> None:
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
