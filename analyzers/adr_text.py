"""The structure of a decision record: sections by kind, paragraphs, sentences with their lines.

Pure. Headings (ATX, setext, AsciiDoc, bold option labels, "Decision:" fields) say what each
part is: the title, the context, the decision, the options (each option and its first
paragraph), the consequences. Hard-wrapped lines of a paragraph are joined before sentences are
split, and each sentence keeps the line it starts on; links keep their text (and, for a package
page or a repository, its name), code fences are left out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(slots=True)
class Sentence:
    text: str
    line: int
    section: str
    heading: str = ""  # the heading it is under (for options: the option's name)
    first: bool = False  # the first sentence of its section
    item: str = ""  # the list item or option label it belongs to
    listed: bool = False  # a list item (of an options list, or of an option's pros and cons)


_ATX = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_ADOC = re.compile(r"^(={1,6})\s+(\S.*?)\s*$")
_SETEXT = re.compile(r"^(=+|-+)\s*$")
_FIELD_SECTION = re.compile(
    r"^\s*(?:[-*]\s+)?\**(decision|decisions|context|consequences|status|outcome)\**\s*:\**\s*(\S.*)$",
    re.IGNORECASE,
)
_LIST = re.compile(r"^\s*(?:[-*+]|\d+[.)]|[a-z][.)])\s+(?:\[[ xX]\]\s+)?")
_FENCE = re.compile(r"^\s*(```|~~~)")

_KINDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("status", ("status",)),
    ("consequences", ("consequence", "implication", "impact", "risk", "trade-off", "tradeoff",
                      "positive", "negative", "pros and cons of the decision")),
    ("options", ("option", "alternative", "candidate", "considered", "pros and cons",
                 "which library", "which tool", "comparison", "evaluated")),
    ("decision", ("decision", "decided", "outcome", "resolution", "proposal", "proposed solution",
                  "solution", "recommendation", "chosen", "what we", "tldr", "tl;dr", "summary")),
    ("context", ("context", "problem", "background", "driver", "requirement", "motivation",
                 "consideration", "rationale", "why", "goal", "assumption", "overview",
                 "research", "current", "discussion")),
    ("other", ("link", "reference", "note", "more information", "resources", "see also",
               "appendix", "example", "further reading", "advice", "diagram", "write up")),
)  # fmt: skip


_ADORNMENT = re.compile(r"^([=\-~^*+#\"'`:_])\1+\s*$")
_NOT_A_TITLE = re.compile(r"^(?:[-*+|>#]|\.\.|\d+[.)]\s)")


def underlined_headings(text: str) -> str:
    """The text with its underlined headings written as ATX ones, line for line.

    reStructuredText and Markdown's setext headings underline a title ("Status" over "------",
    an overline too for a title in rst); each becomes "## Status" with its adornment lines left
    blank, so that line numbers stay. The level follows the order in which the adornment styles
    first appear, as in reStructuredText, after a "# " title when the text has one. A title has a
    blank line (or the start) above it, so the last line of a wrapped paragraph over a "---" rule
    stays prose; an rst adornment other than = and - is at least as long as the title."""
    lines = text.split("\n")
    fence = False
    atx_title = False
    styles: list[tuple[str, bool]] = []
    out = list(lines)
    i = 0
    while i < len(lines):
        line = lines[i]
        if _FENCE.match(line):
            fence = not fence
        if fence:
            i += 1
            continue
        if re.match(r"^#\s+\S", line):
            atx_title = True
        over = bool(_ADORNMENT.match(line)) and i + 2 < len(lines)
        title_at = i + 1 if over else i
        title = lines[title_at] if title_at < len(lines) else ""
        under = lines[title_at + 1] if title_at + 1 < len(lines) else ""
        m = _ADORNMENT.match(under)
        above = lines[i - 1] if i > 0 else ""
        if (
            m
            and title.strip()
            and title == title.lstrip()
            and not _NOT_A_TITLE.match(title)
            and len(title) <= 150
            and not above.strip()
            and (not over or lines[i].strip() == under.strip())
            and (m.group(1) in "=-" or len(under.strip()) >= len(title.strip()))
        ):
            style = (m.group(1), over)
            if style not in styles:
                styles.append(style)
            level = min(6, styles.index(style) + 1 + (1 if atx_title else 0))
            if over:
                out[i] = ""
            out[title_at] = "#" * level + " " + title.strip()
            out[title_at + 1] = ""
            i = title_at + 2
            continue
        i += 1
    return "\n".join(out)


def _kind_of(heading: str) -> str:
    h = heading.lower()
    if h.startswith(("decision driver", "drivers")):
        return "context"
    for kind, words in _KINDS:
        if any(w in h for w in words):
            return kind
    return ""


_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)|\[([^\]]*)\]\[[^\]]*\]")
_URL = re.compile(r"<?https?://[^\s>)\]]+>?")
_TAG = re.compile(r"<!--.*?-->|</?[A-Za-z][^>]*>")
_EMPHASIS = re.compile(r"\*\*|__|(?<![\w*])\*(?=\S)|(?<=\S)\*(?![\w*])")


def _link_text(m: re.Match[str]) -> str:
    text = m.group(1) if m.group(1) is not None else m.group(2)
    url = m.group(0)
    repo = re.search(r"\((?:https?://)?(github\.com/[\w.-]+/[\w.-]+)", url)
    pkg = re.search(r"\((?:https?://)?(?:www\.)?(?:npmjs\.com/package|pypi\.org/project|"
                    r"rubygems\.org/gems|nuget\.org/packages)/(@?[\w.@/-]+?)/?\)", url)  # fmt: skip
    if repo:  # a repository link names its module ("github.com/apex/log")
        return f"{text} ({repo.group(1).removesuffix('.git')})"
    if pkg:
        return f"{text} (`{pkg.group(1)}`)"
    return text


def _clean(line: str) -> str:
    line = _LINK.sub(_link_text, line)
    line = _URL.sub(" ", line)
    line = _TAG.sub(" ", line)
    line = _EMPHASIS.sub("", line)
    return line.replace("\\", "").replace("’", "'").replace("‘", "'")


def sentences(title: str, lines: Sequence[str], offset: int = 0) -> list[Sentence]:
    """The record's sentences, each with its line, section and heading (title first)."""
    out: list[Sentence] = []
    if title:
        out.append(Sentence(_deslug(_clean(title)), 0, "title", first=True))
    stack: list[tuple[int, str, str]] = []  # (level, kind, heading)
    para: list[tuple[int, str]] = []
    item = ""  # the option the current paragraph belongs to (its label)
    pending = ""  # an option's label: its first paragraph that is no list belongs to it
    listed = False
    in_fence = False
    seen_title = False
    counts: dict[str, int] = {}

    def section() -> tuple[str, str]:
        if not stack:
            return "preamble", ""
        return stack[-1][1], stack[-1][2]

    def flush() -> None:
        nonlocal para, item, listed
        if not para:
            return
        kind, heading = section()
        text = ""
        starts: list[tuple[int, int]] = []
        for number, raw in para:
            starts.append((len(text), number))
            text += _clean(raw).strip() + " "
        for start, sentence in _split(text):
            line = next((n for s, n in reversed(starts) if s <= start), starts[0][1])
            first = counts.get(kind, 0) == 0
            counts[kind] = counts.get(kind, 0) + 1
            out.append(Sentence(sentence, line + offset, kind, heading, first, item, listed))
        para = []
        item = ""

    def push_heading(level: int, text: str, number: int) -> None:
        nonlocal seen_title, pending
        flush()
        pending = ""
        text = _clean(text).strip().strip("*:").strip()
        if level == 1 and not seen_title:
            seen_title = True
            stack.clear()
            return
        while stack and stack[-1][0] >= level:
            stack.pop()
        parent = stack[-1][1] if stack else ""
        kind = _kind_of(text)
        if parent in ("consequences", "context") or (
            parent == "decision" and kind != "consequences"
        ):
            kind = parent  # "### Option 1 - Simple HTTP" under Consequences is about consequences
        elif parent == "options" and kind not in ("decision", "consequences"):
            kind = "option"
        elif parent == "option" and not kind:
            kind = "option-detail"
        elif not kind:
            kind = parent or "other"
        stack.append((level, kind, text))
        if kind == "option" and text:
            out.append(Sentence(text, number + offset, kind, text, True, text))
            pending = text

    for number, line in enumerate(lines, start=1):
        if _FENCE.match(line):
            flush()
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        nxt = lines[number] if number < len(lines) else ""
        m = _ATX.match(line) or _ADOC.match(line)
        if m:
            push_heading(len(m.group(1)), m.group(2), number)
            continue
        if line.strip() and _SETEXT.match(nxt) and not _LIST.match(line) and not para:
            push_heading(1 if nxt.strip().startswith("=") else 2, line, number)
            continue
        if _SETEXT.match(line) and (not para or number > 1):
            continue
        if not line.strip():
            flush()
            continue
        f = _FIELD_SECTION.match(line)
        if f and not para:
            kind = _kind_of(f.group(1))
            if kind and kind != "status":
                flush()
                stack[:] = [(2, kind, f.group(1))]
                para = [(number, f.group(2))]
                flush()
                continue
        bold = re.match(r"^\s*(?:[-*+]\s+)?\*\*([^*]{1,80}?)\*\*:?\s*(.*)$", line)
        if (
            bold
            and section()[0] in ("options", "option")
            and re.search(r"\boption\b|\d", bold.group(1), re.IGNORECASE)
        ):
            flush()
            label = bold.group(1).strip().rstrip(":")
            pending = label
            out.append(Sentence(_clean(f"{label}: {bold.group(2)}"), number + offset,
                                 "option", label, True, label))  # fmt: skip
            continue
        if _LIST.match(line) or line.lstrip().startswith("|"):
            flush()
            pending = ""
            if section()[0] == "options" and _LIST.match(line):
                item = _clean(_LIST.sub("", line)).strip()
            para = [(number, _LIST.sub("", line).replace("|", " ; "))]
            listed = bool(_LIST.match(line))
            continue
        if not para:
            item, pending, listed = pending, "", False
        para.append((number, line))
    flush()
    return out


_ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "vs.", "cf.", "approx.", "no.", "eg.", "ie.", "incl.")


def _split(text: str) -> list[tuple[int, str]]:
    """Sentences of a paragraph: (offset, text)."""
    out: list[tuple[int, str]] = []
    start = 0
    for m in re.finditer(r"(?<=[.!?])[\"')\]]*\s+(?=[A-Z0-9\"'`(\[*_])", text):
        before = text[start : m.start()].rstrip()
        if before.lower().endswith(_ABBREVIATIONS) or re.search(r"\b[A-Z]\.$", before):
            continue
        piece = text[start : m.start()].strip()
        if piece:
            out.append((start, piece))
        start = m.end()
    piece = text[start:].strip()
    if piece:
        out.append((start, piece))
    return out


def _deslug(title: str) -> str:
    """A title written as a file slug ("use-sidekiq-and-redis") as words."""
    if " " not in title.strip() and "-" in title:
        return title.replace("-", " ")
    return title
