"""The review flow, once: configuration sections → review → notes → publish.

The App's worker and the Action both run it; each keeps only its edge (the worker: GitHub's
files, the installation, retries; the Action: the checkout, the workflow's token, the job's
files). A broken section of ``.cairn.yml`` completes its check run as neutral and the other
checks run; an analysis killed at its bounds completes every run as not reviewed, and why.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from app.analysis import Runner
from app.errors import AnalysisError
from app.github import CheckConclusion, Forbidden, GitHubError, Unauthorized
from app.publish import CHECKS, Publisher, PublishReport, PullRequestRef
from app.review import ReviewResult, review
from app.source import Source
from app.store import Repository, Store
from checks.config import CairnConfig

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Reviewed:
    """What the flow did: the review's result (None when there was nothing to review or the
    analysis was killed), the publication, and why not when it did not review or publish."""

    result: ReviewResult | None = None
    report: PublishReport | None = None
    not_reviewed: str | None = None  # the analysis was killed at its bounds: why
    refused: GitHubError | None = None  # the token may not publish (``refusal_ok`` only)


async def review_and_publish(
    store: Store,
    repo: Repository,
    source: Source,
    ref: PullRequestRef,
    config: CairnConfig,
    *,
    publisher: Publisher | None,
    runs: Mapping[str, int],
    commentable: Mapping[str, Sequence[tuple[int, int]]],
    analysis: Runner | None = None,
    notes: Sequence[str] = (),
    incomplete: bool = False,
    refusal_ok: bool = False,
) -> Reviewed:
    """Review ``ref``'s head against its base and publish the findings on ``runs``.

    ``commentable`` gives per path the lines of the diff a comment may target; ``notes`` say
    what the edge passed over before the review, and ``incomplete`` that it left files out
    (over its caps). A push not reviewed whole concludes as ``.cairn.yml``'s ``not_reviewed``
    asks: ``neutral`` (the default, a required check passes) or ``failure``. With ``refusal_ok``
    (the Action: a workflow's token may be read-only) GitHub's refusal to publish the review
    completes the runs as failed and is returned in ``refused``; otherwise it is raised.
    """
    runs = dict(runs)
    if publisher is not None:
        for check, problems in config.invalid.items():  # a broken section: only its run
            if check in runs:
                await publisher.neutral(ref, {check: runs.pop(check)}, problems)
    if all(check in config.invalid for check in CHECKS):
        return Reviewed()
    try:
        result = await review(
            store, repo, source, ref.base_sha, ref.head_sha, config, analysis=analysis
        )
    except AnalysisError as exc:  # killed: over its time or memory; the loop never waited
        logger.warning("not reviewed: %s", exc.reason, extra={"repo": ref.full_name})
        if publisher is not None and runs:
            await publisher.skip(ref, runs, f"{exc.reason}.", _conclusion(config))
        return Reviewed(not_reviewed=exc.reason)
    if publisher is None:
        return Reviewed(result)
    skipped = [f"`{path}` skipped: {why}" for path, why in sorted(result.skipped_files.items())]
    try:
        report = await publisher.finish(
            ref,
            runs,
            result.findings,
            commentable,
            policy=config.fail_on,
            notes=[*notes, *skipped, *result.suppressed],
            decisions=result.decisions,
            incomplete_fails=incomplete and config.not_reviewed == "failure",
        )
    except (Forbidden, Unauthorized) as exc:
        if not refusal_ok:
            raise
        try:
            await publisher.fail(ref, runs, f"{type(exc).__name__}: {exc}")
        except GitHubError as again:  # the job's log says it; the refusal matters more
            logger.warning("could not complete the check runs: %s", again)
        return Reviewed(result, refused=exc)
    return Reviewed(result, report)


def _conclusion(config: CairnConfig) -> CheckConclusion:
    """The conclusion ``not_reviewed`` asks for a push Cairn could not review."""
    return "failure" if config.not_reviewed == "failure" else "neutral"
