"""Architecture decision records: find them, parse them, and read the constraints they set.

Pure: bytes in, records out. Formats: Nygard / adr-tools (``# 7. Title``, ``Date:``,
``## Status``), MADR 2–4 (bullets or front matter ``status``/``date``/``deciders``,
"Considered Options", "Decision Outcome", "Chosen option: …") and log4brains (MADR with
``- Status:`` bullets). Real logs are messy: every problem is recorded, nothing raises.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from analyzers import adr_prose, adr_rules, safeyaml
from analyzers.adr_explicit import explicit_constraints, without_fences, yaml_problem
from analyzers.adr_model import (
    AddedFile,
    Adr,
    Constraint,
    DecisionInputs,
    DecisionLog,
    HistoryEntry,
)
from analyzers.adr_prose import Mention
from analyzers.adr_text import underlined_headings
from analyzers.catalog import catalog

ADR_DIRS = (
    "docs/adr",
    "doc/adr",
    "docs/adrs",
    "doc/adrs",
    "docs/decisions",
    "doc/decisions",
    "adr",
    "adrs",
    "decisions",
    "docs/architecture/decisions",
    "doc/architecture/decisions",
    "docs/architecture/adr",
    "docs/architecture-decisions",
    "docs/architecture-decision-records",
    "architecture/decisions",
    "architecture-decision-record",
    "architecture-decision-records",
)
STATUSES = ("proposed", "accepted", "rejected", "deprecated", "superseded", "amended")
MAX_BYTES = 256 * 1024  # an ADR larger than this is read up to here
#: Raise when parsing yields something new from the same file: stored records are read again
#: (as they are when the technology catalog's version changes: see :func:`reader_version`).
PARSER_VERSION = 7
#: Record files: Markdown, or text (adr-tools logs also hold numbered files with no extension).
_RECORD_EXTENSIONS = (".md", ".markdown", ".mdx", ".txt", ".rst", ".adoc", ".asciidoc")


def adr_dirs(files: Mapping[str, bytes]) -> list[str]:
    """The decision-log directories: the usual ones, ``.adr-dir`` and log4brains' folder."""
    dirs = list(ADR_DIRS)
    marker = files.get(".adr-dir")
    if marker:
        named = _text(marker)[0].strip().strip("/")
        if named:
            dirs.insert(0, named)
    config = files.get(".log4brains.yml")
    if config:
        try:
            data = safeyaml.load(_text(config)[0])
        except yaml.YAMLError:
            data = None
        folder = data.get("project", {}).get("adrFolder") if isinstance(data, dict) else None
        if isinstance(folder, str) and folder.strip():
            dirs.insert(0, posixpath.normpath(folder.strip()).lstrip("./") or ".")
    return list(dict.fromkeys(dirs))


def reader_version() -> int:
    """The version a stored record was read with: this parser's and the catalog's."""
    return PARSER_VERSION * 1000 + catalog().version


def is_adr_path(path: str, dirs: Sequence[str]) -> bool:
    """A record in one of ``dirs`` or a folder of it (``docs/decisions/app/``): a Markdown or
    text file, or a numbered file with no extension (README, index and templates are not)."""
    folder, name = posixpath.split(path)
    lower = name.lower()
    if _RECORD_FOLDER_FILE.match(lower) and posixpath.dirname(folder) in dirs:
        # one folder per record ("2022-08-17-remove-h2/README.md"): its README is the record
        record = posixpath.basename(folder).lower()
        if (_NUMBER_FILE.match(record) or _DATED.match(record)) and not _TEMPLATE_DIR.search(
            record
        ):
            return True
    if lower.startswith(("readme", "index", "template", "_", ".")) or _TEMPLATE.search(lower):
        return False
    if re.match(r"^\d+[-_ ](?:index|readme|toc|summary|overview)\.[a-z]+$", lower):
        return False  # "000-index.md": the log's index, numbered to sort first
    ext = posixpath.splitext(lower)[1]
    numbered = bool(_NUMBER_FILE.match(lower) or re.match(r"^\d{4}-\d{2}-\d{2}-", lower))
    if ext not in (".md", ".markdown", ".mdx") and not (
        numbered and (ext in _RECORD_EXTENSIONS or ext == "" or not re.fullmatch(r"\.[a-z]+", ext))
    ):
        return False
    parent = posixpath.dirname(folder)
    # a folder of assets holds no records; one of templates, only numbered ones (a log of the
    # project's template: "docs/decisions/template/0001-use-renovate.md")
    if folder in dirs:
        return True
    if parent not in dirs or _ASSETS.search(folder):
        return False
    return numbered or not _TEMPLATES.search(folder)


