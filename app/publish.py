"""Publish a review's findings to GitHub: one check run per check, one review per push.

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
  its "Fixed in" reply. The ledger (``app.ledger``) records every finding's state.
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
import dataclasses
import logging
import re
from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal
from urllib.parse import quote

from app import markdown as md
from app.fixmarkdown import fix_markdown
from app.github import (
    Annotation,
    CheckConclusion,
    CommentDraft,
    Forbidden,
    GitHubError,
    GitHubUnavailable,
    Installation,
    ReviewComment,
    Unprocessable,
)
from app.ledger import Entry, Ledger, Seen, Suppression
from app.report.labels import evidence_label, finding_key, plural, rule_id, span
from checks.decisions import NO_NOTES, DecisionNotes
from checks.finding import Evidence, Finding, Severity, fingerprint

__all__ = [
    "CHECKS",
    "DEFAULT_FAIL_ON",
    "FINDING_MARKER",
    "MAX_COMMENTS",
    "MAX_OUTPUT",
    "PublishReport",
    "Publisher",
    "PullRequestRef",
    "commentable_ranges",
]

logger = logging.getLogger(__name__)

#: The checks, each with its own check run named ``cairn/<check>``.
CHECKS = ("duplication", "patterns", "decisions")
#: The least severity that fails each check's run, or "never".
DEFAULT_FAIL_ON: Mapping[str, str] = MappingProxyType(
    {"duplication": "never", "patterns": "error", "decisions": "error"}
)
#: Inline comments per push; the rest are summarised in the review's body.
MAX_COMMENTS = 25
#: Characters of a check run's summary, and of a comment or review body:
#: https://docs.github.com/en/rest/checks/runs#update-a-check-run
MAX_OUTPUT = 65_535
GITHUB_WEB = "https://github.com"

MAX_LOG_PROBLEMS = 50  # listed in the decisions run's summary; the rest are counted
_TITLES = {"duplication": "Duplication", "patterns": "Patterns", "decisions": "Decisions"}
_LEVELS: Mapping[Severity, Literal["notice", "warning", "failure"]] = {
    Severity.NOTICE: "notice",
    Severity.WARNING: "warning",
    Severity.ERROR: "failure",
}
#: The hidden marker in each of Cairn's comments: the finding's fingerprint.
FINDING_MARKER = re.compile(r"<!-- cairn:finding (\S+) -->")
_FIXED = re.compile(r"<!-- cairn:fixed (\S+) (\S+) -->")
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@", re.MULTILINE)
_ANNOTATION_MESSAGE = 4000  # characters; GitHub allows 64 KB, nobody reads that much
_ANNOTATION_TITLE = 255
# The body of a review after the first, when GitHub refused one review of them all.
_MORE = "More of Cairn's findings on {sha}; all of them are in the `cairn/*` check runs."
# Seconds between rounds of completing the runs a broken job left open, while GitHub is down.
_COMPLETE_PAUSES = (0.5, 1.0, 2.0)


@dataclass(frozen=True, slots=True)
class PullRequestRef:
    """The pull request at the head under review."""

    repo_id: int
    full_name: str  # "owner/name"
    number: int
    base_sha: str
    head_sha: str
    installation_id: int


@dataclass(frozen=True, slots=True)
class PublishReport:
    """What ``finish`` did with the findings, by fate."""

    posted: int = 0  # new inline comments
    kept: int = 0  # commented on an earlier push (or attempt): not posted again
    fixed: int = 0  # gone on this head: replied to, thread resolved, recorded fixed
    unresolved: int = 0  # of those, threads GitHub would not let Cairn resolve (left open)
    suppressed: int = 0  # silenced by a suppression: listed in the summaries only
    outside_diff: int = 0  # not on lines of the diff: check runs only
    summarised: int = 0  # over the comment cap: in the review's body and the check runs
    outdated: bool = False  # the pull request moved on: check runs only, nothing commented


def commentable_ranges(patch: str | None) -> tuple[tuple[int, int], ...]:
    """The new-side line ranges of a GitHub per-file ``patch``'s hunks (added and context).

    These are the lines a review comment may target on side RIGHT, one range per hunk.
    """
    ranges = []
    for match in _HUNK.finditer(patch or ""):
        start, count = int(match[1]), int(match[2] if match[2] is not None else "1")
        if count > 0:
            ranges.append((start, start + count - 1))
    return tuple(ranges)


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
        self.web_url = web_url.rstrip("/")
        self.max_comments = max_comments
        self._completed: set[int] = set()

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
                _existing(reused[_run_name(check)])
                if _run_name(check) in reused
                else self.github.create_check_run(
                    pr.full_name, _run_name(check), pr.head_sha, status="in_progress"
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
        summary = _fit(
            f"Cairn could not finish reviewing {pr.head_sha[:7]}:\n\n"
            f"> {md.text(message)}\n\n"
            "Push again, or re-run this check, to try once more.",
            MAX_OUTPUT,
        )
        await self._complete_all(pr, check_ids, "failure", title, summary)

    async def neutral(
        self, pr: PullRequestRef, check_ids: Mapping[str, int], problems: Sequence[str]
    ) -> None:
        """Complete every open run as ``neutral``, listing the configuration's problems."""
        title = f"{plural(len(problems), 'problem')} in .cairn.yml"
        summary = _fit(
            "Cairn did not review this push: its configuration, `.cairn.yml`, has "
            f"{plural(len(problems), 'problem')}. Fix them and push again.\n\n"
            + "".join(f"- {md.text(p)}\n" for p in problems),
            MAX_OUTPUT,
        )
        await self._complete_all(pr, check_ids, "neutral", title, summary)

    async def skip(self, pr: PullRequestRef, check_ids: Mapping[str, int], reason: str) -> None:
        """Complete every open run as ``neutral``: this push could not be reviewed, and why."""
        summary = _fit(f"Cairn did not review {pr.head_sha[:7]}: {md.text(reason)}\n", MAX_OUTPUT)
        await self._complete_all(pr, check_ids, "neutral", "Not reviewed", summary)

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
    ) -> PublishReport:
        """Comment the new findings, close the fixed ones, complete every check run.

        ``commentable`` gives per path the new-side line ranges of the diff's hunks
        (``commentable_ranges`` of GitHub's patch); ``notes`` say what was skipped;
        ``decisions`` (related decisions, log problems) go to the decisions run's summary.
        """
        floors = {check: _floor(check, policy) for check in check_ids}
        current = _by_fingerprint(findings)
        async with self.ledger.exclusive(pr.repo_id, pr.number) as ledger:
            suppressions = await ledger.suppressions(pr.repo_id, pr.number)
            known = await ledger.findings(pr.repo_id, pr.number)
            silenced: list[tuple[Finding, Suppression]] = []
            active: list[Finding] = []
            for f in current.values():
                s = next((s for s in suppressions if s.matches(f)), None)
                if s is None:
                    active.append(f)
                else:
                    silenced.append((f, s))
            latest = (await self.github.pull_request(pr.full_name, pr.number)).head_sha
            if latest != pr.head_sha:
                # A newer push's job comments and closes threads; this one only completes
                # its runs, so an older head never marks the newer one's findings fixed.
                logger.info("head %s superseded by %s", pr.head_sha, latest, extra=_context(pr))
                await self._complete_runs(pr, check_ids, floors, active, silenced, notes, decisions)
                return PublishReport(outdated=True)
            comments = await self.github.review_comments(pr.full_name, pr.number)
            marked = _marked(comments)

            plan = self._plan(pr, active, known, marked, commentable)
            posted = await self._post(pr, plan, len(active))
            seen = [Seen(f, "open", posted.get(f.fingerprint) or _id(marked, f)) for f in active]
            seen += [Seen(f, "dismissed", _id(marked, f)) for f, _ in silenced]
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

    def _plan(
        self,
        pr: PullRequestRef,
        active: Sequence[Finding],
        known: Mapping[str, Entry],
        marked: Mapping[str, ReviewComment],
        commentable: Mapping[str, Sequence[tuple[int, int]]],
    ) -> _Plan:
        """Which findings to comment now; the cap counts comments already made on this head
        (``original_commit_id``: GitHub moves ``commit_id`` of every comment to each new head)."""
        on_head = sum(1 for c in marked.values() if c.original_commit_id == pr.head_sha)
        slots = max(self.max_comments - on_head, 0)
        plan = _Plan()
        for f in sorted(active, key=finding_key):
            entry = known.get(f.fingerprint)
            if f.fingerprint in marked or (entry is not None and entry.comment_id is not None):
                plan.kept.append(f)
                continue
            draft = _anchor(f, commentable.get(f.path, ()))
            if draft is None:
                plan.outside.append(f)
            elif len(plan.new) < slots:
                fix = fix_markdown(f.fix, f.path, draft.start_line or draft.line, draft.line)
                body = self._comment(pr, f, fix)
                if _size(body) > MAX_OUTPUT:  # a cut suggestion would commit half a fix
                    body = self._comment(pr, f)
                body = _fit(body, MAX_OUTPUT)
                plan.new.append((f, dataclasses.replace(draft, body=body)))
            else:
                plan.over.append(f)
        return plan

    async def _post(self, pr: PullRequestRef, plan: _Plan, total: int) -> dict[str, int]:
        """Publish the review; the new comments' ids by fingerprint.

        GitHub refuses a whole review (422) for one comment it cannot place (a line its diff
        does not show, a push racing the job). The comments are then sent again in halves, so
        one refused comment never costs the others; each one refused alone stays in the check
        runs. That is at most 2n - 1 requests for n comments, and as few reviews as it takes.
        """
        if not plan.new:
            return {}
        posted: dict[str, int] = {}
        await self._post_part(pr, list(plan.new), self._review_body(pr, plan, total), posted)
        return posted

    async def _post_part(
        self,
        pr: PullRequestRef,
        part: list[tuple[Finding, CommentDraft]],
        first_body: str,
        posted: dict[str, int],
    ) -> None:
        # the summary goes with the first review published; any later one only points to it
        body = first_body if not posted else _MORE.format(sha=pr.head_sha[:7])
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
        gone = {fp for fp, e in known.items() if e.state == "open" and fp not in current}
        gone -= not_run
        # commented but never recorded: a job killed between posting and recording
        gone |= {fp for fp in marked if fp not in current and fp not in known}
        if not gone:
            return 0, 0
        replied = {
            (m[1], m[2], c.in_reply_to_id)
            for c in comments
            if c.in_reply_to_id is not None and (m := _FIXED.search(c.body))
        }
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
                    f"Fixed in {pr.head_sha}: Cairn no longer finds this.\n\n"
                    f"<!-- cairn:fixed {fp} {pr.head_sha} -->",
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
                self._decisions_section(pr, decisions) if check == "decisions" else "",
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
        if not ordered:
            conclusion: CheckConclusion = "success"
        elif floor is not None and any(f.severity.rank >= floor.rank for f in ordered):
            conclusion = "failure"
        else:
            conclusion = "neutral"
        await self.github.update_check_run(
            pr.full_name,
            run_id,
            status="completed",
            conclusion=conclusion,
            title=_title(check, ordered),
            summary=self._summary(pr, check, floor, ordered, silenced, notes, extra),
            annotations=[self._annotation(pr, f) for f in ordered],
        )
        self._completed.add(run_id)

    # --- rendering -------------------------------------------------------------------------

    def permalink(self, pr: PullRequestRef, sha: str, path: str, start: int, end: int) -> str:
        """``https://github.com/o/r/blob/<sha>/<path>#L12-L30``, on this GitHub's web host."""
        url = f"{self.web_url}/{pr.full_name}/blob/{sha}/{quote(path, safe='/')}"
        if start < 1:
            return url
        return url + (f"#L{start}" if end <= start else f"#L{start}-L{end}")

    def _evidence(self, pr: PullRequestRef, f: Finding, e: Evidence) -> str:
        return f"[{md.text(evidence_label(e))}]({self._evidence_link(pr, f, e)})"

    def _evidence_link(self, pr: PullRequestRef, f: Finding, e: Evidence) -> str:
        if e.kind in ("commit", "pull-request"):
            # decision history: the name starts with the commit's sha or the pull's "#n"
            ref = e.name.split(" ", 1)[0]
            if e.kind == "pull-request":
                return f"{self.web_url}/{pr.full_name}/pull/{ref.lstrip('#')}"
            return f"{self.web_url}/{pr.full_name}/commit/{ref}"
        # the evidence of a clone inside the change lives at the head, all other at the base
        sha = pr.head_sha if f.rule == "clone-in-change" else pr.base_sha
        return self.permalink(pr, sha, e.path, e.start_line, e.end_line)

    def _decisions_section(self, pr: PullRequestRef, notes: DecisionNotes) -> str:
        """Related decisions and the log's problems: information, never a finding."""
        text = ""
        if notes.relevant:
            text += "\n### Decisions relevant to this change\n\n"
            for r in notes.relevant:
                link = self.permalink(pr, pr.base_sha, r.path, 0, 0)
                when = f", {r.date}" if r.date else ""
                text += f"- [{md.text(f'{r.label} {r.title}')}]({link}) ({r.status}{when})\n"
        if notes.problems:
            shown = notes.problems[:MAX_LOG_PROBLEMS]
            text += "\n### Decision log problems\n\n"
            text += "".join(f"- {md.text(p)}\n" for p in shown)
            if len(notes.problems) > len(shown):
                text += f"- … and {len(notes.problems) - len(shown)} more\n"
        return text

    def _comment(self, pr: PullRequestRef, f: Finding, fix: str = "") -> str:
        lines = [
            f"**Cairn · {_TITLES.get(f.check, f.check)}** · {md.code(rule_id(f.check, f.rule))} · "
            f"{f.severity.value}",
            "",
            md.text(f.message),
        ]
        if f.evidence:
            lines += ["", *(f"- {self._evidence(pr, f, e)}" for e in f.evidence)]
        if fix:
            lines += ["", fix]
        lines += ["", f"<!-- cairn:finding {f.fingerprint} -->"]
        return "\n".join(lines)

    def _review_body(self, pr: PullRequestRef, plan: _Plan, total: int) -> str:
        head = (
            f"Cairn found {plural(len(plan.new), 'new finding')} on {pr.head_sha[:7]}; "
            f"{plural(total, 'finding')} in all are in the `cairn/*` check runs.\n"
        )
        blocks = []
        if plan.over:
            blocks.append(
                f"\n{plural(len(plan.over), 'more finding')} on lines of the diff "
                f"(over the limit of {self.max_comments} comments a push):\n\n"
            )
            blocks += [f"- {self._line(pr, f)}\n" for f in plan.over]
        return _fit_blocks(head, blocks, "", MAX_OUTPUT, "finding")

    def _line(self, pr: PullRequestRef, f: Finding) -> str:
        where = self.permalink(pr, pr.head_sha, f.path, f.start_line, f.end_line)
        label = md.text(f"{f.path}:{span(f.start_line, f.end_line)}")
        return (
            f"[{label}]({where}) **{f.severity.value}** {md.code(rule_id(f.check, f.rule))}: "
            f"{md.text(f.message)}"
        )

    def _summary(
        self,
        pr: PullRequestRef,
        check: str,
        floor: Severity | None,
        findings: Sequence[Finding],
        silenced: Sequence[tuple[Finding, Suppression]],
        notes: Sequence[str],
        extra: str = "",
    ) -> str:
        fails = f"fails on {floor.value} and above" if floor else "never fails"
        head = f"{_title(check, findings)} on {pr.head_sha[:7]} (this check {fails}).\n"
        blocks: list[str] = []
        path = None
        for f in findings:
            block = ""
            if f.path != path:
                path = f.path
                block += f"\n### {md.code(path)}\n\n"
            block += f"- {self._line(pr, f)}\n"
            block += "".join(f"  - {self._evidence(pr, f, e)}\n" for e in f.evidence)
            blocks.append(block)
        tail = extra
        if notes:
            tail += "\n### Skipped\n\n" + "".join(f"- {md.text(n)}\n" for n in notes)
        if silenced:
            tail += f"\n### Active suppressions ({len(silenced)})\n\n"
            tail += "".join(
                f"- {md.code(rule_id(f.check, f.rule))} at "
                f"{md.code(f'{f.path}:{span(f.start_line, f.end_line)}')}: {md.text(s.reason)} "
                f"({md.text(s.author)}, {s.created_at:%Y-%m-%d})\n"
                for f, s in sorted(silenced, key=lambda p: finding_key(p[0]))
            )
        return _fit_blocks(head, blocks, tail, MAX_OUTPUT, "finding")

    def _annotation(self, pr: PullRequestRef, f: Finding) -> Annotation:
        message = f.message
        for e in f.evidence:
            message += f"\n{evidence_label(e)}: {self._evidence_link(pr, f, e)}"
        start = max(f.start_line, 1)
        return Annotation(
            path=f.path,
            start_line=start,
            end_line=max(f.end_line, start),
            level=_LEVELS[f.severity],
            message=message[:_ANNOTATION_MESSAGE],
            title=f"{rule_id(f.check, f.rule)} ({f.severity.value})"[:_ANNOTATION_TITLE],
        )


