"""The one Markdown renderer: every text Cairn posts on GitHub about a review.

Inline comments, review bodies, "Fixed in" replies, check-run summaries and annotations, and
the Action's job summary are written here, from Cairn's own words plus text from the
repository that goes through ``app.markdown``'s escaping. Links point at this GitHub's web
host: the evidence of a finding at the base sha (a clone inside the change at the head), a
decision's commit or pull request, a decision record at the base.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping, Sequence
from typing import Literal
from urllib.parse import quote

from app import markdown as md
from app.github import Annotation, CommentDraft
from app.publish.model import CHECKS, GITHUB_WEB, MAX_OUTPUT, Plan, PublishReport, PullRequestRef
from app.report.labels import evidence_label, finding_key, plural, rule_id, span
from app.store.ledger import Suppression
from checks.decisions import DecisionNotes
from checks.finding import Evidence, Finding, Severity
from checks.fix import Edit, Fix

MAX_LOG_PROBLEMS = 50  # listed in the decisions run's summary; the rest are counted
#: Findings listed in the Action's job summary; GitHub takes up to 1 MiB of it, readers far less.
SUMMARY_FINDINGS = 200
_TITLES = {"duplication": "Duplication", "patterns": "Patterns", "decisions": "Decisions"}
_LEVELS: Mapping[Severity, Literal["notice", "warning", "failure"]] = {
    Severity.NOTICE: "notice",
    Severity.WARNING: "warning",
    Severity.ERROR: "failure",
}
_ANNOTATION_MESSAGE = 4000  # characters; GitHub allows 64 KB, nobody reads that much
_ANNOTATION_TITLE = 255
# The body of a review after the first, when GitHub refused one review of them all.
_MORE = "More of Cairn's findings on {sha}; all of them are in the `cairn/*` check runs."


class Renderer:
    """Writes the Markdown of one GitHub's reviews, with links to its web host."""

    def __init__(self, web_url: str = GITHUB_WEB) -> None:
        self.web_url = web_url.rstrip("/")

    # --- links -----------------------------------------------------------------------------

    def permalink(self, pr: PullRequestRef, sha: str, path: str, start: int, end: int) -> str:
        """``https://github.com/o/r/blob/<sha>/<path>#L12-L30``, on this GitHub's web host."""
        url = f"{self.web_url}/{pr.full_name}/blob/{sha}/{quote(path, safe='/')}"
        if start < 1:
            return url
        return url + (f"#L{start}" if end <= start else f"#L{start}-L{end}")

    def evidence_link(self, pr: PullRequestRef, f: Finding, e: Evidence) -> str:
        """Where the evidence lives: a permalink, or a decision's commit or pull request."""
        if e.kind in ("commit", "pull-request"):
            # decision history: the name starts with the commit's sha or the pull's "#n"
            ref = e.name.split(" ", 1)[0]
            if e.kind == "pull-request":
                return f"{self.web_url}/{pr.full_name}/pull/{ref.lstrip('#')}"
            return f"{self.web_url}/{pr.full_name}/commit/{ref}"
        # the evidence of a clone inside the change lives at the head, all other at the base
        sha = pr.head_sha if f.rule == "clone-in-change" else pr.base_sha
        return self.permalink(pr, sha, e.path, e.start_line, e.end_line)

    def evidence(self, pr: PullRequestRef, f: Finding, e: Evidence) -> str:
        """The evidence as a Markdown link."""
        return f"[{md.text(evidence_label(e))}]({self.evidence_link(pr, f, e)})"

    def line(self, pr: PullRequestRef, f: Finding) -> str:
        """One finding on one line: where (a permalink at the head), severity, rule, message."""
        where = self.permalink(pr, pr.head_sha, f.path, f.start_line, f.end_line)
        label = md.text(f"{f.path}:{span(f.start_line, f.end_line)}")
        return (
            f"[{label}]({where}) **{f.severity.value}** {md.code(rule_id(f.check, f.rule))}: "
            f"{md.text(f.message)}"
        )

    # --- comments and reviews --------------------------------------------------------------

    def comment(self, pr: PullRequestRef, f: Finding, draft: CommentDraft | None = None) -> str:
        """An inline comment on the finding's lines, with its hidden marker, and its fix when
        it has one (``draft``: the lines the comment covers)."""
        lines = [
            f"**Cairn · {_TITLES.get(f.check, f.check)}** · {md.code(rule_id(f.check, f.rule))} · "
            f"{f.severity.value}",
            "",
            md.text(f.message),
        ]
        if f.evidence:
            lines += ["", *(f"- {self.evidence(pr, f, e)}" for e in f.evidence)]
        marker = ["", f"<!-- cairn:finding {f.fingerprint} -->"]
        if f.fix is not None and draft is not None:
            start = draft.start_line or draft.line
            with_fix = "\n".join(
                [*lines, "", fix_markdown(f.fix, f.path, start, draft.line), *marker]
            )
            if _size(with_fix) <= MAX_OUTPUT:  # a cut suggestion would commit half a fix
                return with_fix
        return fit("\n".join([*lines, *marker]), MAX_OUTPUT)

    def review_body(self, pr: PullRequestRef, plan: Plan, total: int, max_comments: int) -> str:
        """The body of a push's review: how many findings, and those over the comment cap."""
        head = (
            f"Cairn found {plural(len(plan.new), 'new finding')} on {pr.head_sha[:7]}; "
            f"{plural(total, 'finding')} in all are in the `cairn/*` check runs.\n"
        )
        blocks = []
        if plan.over:
            blocks.append(
                f"\n{plural(len(plan.over), 'more finding')} on lines of the diff "
                f"(over the limit of {max_comments} comments a push):\n\n"
            )
            blocks += [f"- {self.line(pr, f)}\n" for f in plan.over]
        return fit_blocks(head, blocks, "", MAX_OUTPUT, "finding")

    def more_body(self, pr: PullRequestRef) -> str:
        """The body of a review after the first, when GitHub refused one review of them all."""
        return _MORE.format(sha=pr.head_sha[:7])

    def fixed_reply(self, pr: PullRequestRef, fingerprint: str) -> str:
        """The reply to a finding's thread once the head no longer has it (marked: sent once)."""
        return (
            f"Fixed in {pr.head_sha}: Cairn no longer finds this.\n\n"
            f"<!-- cairn:fixed {fingerprint} {pr.head_sha} -->"
        )

    # --- check runs ------------------------------------------------------------------------

    def summary(
        self,
        pr: PullRequestRef,
        check: str,
        floor: Severity | None,
        findings: Sequence[Finding],
        silenced: Sequence[tuple[Finding, Suppression]],
        notes: Sequence[str],
        extra: str = "",
    ) -> str:
        """A check run's summary: its findings by file, ``extra``, what was skipped and the
        active suppressions, within GitHub's limit."""
        fails = f"fails on {floor.value} and above" if floor else "never fails"
        head = f"{title(check, findings)} on {pr.head_sha[:7]} (this check {fails}).\n"
        blocks: list[str] = []
        path = None
        for f in findings:
            block = ""
            if f.path != path:
                path = f.path
                block += f"\n### {md.code(path)}\n\n"
            block += f"- {self.line(pr, f)}\n"
            block += "".join(f"  - {self.evidence(pr, f, e)}\n" for e in f.evidence)
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
        return fit_blocks(head, blocks, tail, MAX_OUTPUT, "finding")

    def decisions_section(self, pr: PullRequestRef, notes: DecisionNotes) -> str:
        """Related decisions and the log's problems: information, never a finding."""
        text = ""
        if notes.relevant:
            text += "\n### Decisions relevant to this change\n\n"
            for r in notes.relevant:
                link = self.permalink(pr, pr.base_sha, r.path, 0, 0)
                when = f", {r.date}" if r.date else ""
                text += (
                    f"- [{md.text(f'{r.label} {r.title}')}]({link}) ({md.text(r.status + when)})\n"
                )
        if notes.problems:
            shown = notes.problems[:MAX_LOG_PROBLEMS]
            text += "\n### Decision log problems\n\n"
            text += "".join(f"- {md.text(p)}\n" for p in shown)
            if len(notes.problems) > len(shown):
                text += f"- … and {len(notes.problems) - len(shown)} more\n"
        return text

    def annotation(self, pr: PullRequestRef, f: Finding) -> Annotation:
        """The finding as a check-run annotation (plain text, not Markdown)."""
        message = f.message
        for e in f.evidence:
            message += f"\n{evidence_label(e)}: {self.evidence_link(pr, f, e)}"
        start = max(f.start_line, 1)
        return Annotation(
            path=f.path,
            start_line=start,
            end_line=max(f.end_line, start),
            level=_LEVELS[f.severity],
            message=message[:_ANNOTATION_MESSAGE],
            title=f"{rule_id(f.check, f.rule)} ({f.severity.value})"[:_ANNOTATION_TITLE],
        )

    def failed_summary(self, pr: PullRequestRef, message: str) -> str:
        """The summary of runs a broken job completes as failed."""
        return fit(
            f"Cairn could not finish reviewing {pr.head_sha[:7]}:\n\n"
            f"> {md.text(message)}\n\n"
            "Push again, or re-run this check, to try once more.",
            MAX_OUTPUT,
        )

    def config_summary(self, problems: Sequence[str]) -> str:
        """The summary of runs not run because ``.cairn.yml`` has problems."""
        return fit(
            "Cairn did not review this push: its configuration, `.cairn.yml`, has "
            f"{plural(len(problems), 'problem')}. Fix them and push again.\n\n"
            + "".join(f"- {md.text(p)}\n" for p in problems),
            MAX_OUTPUT,
        )

    def skipped_summary(self, pr: PullRequestRef, reason: str) -> str:
        """The summary of runs for a push that could not be reviewed, and why."""
        return fit(f"Cairn did not review {pr.head_sha[:7]}: {md.text(reason)}\n", MAX_OUTPUT)

    # --- the Action's job summary ----------------------------------------------------------

    def job_summary(
        self,
        pr: PullRequestRef,
        findings: Sequence[Finding],
        conclusion: str,
        why_not: str | None,
        report: PublishReport | None,
        decisions: DecisionNotes,
    ) -> str:
        """The Action's job summary of a review: counts, how it was published, the findings
        (at most ``SUMMARY_FINDINGS``) and the decisions section of the check runs."""
        lines = [
            f"## Cairn: {conclusion}",
            "",
            f"Reviewed #{pr.number} at `{pr.head_sha[:10]}` against `{pr.base_sha[:10]}`: "
            f"{plural(len(findings), 'finding')}.",
            "",
            "| check | findings |",
            "| --- | --- |",
            *(f"| {c} | {sum(1 for f in findings if f.check == c)} |" for c in CHECKS),
            "",
        ]
        if why_not is not None:
            lines += [f"Published as annotations on this job only: {md.text(why_not)}.", ""]
        elif report is not None:
            lines += [
                f"Published to the `cairn/*` check runs: {report.posted} new inline comments, "
                f"{report.kept} already commented, {report.fixed} fixed.",
                "",
            ]
        ordered = sorted(findings, key=finding_key)
        for f in ordered[:SUMMARY_FINDINGS]:
            lines.append(f"- {self.line(pr, f)}")
            lines += [f"  - {self.evidence(pr, f, e)}" for e in f.evidence]
        if len(ordered) > SUMMARY_FINDINGS:
            lines.append(
                f"- … and {len(ordered) - SUMMARY_FINDINGS} more in the check runs or SARIF"
            )
        return "\n".join(lines) + "\n" + self.decisions_section(pr, decisions)


