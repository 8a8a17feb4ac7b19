"""``cairn review``, ``cairn scan`` and ``cairn index``: the index of a local repository,
and the reports Cairn makes from it."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from app.analysis import Analysis
from app.apply import apply_fixes, describe
from app.cli.common import (
    FAIL_ON,
    cairn_version,
    color,
    emit,
    exit_code,
    load_config,
    output_args,
    repo_arg,
    repository,
    source_at,
    status,
)
from app.clones import scan
from app.errors import CairnError
from app.git import GitRepo
from app.report import document, sarif, text
from app.report import scan as scan_report
from app.review import review
from app.settings import Settings
from app.source import LocalSource
from app.store import Store, database
from checks.clones import SECTIONS
from checks.config import CONFIG_FILE
from checks.decisions import NO_NOTES, DecisionNotes
from checks.finding import Finding


def add_commands(sub: Any) -> None:
    """Register ``cairn review``, ``cairn scan`` and ``cairn index``."""
    p = sub.add_parser(
        "review",
        help="review a branch against its base: duplicated code, broken patterns and "
        "overridden decisions it adds",
    )
    repo_arg(p)
    p.add_argument("--base", help="base ref (default: merge base with the default branch)")
    p.add_argument("--head", default="HEAD", help="head ref (default: HEAD)")
    p.add_argument(
        "--head-config",
        action="store_true",
        help=f"read {CONFIG_FILE} at the head, not the base (a branch then configures its own "
        "review: only for trying a configuration out)",
    )
    output_args(p)
    p.add_argument(
        "--fail-on",
        choices=FAIL_ON,
        default="warning",
        help="exit 1 when a finding is at least this severe (default: warning)",
    )
    p.add_argument(
        "--apply",
        action="store_true",
        help="apply the offered fixes to the working tree (never to a file with changes since "
        "the head); exit 0 when every one was applied, else 1",
    )
    p.set_defaults(run=_review)

    p = sub.add_parser("scan", help="the clone families of the whole repository (its baseline)")
    repo_arg(p)
    p.add_argument("--ref", default="HEAD", help="the commit to scan (default: HEAD)")
    output_args(p, ("text", "json", "sarif", "html"))
    p.add_argument(
        "--top",
        type=int,
        metavar="N",
        help=f"list the N most valuable families (default: {scan_report.TEXT_TOP} in text, "
        "all otherwise; 0: all)",
    )
    p.add_argument(
        "--min-lines", type=int, default=0, metavar="N", help="only families of N+ lines each"
    )
    p.add_argument(
        "--all",
        action="store_true",
        help="also list families in tests, migrations, fixtures and generated code",
    )
    p.add_argument(
        "--new-only",
        action="store_true",
        help="only families with code added or changed since the last scan",
    )
    p.add_argument(
        "--baseline",
        type=Path,
        metavar="FILE",
        help="only families not in this earlier `cairn scan --format json` report",
    )
    p.add_argument(
        "--full", action="store_true", help="compare every unit again, not only what changed"
    )
    p.set_defaults(run=_scan)

    p = sub.add_parser("index", help="index the tree at a ref (incremental)")
    repo_arg(p)
    p.add_argument("--ref", default="HEAD", help="the commit to index (default: HEAD)")
    p.set_defaults(run=_index)


async def _review(args: argparse.Namespace, settings: Settings) -> int:
    git = GitRepo.discover(args.repo)
    head = git.resolve(args.head)
    if args.base:
        base = git.resolve(args.base)
    else:
        branch = git.default_branch()
        if branch is None:
            raise CairnError("cannot tell the default branch; pass --base REF")
        base = git.merge_base(git.resolve(branch), head)
    # At the base, as the App and the Action read it: in CI, a branch cannot switch its own
    # gate off (the decision log is read at the base too, by the review).
    config = load_config(args, git, head if args.head_config else base)
    timeout, memory = settings.analysis_bounds()
    async with (
        database.connect(settings) as pool,
        Analysis(timeout=timeout, memory_mb=memory) as analysis,
    ):
        store = Store(pool)
        repo = await repository(store, git)
        result = await review(store, repo, LocalSource(git), base, head, config, analysis=analysis)
    status(
        f"reviewed {base[:10]}..{head[:10]}: {result.changed_files} files, "
        f"{result.changed_units} changed units; index {result.index.files} files "
        f"({result.index.parsed} parsed now, {result.index.skipped_summary()})"
    )
    for path, reason in sorted(result.skipped_files.items()):
        status(f"skipped {path}: {reason}")
    out = _render_review(args, git, head, result.findings, result.decisions)
    emit(args, out)
    if args.apply:
        report = apply_fixes(git, head, result.findings)
        for line in describe(report):
            status(text.safe(line))
        return 0 if report.complete else 1
    return exit_code(result.findings, args.fail_on)


def _render_review(
    args: argparse.Namespace,
    git: GitRepo,
    head: str,
    findings: list[Finding],
    decisions: DecisionNotes = NO_NOTES,
) -> str:
    if args.format == "json":
        return json.dumps(document.review_document(findings, decisions), indent=2) + "\n"
    if args.format == "sarif":
        return (
            json.dumps(sarif.review_sarif(findings, tool_version=cairn_version()), indent=2) + "\n"
        )
    return text.render_review(
        findings,
        source=source_at(git, head),
        color=color(args, sys.stdout),
        decisions=decisions,
    )


async def _scan(args: argparse.Namespace, settings: Settings) -> int:
    git = GitRepo.discover(args.repo)
    commit = git.resolve(args.ref)
    config = load_config(args, git, commit)
    if (args.top is not None and args.top < 0) or args.min_lines < 0:
        raise CairnError("--top and --min-lines take a number of 0 or more")
    baseline = scan_report.Baseline.read(args.baseline) if args.baseline else None
    async with database.connect(settings) as pool:
        store = Store(pool)
        repo = await repository(store, git)
        result = await scan(
            store,
            repo,
            LocalSource(git),
            commit,
            config,
            progress_stream=sys.stderr,
            full=args.full,
        )
    top = args.top
    if top is None and args.format == "text":
        top = scan_report.TEXT_TOP
    selection = scan_report.Selection(
        sections=frozenset(SECTIONS) if args.all else frozenset({"production"}),
        min_lines=args.min_lines,
        top=top or None,
        new_only=args.new_only,
        baseline=baseline,
    )
    report = scan_report.select(result.families, selection)
    how = "compared" if not result.incremental else "compared (new since the last scan)"
    status(
        f"scanned {commit[:10]}: {result.index.files} files, {result.streams:,} distinct units "
        f"of {config.duplication.min_tokens}+ tokens, {result.compared:,} {how}, "
        f"{result.candidates:,} candidate pairs verified; {result.index.skipped_summary()}"
    )
    if result.capped:
        status(
            "note: so many units look alike that the most crowded groups were not compared "
            "(the candidate limit); the families listed are complete for the rest"
        )
    if args.format == "json":
        out = json.dumps(scan_report.document(report), indent=2) + "\n"
    elif args.format == "sarif":
        out = json.dumps(scan_report.sarif(report, tool_version=cairn_version()), indent=2) + "\n"
    elif args.format == "html":
        title = f"Clones in {git.root.name} at {commit[:10]}"
        out = scan_report.render_html(report, source_at(git, commit), title=title)
    else:
        out = scan_report.render_text(report)
    emit(args, out)
    return 0


async def _index(args: argparse.Namespace, settings: Settings) -> int:
    from app.indexer import index_commit

    git = GitRepo.discover(args.repo)
    commit = git.resolve(args.ref)
    async with database.connect(settings) as pool:
        store = Store(pool)
        repo = await repository(store, git)
        report = await index_commit(
            store, repo, LocalSource(git), commit, progress_stream=sys.stderr
        )
        files, units = await store.counts(repo.id)
    print(
        f"indexed {commit[:10]}: {files} files, {units} units "
        f"({report.parsed} blobs parsed now, {report.units} units added) in {report.seconds:.2f}s; "
        f"{report.skipped_summary()}"
    )
    return 0