_RECORD_FOLDER_FILE = re.compile(r"^(?:readme|index)\.(?:md|markdown|mdx)$")
_DATED = re.compile(r"^\d{4}-\d{2}-\d{2}[-_]")
_TEMPLATE_DIR = re.compile(r"(?:^|[-_])template$")
# "adr-template.md", "0000-template.md", "template-madr.md"; not "0039-…-as-template-engine.md"
_TEMPLATE = re.compile(
    r"^(?:\d+[-_])?(?:adr|madr|nygard|decision|record)?[-_]?template(?:[-_.][a-z-]+)?\.[a-z]+$"
    r"|^[^\d][^.]*[-_]template\.[a-z]+$"
)
_ASSETS = re.compile(r"(^|/)(img|images|assets|resources|static|diagrams|media)$", re.I)
_TEMPLATES = re.compile(r"(^|/)templates?$", re.I)


# ---------------------------------------------------------------------------------------------
# Parsing one record

_NUMBER_FILE = re.compile(r"^(?:adr[-_]?)?(\d{1,5})(?:[-_. ]|$)")
_TITLE = re.compile(
    r"^(?:#|=)\s+(?:(?:\*\*)?(?:ADR|AD|RFC|Decision)?[-\s]?#?(\d+|[nN])(?:\*\*)?\s*[.:)\-–—]*\s+)?"
    r"(.+?)\s*#*\s*$",
    re.IGNORECASE,
)
_HEADING = re.compile(r"^(#{2,6})\s+(.+?)\s*#*\s*$")
_FIELD = re.compile(r"^\s*(?:[-*]\s+)?\**(status|date|deciders)\**\s*:\s*\**(.*)$", re.IGNORECASE)
_LINK = re.compile(r"\[([^\]]*)\]\(([^)\s]+)[^)]*\)")
_ADR_REF = re.compile(r"\bADR[-\s]?(\d+)\b", re.IGNORECASE)