def title(check: str, findings: Sequence[Finding]) -> str:
    """A check run's title: how many findings of which severities."""
    if not findings:
        return f"No {_TITLES.get(check, check).lower()} findings"
    counts = {s: sum(1 for f in findings if f.severity is s) for s in reversed(Severity)}
    parts = ", ".join(f"{n} {s.value}" for s, n in counts.items() if n)
    return f"{plural(len(findings), 'finding')}: {parts}"


def _size(text: str) -> int:
    # GitHub's limits are in characters; counting UTF-8 bytes keeps within any reading of them
    return len(text.encode("utf-8"))


def fit_blocks(head: str, blocks: Sequence[str], tail: str, limit: int, word: str) -> str:
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
    return fit(text, limit)


def fit(text: str, limit: int) -> str:
    """``text``, or as many of its lines as fit in ``limit`` with a note that it was cut."""
    if _size(text) <= limit:
        return text
    note = f"\n\n_… truncated: GitHub allows {limit:,} characters here._\n"
    cut = text.encode("utf-8")[: limit - _size(note)].decode("utf-8", errors="ignore")
    if "\n" in cut:
        cut = cut[: cut.rindex("\n")]
    return cut + note


# --- fixes ---------------------------------------------------------------------------------
#
# GitHub's ``suggestion`` block replaces exactly the lines a review comment covers (its
# ``start_line`` to ``line``). A fix becomes one when it is a single edit of the commented file
# spanning exactly those lines; any other fix (another file, other lines, several edits) is
# shown as the lines each edit writes, in a collapsed ``<details>`` block that applies nothing
# by itself. Code goes in fences longer than any backtick run it holds; a fix whose code
# carries ``<!--`` (which could fake Cairn's hidden markers) is shown with it broken up, and
# never as a suggestion, which would commit the change.

