"""The publisher: a review's findings onto GitHub, one check run per check, one review per
push.

``start`` opens the three check runs (``cairn/duplication``, ``cairn/patterns``,
``cairn/decisions``) as soon as a job begins; ``finish`` completes them and comments:

- Each run's conclusion comes from a policy (``fail_on``: the least severity that fails the
  run, or "never"); with findings that don't fail it is ``neutral``, without any ``success``.
  Its summary lists the findings by file with links to the evidence (permalinks at the base
  sha), what was skipped, and the active suppressions, within GitHub's 65,535 characters; every
  finding is also an annotation (the gateway sends them 50 a request).
- One review (event COMMENT) per push carries the new findings as inline comments on the
  lines of the diff they cover, at most ``max_comments`` of them; the others are summarised in
  the review's body. Findings outside the diff go to the check runs only.
- Publishing is idempotent. A finding's identity is its fingerprint; every comment carries a
  hidden marker ``<!-- cairn:finding <fingerprint> -->``, and the pull request's comments are
  read before posting, so a finding already commented (by a redelivered webhook, a retried
  job, or a job killed between posting and recording) is never commented again. A finding
  that is gone on a new head gets a reply naming the commit (itself marked, so it is sent
  once) and its thread is resolved, when GitHub lets the App: resolving is best effort (an
  installation with ``contents: read`` may be refused), and a refused thread stays open with
  its "Fixed in" reply. The ledger (``app.store.ledger``) records every finding's state.
- Suppressed findings (``suppressions`` of the repository) are not posted, and each run's
  summary lists them, so silence stays visible.
- One publisher at a time per pull request (a Postgres advisory lock), and only for its
  current head: a job for a superseded head completes its runs and comments nothing.

``fail`` and ``neutral`` complete the runs still open when a job breaks or ``.cairn.yml`` does:
no check run is ever left in progress (through a few seconds of GitHub's 5xx, they try again).
GitHub's refusals arrive as ``app.github`` errors.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence, Set
from typing import Any

from app.github import (
    CheckConclusion,
    CommentDraft,
    Forbidden,
    GitHubError,
    GitHubUnavailable,
    Installation,
    ReviewComment,
    Unprocessable,
)
from app.publish import planning
from app.publish.model import (
    CHECKS,
    DEFAULT_FAIL_ON,
    GITHUB_WEB,
    MAX_COMMENTS,
    Plan,
    PublishReport,
    PullRequestRef,
    run_name,
)
from app.publish.render import Renderer, title
from app.report.labels import finding_key, plural
from app.store.ledger import Entry, Ledger, Seen, Suppression
from checks.decisions import NO_NOTES, DecisionNotes
from checks.finding import Finding, Severity

logger = logging.getLogger(__name__)

# Seconds between rounds of completing the runs a broken job left open, while GitHub is down.
_COMPLETE_PAUSES = (0.5, 1.0, 2.0)


class Publisher:
    """Publishes the findings of one pull request's reviews through an installation."""

    def __init__(
        self,
        github: Installation,
        ledger: Ledger,
        *,
        web_url: str = GITHUB_WEB,
        max_comments: int = MAX_COMMENTS,
    ) -> None:
        self.github = github
        self.ledger = ledger
        self.render = Renderer(web_url)
        self.max_comments = max_comments
        self._completed: set[int] = set()
        self._incomplete_fails = False

    # --- check runs ------------------------------------------------------------------------

    async def start(self, pr: PullRequestRef) -> dict[str, int]:
        """Open one in-progress check run per check; their ids by check name.

        A run of this App still in progress on the head (an attempt killed mid-job: its
        worker never completed it) is taken over rather than opened again, so none stays
        "in progress" beside a completed twin.
        """
        open_runs = await self.github.check_runs(pr.full_name, pr.head_sha, status="in_progress")
        reused = {r.name: r.id for r in open_runs}  # the newest of a name, if several
        results = await asyncio.gather(
            *(
                _existing(reused[run_name(check)])
                if run_name(check) in reused
                else self.github.create_check_run(
                    pr.full_name, run_name(check), pr.head_sha, status="in_progress"
                )
                for check in CHECKS
            ),
            return_exceptions=True,
        )
        ids = [r for r in results if isinstance(r, int)]
        refused = next((r for r in results if isinstance(r, BaseException)), None)
        if refused is not None:
            # Some runs were opened, one was refused: complete those, or they would stay
            # in progress (the job fails or is retried from here, before its try block).
            opened = {c: r for c, r in zip(CHECKS, results, strict=True) if isinstance(r, int)}
            try:
                await self.fail(pr, opened, f"could not open the check runs: {refused}")
            except GitHubError:
                logger.warning("could not complete the runs already opened", extra=_context(pr))
            raise refused
        if reused:
            logger.info("took over %d check runs in progress", len(reused), extra=_context(pr))
        logger.info("check runs started", extra=_context(pr))
        return dict(zip(CHECKS, ids, strict=True))

    async def fail(self, pr: PullRequestRef, check_ids: Mapping[str, int], message: str) -> None:
        """Complete every run this publisher has not completed as ``failure``, naming the error."""
        title = "Cairn could not finish this review"
        summary = self.render.failed_summary(pr, message)
        await self._complete_all(pr, check_ids, "failure", title, summary)

    async def neutral(
        self, pr: PullRequestRef, check_ids: Mapping[str, int], problems: Sequence[str]
    ) -> None:
        """Complete every open run as ``neutral``, listing the configuration's problems."""
        title = f"{plural(len(problems), 'problem')} in .cairn.yml"
        summary = self.render.config_summary(problems)
        await self._complete_all(pr, check_ids, "neutral", title, summary)

    async def skip(
        self,
        pr: PullRequestRef,
        check_ids: Mapping[str, int],
        reason: str,
        conclusion: CheckConclusion = "neutral",
    ) -> None:
        """Complete every open run as ``conclusion`` (``not_reviewed`` of ``.cairn.yml``):
        this push could not be reviewed, and why."""
        summary = self.render.skipped_summary(pr, reason)
        await self._complete_all(pr, check_ids, conclusion, "Not reviewed", summary)

    async def _complete_all(
        self,
        pr: PullRequestRef,
        check_ids: Mapping[str, int],
        conclusion: CheckConclusion,
        title: str,
        summary: str,
    ) -> None:
        # A run left in progress blocks a required check, and this is the job's last word:
        # worth a few seconds through an outage (the one that often broke the job).
        for pause in (*_COMPLETE_PAUSES, None):
            errors: list[GitHubError] = []
            for run_id in check_ids.values():
                if run_id in self._completed:
                    continue
                try:
                    await self.github.update_check_run(
                        pr.full_name,
                        run_id,
                        status="completed",
                        conclusion=conclusion,
                        title=title,
                        summary=summary,
                    )
                except GitHubError as e:  # try every run before giving up
                    errors.append(e)
                    continue
                self._completed.add(run_id)
            if pause is None or not any(isinstance(e, GitHubUnavailable) for e in errors):
                break
            await asyncio.sleep(pause)
        logger.info("check runs completed as %s", conclusion, extra=_context(pr))
        if errors:
            raise errors[0]

    # --- the review ------------------------------------------------------------------------

    async def finish(
        self,
        pr: PullRequestRef,
        check_ids: Mapping[str, int],
        findings: Sequence[Finding],
        commentable: Mapping[str, Sequence[tuple[int, int]]],
        policy: Mapping[str, str] = DEFAULT_FAIL_ON,
        notes: Sequence[str] = (),
        decisions: DecisionNotes = NO_NOTES,
        incomplete_fails: bool = False,
    ) -> PublishReport:
        """Comment the new findings, close the fixed ones, complete every check run.

        ``commentable`` gives per path the new-side line ranges of the diff's hunks (GitHub's
        patch, or ``git diff -U3``); ``notes`` say what was skipped; ``decisions`` (related
        decisions, log problems) go to the decisions run's summary. ``incomplete_fails``: the
        push was not reviewed whole (over the App's caps) and ``not_reviewed: failure`` asks
        that such a push fail its runs, whatever was found.
        """
        self._incomplete_fails = incomplete_fails
        floors = {check: planning.floor(check, policy) for check in check_ids}
        current = planning.by_fingerprint(findings)
        async with self.ledger.exclusive(pr.repo_id, pr.number) as ledger:
            suppressions = await ledger.suppressions(pr.repo_id, pr.number)
            known = await ledger.findings(pr.repo_id, pr.number)
            active, silenced = planning.silence(current.values(), suppressions)
            latest = (await self.github.pull_request(pr.full_name, pr.number)).head_sha
            if latest != pr.head_sha:
                # A newer push's job comments and closes threads; this one only completes
                # its runs, so an older head never marks the newer one's findings fixed.
                logger.info("head %s superseded by %s", pr.head_sha, latest, extra=_context(pr))
                await self._complete_runs(pr, check_ids, floors, active, silenced, notes, decisions)
                return PublishReport(outdated=True)
            comments = await self.github.review_comments(pr.full_name, pr.number)
            marked = planning.marked(comments)

            plan = planning.plan(
                pr.head_sha,
                active,
                known,
                marked,
                commentable,
                self.max_comments,
                lambda f, draft: self.render.comment(pr, f, draft),
            )
            posted = await self._post(pr, plan, len(active))
            seen = [
                Seen(f, "open", posted.get(f.fingerprint) or planning.comment_id(marked, f))
                for f in active
            ]
            seen += [Seen(f, "dismissed", planning.comment_id(marked, f)) for f, _ in silenced]
            await ledger.record(pr.repo_id, pr.number, pr.head_sha, seen)
            # A check that did not run (its .cairn.yml section is broken) fixed nothing.
            not_run = {fp for fp, e in known.items() if e.check not in check_ids}
            fixed, unresolved = await self._close_fixed(
                ledger, pr, current, known, marked, comments, not_run=not_run
            )

            await self._complete_runs(pr, check_ids, floors, active, silenced, notes, decisions)
        unrouted = [f for f in current.values() if f.check not in check_ids]
        if unrouted:
            logger.warning(
                "%s of checks without a run were not published",
                plural(len(unrouted), "finding"),
                extra=_context(pr),
            )
        report = PublishReport(
            posted=len(posted),
            kept=len(plan.kept),
            fixed=fixed,
            unresolved=unresolved,
            suppressed=len(silenced),
            outside_diff=len(plan.outside) + (len(plan.new) - len(posted)),
            summarised=len(plan.over),
        )
        logger.info("review published: %s", report, extra=_context(pr))
        return report

    async def _post(self, pr: PullRequestRef, plan: Plan, total: int) -> dict[str, int]:
        """Publish the review; the new comments' ids by fingerprint.

        GitHub refuses a whole review (422) for one comment it cannot place (a line its diff
        does not show, a push racing the job). The comments are then sent again in halves, so
        one refused comment never costs the others; each one refused alone stays in the check
        runs. That is at most 2n - 1 requests for n comments, and as few reviews as it takes.
        """
        if not plan.new:
            return {}
        posted: dict[str, int] = {}
        body = self.render.review_body(pr, plan, total, self.max_comments)
        await self._post_part(pr, list(plan.new), body, posted)
        return posted

    async def _post_part(
        self,
        pr: PullRequestRef,
        part: list[tuple[Finding, CommentDraft]],
        first_body: str,
        posted: dict[str, int],
    ) -> None:
        # the summary goes with the first review published; any later one only points to it
        body = first_body if not posted else self.render.more_body(pr)
        try:
            ids = await self.github.publish_review(
                pr.full_name, pr.number, pr.head_sha, body, [d for _, d in part]
            )
        except Unprocessable as e:
            if len(part) == 1:
                _, d = part[0]
                logger.warning(
                    "comment on %s:%d refused, the finding stays in the check runs: %s",
                    d.path,
                    d.line,
                    e,
                    extra=_context(pr),
                )
                return
            half = len(part) // 2
            await self._post_part(pr, part[:half], first_body, posted)
            await self._post_part(pr, part[half:], first_body, posted)
            return
        posted.update((f.fingerprint, cid) for (f, _), cid in zip(part, ids, strict=True))

    async def _close_fixed(
        self,
        ledger: Ledger,
        pr: PullRequestRef,
        current: Mapping[str, Finding],
        known: Mapping[str, Entry],
        marked: Mapping[str, ReviewComment],
        comments: Sequence[ReviewComment],
        not_run: Set[str] = frozenset(),
    ) -> tuple[int, int]:
        """Reply to and resolve the threads of findings gone on this head; record them fixed.

        Returns how many were fixed, and how many of their threads GitHub refused to resolve.
        """
        gone = planning.gone(current.keys(), known, marked, not_run)
        if not gone:
            return 0, 0
        replied = planning.replied(comments)
        by_id = {c.id: c for c in comments}
        threads: dict[int, tuple[str, bool]] | None = None
        fixed: dict[str, str | None] = {}
        refused = 0
        for fp in sorted(gone):
            root = marked.get(fp)
            entry = known.get(fp)
            if root is None and entry is not None and entry.comment_id is not None:
                root = by_id.get(entry.comment_id)
            if root is None:  # never commented (outside the diff), or the comment was deleted
                fixed[fp] = None
                continue
            if (fp, pr.head_sha, root.id) not in replied:
                await self.github.reply(
                    pr.full_name,
                    pr.number,
                    root.id,
                    self.render.fixed_reply(pr, fp),
                )
            if threads is None:
                threads = {
                    cid: (t.id, t.is_resolved)
                    for t in await self.github.review_threads(pr.full_name, pr.number)
                    for cid in t.comment_ids
                }
            thread = threads.get(root.id)
            if thread is not None and not thread[1] and refused == 0:
                try:
                    await self.github.resolve_thread(thread[0])
                except Forbidden as e:
                    # Reported for installations with `contents: read`; the "Fixed in" reply
                    # says it all the same. The other threads would be refused too.
                    logger.warning("thread left open: %s", e, extra=_context(pr))
                    refused += 1
            elif thread is not None and not thread[1]:
                refused += 1
            fixed[fp] = thread[0] if thread is not None else None
        await ledger.mark_fixed(pr.repo_id, pr.number, fixed, pr.head_sha)
        return len(fixed), refused

    async def _complete_runs(
        self,
        pr: PullRequestRef,
        check_ids: Mapping[str, int],
        floors: Mapping[str, Severity | None],
        active: Sequence[Finding],
        silenced: Sequence[tuple[Finding, Suppression]],
        notes: Sequence[str],
        decisions: DecisionNotes = NO_NOTES,
    ) -> None:
        for check, run_id in check_ids.items():
            await self._complete(
                pr,
                run_id,
                check,
                floors[check],
                [f for f in active if f.check == check],
                [(f, s) for f, s in silenced if f.check == check],
                notes,
                self.render.decisions_section(pr, decisions) if check == "decisions" else "",
            )

    async def _complete(
        self,
        pr: PullRequestRef,
        run_id: int,
        check: str,
        floor: Severity | None,
        findings: Sequence[Finding],
        silenced: Sequence[tuple[Finding, Suppression]],
        notes: Sequence[str],
        extra: str = "",
    ) -> None:
        ordered = sorted(findings, key=finding_key)
        conclusion = planning.conclusion(ordered, floor, incomplete_fails=self._incomplete_fails)
        heading = title(check, ordered)
        if self._incomplete_fails:
            heading = f"Not reviewed whole · {heading}"
        await self.github.update_check_run(
            pr.full_name,
            run_id,
            status="completed",
            conclusion=conclusion,
            title=heading,
            summary=self.render.summary(pr, check, floor, ordered, silenced, notes, extra),
            annotations=[self.render.annotation(pr, f) for f in ordered],
        )
        self._completed.add(run_id)


async def _existing(run_id: int) -> int:
    return run_id


def _context(pr: PullRequestRef) -> dict[str, Any]:
    return {"repo": pr.full_name, "pr": pr.number, "sha": pr.head_sha}