@dataclass(slots=True)
class _Plan:
    kept: list[Finding] = dataclasses.field(default_factory=list)
    new: list[tuple[Finding, CommentDraft]] = dataclasses.field(default_factory=list)
    outside: list[Finding] = dataclasses.field(default_factory=list)
    over: list[Finding] = dataclasses.field(default_factory=list)


def _run_name(check: str) -> str:
    return f"cairn/{check}"


async def _existing(run_id: int) -> int:
    return run_id


def _context(pr: PullRequestRef) -> dict[str, Any]:
    return {"repo": pr.full_name, "pr": pr.number, "sha": pr.head_sha}


def _floor(check: str, policy: Mapping[str, str]) -> Severity | None:
    value = policy.get(check, DEFAULT_FAIL_ON.get(check, "error"))
    if value == "never":
        return None
    try:
        return Severity(value)
    except ValueError:
        raise ValueError(f"fail_on[{check!r}] is {value!r}, not a severity or 'never'") from None


def _by_fingerprint(findings: Iterable[Finding]) -> dict[str, Finding]:
    """One finding per fingerprint (the most severe); one is derived when a check gave none."""
    out: dict[str, Finding] = {}
    for f in findings:
        if not f.fingerprint:
            f = dataclasses.replace(f, fingerprint=fingerprint(f.check, f.rule, f.path, f.message))
        seen = out.get(f.fingerprint)
        if seen is None or f.severity.rank > seen.severity.rank:
            out[f.fingerprint] = f
    return out


