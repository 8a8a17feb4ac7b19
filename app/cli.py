"""``cairn``: index a repository, review a branch, scan for existing duplication.

Exit codes: 0 nothing blocking; 1 findings at or above ``--fail-on``; 2 usage, configuration
or environment error (not a repository, unknown ref, database unreachable, bad .cairn.yml).
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import json
import logging
import signal
import sys
from collections.abc import Callable, Coroutine, Sequence
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, TextIO

from app import database, rules, why
from app.analysis import Analysis
from app.apply import apply_fixes, describe
from app.clones import scan
from app.errors import CairnError, ConfigError
from app.git import GitRepo
from app.report import document, sarif, text
from app.report import scan as scan_report
from app.review import review
from app.settings import Settings, redacted
from app.signals import Terminated, raise_on_sigterm, stop_signals_recorded
from app.source import LocalSource
from app.store import Repository, Store
from checks.clones import SECTIONS
from checks.config import CONFIG_FILE, CairnConfig, parse_config
from checks.decisions import NO_NOTES, DecisionNotes
from checks.finding import Finding, Severity

logger = logging.getLogger(__name__)

FAIL_ON = ("notice", "warning", "error", "never")


def cairn_version() -> str:
    try:
        return version("cairn-review")
    except PackageNotFoundError:  # running from a source tree
        return "0+unknown"


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

    p = sub.add_parser(
        "review",
        help="review a branch against its base: duplicated code, broken patterns and "
        "overridden decisions it adds",
    )
    _repo_arg(p)
    p.add_argument("--base", help="base ref (default: merge base with the default branch)")
    p.add_argument("--head", default="HEAD", help="head ref (default: HEAD)")
    p.add_argument(
        "--head-config",
        action="store_true",
        help=f"read {CONFIG_FILE} at the head, not the base (a branch then configures its own "
        "review: only for trying a configuration out)",
    )
    _output_args(p)
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
    _repo_arg(p)
    p.add_argument("--ref", default="HEAD", help="the commit to scan (default: HEAD)")
    _output_args(p, ("text", "json", "sarif", "html"))
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
    _repo_arg(p)
    p.add_argument("--ref", default="HEAD", help="the commit to index (default: HEAD)")
    p.set_defaults(run=_index)

    p = sub.add_parser("db", help="database maintenance")
    db_sub = p.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    up = db_sub.add_parser("upgrade", help="apply pending migrations")
    up.set_defaults(run=_db_upgrade)

    p = sub.add_parser(
        "setup", help="register Cairn as a GitHub App (GitHub's manifest flow), write .env"
    )
    p.add_argument(
        "--url",
        required=True,
        help="the public URL GitHub reaches `cairn serve` at; webhooks go to URL/webhooks",
    )
    p.add_argument("--org", help="register the App for this organisation (default: your account)")
    p.add_argument("--name", default="Cairn", help="the App's name (editable on GitHub's page)")
    p.add_argument(
        "--host", default="127.0.0.1", help="where the page listens (default: 127.0.0.1)"
    )
    p.add_argument("--port", type=int, default=8000, help="its port (default: 8000, as serve)")
    p.add_argument("--force", action="store_true", help="replace an App the env file holds")
    _env_file_arg(p, "where to write the App's id, private key and webhook secret")
    p.set_defaults(run=_setup, interrupted="error: interrupted; nothing was written")

    p = sub.add_parser("serve", help="the GitHub App's webhook endpoint (POST /webhooks)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    _env_file_arg(p, "settings the environment leaves unset (cairn setup writes it)")
    p.set_defaults(run=_serve)

    p = sub.add_parser("worker", help="the GitHub App's worker: reviews, indexing (arq on Redis)")
    p.add_argument("--burst", action="store_true", help="stop when the queue is empty")
    _env_file_arg(p, "settings the environment leaves unset (cairn setup writes it)")
    p.set_defaults(run=_worker)

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

    p = sub.add_parser(
        "demo",
        help="build a sample repository whose branch breaks all three checks, and review it",
    )
    p.add_argument("--dir", type=Path, help="where to create it (default: a temporary directory)")
    p.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    p.set_defaults(run=_demo)

    why.add_commands(sub)
    rules.add_parser(sub)
    for action in sub._choices_actions:  # `cairn COMMAND --help` says what COMMAND does too
        command = sub.choices[action.dest]
        if command.description is None and action.help:
            command.description = action.help[0].upper() + action.help[1:] + "."
    return parser


def _env_file_arg(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--env-file", type=Path, default=Path(".env"), help=f"{what} (default: ./.env)")


def _repo_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--repo", type=Path, default=Path.cwd(), help="repository path (default: .)")


def _output_args(
    p: argparse.ArgumentParser, formats: tuple[str, ...] = ("text", "json", "sarif")
) -> None:
    p.add_argument("--format", choices=formats, default="text", help="(default: text)")
    p.add_argument("--output", "-o", type=Path, help="write the report here instead of stdout")
    p.add_argument(
        "--config", type=Path, help=f"configuration file (default: {CONFIG_FILE} at the ref)"
    )
    p.add_argument("--color", choices=("auto", "always", "never"), default="auto")


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
        return _stopped(args, signal.SIGINT)
    except Terminated:
        return _stopped(args, signal.SIGTERM)


INTERRUPTED = "error: interrupted; the index is unchanged where it was not finished"


def _stopped(args: argparse.Namespace, signum: int) -> int:
    """After Ctrl-C (SIGINT) or SIGTERM: one line on stderr and 128 + the signal's number.

    ``serve`` and ``worker`` stop gracefully on either: "stopped" after Ctrl-C, and nothing
    but exit code 0 after SIGTERM, how a service manager stops them. A second Ctrl-C while the
    process closes (pools, the embedded Postgres) is ignored, so nothing else is printed.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    server = getattr(args, "run", None) in (_serve, _worker)
    if server and signum == signal.SIGTERM:
        return 0
    message: str = "stopped" if server else getattr(args, "interrupted", INTERRUPTED)
    if signum == signal.SIGTERM:
        message = message.replace("interrupted", "terminated", 1)
    print(f"cairn: {message}", file=sys.stderr)
    return 128 + signum