def parse_adr(path: str, data: bytes) -> Adr:
    """Parse one record as far as possible; what could not be read is in ``problems``."""
    problems: list[str] = []
    text, ok = _text(data[:MAX_BYTES])
    if not ok:
        problems.append(f"{path}: not UTF-8 text (read as Latin-1)")
    if len(data) > MAX_BYTES:
        problems.append(f"{path}: larger than {MAX_BYTES // 1024} KiB, read in part")
    text = text.replace("\r\n", "\n").replace("\x00", "")  # Postgres text holds no NUL
    meta, body, offset = _front_matter(text, path, problems)
    body = underlined_headings(body)  # reStructuredText's and setext's headings, as ATX ones
    lines = body.split("\n")

    number: int | None = None
    title = ""
    fenced = False
    for line in lines:
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        m = None if fenced else _TITLE.match(line)
        if m:
            title = _TAGS.sub("", m.group(2)).strip()
            number = int(m.group(1)) if m.group(1) and m.group(1).isdigit() else None
            break
    if isinstance(meta.get("title"), str) and not title:
        title = meta["title"].strip()
    fm = _NUMBER_FILE.match(posixpath.basename(path).lower())
    if fm:
        number = int(fm.group(1))
    if not title:
        title = posixpath.splitext(posixpath.basename(path))[0]
        problems.append(f"{path}: no title")

    sections = _sections(lines)
    fields = _fields(lines)
    status_text = ""
    if "status" in meta and meta["status"] is not None:
        status_text = str(meta["status"])
    elif "status" in sections:
        status_text = sections["status"][1].strip()
    elif "status" in fields:
        status_text = fields["status"]
    status = _status(status_text)
    supersedes, superseded_by = _links(status_text, path)
    if not status and supersedes and not superseded_by:
        status = "accepted"  # "Supersedes [20. …]" alone: a record in force replacing another
        problems.append(f"{path}: the status names only what it supersedes; read as accepted")
    elif not status and not status_text and _states_decision(sections, lines):
        status = "accepted"  # MADR's status is optional: a record that decides, decided
        problems.append(f"{path}: no status; read as accepted (it states a decision)")
    elif not status:
        first = " ".join(status_text.split())[:60]
        problems.append(
            f"{path}: no status" if not status_text else f"{path}: unknown status {first!r}"
        )
    date = str(meta.get("date") or fields.get("date") or "").strip()

    for key, out in (("supersedes", supersedes), ("superseded_by", superseded_by)):
        raw = meta.get(key) or meta.get(key.replace("_", "-"))
        for item in raw if isinstance(raw, list) else [raw] if raw else []:
            out.append(_ref(str(item), path))
    if status == "superseded" and not superseded_by:
        problems.append(f"{path}: superseded, but names no successor")

    decision_key = next(
        (k for k in ("decision", "decision outcome", "decision-outcome") if k in sections), None
    )
    decision = sections[decision_key][1] if decision_key else ""

    constraints = list(explicit_constraints(meta, body, path, problems, offset))
    # The prose only: a fenced cairn block's messages are no sentences to derive rules from
    # (blanked line for line, so the sentences keep their line numbers).
    prose_lines = without_fences(body).split("\n")
    try:
        mentions = adr_prose.read(title, prose_lines, offset, catalog())
    except Exception as exc:  # noqa: BLE001 - one record's prose never stops the log
        problems.append(f"{path}: its prose could not be read ({type(exc).__name__})")
        mentions = ()
    if not constraints:  # a cairn: block states the record's rules; the prose adds none
        constraints = derived_constraints(mentions)
    return Adr(
        path=path,
        number=number,
        title=title,
        status=status,
        date=date,
        decision=decision.strip(),
        body=text,
        supersedes=tuple(dict.fromkeys(supersedes)),
        superseded_by=tuple(dict.fromkeys(superseded_by)),
        constraints=tuple(constraints),
        problems=tuple(problems),
        mentions=mentions,
        stated_status=status_text.split("\n", 1)[0].strip()[:80],
    )


_TAGS = re.compile(r"<!--.*?-->|</?[A-Za-z][^>]*>")


def _states_decision(sections: Mapping[str, tuple[int, str]], lines: Sequence[str]) -> bool:
    keys = " ".join(sections)
    if re.search(r"\bdecision\b|\boutcome\b", keys):
        return True
    return any(re.match(r"\s*(\*\*)?chosen option", line, re.I) for line in lines)


def derived_constraints(
    mentions: Sequence[Mention], vocabulary: adr_rules.Vocabulary | None = None
) -> list[Constraint]:
    """The constraints a record's prose sets (see :mod:`analyzers.adr_rules`)."""
    return [constraint_of(r) for r in adr_rules.rules(mentions, catalog(), vocabulary)]


def constraint_of(rule: adr_rules.Rule) -> Constraint:
    return Constraint(
        kind="any",
        value=rule.value,
        prefer=rule.prefer,
        sentence=rule.sentence,
        line=rule.line,
        technology=rule.technology,
        allow=rule.allow,
        origin=rule.origin,
        new_code=rule.new_code,
    )


def _text(data: bytes) -> tuple[str, bool]:
    try:
        return data.decode("utf-8-sig"), True
    except UnicodeDecodeError:
        return data.decode("latin-1"), False


def _front_matter(text: str, path: str, problems: list[str]) -> tuple[dict[str, Any], str, int]:
    if not text.startswith("---\n"):
        return {}, text, 0
    end = text.find("\n---", 4)
    if end < 0:
        problems.append(f"{path}: front matter is never closed")
        return {}, text, 0
    raw = text[4:end]
    rest = text[end + 4 :]
    offset = raw.count("\n") + 2
    try:
        meta = safeyaml.load(raw)
    except yaml.YAMLError as exc:
        problems.append(f"{path}: broken front matter ({yaml_problem(exc)}); its plain fields read")
        return _plain_fields(raw), rest, offset
    if meta is None:
        return {}, rest, offset
    if not isinstance(meta, dict):
        problems.append(f"{path}: front matter is not a mapping")
        return {}, rest, offset
    return {str(k).lower(): v for k, v in meta.items()}, rest, offset