def _marked(comments: Iterable[ReviewComment]) -> dict[str, ReviewComment]:
    """Cairn's comments by the fingerprint in their marker (a thread's first comment only)."""
    out: dict[str, ReviewComment] = {}
    for c in comments:
        if c.in_reply_to_id is None and (m := FINDING_MARKER.search(c.body)):
            out.setdefault(m[1], c)
    return out


def _id(marked: Mapping[str, ReviewComment], f: Finding) -> int | None:
    c = marked.get(f.fingerprint)
    return c.id if c is not None else None


def _anchor(f: Finding, hunks: Sequence[tuple[int, int]]) -> CommentDraft | None:
    """A comment on the overlap of the finding with the first hunk it touches, or None."""
    for lo, hi in sorted(hunks):
        start, end = max(lo, f.start_line), min(hi, f.end_line)
        if start <= end:
            return CommentDraft(
                path=f.path, line=end, body="", start_line=start if start < end else None
            )
    return None


def _title(check: str, findings: Sequence[Finding]) -> str:
    if not findings:
        return f"No {_TITLES.get(check, check).lower()} findings"
    counts = {s: sum(1 for f in findings if f.severity is s) for s in reversed(Severity)}
    parts = ", ".join(f"{n} {s.value}" for s, n in counts.items() if n)
    return f"{plural(len(findings), 'finding')}: {parts}"