def _error(message: str) -> None:
    print(f"cairn: error: {message}", file=sys.stderr)


def _color(args: argparse.Namespace, stream: TextIO) -> bool:
    if args.color == "always":
        return True
    if args.color == "never" or getattr(args, "output", None):
        return False
    return stream.isatty()


def _load_config(args: argparse.Namespace, git: GitRepo, commit: str) -> CairnConfig:
    if args.config is not None:
        try:
            return parse_config(args.config.read_text(encoding="utf-8"), str(args.config))
        except OSError as exc:
            raise ConfigError([f"cannot read it: {exc.strerror}"], str(args.config)) from exc
    data = git.file_at(commit, CONFIG_FILE)
    return parse_config(data.decode("utf-8", errors="replace") if data is not None else None)


async def _repository(store: Store, git: GitRepo) -> Repository:
    return await store.repository(f"local:{git.root}", default_branch=git.default_branch())


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
    config = _load_config(args, git, head if args.head_config else base)
    timeout, memory = settings.analysis_bounds()
    async with (
        database.connect(settings) as pool,
        Analysis(timeout=timeout, memory_mb=memory) as analysis,
    ):
        store = Store(pool)
        repo = await _repository(store, git)
        result = await review(store, repo, LocalSource(git), base, head, config, analysis=analysis)
    _status(
        f"reviewed {base[:10]}..{head[:10]}: {result.changed_files} files, "
        f"{result.changed_units} changed units; index {result.index.files} files "
        f"({result.index.parsed} parsed now, {result.index.skipped_summary()})"
    )
    for path, reason in sorted(result.skipped_files.items()):
        _status(f"skipped {path}: {reason}")
    out = _render_review(args, git, head, result.findings, result.decisions)
    _emit(args, out)
    if args.apply:
        report = apply_fixes(git, head, result.findings)
        for line in describe(report):
            print(text.safe(line), file=sys.stderr)
        return 0 if report.complete else 1
    return _exit_code(result.findings, args.fail_on)


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
        source=_source_at(git, head),
        color=_color(args, sys.stdout),
        decisions=decisions,
    )