_PLAIN_FIELD = re.compile(r"^(title|status|date)\s*:\s*(.+?)\s*$", re.IGNORECASE)


def _plain_fields(raw: str) -> dict[str, Any]:
    """The title, status and date of front matter YAML cannot read ("title: ADR006: Avoid
    React.FC", a colon unquoted), each as the text after its key; never a ``cairn:`` block."""
    out: dict[str, Any] = {}
    for line in raw.split("\n"):
        m = _PLAIN_FIELD.match(line)
        if m:
            out.setdefault(m.group(1).lower(), m.group(2).strip("'\""))
    return out


def _sections(lines: Sequence[str]) -> dict[str, tuple[int, str]]:
    """Heading (lowercase) → (1-based line of its first body line, body text); the first of a
    name wins. Every level but the title's counts ("# Status" as well as "### Status")."""
    out: dict[str, tuple[int, str]] = {}
    current: str | None = None
    start = 0
    buf: list[str] = []
    titled = False
    for i, line in enumerate([*lines, "## \x00end"], start=1):
        m = _ANY_HEADING.match(line)
        if m or line == "## \x00end":
            if m and len(m.group(1)) == 1 and not titled:
                titled = True
                continue
            if current is not None and current not in out:
                out[current] = (start, "\n".join(buf))
            current = m.group(2).strip().strip("*").strip().lower() if m else None
            start, buf = i + 1, []
            if current and current.startswith("status:"):  # "## Status: Accepted"
                out.setdefault("status", (i, current.split(":", 1)[1]))
                current = None
        elif current is not None:
            buf.append(line)
    return out


_ANY_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_TABLE_FIELD = re.compile(r"^\s*>?\s*\|\s*\**(status|date)\**\s*\|\s*`?([^|`]+?)`?\s*\|", re.I)


def _fields(lines: Sequence[str]) -> dict[str, str]:
    out = _table_fields(lines[:60])
    for line in lines[:60]:
        m = _FIELD.match(line) or _TABLE_FIELD.match(line)
        if m and m.group(2).strip().strip("*").strip():
            out.setdefault(m.group(1).lower(), m.group(2).strip().strip("*").strip())
    return out


def _table_fields(lines: Sequence[str]) -> dict[str, str]:
    """Fields of a table whose header names them: "| Status | Date |" over "| Accepted | …"."""
    rows = [
        [c.strip().strip("*").strip() for c in line.strip().strip("|").split("|")]
        for line in lines
        if line.lstrip().startswith("|")
    ]
    for header, separator, values in zip(rows, rows[1:], rows[2:], strict=False):
        if not all(re.fullmatch(r":?-{2,}:?", c) for c in separator if c):
            continue
        keys = [c.lower() for c in header]
        if "status" not in keys or len(values) != len(keys):
            continue
        return {k: v for k, v in zip(keys, values, strict=True) if k in ("status", "date") and v}
    return {}


# Words of a status line, and the status each means. The first word that means one decides
# ("Accepted; supersedes ADR-0045", "Adopted but not yet implemented", "Pending review").
_STATUS_WORDS: tuple[tuple[str, str], ...] = (
    ("superseded", "superseded"), ("superceded", "superseded"), ("replaced", "superseded"),
    ("accepted", "accepted"), ("approved", "accepted"), ("adopted", "accepted"),
    ("decided", "accepted"), ("agreed", "accepted"), ("done", "accepted"),
    ("implemented", "accepted"), ("active", "accepted"), ("final", "accepted"),
    ("merged", "accepted"), ("current", "accepted"), ("valid", "accepted"),
    ("ratified", "accepted"),
    ("completed", "accepted"), ("complete", "accepted"), ("live", "accepted"),
    ("proposed", "proposed"), ("proposal", "proposed"), ("draft", "proposed"),
    ("pending", "proposed"), ("review", "proposed"), ("reviewing", "proposed"),
    ("progress", "proposed"), ("open", "proposed"), ("wip", "proposed"), ("rfc", "proposed"),
    ("discussion", "proposed"), ("discussing", "proposed"), ("suggested", "proposed"),
    ("rejected", "rejected"), ("declined", "rejected"), ("withdrawn", "rejected"),
    ("abandoned", "rejected"), ("refused", "rejected"), ("dropped", "rejected"),
    ("deprecated", "deprecated"), ("deprecate", "deprecated"), ("obsolete", "deprecated"),
    ("retired", "deprecated"), ("outdated", "deprecated"), ("historic", "deprecated"),
    ("amended", "amended"), ("amends", "accepted"), ("amend", "accepted"),
)  # fmt: skip


