"""``cairn scan``'s report: clone families selected, then as text, JSON, SARIF or one HTML page.

What is shown is chosen once (``Selection``) and every format shows the same: the sections
asked for (production code by default; ``--all`` adds tests, migrations, fixtures and
generated code), families of at least ``min_lines`` duplicated lines, only those a change
created (``--new-only``: a member compared for the first time; ``--baseline``: not in an
earlier report), the ``top`` most valuable first. Totals always count every family.

JSON (version 2)::

    {
      "version": 2,
      "families": [                        # ranked: sections in order, most valuable first
        {
          "id": "9f3c…",                   # stable while members keep their paths and names
          "section": "production",         # production | tests | migrations | fixtures | generated
          "spread": "cross-component",     # cross-component | same-component | same-file
          "kinds": ["renamed", "near-miss"],
          "similarity": 0.84,              # the lowest verified link (1.0: all one stream)
          "lines": 38,                     # the median member's length
          "value": 304.0,                  # lines × members × spread weight
          "new": false,
          "members": [{"path", "start_line", "end_line", "name", "kind",
                       "stream": 0}],      # same stream: copies up to renaming
          "links": [{"a": 0, "b": 1, "similarity": 0.84}]   # between streams
        }
      ],
      "summary": {
        "families": 1, "shown": 1, "members": 2, "duplicated_lines": 38,
        "by_section": {"production": {"families", "members", "duplicated_lines"}, …},
        "by_kind": {"exact": 0, "renamed": 1, "near-miss": 1},
        "directories": [{"path", "families", "members", "duplicated_lines"}]   # most first
      }
    }

``duplicated_lines`` counts the lines a family's copies add beyond its first member.
"""

from __future__ import annotations

import html
import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.errors import BaselineError
from app.report.labels import plural
from app.report.sarif import SCAN_RULE, fingerprint_key, physical_location, sarif_log
from app.report.text import safe
from checks.clones import KINDS, SECTIONS, CloneFamily, Member

VERSION = 2
TEXT_TOP = 20  # families listed on a terminal unless --top says otherwise
HTML_CODE_LINES = 80  # lines of each side shown in the HTML page's side-by-side view

SourceLines = Callable[[str, int, int], list[str] | None]


@dataclass(frozen=True, slots=True)
class Baseline:
    """The families of an earlier report: member (path, name) → family id."""

    members: dict[tuple[str, str], str]

    @classmethod
    def read(cls, path: Path) -> Baseline:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BaselineError(f"cannot read the baseline {path}: {exc}") from exc
        if not isinstance(document, dict) or document.get("version") != VERSION:
            raise BaselineError(
                f"{path} is not a report of `cairn scan --format json` (version {VERSION})"
            )
        members: dict[tuple[str, str], str] = {}
        try:
            for family in document["families"]:
                for member in family["members"]:
                    members[(str(member["path"]), str(member["name"]))] = str(family["id"])
        except (KeyError, TypeError) as exc:
            raise BaselineError(f"{path}: a family without members ({exc})") from exc
        return cls(members)

    def knows(self, family: CloneFamily) -> bool:
        """Whether one family of the baseline already held every member of this one."""
        ids = {self.members.get((m.unit.path, m.unit.name)) for m in family.members}
        return len(ids) == 1 and None not in ids


@dataclass(frozen=True, slots=True)
class Selection:
    """Which families a report lists."""

    sections: frozenset[str] = frozenset({"production"})
    min_lines: int = 0
    top: int | None = None  # None: every one
    new_only: bool = False
    baseline: Baseline | None = None

    def wants(self, family: CloneFamily) -> bool:
        if family.section not in self.sections or family.lines < self.min_lines:
            return False
        if self.new_only and not family.new:
            return False
        return self.baseline is None or not self.baseline.knows(family)


@dataclass(slots=True)
class ScanReport:
    """The families a report lists, and the totals of all of them."""

    shown: list[CloneFamily]
    selected: int  # families the selection wanted, before ``top``
    families: Sequence[CloneFamily]  # all of them
    selection: Selection
    notes: list[str] = field(default_factory=list)  # what the scan did, for the reader


def select(families: Sequence[CloneFamily], selection: Selection) -> ScanReport:
    wanted = [f for f in families if selection.wants(f)]
    shown = wanted if selection.top is None else wanted[: selection.top]
    return ScanReport(shown=shown, selected=len(wanted), families=families, selection=selection)


def duplicated_lines(family: CloneFamily) -> int:
    """The lines the copies add beyond one member."""
    return sum(m.lines for m in family.members[1:])


def section_totals(families: Iterable[CloneFamily]) -> dict[str, dict[str, int]]:
    totals = {s: {"families": 0, "members": 0, "duplicated_lines": 0} for s in SECTIONS}
    for f in families:
        row = totals[f.section]
        row["families"] += 1
        row["members"] += len(f.members)
        row["duplicated_lines"] += duplicated_lines(f)
    return totals


