"""The "Pattern conventions" section of ``bench/RESULTS.md``, from ``rules``' JSON figures.

Written between the ``rules`` markers; ``run.py`` keeps that block when it rewrites the file.
A finding counts as true or false only through its judgement in ``bench/rules_judgements.yml``;
one without a judgement is unjudged, never true.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
BEGIN, END = "<!-- rules:begin -->", "<!-- rules:end -->"
RULES_LISTED = 25  # per project; the JSON figures hold them all

Json = dict[str, Any]

NOTES = (
    "Mining and judging leave test code out (`checks/conventions.py`: `tests/`, `test_*.py`, "
    "`*.spec.*`, …), so a release's changed tests count as changed lines but cannot be flagged.",
    "Only the patterns check is judged here; the duplication findings of the same reviews are "
    "counted in their own column (the clone benchmark above measures that check).",
    "No Go or Java project: the registries the bench fetches from serve no Go source in two "
    "releases (Debian bookworm has golang-1.19-src in one version, and the security updates "
    "of its Go libraries are patches, not releases), and Debian's Java packages ship jars.",
)


def _table(head: list[str], rows: Iterable[list[str]]) -> list[str]:
    out = ["| " + " | ".join(head) + " |", "|" + "|".join(" --- " for _ in head) + "|"]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return out


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _s(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} s"


def _per_kloc(count: int, lines: int) -> str:
    return "—" if lines == 0 else f"{1000 * count / lines:.2f}"


def _precision(true: int, false: int) -> str:
    return "—" if true + false == 0 else f"{true / (true + false):.2f} ({true}/{true + false})"


def tally(project: Json, judgements: Json, check: str) -> tuple[int, int, int]:
    """(true, false, unjudged) among the project's findings of ``check``."""
    known = judgements.get(project["name"], {})
    true = false = unjudged = 0
    for finding in project.get("findings") or []:
        if finding.get("check") != check:
            continue
        judged = known.get(finding.get("fingerprint"))
        if judged is None:
            unjudged += 1
        elif judged["verdict"] is True:
            true += 1
        else:
            false += 1
    return true, false, unjudged


def _kinds(rules: list[Json]) -> str:
    counts = Counter(str(r.get("kind", "?")) for r in rules)
    return ", ".join(f"{kind} {n}" for kind, n in sorted(counts.items())) or "none"


def _example(rule: Json) -> str:
    examples = (rule.get("evidence") or {}).get("examples") or []
    if not examples:
        return ""
    first = examples[0]
    return f"`{first.get('path')}:{first.get('line')}`"


def _rules_table(project: Json) -> list[str]:
    rules: list[Json] = project["rules"]
    if not rules:
        return ["No rule reached its threshold."]
    ordered = sorted(
        rules, key=lambda r: (str(r.get("kind")), -int((r.get("evidence") or {}).get("count", 0)))
    )
    rows = [
        [
            _cell(r.get("kind", "")),
            f"`{_cell(r.get('id', ''))}`",
            _cell(r.get("description", "")),
            str((r.get("evidence") or {}).get("count", "")),
            _example(r),
        ]
        for r in ordered[:RULES_LISTED]
    ]
    out = _table(["kind", "id", "rule", "evidence", "e.g."], rows)
    if len(rules) > RULES_LISTED:
        out.append("")
        out.append(
            f"{len(rules) - RULES_LISTED} more (of each kind, those with the least evidence) "
            "are in `bench/.work/rules.json`."
        )
    return out


def _findings_table(project: Json, judgements: Json, check: str) -> list[str]:
    known = judgements.get(project["name"], {})
    rows = []
    for finding in project.get("findings") or []:
        if finding.get("check") != check:
            continue
        judged = known.get(finding.get("fingerprint"))
        verdict = "unjudged" if judged is None else ("true" if judged["verdict"] else "false")
        reason = "" if judged is None else _cell(judged.get("reason", ""))
        rows.append(
            [
                _cell(finding.get("rule", "")),
                f"`{_cell(finding.get('path'))}:{finding.get('start_line')}`",
                _cell(finding.get("message", "")),
                f"**{verdict}**",
                reason,
            ]
        )
    if not rows:
        return ["No pattern finding on the replay."]
    return _table(["rule", "where", "finding", "judged", "why"], rows)


def _run(figures: Json, project: Json) -> str:
    """The command that measured a project, when, and on which Cairn."""
    command = project["command"].replace("python ", f"{figures['python']} ", 1)
    return f"`{command}` ({project['when']}; Cairn {project['cairn']})"


def _total_row(figures: Json, judgements: Json, check: str) -> list[str]:
    """Every project that was reviewed, added up."""
    reviewed = [p for p in figures["projects"] if p.get("findings") is not None]
    true = false = unjudged = lines = 0
    for p in reviewed:
        t, f, u = tally(p, judgements, check)
        true, false, unjudged = true + t, false + f, unjudged + u
        lines += p["changed_source"]["added"]
    total = true + false + unjudged
    return [
        "**all**",
        "",
        "",
        f"+{lines:,}",
        str(sum(len(p.get("rules") or []) for p in figures["projects"])),
        str(total),
        _per_kloc(total, lines),
        f"{true} / {false} / {unjudged}",
        _precision(true, false),
        "",
        "",
    ]