def _status(text: str) -> str:
    text = re.sub(r"~~?[^~\n]*~~?", " ", text)  # a status struck through is no longer it
    # a badge: its text and the words of its address ("badgen.net/badge/ADR/approved/green")
    text = _BADGE.sub(lambda m: f"{m.group(1)} {_badge_words(m.group(2))} ", text)
    words = re.findall(r"[A-Za-z]+", text.lower())[:6]
    if words[:2] in (["not", "accepted"], ["not", "approved"]):
        return "rejected"
    for word in words:
        for stem, status in _STATUS_WORDS:
            if word == stem or (len(word) > 5 and word.startswith(stem)):
                return status
    return ""


_BADGE = re.compile(r"\[?!\[([^\]]*)\]\(([^)\s]*)[^)]*\)(?:\]\([^)]*\))?")


def _badge_words(url: str) -> str:
    path = url.split("://", 1)[-1].split("/", 1)[-1]
    return " ".join(w for w in re.split(r"[/_.?=&-]+", path) if w.lower() not in ("badge", "svg"))


_SUPERSEDED_BY = re.compile(r"\bsuper[sc]eded\s+by\b|\breplaced\s+by\b", re.I)
_SUPERSEDES = re.compile(r"(?<!partial )\bsuper[sc]edes\b|\breplaces\b", re.I)


def _links(status_text: str, path: str) -> tuple[list[str], list[str]]:
    supersedes: list[str] = []
    superseded_by: list[str] = []
    for line in status_text.split("\n"):
        if _SUPERSEDED_BY.search(line):
            target = superseded_by
        elif _SUPERSEDES.search(line):
            target = supersedes
        else:
            continue
        refs = [_ref(href, path) for _, href in _LINK.findall(line)]
        refs += [f"ADR-{int(n)}" for n in _ADR_REF.findall(_LINK.sub("", line))]
        if not refs:
            refs = [f"ADR-{int(n)}" for n in re.findall(r"\b(\d{1,5})\b", line)]
        target.extend(refs)
    return supersedes, superseded_by


def _ref(raw: str, path: str) -> str:
    """A link target as a repository path, ``ADR-n``, or ``file:<name>`` for a full URL (found
    in the log by its file name)."""
    m = _ADR_REF.fullmatch(raw.strip()) or re.fullmatch(r"\s*(\d{1,5})\s*", raw)
    if m:
        return f"ADR-{int(m.group(1))}"
    target = raw.split("#", 1)[0].split("?", 1)[0]
    if re.match(r"^[a-z][a-z+.-]*://", target, re.I):
        return "file:" + posixpath.basename(target.rstrip("/"))
    return posixpath.normpath(posixpath.join(posixpath.dirname(path), target))


# ---------------------------------------------------------------------------------------------
# Derived constraints: what the prose chose, rejected and removed (see analyzers.adr_prose)


def derive(text: str, line: int = 0) -> list[Constraint]:
    """The constraints a decision's sentences set on their own (read as a Decision section)."""
    lines = text.split("\n")
    mentions = adr_prose.read("", ["## Decision", "", *lines], max(line - 3, 0), catalog())
    return derived_constraints(mentions)


from analyzers.adr_timeline import build_log  # noqa: E402  (the log needs the records above)

__all__ = [
    "AddedFile",
    "Adr",
    "Constraint",
    "DecisionInputs",
    "DecisionLog",
    "HistoryEntry",
    "build_log",
]