def directory_totals(families: Iterable[CloneFamily]) -> list[dict[str, Any]]:
    """Per directory: the families with a member there, the members, the lines of copies."""
    fams: dict[str, set[str]] = defaultdict(set)
    members: Counter[str] = Counter()
    lines: Counter[str] = Counter()
    for f in families:
        first = f.members[0]
        for m in f.members:
            directory = m.unit.path.rsplit("/", 1)[0] if "/" in m.unit.path else "."
            fams[directory].add(f.id)
            members[directory] += 1
            if m is not first:
                lines[directory] += m.lines
    rows: list[dict[str, Any]] = [
        {
            "path": d,
            "families": len(fams[d]),
            "members": members[d],
            "duplicated_lines": lines[d],
        }
        for d in fams
    ]
    rows.sort(key=lambda r: (-r["duplicated_lines"], -r["members"], r["path"]))
    return rows


# --------------------------------------------------------------------------------- JSON


def document(report: ScanReport) -> dict[str, Any]:
    """The report as a JSON-ready document (schema in the module docstring)."""
    selected = [f for f in report.families if f.section in report.selection.sections]
    kinds: Counter[str] = Counter(k for f in report.shown for k in f.kinds)
    return {
        "version": VERSION,
        "families": [_family_json(f) for f in report.shown],
        "summary": {
            "families": len(report.families),
            "shown": len(report.shown),
            "members": sum(len(f.members) for f in report.shown),
            "duplicated_lines": sum(duplicated_lines(f) for f in report.shown),
            "by_section": section_totals(report.families),
            "by_kind": {k: kinds[k] for k in KINDS},
            "directories": directory_totals(selected),
        },
    }


def _family_json(f: CloneFamily) -> dict[str, Any]:
    return {
        "id": f.id,
        "section": f.section,
        "spread": f.spread,
        "kinds": list(f.kinds),
        "similarity": f.similarity,
        "lines": f.lines,
        "value": f.value,
        "new": f.new,
        "members": [
            {
                "path": m.unit.path,
                "start_line": m.unit.start_line,
                "end_line": m.unit.end_line,
                "name": m.unit.name,
                "kind": m.unit.kind,
                "stream": m.stream,
            }
            for m in f.members
        ],
        "links": [{"a": k.a, "b": k.b, "similarity": k.similarity} for k in f.links],
    }


# --------------------------------------------------------------------------------- text


def _describe(f: CloneFamily) -> str:
    kinds = ", ".join(f.kinds)
    similar = "" if f.similarity >= 1.0 else f", {f.similarity:.0%}+ similar"
    return (
        f"{len(f.members)} copies of {plural(f.lines, 'line')} ({kinds}{similar}), "
        f"{f.spread.replace('-', ' ')}"
    )


def _member_line(m: Member, f: CloneFamily) -> str:
    where = f"{m.unit.path}:{m.unit.start_line}-{m.unit.end_line}"
    note = ""
    if sum(1 for other in f.members if other.stream == m.stream) > 1 and len(f.links):
        note = f"  [stream {m.stream + 1}]"
    return f"     {safe(where)}  {safe(m.unit.name)}{note}"


def render_text(report: ScanReport) -> str:
    """The report for a terminal; no trailing newline."""
    blocks: list[str] = []
    section = ""
    for number, f in enumerate(report.shown, start=1):
        if f.section != section:
            section = f.section
            blocks.append(f"== {section} ==")
        lines = [f"{number:>3}. {_describe(f)}{'  (new)' if f.new else ''}"]
        lines += [_member_line(m, f) for m in f.members]
        blocks.append("\n".join(lines))
    blocks.append(_text_summary(report))
    return "\n\n".join(blocks)


def _text_summary(report: ScanReport) -> str:
    totals = section_totals(report.families)
    lines: list[str] = []
    if not report.families:
        lines.append("No clones.")
    else:
        parts = [
            f"{name} {row['families']:,} ({row['duplicated_lines']:,} duplicated lines)"
            for name, row in totals.items()
            if row["families"]
        ]
        lines.append(
            f"{plural(len(report.families), 'clone family', 'clone families')}: " + "; ".join(parts)
        )
        hidden = [
            s for s in SECTIONS if totals[s]["families"] and s not in report.selection.sections
        ]
        if hidden:
            lines.append(f"Not listed: {', '.join(hidden)} (--all lists them).")
        if len(report.shown) < report.selected:
            lines.append(
                f"Listed the top {len(report.shown)} of {report.selected} (--top N for more)."
            )
    lines += report.notes
    return "\n".join(lines)


# --------------------------------------------------------------------------------- SARIF


