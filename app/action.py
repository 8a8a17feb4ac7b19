"""``cairn action``: the review in a GitHub Actions job, published like the App's, no server.

It reads the workflow's environment (``GITHUB_EVENT_NAME``, ``GITHUB_EVENT_PATH``,
``GITHUB_REPOSITORY``, ``GITHUB_SHA``, ``GITHUB_API_URL``, ``GITHUB_TOKEN``,
``GITHUB_WORKSPACE``; the embedded Postgres lives in ``CAIRN_HOME``, which the composite
action puts under ``$RUNNER_TEMP``) and:

- on ``pull_request`` and ``pull_request_target``: makes sure the base and head commits are in
  the checkout (fetching them when it is shallow), indexes base, runs the checks, and publishes
  through ``app.publish`` (check runs and inline comments, idempotent across re-runs). Without a
  token, with a read-only one, or for a fork's ``pull_request``, findings become workflow
  commands (``::warning file=…,line=…::``) instead;
- on ``push``: indexes the commit and reports nothing (it keeps a cached index warm).

It always writes the job summary (``GITHUB_STEP_SUMMARY``) and the outputs (``GITHUB_OUTPUT``),
a SARIF file when asked, and exits 1 when a finding reaches ``--fail-on``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from analyzers.diff import parse_unified_diff
from app import markdown as md
from app.analysis import Analysis
from app.errors import CairnError, ConfigError, GitError
from app.git import GitRepo
from app.github import Forbidden, GitHubError, Installation, Unauthorized
from app.indexer import index_commit
from app.pipeline import review_and_publish
from app.publish import (
    CHECKS,
    GITHUB_WEB,
    MAX_COMMENTS,
    Publisher,
    PullRequestRef,
    Renderer,
)
from app.report.labels import evidence_label, finding_key, plural, rule_id
from app.report.sarif import review_sarif
from app.settings import GITHUB_API, Secret, Settings
from app.source import LocalSource
from app.store import Store, database
from app.store.ledger import Ledger
from checks.config import CONFIG_FILE, CairnConfig, load_config
from checks.decisions import NO_NOTES
from checks.finding import Finding, Severity

logger = logging.getLogger(__name__)

PULL_REQUEST_EVENTS = ("pull_request", "pull_request_target")
_COMMAND = {Severity.NOTICE: "notice", Severity.WARNING: "warning", Severity.ERROR: "error"}


@dataclass(frozen=True, slots=True)
class ActionOptions:
    """The command line of ``cairn action`` (the composite action's inputs)."""

    config: Path | None = None
    fail_on: str = "error"
    comment: bool = True
    sarif_file: Path | None = None
    tool_version: str = "0+unknown"


@dataclass(frozen=True, slots=True)
class ActionEnv:
    """What the runner tells the job, from its ``GITHUB_*`` variables."""

    event_name: str
    event_path: Path
    repository: str
    sha: str
    api_url: str
    web_url: str
    token: Secret | None
    workspace: Path
    output: Path | None
    step_summary: Path | None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ActionEnv:
        """ConfigError naming every variable that is missing (not running in Actions?)."""
        required = ("GITHUB_EVENT_NAME", "GITHUB_EVENT_PATH", "GITHUB_REPOSITORY")
        missing = [f"{name} is not set" for name in required if not env.get(name)]
        if missing:
            raise ConfigError(
                [*missing, "cairn action runs in a GitHub Actions job"], "the environment"
            )
        api_url = (env.get("GITHUB_API_URL") or GITHUB_API).rstrip("/")
        web_url = env.get("GITHUB_SERVER_URL") or (
            GITHUB_WEB if api_url == GITHUB_API else api_url.removesuffix("/api/v3")
        )
        token = env.get("GITHUB_TOKEN", "").strip()
        return cls(
            event_name=env["GITHUB_EVENT_NAME"],
            event_path=Path(env["GITHUB_EVENT_PATH"]),
            repository=env["GITHUB_REPOSITORY"],
            sha=env.get("GITHUB_SHA", ""),
            api_url=api_url,
            web_url=web_url,
            token=Secret(token) if token else None,
            workspace=Path(env.get("GITHUB_WORKSPACE") or "."),
            output=_path(env.get("GITHUB_OUTPUT")),
            step_summary=_path(env.get("GITHUB_STEP_SUMMARY")),
        )


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None


@dataclass(frozen=True, slots=True)
class PullRequestEvent:
    """The fields of a ``pull_request`` payload the action uses."""

    number: int
    base_sha: str
    head_sha: str
    repo_id: int
    full_name: str
    head_repo: str
    default_branch: str | None

    @classmethod
    def parse(cls, payload: Mapping[str, Any]) -> PullRequestEvent:
        try:
            pr, repo = payload["pull_request"], payload["repository"]
            return cls(
                number=int(pr["number"]),
                base_sha=str(pr["base"]["sha"]),
                head_sha=str(pr["head"]["sha"]),
                repo_id=int(repo["id"]),
                full_name=str(repo["full_name"]),
                head_repo=str((pr["head"].get("repo") or {}).get("full_name", "")),
                default_branch=repo.get("default_branch"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise CairnError(f"the event payload has no usable pull_request: {exc!r}") from exc


async def run(options: ActionOptions, env: ActionEnv, settings: Settings, out: TextIO) -> int:
    """Do what the event asks; the exit code."""
    try:
        payload = json.loads(env.event_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CairnError(f"cannot read the event payload {env.event_path}: {exc}") from exc
    if env.event_name in PULL_REQUEST_EVENTS:
        return await _pull_request(options, env, settings, PullRequestEvent.parse(payload), out)
    if env.event_name == "push":
        return await _push(env, settings, payload)
    _summary(env, f"## Cairn\n\nNothing to review on a {md.code(env.event_name)} event.\n")
    _outputs(env, [], "skipped")
    return 0


async def _push(env: ActionEnv, settings: Settings, payload: Mapping[str, Any]) -> int:
    git = GitRepo.discover(env.workspace)
    commit = git.resolve(env.sha or str(payload.get("after") or "HEAD"))
    repo_raw = payload.get("repository") or {}
    async with database.connect(settings) as pool:
        store = Store(pool)
        repo = await store.repository(
            env.repository,
            repo_id=int(repo_raw["id"]) if "id" in repo_raw else None,
            default_branch=repo_raw.get("default_branch"),
        )
        report = await index_commit(store, repo, LocalSource(git), commit)
    _summary(
        env,
        f"## Cairn\n\nIndexed `{commit[:10]}`: {plural(report.files, 'file')}, "
        f"{report.parsed} parsed now ({report.skipped_summary()}). Nothing is reported on "
        "a push: the index is ready for the next pull request.\n",
    )
    _outputs(env, [], "success")
    return 0


async def _pull_request(
    options: ActionOptions, env: ActionEnv, settings: Settings, event: PullRequestEvent, out: TextIO
) -> int:
    git = GitRepo.discover(env.workspace)
    _ensure_commit(git, event.base_sha, "base")
    _ensure_commit(git, event.head_sha, "head")
    base, head = event.base_sha, event.head_sha
    config_error: ConfigError | None = None
    try:
        config = _load_config(options, env, git, base)
    except ConfigError as exc:  # reported on the check runs and the summary, then exit 2
        config_error, config = exc, CairnConfig()
    ref = PullRequestRef(event.repo_id, event.full_name, event.number, base, head, 0)
    why_not = _cannot_publish(env, event)
    timeout, memory = settings.analysis_bounds()
    async with (
        database.connect(settings) as pool,
        Analysis(timeout=timeout, memory_mb=memory) as analysis,
    ):
        store = Store(pool)
        repo = await store.repository(
            event.full_name, repo_id=event.repo_id, default_branch=event.default_branch
        )
        publisher: Publisher | None = None
        runs: dict[str, int] = {}
        if why_not is None:
            assert env.token is not None
            publisher = Publisher(
                Installation.from_token(env.token, env.api_url),
                Ledger(pool),
                web_url=env.web_url,
                max_comments=MAX_COMMENTS if options.comment else 0,
            )
            try:
                runs = await publisher.start(ref)
            except (Forbidden, Unauthorized) as exc:
                why_not = f"the token cannot create check runs ({exc.status})"
                publisher = None
        if config_error is not None:
            await _broken_config(env, publisher, ref, runs, config_error)
            raise config_error
        commentable: dict[str, tuple[tuple[int, int], ...]] = {}
        if publisher is not None:  # GitHub's hunks: the lines a review comment may target
            commentable = {
                d.path: d.hunks for d in parse_unified_diff(git.diff(base, head, context=3))
            }
        try:
            reviewed = await review_and_publish(
                store,
                repo,
                LocalSource(git),
                ref,
                config,
                publisher=publisher,
                runs=runs,
                commentable=commentable,
                analysis=analysis,
                refusal_ok=True,
            )
        except Exception as exc:  # the command's top level: never leave a check run open
            if publisher is not None and runs:
                await _close(publisher, ref, runs, f"{type(exc).__name__}: {exc}")
            raise
    if reviewed.not_reviewed is not None:  # killed at its bounds: not reviewed, and why
        _summary(env, f"## Cairn\n\nNot reviewed: {md.text(reviewed.not_reviewed)}.\n")
        fails = config.not_reviewed == "failure"  # the base's .cairn.yml says so
        _outputs(env, [], "failure" if fails else "neutral")
        return 1 if fails else 0
    if reviewed.refused is not None:
        why_not = f"the token cannot publish the review ({reviewed.refused.status})"
    result, report = reviewed.result, reviewed.report
    findings = result.findings if result is not None else []
    if why_not is not None:
        logger.warning("findings as workflow commands: %s", why_not)
        out.write("".join(workflow_command(f) + "\n" for f in sorted(findings, key=finding_key)))
    if options.sarif_file is not None:
        sarif = review_sarif(findings, tool_version=options.tool_version)
        options.sarif_file.parent.mkdir(parents=True, exist_ok=True)
        options.sarif_file.write_text(json.dumps(sarif, indent=2) + "\n", encoding="utf-8")
    conclusion = _conclusion(findings, options.fail_on)
    render = Renderer(env.web_url)
    decisions = result.decisions if result is not None else NO_NOTES
    _summary(env, render.job_summary(ref, findings, conclusion, why_not, report, decisions))
    _outputs(env, findings, conclusion)
    if config.invalid:  # the other checks ran; the job still says the file needs fixing
        broken = [p for ps in config.invalid.values() for p in ps]
        listed = "".join(f"- {md.text(p)}\n" for p in dict.fromkeys(broken))
        checks = ", ".join(f"cairn/{c}" for c in config.invalid)
        _summary(env, f"Not run ({checks}): `{CONFIG_FILE}` has problems.\n\n{listed}")
        source = str(options.config) if options.config is not None else CONFIG_FILE
        raise ConfigError(broken, source, broken)  # listed on stderr, and exit 2
    return 1 if conclusion == "failure" else 0


async def _broken_config(
    env: ActionEnv,
    publisher: Publisher | None,
    ref: PullRequestRef,
    runs: Mapping[str, int],
    error: ConfigError,
) -> None:
    """Say what is wrong with ``.cairn.yml`` where the team looks: check runs and summary."""
    if publisher is not None and runs:
        try:
            await publisher.neutral(ref, runs, error.described)
        except GitHubError as exc:
            logger.warning("could not complete the check runs: %s", exc)
    problems = "".join(f"- {md.text(p)}\n" for p in error.described)
    _summary(env, f"## Cairn\n\nNot reviewed: {md.code(error.source)} has problems.\n\n{problems}")


async def _close(
    publisher: Publisher, ref: PullRequestRef, runs: Mapping[str, int], message: str
) -> None:
    try:
        await publisher.fail(ref, runs, message)
    except GitHubError as exc:  # the job's log says it; the original error matters more
        logger.warning("could not complete the check runs: %s", exc)


def _ensure_commit(git: GitRepo, sha: str, what: str) -> None:
    """The commit is in the checkout, fetched from origin when a shallow clone lacks it."""
    if git.has_commit(sha):
        return
    try:
        git.fetch(sha)
    except GitError as exc:
        raise CairnError(
            f"the pull request's {what} commit {sha[:12]} is not in the checkout and could "
            f"not be fetched ({exc}); check out with `actions/checkout` and `fetch-depth: 0`, "
            "or keep `origin` pointing at the repository"
        ) from exc
    if not git.has_commit(sha):
        raise CairnError(f"fetched origin, but the {what} commit {sha[:12]} is still missing")


def _load_config(options: ActionOptions, env: ActionEnv, git: GitRepo, base: str) -> CairnConfig:
    if options.config is not None:
        path = options.config if options.config.is_absolute() else env.workspace / options.config
        try:
            return load_config(path.read_text(encoding="utf-8"), str(options.config))
        except OSError as exc:
            raise ConfigError([f"cannot read it: {exc.strerror}"], str(options.config)) from exc
    # From the base, as the App does: a pull request cannot switch its own review off.
    data = git.file_at(base, CONFIG_FILE)
    return load_config(data.decode("utf-8", errors="replace") if data is not None else None)


def _cannot_publish(env: ActionEnv, event: PullRequestEvent) -> str | None:
    """Why findings cannot go to check runs and comments, or None when they can."""
    if env.token is None:
        return "no token (GITHUB_TOKEN is empty)"
    if env.event_name == "pull_request" and event.head_repo not in ("", event.full_name):
        return f"a pull request from the fork {event.head_repo} gets a read-only token"
    return None


def _conclusion(findings: Sequence[Finding], fail_on: str) -> str:
    if not findings:
        return "success"
    if fail_on != "never" and any(f.severity.rank >= Severity(fail_on).rank for f in findings):
        return "failure"
    return "neutral"


# --- the runner's files and commands -------------------------------------------------------


def escape_data(text: str) -> str:
    """A workflow command's message, escaped as the Actions toolkit does."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value: also ``:`` and ``,``."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def workflow_command(f: Finding) -> str:
    """``::warning file=…,line=…,endLine=…,title=…::message``: an annotation on the job."""
    start = max(f.start_line, 1)
    props = {
        "file": f.path,
        "line": str(start),
        "endLine": str(max(f.end_line, start)),
        "title": f"{rule_id(f.check, f.rule)} ({f.severity.value})",
    }
    message = f.message + "".join(f"\n{evidence_label(e)}" for e in f.evidence)
    rendered = ",".join(f"{k}={escape_property(v)}" for k, v in props.items())
    return f"::{_COMMAND[f.severity]} {rendered}::{escape_data(message)}"


def _outputs(env: ActionEnv, findings: Sequence[Finding], conclusion: str) -> None:
    counts = {check: sum(1 for f in findings if f.check == check) for check in CHECKS}
    lines = [f"{check}={n}" for check, n in counts.items()]
    lines += [f"findings={len(findings)}", f"conclusion={conclusion}"]
    if env.output is not None:
        with env.output.open("a", encoding="utf-8") as fh:
            fh.write("".join(line + "\n" for line in lines))


def _summary(env: ActionEnv, markdown: str) -> None:
    if env.step_summary is not None:
        with env.step_summary.open("a", encoding="utf-8") as fh:
            fh.write(markdown)
