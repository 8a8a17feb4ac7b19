"""``cairn worker``: the arq jobs behind the GitHub App.

Every job's top level is where an unexpected error is caught, logged with its context and
turned into failed check runs, so a required status check never stays "in progress".
How each job runs (deferred on rate limits and outages, recorded in Postgres, in one of its
installation's slots) is ``app.jobs``; what a review does is ``app.pipeline``.

Two periodic jobs keep deliveries from being lost: ``reconcile_deliveries`` (at start-up and
every minute) queues those recorded while Redis was down; ``redeliver_deliveries`` asks GitHub
to send again those that never reached Cairn (``app.redelivery``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from contextlib import AsyncExitStack
from datetime import datetime
from typing import Any

import httpx
from arq.connections import RedisSettings
from arq.cron import cron
from arq.worker import Worker, func
from redis.exceptions import RedisError

from analyzers.languages import language_for_path
from app.analysis import Analysis
from app.commands import ignored_reply, may_command, recheck_allowed, refuse
from app.github import (
    Conflict,
    GitHubApp,
    GitHubError,
    GitHubUnavailable,
    Installation,
    NotFound,
    PullFile,
    RateLimited,
    Unprocessable,
)
from app.indexer import index_commit
from app.jobs import (
    MAX_TRIES,
    MAX_WAITS,
    WorkerState,
    limited,
    recorded,
    retry_delay,
    retrying,
    state_of,
)
from app.metrics import GitHubMeter, MeteredTransport, metered
from app.pipeline import review_and_publish
from app.publish import FINDING_MARKER, Publisher, PullRequestRef
from app.reconcile import reconcile
from app.redelivery import redeliver
from app.settings import Settings, redacted
from app.source import GitHubSource
from app.store import Store, database
from app.store.ledger import Ledger
from checks.config import CONFIG_FILE, ConfigError, load_config
from checks.finding import Severity

logger = logging.getLogger(__name__)

# Jobs one worker runs at once. Its pool has a connection more than that: a job holding an
# advisory lock's connection (index, publish) always finds one for its queries, even when every
# other job waits for that lock on a connection of its own.
MAX_JOBS = 10
# Source files one review reads: each costs a call or two from the installation's 5,000 an hour.
MAX_REVIEWED_FILES = 500


async def review_pull_request(
    ctx: dict[str, Any],
    installation_id: int,
    repo_id: int,
    full_name: str,
    number: int,
    head_sha: str,
) -> str:
    """Review one push of a pull request and publish the findings."""
    w = state_of(ctx)
    gh = w.github.installation(installation_id)
    log = {"repo": full_name, "pr": number, "sha": head_sha}
    pr = await gh.pull_request(full_name, number)
    if pr.head_sha != head_sha:
        logger.info("head moved on to %s: its own job reviews it", pr.head_sha[:12], extra=log)
        return "superseded"
    ref = PullRequestRef(
        repo_id=repo_id,
        full_name=full_name,
        number=number,
        base_sha=pr.base_sha,
        head_sha=head_sha,
        installation_id=installation_id,
    )
    publisher = Publisher(gh, Ledger(w.pool), web_url=w.app.web_url)
    runs = await publisher.start(ref)
    try:
        outcome = await _review_and_publish(w, gh, publisher, ref, runs, pr.changed_files)
    except (RateLimited, GitHubUnavailable) as exc:
        # Complete this attempt's runs (never left in progress); `retrying` defers the job
        # and the next attempt opens new ones.
        delay = retry_delay(ctx, exc)
        what = (
            "GitHub's rate limit"
            if isinstance(exc, RateLimited)
            else f"GitHub is unavailable ({exc})"
        )
        message = (
            f"{what}; retrying in {delay:.0f} s" if delay is not None else f"{what}: giving up"
        )
        try:
            await publisher.fail(ref, runs, message)
        except GitHubError:
            logger.warning("could not complete the runs of a failed attempt", extra=log)
        raise
    except database.UNAVAILABLE as exc:
        # The database went away mid-review: complete this attempt's runs; `retrying` defers
        # the job.
        logger.warning("review interrupted: the database is unavailable (%r)", exc, extra=log)
        try:
            await publisher.fail(ref, runs, "the database is unavailable; trying again")
        except GitHubError:
            logger.warning("could not complete the runs of a failed attempt", extra=log)
        raise
    except Exception as exc:  # the job's top level: log, fail the runs, let arq record it
        logger.exception("review failed", extra=log)
        await publisher.fail(ref, runs, f"{type(exc).__name__}: {exc}")
        raise
    logger.info("reviewed: %s", outcome, extra=log)
    return outcome


async def _review_and_publish(
    w: WorkerState,
    gh: Installation,
    publisher: Publisher,
    ref: PullRequestRef,
    runs: dict[str, int],
    changed_files: int,
) -> str:
    # The configuration comes from the base: a pull request cannot switch its own review off.
    raw = await gh.file_at(ref.full_name, ref.base_sha, CONFIG_FILE)
    try:
        config = load_config(raw.decode("utf-8", errors="replace") if raw is not None else None)
    except ConfigError as exc:  # the whole file is unreadable: every run is neutral
        await publisher.neutral(ref, runs, exc.described)
        return f"configuration problems: {len(exc.problems)}"
    files, limits = _reviewable(
        await gh.pull_request_files(ref.full_name, ref.number), changed_files
    )
    source = GitHubSource(gh, ref.full_name, ref.head_sha, files)
    store = Store(w.pool)
    repo = await store.repository(
        ref.full_name, repo_id=ref.repo_id, installation_id=ref.installation_id
    )
    commentable = {d.path: d.hunks for d in await source.diff(ref.base_sha, ref.head_sha)}
    try:
        reviewed = await review_and_publish(
            store,
            repo,
            source,
            ref,
            config,
            publisher=publisher,
            runs=runs,
            commentable=commentable,
            analysis=w.analysis,
            notes=limits,
            incomplete=bool(limits),
        )
    except NotFound:
        if await _known(gh, ref.full_name, ref.base_sha):
            raise
        await publisher.skip(
            ref,
            {c: r for c, r in runs.items() if c not in config.invalid},
            f"its base commit {ref.base_sha[:7]} is unknown to GitHub (was the base branch "
            "force-pushed?). Update the pull request's branch, or push to it, to review again.",
            "failure" if config.not_reviewed == "failure" else "neutral",
        )
        return "base commit unknown"
    if reviewed.not_reviewed is not None:
        return f"not reviewed: {reviewed.not_reviewed}"
    result, report = reviewed.result, reviewed.report
    if result is None or report is None:
        return "configuration problems in every section"
    if report.unresolved and w.meter is not None:
        w.meter.refused("resolve_thread", report.unresolved)
    return (
        f"{len(result.findings)} findings: {report.posted} posted, {report.kept} kept, "
        f"{report.fixed} fixed, {report.outside_diff} outside the diff"
    )


async def _known(gh: Installation, repo: str, sha: str) -> bool:
    """Whether GitHub still serves the commit ``sha``."""
    try:
        await gh.commit_sha(repo, sha)
    except (NotFound, Unprocessable):
        return False
    return True


def _reviewable(files: list[PullFile], changed: int) -> tuple[list[PullFile], list[str]]:
    """The files a review reads, at most MAX_REVIEWED_FILES source files (each costs GitHub
    calls from the installation's hourly budget), and notes for what is left out."""
    notes = []
    if changed > len(files):
        notes.append(
            f"GitHub lists only {len(files):,} of this pull request's {changed:,} changed files: "
            f"the other {changed - len(files):,} were not reviewed"
        )
    code = [f for f in files if f.status != "removed" and language_for_path(f.path) is not None]
    if len(code) > MAX_REVIEWED_FILES:
        left_out = {f.path for f in code[MAX_REVIEWED_FILES:]}
        files = [f for f in files if f.path not in left_out]
        notes.append(
            f"{len(left_out):,} of the {len(code):,} changed source files were not reviewed: "
            f"Cairn reviews at most {MAX_REVIEWED_FILES:,} a pull request, in path order"
        )
    return files, notes


async def recheck_pull_request(
    ctx: dict[str, Any],
    installation_id: int,
    repo_id: int,
    full_name: str,
    number: int,
    author: str | None = None,
    association: str = "",
    reply_to: int | None = None,
) -> str:
    """``/cairn recheck``: review the pull request's current head again, when its author has
    write access and no recheck of it ran in the last CAIRN_RECHECK_INTERVAL seconds."""
    w = state_of(ctx)
    gh = w.github.installation(installation_id)
    log = {"repo": full_name, "pr": number}
    if not await may_command(gh, full_name, author, association):
        logger.info("recheck by %s (%s) refused", author, association or "?", extra=log)
        await refuse(ctx["redis"], gh, full_name, number, author, reply_to)
        return "refused: no write access"
    job_id = str(ctx.get("job_id") or f"recheck:{repo_id}:{number}")
    if not await recheck_allowed(ctx["redis"], repo_id, number, job_id, w.app.recheck_interval):
        logger.info("recheck asked again within %.0f s", w.app.recheck_interval, extra=log)
        return "rate limited"
    pr = await gh.pull_request(full_name, number)
    return await review_pull_request(ctx, installation_id, repo_id, full_name, number, pr.head_sha)


async def ignore_finding(
    ctx: dict[str, Any],
    installation_id: int,
    repo_id: int,
    full_name: str,
    number: int,
    in_reply_to: int | None,
    comment_id: int,
    author: str,
    reason: str,
    association: str = "",
) -> str:
    """``/cairn ignore <reason>`` in reply to a Cairn comment, from someone with write access:
    an auditable suppression of that finding in this pull request."""
    w = state_of(ctx)
    gh = w.github.installation(installation_id)
    in_thread = in_reply_to or None
    if not await may_command(gh, full_name, author, association):
        logger.info("ignore by %s (%s) refused", author, association or "?", extra={"pr": number})
        await refuse(ctx["redis"], gh, full_name, number, author, in_thread)
        return "refused: no write access"
    comments = {c.id: c for c in await gh.review_comments(full_name, number)}
    parent = comments.get(in_reply_to) if in_reply_to is not None else None
    found = None
    if parent is not None and parent.author == await w.github.bot_login():
        found = FINDING_MARKER.search(parent.body)  # only Cairn's own comments count
    if found is None:
        answer = "`/cairn ignore` works in reply to one of Cairn's comments: nothing was recorded."
        if comment_id in comments or in_reply_to is not None:
            await gh.reply(full_name, number, in_reply_to or comment_id, answer)
        else:  # said in the pull request's conversation, where there are no threads
            await gh.comment(full_name, number, answer)
        return "not a reply to a Cairn finding"
    if not reason:
        # in the thread, under its top comment: GitHub refuses replies to replies
        await gh.reply(
            full_name,
            number,
            in_reply_to or comment_id,
            "Say why: `/cairn ignore <reason>`. Nothing was recorded.",
        )
        return "no reason given"
    fp = found.group(1)
    ledger = Ledger(w.pool)
    pr = await gh.pull_request(full_name, number)
    if author == pr.author:
        entry = (await ledger.findings(repo_id, number)).get(fp)
        if entry is None or entry.severity is Severity.ERROR:
            raw = await gh.file_at(full_name, pr.base_sha, CONFIG_FILE)
            try:
                text = raw.decode("utf-8", errors="replace") if raw is not None else None
                allowed = load_config(text).commands.author_may_ignore_errors
            except ConfigError:
                allowed = False
            if not allowed:
                await refuse(ctx["redis"], gh, full_name, number, author, in_reply_to, AUTHOR_ERROR)
                return "refused: the author cannot ignore an error on their own pull request"
    await ledger.suppress(
        repo_id, reason=reason, author=author, fingerprint=fp, comment_id=comment_id, number=number
    )
    await ledger.dismiss(repo_id, number, fp)
    await gh.reply(full_name, number, in_reply_to or comment_id, ignored_reply(author, reason))
    return "suppressed"


AUTHOR_ERROR = (
    "The author of a pull request cannot ignore an error-level finding on it: someone else "
    "with write access can, or the base branch's `.cairn.yml` can allow it "
    "(`commands: {author_may_ignore_errors: true}`). Nothing was recorded."
)


async def record_pull_request(
    ctx: dict[str, Any],
    installation_id: int,
    repo_id: int,
    full_name: str,
    number: int,
    merged_at: str | None = None,
    labels: list[str] | None = None,
) -> str:
    """A merged pull request joins the decision history (title, body, labels, files)."""
    w = state_of(ctx)
    gh = w.github.installation(installation_id)
    pr = await gh.pull_request(full_name, number)
    files = await gh.pull_request_files(full_name, number)
    await Store(w.pool).repository(full_name, repo_id=repo_id, installation_id=installation_id)
    await Ledger(w.pool).save_pull_request(
        repo_id,
        number,
        title=pr.title,
        body=pr.body,
        labels=labels or (),
        files=[f.path for f in files],
        merged_at=datetime.fromisoformat(merged_at) if merged_at else None,
    )
    return "recorded"


async def index_repository(
    ctx: dict[str, Any], installation_id: int, repo_id: int, full_name: str, sha: str | None
) -> str:
    """Bring a repository's index to ``sha`` (or its default branch's head)."""
    w = state_of(ctx)
    gh = w.github.installation(installation_id)
    log = {"repo": full_name, "sha": sha}
    info = await gh.repository(full_name)
    store = Store(w.pool)
    repo = await store.repository(
        full_name,
        repo_id=repo_id,
        installation_id=installation_id,
        default_branch=info.default_branch,
    )
    try:
        commit = sha or await gh.commit_sha(full_name, info.default_branch)
    except Conflict:
        # An empty repository (GitHub: 409): nothing to index; its first push to the default
        # branch queues the index. Completing here keeps the job from running again forever.
        logger.info("%s is empty: nothing to index", full_name, extra=log)
        return "empty repository: nothing to index"
    report = await index_commit(
        store, repo, GitHubSource(gh, full_name, commit, ()), commit, analysis=w.analysis
    )
    logger.info("indexed %s: %d parsed", full_name, report.parsed, extra=log)
    return f"indexed {report.files} files ({report.parsed} parsed)"


async def forget_repositories(
    ctx: dict[str, Any], installation_id: int, repo_ids: list[int]
) -> str:
    """Delete everything Cairn keeps about repositories the App may no longer see."""
    store = Store(state_of(ctx).pool)
    for repo_id in repo_ids:
        await store.delete_repository(repo_id)
    return f"forgot {len(repo_ids)} repositories"


async def forget_installation(
    ctx: dict[str, Any], installation_id: int, repo_ids: list[int]
) -> str:
    """Delete everything Cairn keeps about an uninstalled installation's repositories."""
    store = Store(state_of(ctx).pool)
    forgotten = await store.delete_installation(installation_id)
    for repo_id in repo_ids:
        await store.delete_repository(repo_id)
    return f"forgot installation {installation_id} ({forgotten} repositories)"


async def startup(ctx: dict[str, Any]) -> None:
    settings: Settings = ctx["settings"]
    stack = AsyncExitStack()
    app = settings.app()
    pool = await stack.enter_async_context(database.connect(settings, max_size=MAX_JOBS + 1))
    meter = GitHubMeter()
    transport = MeteredTransport(httpx.AsyncHTTPTransport(), meter)
    github = await stack.enter_async_context(
        GitHubApp(app.app_id, app.private_key, app.api_url, transport=transport)
    )
    analysis = await stack.enter_async_context(
        Analysis(
            app.analysis_processes or MAX_JOBS,  # no job waits for another's analysis
            timeout=app.analysis_timeout,
            memory_mb=app.analysis_memory_mb,
        )
    )
    ctx["meter"] = meter
    ctx["stack"] = stack
    ctx["cairn"] = WorkerState(
        settings=settings, app=app, pool=pool, github=github, meter=meter, analysis=analysis
    )
    announce: Callable[[str], None] | None = ctx.get("announce")
    if announce is not None:  # connected: say so once, at any log level
        announce(ctx["started"])


async def shutdown(ctx: dict[str, Any]) -> None:
    stack: AsyncExitStack | None = ctx.get("stack")
    if stack is not None:
        await stack.aclose()


async def reconcile_deliveries(ctx: dict[str, Any]) -> str:
    """Queue the deliveries recorded while Redis was down (periodic, and at start-up)."""
    try:
        done = await reconcile(state_of(ctx).pool, ctx["redis"])
    except database.UNAVAILABLE as exc:
        logger.warning("reconcile_deliveries: the database is unavailable (%r)", exc)
        return "skipped: the database is unavailable; the next sweep tries again"
    return f"queued {done.deliveries} recorded deliveries ({done.jobs} jobs)"


async def redeliver_deliveries(ctx: dict[str, Any]) -> str:
    """Ask GitHub to send again the recent deliveries that failed or never arrived."""
    w = state_of(ctx)
    try:
        done = await redeliver(w.github, w.pool, ctx["redis"])
    except database.UNAVAILABLE as exc:
        logger.warning("redeliver_deliveries: the database is unavailable (%r)", exc)
        return "skipped: the database is unavailable; the next sweep tries again"
    except GitHubError as exc:  # unreachable, an outage, a refused App token: one line a sweep
        logger.warning("redeliver_deliveries: GitHub did not list the deliveries: %s", exc)
        return "skipped: GitHub did not list the deliveries; the next sweep tries again"
    return f"asked for {len(done.asked)} redeliveries of {done.listed} listed"


_LIMITED = (review_pull_request, recheck_pull_request, index_repository)

FUNCTIONS: tuple[Any, ...] = tuple(
    metered(retrying(limited(recorded(job)) if job in _LIMITED else recorded(job)))
    for job in (
        review_pull_request,
        recheck_pull_request,
        ignore_finding,
        record_pull_request,
        index_repository,
        forget_repositories,
        forget_installation,
    )
)


def build_worker(
    settings: Settings,
    *,
    burst: bool = False,
    queue_name: str | None = None,
    maintenance: bool | None = None,
) -> Worker:
    """An arq worker for the App's jobs (``burst``: stop when the queue is empty, for tests).

    ``maintenance`` (default: when not ``burst``) adds the periodic jobs: the reconciler at
    start-up and every minute, the redelivery sweep every CAIRN_REDELIVERY_INTERVAL minutes.
    """
    app = settings.app()
    options: dict[str, Any] = {} if queue_name is None else {"queue_name": queue_name}
    functions = [
        func(f, max_tries=MAX_TRIES + MAX_WAITS) if f.__name__ in _LIMITED_NAMES else f
        for f in FUNCTIONS
    ]
    crons = []
    if maintenance if maintenance is not None else not burst:
        reconciler: Any = metered(reconcile_deliveries)
        crons.append(cron(reconciler, second=0, run_at_startup=True, max_tries=1))
        if app.redelivery_interval > 0:
            sweep: Any = metered(redeliver_deliveries)
            minutes = set(range(0, 60, min(app.redelivery_interval, 60)))
            crons.append(cron(sweep, minute=minutes, second=30, max_tries=1))
    worker = Worker(
        functions,
        cron_jobs=crons,
        redis_settings=RedisSettings.from_dsn(app.redis_url),
        on_startup=startup,
        on_shutdown=shutdown,
        ctx={"settings": settings},
        burst=burst,
        handle_signals=not burst,
        job_timeout=app.job_timeout,
        max_tries=MAX_TRIES,
        max_jobs=MAX_JOBS,
        **options,
    )
    # A job whose worker was killed runs again once arq's "in progress" key lapses: its
    # timeout plus this margin (arq's own is 10 s).
    worker.in_progress_timeout_s = app.job_timeout + app.rerun_after
    return worker


_LIMITED_NAMES = frozenset(job.__name__ for job in _LIMITED)


REDIS_WAIT = 1.0  # seconds between attempts to reach Redis again after losing it


async def run_worker(
    settings: Settings, *, burst: bool = False, announce: Callable[[str], None] | None = None
) -> int | None:
    """Run the worker until SIGTERM/SIGINT, through Redis outages; return the signal that
    stopped it (None when a ``burst`` ended with the queue empty).

    arq's loop ends when Redis goes away. The worker then lets its jobs finish, closes what its
    start-up opened and starts afresh once Redis answers; nothing queued is lost by the worker
    (what Redis itself loses, the reconciler and the redelivery sweep recover). ``announce``
    gets one line each time the worker has connected: what it serves, and where.
    """
    stopped: list[int] = []
    while True:
        worker = build_worker(settings, burst=burst)
        worker.on_stop = stopped.append  # arq's signal handler says which signal it got
        if announce is not None:
            worker.ctx["announce"] = announce
            worker.ctx["started"] = started_line(settings, worker)
        try:
            await worker.async_run()
            return stopped[0] if stopped else None
        except asyncio.CancelledError:
            # SIGTERM/SIGINT: arq stops by cancelling its main task once running jobs are
            # done (what its own `run()` swallows too).
            logger.info("worker stopped")
            return stopped[0] if stopped else None
        except (RedisError, OSError) as exc:
            logger.warning("lost Redis (%s); starting again once it answers", exc)
        finally:
            try:
                await worker.close()
            except (RedisError, OSError):
                await shutdown(worker.ctx)  # arq could not get as far as its on_shutdown
        # No job runs now: while Redis is away, SIGTERM and SIGINT stop the process at once.
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, _stop_waiting, stop, stopped, sig)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), REDIS_WAIT)
        if stopped:
            return stopped[0]


def _stop_waiting(stop: asyncio.Event, stopped: list[int], signum: int) -> None:
    stopped.append(signum)
    stop.set()


def started_line(settings: Settings, worker: Worker) -> str:
    """What a worker serves and where, never a secret: its queue, how many jobs it runs at
    once, the database and Redis it uses, the GitHub API it calls."""
    app = settings.app()
    return (
        f"cairn worker: queue {worker.queue_name} on {redacted(app.redis_url)}, "
        f"{MAX_JOBS} jobs at once ({app.installation_concurrency} per installation), "
        f"database {settings.database_shown}, GitHub App {app.app_id} at {app.api_url}"
    )