def _size(text: str) -> int:
    # GitHub's limits are in characters; counting UTF-8 bytes keeps within any reading of them
    return len(text.encode("utf-8"))


def _fit_blocks(head: str, blocks: Sequence[str], tail: str, limit: int, word: str) -> str:
    """``head``, as many whole ``blocks`` as fit, ``tail``, a note on the rest: ≤ ``limit``."""
    room = limit - _size(head) - _size(tail) - 200  # the note's room
    shown: list[str] = []
    used = 0
    for block in blocks:
        used += _size(block)
        if used > room:
            break
        shown.append(block)
    text = head + "".join(shown) + tail
    left = len(blocks) - len(shown)
    if left:
        text += (
            f"\n_… and {plural(left, word)} more, not shown: GitHub allows "
            f"{limit:,} characters here. Every finding is annotated on its lines._\n"
        )
    return _fit(text, limit)


def _fit(text: str, limit: int) -> str:
    """``text``, or as many of its lines as fit in ``limit`` with a note that it was cut."""
    if _size(text) <= limit:
        return text
    note = f"\n\n_… truncated: GitHub allows {limit:,} characters here._\n"
    cut = text.encode("utf-8")[: limit - _size(note)].decode("utf-8", errors="ignore")
    if "\n" in cut:
        cut = cut[: cut.rindex("\n")]
    return cut + note
