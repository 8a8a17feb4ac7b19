"""Architecture decision records: find them, parse them, and read the constraints they set.

Pure: bytes in, records out. Formats: Nygard / adr-tools (``# 7. Title``, ``Date:``,
``## Status``), MADR 2–4 (bullets or front matter ``status``/``date``/``deciders``,
"Considered Options", "Decision Outcome", "Chosen option: …") and log4brains (MADR with
``- Status:`` bullets). Real logs are messy: every problem is recorded, nothing raises.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import yaml

from analyzers import safeyaml
from analyzers.languages import LANGUAGES, language_named
from analyzers.rulebounds import MAX_QUERIES, RuleError, compile_query, compile_regex
from analyzers.rulebounds import message as rule_message

ADR_DIRS = (
    "docs/adr",
    "doc/adr",
    "docs/decisions",
    "doc/decisions",
    "adr",
    "docs/architecture/decisions",
)
STATUSES = ("proposed", "accepted", "rejected", "deprecated", "superseded", "amended")
MAX_BYTES = 256 * 1024  # an ADR larger than this is read up to here
#: Raise when parsing yields something new from the same file: stored records are read again.
PARSER_VERSION = 3


@dataclass(frozen=True, slots=True)
class Constraint:
    """A rule a decision sets: ``forbid`` a thing (optionally naming what to ``prefer``)."""

    kind: str  # "import" | "call" | "dependency" | "command" | "regex" | "any"
    value: str  # the forbidden module, package, call, command or pattern
    message: str = ""
    prefer: str = ""  # what to use instead, when the decision says
    language: str = ""  # only for files of this language, when set
    scope: tuple[str, ...] = ()  # path globs; empty: everywhere
    explicit: bool = False
    sentence: str = ""  # the decision's own words
    line: int = 0  # of the sentence in the ADR

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "value": self.value,
            "message": self.message,
            "prefer": self.prefer,
            "language": self.language,
            "scope": list(self.scope),
            "explicit": self.explicit,
            "sentence": self.sentence,
            "line": self.line,
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Constraint:
        return cls(
            kind=str(raw["kind"]),
            value=str(raw["value"]),
            message=str(raw.get("message", "")),
            prefer=str(raw.get("prefer", "")),
            language=str(raw.get("language", "")),
            scope=tuple(raw.get("scope", ())),
            explicit=bool(raw.get("explicit", False)),
            sentence=str(raw.get("sentence", "")),
            line=int(raw.get("line", 0)),
        )


@dataclass(frozen=True, slots=True)
class Adr:
    """One decision record as written (its status is what the file says)."""

    path: str
    number: int | None
    title: str
    status: str  # one of STATUSES, or "" when the record has none
    date: str = ""
    decision: str = ""  # the decision's text (Decision / Decision Outcome)
    body: str = ""
    supersedes: tuple[str, ...] = ()  # link targets (paths) or "ADR-n"
    superseded_by: tuple[str, ...] = ()
    constraints: tuple[Constraint, ...] = ()
    problems: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"ADR-{self.number:04d}" if self.number is not None else self.path


@dataclass(frozen=True, slots=True)
class DecisionLog:
    """The records of a repository and what binds: accepted and superseded by nothing."""

    records: tuple[Adr, ...] = ()
    binding: tuple[Adr, ...] = ()
    problems: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AddedFile:
    """The lines a change adds to one file, at head: (line number, text)."""

    path: str
    lines: tuple[tuple[int, str], ...]
    text: str = ""  # the whole file at head, for manifests that need context


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """A commit or merged pull request that added or changed a file: where it was decided."""

    kind: str  # "commit" | "pull-request"
    ref: str  # the full commit sha, or the pull request's number
    title: str  # the commit's subject or the pull request's title
    date: str = ""  # YYYY-MM-DD
    reason: str = ""  # why it is listed ("added docs/adr/0004-npm.md", "touched lines 3-9")

    @property
    def label(self) -> str:
        return f"#{self.ref}" if self.kind == "pull-request" else self.ref[:10]

    def to_json(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "ref": self.ref,
            "title": self.title,
            "date": self.date,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class DecisionInputs:
    """What the decisions check gets: the log at base, the added lines, the relevant ADRs."""

    log: DecisionLog = field(default_factory=DecisionLog)
    added: tuple[AddedFile, ...] = ()
    relevant: tuple[str, ...] = ()  # paths of ADRs lexically related to the change
    head: tuple[Adr, ...] = ()  # ADR files the change adds or edits, parsed at head
    # per ADR path, the commits or pull requests that added or changed it, newest first
    history: Mapping[str, tuple[HistoryEntry, ...]] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# Finding the log


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


def is_adr_path(path: str, dirs: Sequence[str]) -> bool:
    """A markdown file directly in one of ``dirs`` (README and templates are not records)."""
    if not path.lower().endswith((".md", ".markdown")):
        return False
    folder, name = posixpath.split(path)
    lower = name.lower()
    if lower.startswith(("readme", "index", "template")) or "template" in lower:
        return False
    return folder in dirs


# ---------------------------------------------------------------------------------------------
# Parsing one record

_NUMBER_FILE = re.compile(r"^(?:adr[-_]?)?(\d{1,5})[-_. ]")
_TITLE = re.compile(r"^#\s+(?:(?:ADR[-\s]?)?(\d+)[.:)]?\s+)?(.+?)\s*#*\s*$", re.IGNORECASE)
_HEADING = re.compile(r"^(#{2,6})\s+(.+?)\s*#*\s*$")
_FIELD = re.compile(r"^\s*(?:[-*]\s+)?\**(status|date|deciders)\**\s*:\s*\**(.*)$", re.IGNORECASE)
_LINK = re.compile(r"\[([^\]]*)\]\(([^)\s]+)[^)]*\)")
_ADR_REF = re.compile(r"\bADR[-\s]?(\d+)\b", re.IGNORECASE)
_FENCE = re.compile(r"^```\s*cairn\s*$(.*?)^```\s*$", re.MULTILINE | re.DOTALL)


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
    lines = body.split("\n")

    number: int | None = None
    title = ""
    for line in lines:
        m = _TITLE.match(line)
        if m:
            title = m.group(2).strip()
            number = int(m.group(1)) if m.group(1) else None
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
    if not status:
        problems.append(
            f"{path}: no status" if not status_text else f"{path}: unknown status {status_text!r}"
        )
    date = str(meta.get("date") or fields.get("date") or "").strip()

    supersedes, superseded_by = _links(status_text, path)
    for key, out in (("supersedes", supersedes), ("superseded_by", superseded_by)):
        raw = meta.get(key) or meta.get(key.replace("_", "-"))
        for item in raw if isinstance(raw, list) else [raw] if raw else []:
            out.append(_ref(str(item), path))
    if status == "superseded" and not superseded_by:
        problems.append(f"{path}: superseded, but names no successor")

    decision_key = next(
        (k for k in ("decision", "decision outcome", "decision-outcome") if k in sections), None
    )
    decision_line, decision = sections[decision_key] if decision_key else (0, "")

    constraints = list(_explicit(meta, body, path, problems, offset))
    # The prose only: a fenced cairn block's messages are no sentences to derive rules from
    # (blanked line for line, so the sentences keep their line numbers).
    prose = _FENCE.sub(lambda m: "\n" * m.group(0).count("\n"), decision)
    stated = {c.value.lower() for c in constraints}
    derived = _derived(title, prose, decision_line + offset)
    derived += _rejected_options(sections, prose, offset)
    constraints += [c for c in derived if c.value.lower() not in stated]
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
        problems.append(f"{path}: broken front matter ({_yaml_problem(exc)})")
        return {}, rest, offset
    if meta is None:
        return {}, rest, offset
    if not isinstance(meta, dict):
        problems.append(f"{path}: front matter is not a mapping")
        return {}, rest, offset
    return {str(k).lower(): v for k, v in meta.items()}, rest, offset


def _sections(lines: Sequence[str]) -> dict[str, tuple[int, str]]:
    """Heading (lowercase) → (1-based line of its first body line, body text)."""
    out: dict[str, tuple[int, str]] = {}
    current: str | None = None
    start = 0
    buf: list[str] = []
    for i, line in enumerate([*lines, "## \x00end"], start=1):
        m = _HEADING.match(line)
        if (m and len(m.group(1)) == 2) or line == "## \x00end":
            if current is not None and current not in out:
                out[current] = (start, "\n".join(buf))
            current = m.group(2).strip().lower() if m else None
            start, buf = i + 1, []
        elif current is not None:
            buf.append(line)
    return out


def _fields(lines: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in lines[:40]:
        m = _FIELD.match(line)
        if m:
            out.setdefault(m.group(1).lower(), m.group(2).strip().strip("*").strip())
    return out


def _status(text: str) -> str:
    for word in re.findall(r"[A-Za-z]+", text.lower())[:3]:
        for status in STATUSES:
            if word.startswith(status[:6]) and status.startswith(word[: len(status)]):
                return status
        if word in ("approved", "adopted", "decided"):
            return "accepted"
        if word in ("draft", "proposal"):
            return "proposed"
        if word in ("deprecate", "obsolete"):
            return "deprecated"
        if word in ("amends", "amend"):
            return "accepted"
    return ""


def _links(status_text: str, path: str) -> tuple[list[str], list[str]]:
    supersedes: list[str] = []
    superseded_by: list[str] = []
    for line in status_text.split("\n"):
        lower = line.lower()
        if "superseded by" in lower:
            target = superseded_by
        elif "supersedes" in lower:
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
    """A link target as a repository path, or ``ADR-n``."""
    m = _ADR_REF.fullmatch(raw.strip()) or re.fullmatch(r"\s*(\d{1,5})\s*", raw)
    if m:
        return f"ADR-{int(m.group(1))}"
    target = raw.split("#", 1)[0]
    return posixpath.normpath(posixpath.join(posixpath.dirname(path), target))


# ---------------------------------------------------------------------------------------------
# Explicit constraints: a ``cairn:`` front-matter block or a fenced ``cairn`` block

_FORBID_KINDS = ("import", "call", "dependency", "command", "regex", "query", "any")


def _explicit(
    meta: Mapping[str, Any], body: str, path: str, problems: list[str], offset: int = 0
) -> Iterable[Constraint]:
    """The rules of the ``cairn:`` blocks, each with the line its block starts on."""
    blocks: list[tuple[Any, int]] = []
    if "cairn" in meta:
        blocks.append((meta["cairn"], 1))
    for m in _FENCE.finditer(body):
        try:
            data = safeyaml.load(m.group(1))
        except yaml.YAMLError as exc:
            problems.append(f"{path}: the cairn block is not valid YAML ({_yaml_problem(exc)})")
            continue
        line = offset + body.count("\n", 0, m.start()) + 1
        blocks.append((data.get("cairn", data) if isinstance(data, dict) else data, line))
    for block, line in blocks:
        if not isinstance(block, dict):
            problems.append(f"{path}: the cairn block must be a mapping")
            continue
        scope = block.get("scope", [])
        scope = [scope] if isinstance(scope, str) else scope
        if not isinstance(scope, list) or not all(isinstance(s, str) for s in scope):
            problems.append(f"{path}: cairn.scope must be a list of path globs")
            scope = []
        for c in (
            *_forbids(block.get("forbid", []), tuple(scope), path, problems),
            *_prefers(block.get("prefer", []), tuple(scope), path, problems),
        ):
            yield replace(c, line=line)


def _forbids(
    raw: Any, scope: tuple[str, ...], path: str, problems: list[str]
) -> Iterable[Constraint]:
    if not isinstance(raw, list):
        problems.append(f"{path}: cairn.forbid must be a list")
        return
    queries = 0
    for i, item in enumerate(raw):
        kinds = [k for k in _FORBID_KINDS if isinstance(item, dict) and k in item]
        if len(kinds) != 1:
            problems.append(f"{path}: cairn.forbid[{i}] needs one of {', '.join(_FORBID_KINDS)}")
            continue
        kind = kinds[0]
        value = str(item[kind])
        if kind == "query":
            queries += 1
            if queries > MAX_QUERIES:
                problems.append(f"{path}: cairn.forbid[{i}]: over {MAX_QUERIES} queries, not read")
                continue
            trouble = _query_problem(value, str(item.get("language", "")))
            if trouble:
                problems.append(f"{path}: cairn.forbid[{i}]: {trouble}")
                continue
        if kind == "regex":
            try:
                compile_regex(value)
            except RuleError as exc:
                problems.append(f"{path}: cairn.forbid[{i}]: bad regex ({exc})")
                continue
        yield Constraint(
            kind=kind,
            value=value,
            message=rule_message(str(item.get("message", ""))),
            prefer=str(item.get("prefer", "")),
            language=str(item.get("language", "")),
            scope=scope,
            explicit=True,
        )


def _query_problem(query: str, language: str) -> str:
    names = [lang.name for lang in LANGUAGES]
    if language not in names:
        return f"a tree-sitter query needs a language, one of {', '.join(names)}"
    try:
        compile_query(language_named(language).grammar_language, query)
    except RuleError as exc:
        return f"not a valid {language} tree-sitter query: {exc}"
    return ""


def _prefers(
    raw: Any, scope: tuple[str, ...], path: str, problems: list[str]
) -> Iterable[Constraint]:
    if not isinstance(raw, list):
        problems.append(f"{path}: cairn.prefer must be a list")
        return
    for i, item in enumerate(raw):
        use = item.get("use") if isinstance(item, dict) else None
        instead = item.get("instead_of") if isinstance(item, dict) else None
        if not isinstance(use, str) or not isinstance(instead, str):
            problems.append(f"{path}: cairn.prefer[{i}] needs `use` and `instead_of`")
            continue
        yield Constraint(
            kind="any",
            value=instead,
            prefer=use,
            message=str(item.get("message", "")),
            language=str(item.get("language", "")),
            scope=scope,
            explicit=True,
        )


# ---------------------------------------------------------------------------------------------
# Derived constraints: the decision's own sentences

_TERM = r"(`[^`\n]+`|[A-Za-z@][\w.@/+-]*[\w])"
_PATTERNS: tuple[tuple[re.Pattern[str], int, int], ...] = tuple(
    (re.compile(p, re.IGNORECASE), prefer, avoid)
    for p, prefer, avoid in (
        (rf"\buse\s+{_TERM}\s+instead\s+of\s+{_TERM}", 1, 2),
        (rf"\bprefer\s+{_TERM}\s+(?:over|to)\s+{_TERM}", 1, 2),
        (rf"\breplace\s+{_TERM}\s+(?:with|by)\s+{_TERM}", 2, 1),
        (rf"{_TERM}\s+rather\s+than\s+{_TERM}", 1, 2),
        (rf"\b(?:do\s+not|don't|never|must\s+not|shall\s+not)\s+use\s+{_TERM}", 0, 1),
        (rf"\bavoid(?:ing)?\s+{_TERM}", 0, 1),
        (rf"\bwe\s+will\s+(?:remove|drop|stop\s+using)\s+{_TERM}", 0, 1),
    )
)
_STOPWORDS = frozenset(
    {
        "a",
        "an",
        "the",
        "it",
        "this",
        "that",
        "them",
        "these",
        "those",
        "we",
        "our",
        "us",
        "you",
        "all",
        "any",
        "some",
        "one",
        "it's",
        "its",
        "and",
        "or",
        "of",
        "to",
        "in",
        "on",
        "for",
        "with",
        "by",
        "as",
        "be",
        "is",
        "are",
        "was",
        "were",
        "will",
        "can",
        "may",
        "should",
        "must",
        "not",
        "no",
        "more",
        "less",
        "using",
        "use",
        "used",
        "duplication",
        "complexity",
    }
)


# Words that may follow the thing a sentence avoids ("avoid yarn in CI", "do not use moment
# anymore"). Any other lowercase word makes the term a modifier of a noun phrase ("avoid global
# state", "avoid test doubles", "do not use docker compose in production"): no rule from it.
_FOLLOWERS = frozenset(
    {"in", "for", "on", "at", "to", "when", "and", "or", "with", "from", "as", "by", "anymore",
     "any", "again", "here", "there", "now", "unless", "except", "because", "since", "if",
     "where", "which", "that", "but", "so", "across", "within", "inside", "outside", "directly",
     "altogether", "entirely", "anywhere", "going", "instead", "over", "than", "is", "are",
     "was", "were", "has", "have", "had", "will", "would", "should", "must", "can", "may",
     "itself", "until", "after", "before", "during", "while", "via", "into", "under",
     "the", "a", "an", "our", "its", "their", "this", "these", "those", "all", "every"}
)  # fmt: skip
_NEXT_WORD = re.compile(r"\s+([a-z][a-z'-]*)\b")


def _modifier(raw: str, rest: str) -> bool:
    """Whether a bare term is followed by a noun it qualifies (the prose's "global state")."""
    if raw.startswith("`"):
        return False
    m = _NEXT_WORD.match(rest)
    return m is not None and m.group(1) not in _FOLLOWERS


def _term(raw: str) -> str:
    if raw.startswith("`"):
        return raw.strip("`").strip()
    word = raw.strip().rstrip(".,;:")
    return "" if word.lower() in _STOPWORDS else word


def derive(text: str, line: int = 0) -> list[Constraint]:
    """(prefer X, avoid Y) from sentences like "use X instead of Y" or "do not use Y"."""
    out: list[Constraint] = []
    seen: set[str] = set()
    for n, raw_line in enumerate(text.split("\n")):
        for pattern, prefer_group, avoid_group in _PATTERNS:
            for m in pattern.finditer(raw_line):
                avoid = _term(m.group(avoid_group))
                if _modifier(m.group(avoid_group), raw_line[m.end(avoid_group) :]):
                    continue
                prefer = _term(m.group(prefer_group)) if prefer_group else ""
                if not avoid or avoid in seen or avoid == prefer:
                    continue
                seen.add(avoid)
                out.append(
                    Constraint(
                        kind="any",
                        value=avoid,
                        prefer=prefer,
                        sentence=_sentence(raw_line, m.start(), m.end()),
                        line=line + n if line else 0,
                    )
                )
    return out


def _derived(title: str, decision: str, line: int) -> list[Constraint]:
    found = derive(decision, line)
    known = {c.value for c in found}
    return found + [c for c in derive(title) if c.value not in known]


def _rejected_options(
    sections: Mapping[str, tuple[int, str]], decision: str, offset: int
) -> list[Constraint]:
    options = sections.get("considered options")
    chosen = re.search(r"chosen option:\s*\"?\[?([^\"\],]+)", decision, re.IGNORECASE)
    if options is None or chosen is None:
        return []
    pick = chosen.group(1).strip().strip("`*")
    out = []
    for i, line in enumerate(options[1].split("\n")):
        m = re.match(r"^\s*[-*]\s+\[?`?([^`\]\n]+?)`?\]?(?:\(.*\))?\s*$", line)
        if not m:
            continue
        option = m.group(1).strip()
        if option.lower() == pick.lower() or not re.fullmatch(r"[\w.@/+-]+", option):
            continue  # only single names resolve to a package, module or command
        out.append(
            Constraint(
                kind="any",
                value=option,
                prefer=pick if re.fullmatch(r"[\w.@/+-]+", pick) else "",
                sentence=f'Chosen option: "{pick}" (considered: {option})',
                line=options[0] + offset + i,
            )
        )
    return out


def _sentence(line: str, start: int, end: int) -> str:
    lo = max(line.rfind(". ", 0, start) + 2, 0) if ". " in line[:start] else 0
    hi = line.find(". ", end)
    return line[lo : hi + 1 if hi >= 0 else len(line)].strip(" -*")


# ---------------------------------------------------------------------------------------------
# The log: supersession graph, duplicates, cycles, silent reversals


def build_log(records: Iterable[Adr]) -> DecisionLog:
    """What binds (accepted, superseded by nothing), and every inconsistency found on the way."""
    adrs = sorted(records, key=lambda a: (a.number if a.number is not None else 1 << 30, a.path))
    problems: list[str] = [p for a in adrs for p in a.problems]
    by_path = {a.path: a for a in adrs}
    by_number: dict[int, list[Adr]] = {}
    for a in adrs:
        if a.number is not None:
            by_number.setdefault(a.number, []).append(a)
    for number, same in sorted(by_number.items()):
        if len(same) > 1:
            paths = ", ".join(a.path for a in same)
            problems.append(f"ADR number {number} is used by {len(same)} records: {paths}")

    def resolve(ref: str, origin: Adr) -> Adr | None:
        if ref.startswith("ADR-"):
            same = by_number.get(int(ref[4:]))
            if same:
                return same[0]
        elif ref in by_path:
            return by_path[ref]
        problems.append(f"{origin.path}: links to {ref}, which is not in the decision log")
        return None

    successors: dict[str, set[str]] = {a.path: set() for a in adrs}
    for a in adrs:
        for ref in a.superseded_by:
            target = resolve(ref, a)
            if target is not None and target is not a:
                successors[a.path].add(target.path)
        for ref in a.supersedes:
            target = resolve(ref, a)
            if target is not None and target is not a:
                successors[target.path].add(a.path)
                if target.status not in ("superseded", "deprecated", "rejected", "amended"):
                    problems.append(
                        f"{target.path}: {a.label} supersedes it, but its status is still "
                        f"{target.status or 'unset'}"
                    )
    for cycle in _cycles(successors):
        problems.append("supersession cycle: " + " → ".join(cycle))

    binding = [a for a in adrs if a.status == "accepted" and not successors[a.path]]
    binding, reversals = _silent_reversals(binding)
    problems += reversals
    return DecisionLog(records=tuple(adrs), binding=tuple(binding), problems=tuple(problems))


def _cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    found: list[list[str]] = []
    state: dict[str, int] = {}
    for root in sorted(graph):
        if state.get(root):
            continue
        stack: list[tuple[str, list[str]]] = [(root, sorted(graph[root]))]
        path = [root]
        state[root] = 1
        while stack:
            node, todo = stack[-1]
            if not todo:
                stack.pop()
                path.pop()
                state[node] = 2
                continue
            nxt = todo.pop()
            if state.get(nxt) == 1:
                found.append([*path[path.index(nxt) :], nxt])
            elif not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append((nxt, sorted(graph.get(nxt, ()))))
    return found


def _silent_reversals(binding: list[Adr]) -> tuple[list[Adr], list[str]]:
    """A later accepted record that prefers what an earlier one avoids reverses it silently.

    The later one is taken to bind and the earlier one's reversed constraint is dropped; the
    inconsistency is reported, so the log can be fixed with an explicit supersession.
    """
    problems: list[str] = []
    kept: list[Adr] = []
    for i, a in enumerate(binding):
        dropped: set[str] = set()
        for later in binding[i + 1 :]:
            wanted = {c.prefer.lower() for c in later.constraints if c.prefer}
            avoided = {c.value.lower() for c in later.constraints}
            for c in a.constraints:
                if c.value.lower() in wanted or (c.prefer and c.prefer.lower() in avoided):
                    if c.value not in dropped:
                        problems.append(
                            f"{later.label} '{later.title}' reverses {a.label} '{a.title}' "
                            f"(about `{c.value}`) without superseding it; "
                            f"following {later.label}"
                        )
                    dropped.add(c.value)
        if dropped:
            a = _without(a, dropped)
        kept.append(a)
    return kept, problems


def _without(a: Adr, values: set[str]) -> Adr:
    return Adr(
        path=a.path,
        number=a.number,
        title=a.title,
        status=a.status,
        date=a.date,
        decision=a.decision,
        body=a.body,
        supersedes=a.supersedes,
        superseded_by=a.superseded_by,
        constraints=tuple(c for c in a.constraints if c.value not in values),
        problems=a.problems,
    )


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """The error's kind, and for the bounds of ``safeyaml`` what was refused."""
    problem = getattr(exc, "problem", None)
    refused = isinstance(problem, str) and ("not allowed" in problem or "not read" in problem)
    return f"{type(exc).__name__}: {problem}" if refused else type(exc).__name__