def sarif(report: ScanReport, *, tool_version: str) -> dict[str, Any]:
    """One ``note`` per family: its first member located, the others related."""
    results = []
    for f in report.shown:
        first, others = f.members[0], f.members[1:]
        text = (
            f"{first.unit.name or first.unit.path} has {plural(len(others), 'copy', 'copies')} "
            f"({', '.join(f.kinds)}; {f.lines} lines each): "
            + ", ".join(f"[{_sarif_text(m)}]({i})" for i, m in enumerate(others, start=1))
            + "."
        )
        results.append(
            {
                "ruleId": SCAN_RULE,
                "ruleIndex": 0,
                "level": "note",
                "message": {"text": text},
                "locations": [
                    {
                        "physicalLocation": physical_location(
                            first.unit.path, first.unit.start_line, first.unit.end_line
                        )
                    }
                ],
                "relatedLocations": [
                    {
                        "id": i,
                        "physicalLocation": physical_location(
                            m.unit.path, m.unit.start_line, m.unit.end_line
                        ),
                        "message": {"text": m.unit.name or m.unit.path},
                    }
                    for i, m in enumerate(others, start=1)
                ],
                "partialFingerprints": {fingerprint_key(): f.id},
                "properties": {
                    "similarity": f.similarity,
                    "cloneKinds": list(f.kinds),
                    "members": len(f.members),
                    "section": f.section,
                },
            }
        )
    return sarif_log(tool_version, results, with_scan_rule=bool(results))


def _sarif_text(m: Member) -> str:
    text = f"{m.unit.name} ({m.unit.path}:{m.unit.start_line})"
    return text.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")


# --------------------------------------------------------------------------------- HTML

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1f2328;background:#fff}
header,main{padding:0 24px}h1{font-size:20px}h2{font-size:16px;margin-top:28px}
table{border-collapse:collapse}td,th{padding:3px 10px;border-bottom:1px solid #d0d7de;
text-align:left}td.n{text-align:right}details{border:1px solid #d0d7de;border-radius:6px;
margin:8px 0;padding:6px 10px}summary{cursor:pointer;font-weight:600}
.meta{color:#59636e;font-weight:400}.tag{font-size:12px;border-radius:10px;padding:1px 7px;
background:#ddf4ff;margin-left:6px}.new{background:#dafbe1}ul{margin:6px 0}
.pair{display:grid;grid-template-columns:1fr 1fr;gap:10px}pre{margin:0;overflow:auto;
background:#f6f8fa;padding:8px;font:12px/1.4 ui-monospace,monospace;max-height:36em}
.side h4{margin:4px 0;font:600 12px ui-monospace,monospace}
"""


def render_html(report: ScanReport, source: SourceLines, *, title: str) -> str:
    """One self-contained page: totals per section and directory, and every listed family
    with its members and the first two side by side."""
    esc = html.escape
    totals = section_totals(report.families)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)}</title><style>{_CSS}</style></head><body>",
        f"<header><h1>{esc(title)}</h1>",
        f"<p>{esc(_text_summary(report)).replace(chr(10), '<br>')}</p></header><main>",
        "<h2>By section</h2><table><tr><th>section</th><th>families</th><th>members</th>"
        "<th>duplicated lines</th></tr>",
    ]
    for name, row in totals.items():
        parts.append(
            f"<tr><td>{esc(name)}</td><td class=n>{row['families']:,}</td>"
            f"<td class=n>{row['members']:,}</td><td class=n>{row['duplicated_lines']:,}</td></tr>"
        )
    parts.append("</table>")
    selected = [f for f in report.families if f.section in report.selection.sections]
    parts.append(
        "<h2>By directory</h2><table><tr><th>directory</th><th>families</th><th>members</th>"
        "<th>duplicated lines</th></tr>"
    )
    for entry in directory_totals(selected)[:100]:
        parts.append(
            f"<tr><td>{esc(str(entry['path']))}</td><td class=n>{entry['families']:,}</td>"
            f"<td class=n>{entry['members']:,}</td>"
            f"<td class=n>{entry['duplicated_lines']:,}</td></tr>"
        )
    parts.append("</table><h2>Families</h2>")
    for number, f in enumerate(report.shown, start=1):
        new = '<span class="tag new">new</span>' if f.new else ""
        parts.append(
            f'<details id="f{esc(f.id)}"{" open" if number <= 3 else ""}><summary>{number}. '
            f"{esc(_describe(f))} <span class=tag>{esc(f.section)}</span>{new}</summary><ul>"
        )
        for m in f.members:
            parts.append(
                f"<li><code>{esc(m.unit.path)}:{m.unit.start_line}-{m.unit.end_line}</code> "
                f"{esc(m.unit.name)} <span class=meta>({esc(m.unit.kind)}, stream "
                f"{m.stream + 1})</span></li>"
            )
        parts.append("</ul><div class=pair>")
        for m in f.members[:2]:
            end = min(m.unit.end_line, m.unit.start_line + HTML_CODE_LINES - 1)
            lines = source(m.unit.path, m.unit.start_line, end) or ["(source unavailable)"]
            more = "\n…" if end < m.unit.end_line else ""
            parts.append(
                f"<div class=side><h4>{esc(m.unit.path)}:{m.unit.start_line}</h4>"
                f"<pre>{esc(chr(10).join(x.rstrip(chr(10)) for x in lines) + more)}</pre></div>"
            )
        parts.append("</div></details>")
    parts.append("</main></body></html>")
    return "\n".join(parts) + "\n"