def _source_at(git: GitRepo, commit: str) -> Callable[[str, int, int], list[str] | None]:
    @lru_cache(maxsize=64)
    def lines_of(path: str) -> list[str] | None:
        data = git.file_at(commit, path)
        return None if data is None else data.decode("utf-8", errors="replace").splitlines()

    def source(path: str, start: int, end: int) -> list[str] | None:
        lines = lines_of(path)
        return None if lines is None else lines[start - 1 : end]

    return source


def _exit_code(findings: list[Finding], fail_on: str) -> int:
    if fail_on == "never":
        return 0
    floor = Severity(fail_on).rank
    return 1 if any(f.severity.rank >= floor for f in findings) else 0


async def _scan(args: argparse.Namespace, settings: Settings) -> int:
    git = GitRepo.discover(args.repo)
    commit = git.resolve(args.ref)
    config = _load_config(args, git, commit)
    if (args.top is not None and args.top < 0) or args.min_lines < 0:
        raise CairnError("--top and --min-lines take a number of 0 or more")
    baseline = scan_report.Baseline.read(args.baseline) if args.baseline else None
    async with database.connect(settings) as pool:
        store = Store(pool)
        repo = await _repository(store, git)
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
    _status(
        f"scanned {commit[:10]}: {result.index.files} files, {result.streams:,} distinct units "
        f"of {config.duplication.min_tokens}+ tokens, {result.compared:,} {how}, "
        f"{result.candidates:,} candidate pairs verified; {result.index.skipped_summary()}"
    )
    if result.capped:
        _status(
            "note: so many units look alike that the most crowded groups were not compared "
            "(the candidate limit); the families listed are complete for the rest"
        )
    if args.format == "json":
        out = json.dumps(scan_report.document(report), indent=2) + "\n"
    elif args.format == "sarif":
        out = json.dumps(scan_report.sarif(report, tool_version=cairn_version()), indent=2) + "\n"
    elif args.format == "html":
        title = f"Clones in {git.root.name} at {commit[:10]}"
        out = scan_report.render_html(report, _source_at(git, commit), title=title)
    else:
        out = scan_report.render_text(report)
    _emit(args, out)
    return 0


async def _index(args: argparse.Namespace, settings: Settings) -> int:
    from app.indexer import index_commit

    git = GitRepo.discover(args.repo)
    commit = git.resolve(args.ref)
    async with database.connect(settings) as pool:
        store = Store(pool)
        repo = await _repository(store, git)
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


async def _db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    async with database.connect(settings, migrate=False) as pool:
        applied = await database.upgrade(pool)
    print("applied: " + ", ".join(applied) if applied else "the database is up to date")
    return 0


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


async def _demo(args: argparse.Namespace, settings: Settings) -> int:
    from app.demo import build_demo

    root = build_demo(args.dir)
    print(f"sample repository: {root}", file=sys.stderr)
    git = GitRepo(root)
    base, head = git.resolve("main"), git.resolve("feature/export")
    async with database.connect(settings) as pool:
        store = Store(pool)
        repo = await _repository(store, git)
        result = await review(store, repo, LocalSource(git), base, head, CairnConfig())
    print(f"$ cairn review --repo {root} --base main --head feature/export\n", file=sys.stderr)
    out = text.render_review(
        result.findings,
        source=_source_at(git, head),
        color=_color(args, sys.stdout),
        decisions=result.decisions,
    )
    _emit(args, out)
    return 0 if result.findings else 1