def summary(figures: Json, judgements: Json, check: str) -> str:
    """A few lines for the terminal."""
    lines = []
    for p in figures["projects"]:
        true, false, unjudged = tally(p, judgements, check)
        rules = "—" if p.get("rules") is None else str(len(p["rules"]))
        lines.append(
            f"{p['name']}: {rules} rules, {true + false + unjudged} {check} findings on "
            f"{p['changed_source']['added']:,} changed lines; true {true}, false {false}, "
            f"unjudged {unjudged}"
            + (f"; rules: {p['rules_error'][:200]}" if p.get("rules_error") else "")
            + (f"; review: {p['review_error'][:200]}" if p.get("review_error") else "")
        )
    return "\n".join(lines)


def section(figures: Json, judgements: Json, check: str) -> str:
    """The markdown block, markers included."""
    runs = {_run(figures, p) for p in figures["projects"]}
    one_run = len(runs) == 1
    produced = runs.pop() if one_run else "the command under each project's heading"
    lines = [
        BEGIN,
        "## Pattern conventions",
        "",
        f"Produced by {produced}. For each project, two "
        "consecutive releases fetched from their registry (pinned, sha256-checked) and committed "
        "as two commits: `cairn rules` mines the conventions at the older release, and "
        "`cairn review --base <older> --head <newer>` replays the release's diff. Changed lines "
        "are the lines added or modified in the source files Cairn reviews (the first column "
        f"of `git diff --numstat`). Every `{check}` finding was judged true or false by reading "
        "the code, with its reason, in `bench/rules_judgements.yml`; a finding without a "
        "judgement is *unjudged* and never counted as true. Precision = true / (true + false).",
        "",
    ]
    rows = []
    for p in figures["projects"]:
        true, false, unjudged = tally(p, judgements, check)
        total = true + false + unjudged
        changed = p["changed_source"]
        other = Counter(
            str(f.get("check")) for f in p.get("findings") or [] if f.get("check") != check
        )
        rules = "—" if p.get("rules") is None else f"{len(p['rules'])} ({_kinds(p['rules'])})"
        rows.append(
            [
                p["name"],
                p["language"],
                f"{p['old']} → {p['new']}",
                f"{changed['files']:,} files, +{changed['added']:,} / −{changed['deleted']:,}",
                rules,
                "—" if p.get("findings") is None else str(total),
                "—" if p.get("findings") is None else _per_kloc(total, changed["added"]),
                f"{true} / {false} / {unjudged}",
                _precision(true, false),
                ", ".join(f"{k} {n}" for k, n in sorted(other.items())) or "0",
                f"{_s(p.get('rules_s'))} / {_s(p.get('review_s'))}",
            ]
        )
    rows.append(_total_row(figures, judgements, check))
    lines += _table(
        [
            "project",
            "language",
            "releases",
            "changed (source)",
            "rules mined at the older release",
            f"{check} findings",
            "per 1,000 changed lines",
            "true / false / unjudged",
            "precision",
            "other checks' findings (not judged)",
            "rules / review time",
        ],
        rows,
    )
    lines += ["", *(f"- {note}" for note in NOTES)]
    for p in figures["projects"]:
        lines += ["", f"### {p['name']} {p['old']} → {p['new']} ({p['source']})", ""]
        if not one_run:
            lines += [f"Measured by {_run(figures, p)}.", ""]
        if p.get("rules_error"):
            lines.append(f"`cairn rules` failed: {_cell(p['rules_error'])}")
        elif p.get("rules") is not None:
            lines.append(f"Rules mined at {p['old']}:")
            lines.append("")
            lines += _rules_table(p)
        lines.append("")
        if p.get("review_error"):
            lines.append(f"`cairn review` failed: {_cell(p['review_error'])}")
        else:
            lines.append(f"Findings on the replay of {p['old']} → {p['new']}:")
            lines.append("")
            lines += _findings_table(p, judgements, check)
            reported = {f.get("fingerprint") for f in p.get("findings") or []}
            stale = [k for k in judgements.get(p["name"], {}) if k not in reported]
            if stale:
                lines.append("")
                lines.append(
                    f"{len(stale)} judgement(s) in `bench/rules_judgements.yml` match no finding "
                    "of this run (a finding an earlier run reported; kept as its record)."
                )
    lines += ["", END]
    return "\n".join(lines) + "\n"


def write_section(text: str) -> None:
    """Replace the rules block of RESULTS.md (or append it), leaving the rest as it is."""
    old = RESULTS.read_text() if RESULTS.exists() else ""
    begin, end = old.find(BEGIN), old.find(END)
    if begin != -1 and end != -1:
        new = old[:begin] + text.rstrip("\n") + old[end + len(END) :]
    else:
        new = (old.rstrip("\n") + "\n\n" if old else "") + text
    RESULTS.write_text(new if new.endswith("\n") else new + "\n")
    print(f"wrote the rules section of bench/{RESULTS.name}")