_FENCE_RUN = re.compile(r"`{3,}")
_LANGS = {".py": "python", ".ts": "typescript", ".tsx": "tsx", ".js": "javascript", ".go": "go"}


def fix_markdown(fix: Fix | None, path: str, start: int, end: int) -> str:
    """The fix of a comment on ``path`` lines ``start..end`` ("" without a fix)."""
    if fix is None:
        return ""
    edit = fix.edits[0]
    if (
        len(fix.edits) == 1
        and (edit.path, edit.start_line, edit.end_line) == (path, start, end)
        and "<!--" not in edit.replacement
    ):
        return "\n".join(
            [
                f"**Suggested fix:** {md.text(fix.description)}",
                "",
                *_block(edit.replacement, "suggestion"),
            ]
        )
    lines = [
        f"<details><summary>Fix: {md.text(fix.description)}</summary>",
        "",
    ]
    for e in fix.edits:
        lines += [f"{md.code(e.path)} lines {e.start_line}–{e.end_line} become:", ""]
        lines += _block(e.replacement.replace("<!--", "<\u200b!--"), _language(e))
        lines.append("")
    lines.append("</details>")
    return "\n".join(lines)


def _language(edit: Edit) -> str:
    return _LANGS.get(posixpath.splitext(edit.path)[1], "")


def _block(text: str, info: str) -> list[str]:
    longest = max((len(r) for r in _FENCE_RUN.findall(text)), default=2)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}{info}", *text.split("\n"), fence]