async def _setup(args: argparse.Namespace, settings: Settings) -> int:
    from app.settings import GITHUB_API
    from app.setup import SetupOptions, check_public_url, register

    options = SetupOptions(
        public_url=check_public_url(args.url),
        env_file=args.env_file.resolve(),
        api_url=settings.env.get("GITHUB_API_URL", "").strip().rstrip("/") or GITHUB_API,
        org=args.org,
        name=args.name,
        host=args.host,
        port=args.port,
        force=args.force,
    )
    app = await register(options, _status)
    _status(
        f"registered the GitHub App {app.name} (id {app.app_id}); its id, private key and "
        f"webhook secret are in {options.env_file}\n"
        f"install it on repositories: {app.html_url}/installations/new\n"
        "then run `cairn serve` and `cairn worker` here (they read that file)"
    )
    return 0


async def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn
    from arq.connections import ArqRedis

    from app.setup import listen
    from app.web import create_app

    app = settings.app()
    sock = listen(args.host, args.port)  # the port taken: one line, exit 2
    async with database.connect(settings) as pool:
        # No ping at start: deliveries are recorded even while Redis is down.
        redis = ArqRedis.from_url(app.redis_url)
        web = create_app(
            pool,
            redis,
            app.webhook_secret,
            review_drafts=app.review_drafts,
            metrics_token=app.metrics_token,
            body_timeout=app.body_timeout,
        )
        server = uvicorn.Server(
            uvicorn.Config(
                web,
                host=args.host,
                port=args.port,
                log_level="info",
                access_log=False,
                # at most this many requests at once (a 503 past it): 25 MB bodies are read
                # before their signature can be checked, so connections bound the memory
                # (uvicorn counts the connection asking: N + 1 lets N in)
                limit_concurrency=app.max_requests + 1,
                timeout_keep_alive=5,
                # What the app needs open is opened here, around serve(): a Ctrl-C while
                # uvicorn waited for a lifespan startup printed its traceback.
                lifespan="off",
            )
        )
        _status(
            f"cairn serve: webhooks at http://{args.host}:{sock.getsockname()[1]}/webhooks, "
            "database "
            f"{settings.database_shown}, Redis {redacted(app.redis_url)}"
        )
        _quiet_closed_listener()
        try:
            # uvicorn stops gracefully on SIGINT/SIGTERM, then raises the signal again
            with stop_signals_recorded() as received:
                await server.serve(sockets=[sock])
        finally:
            await redis.aclose()
            sock.close()
    return _stopped(args, received[0]) if received else 0


def _quiet_closed_listener() -> None:
    """Leave out asyncio's traceback for a connection that waited in the listening socket's
    backlog when a stop closed that socket (a Ctrl-C as serve starts, before uvicorn handles
    signals): the stop says one line. Only a closed listening socket makes accept() EBADF."""
    loop = asyncio.get_running_loop()
    previous = loop.get_exception_handler()

    def handle(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        closed = isinstance(exc, OSError) and exc.errno == errno.EBADF
        if closed and "_accept_connection" in str(context.get("message", "")):
            return
        if previous is not None:
            previous(loop, context)
        else:
            loop.default_exception_handler(context)

    loop.set_exception_handler(handle)


async def _worker(args: argparse.Namespace, settings: Settings) -> int:
    from app.worker import run_worker

    stopped = await run_worker(settings, burst=args.burst, announce=_status)
    return 0 if stopped is None else _stopped(args, stopped)


def _status(message: str) -> None:
    print(message, file=sys.stderr)


def _emit(args: argparse.Namespace, out: str) -> None:
    if not out.endswith("\n"):
        out += "\n"
    output: Path | None = getattr(args, "output", None)
    if output is not None:
        output.write_text(out, encoding="utf-8")
    else:
        sys.stdout.write(out)
