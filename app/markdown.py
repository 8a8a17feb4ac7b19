"""GitHub Markdown from text Cairn does not control: one escaping for everything it posts.

Every comment, reply, review body, check-run summary and the Action's job summary builds its
Markdown from Cairn's own words plus text a repository or a commenter wrote: paths,
identifiers, messages quoting code, ADR titles, reasons, logins. That text goes through
``text`` (prose, where backtick spans stay code spans) or ``code`` (one inline code span):

- it stays on one line: a newline could start a heading, a list, a table or a block of HTML;
- no raw HTML: ``<``, ``>`` and ``&`` become entities, so no ``<img onerror>``, no
  ``<details>`` and no ``<!--`` that could hide text or fake Cairn's hidden markers;
- no links, images or emphasis of its own: the punctuation that makes them is
  backslash-escaped, so ``![t](https://tracker)`` shows as written and loads nothing;
- no notifications: ``@user`` and ``@org/team`` get a zero-width space after the ``@``, and
  ``#123`` one after the ``#``, so nobody is pinged and no issue is cross-referenced;
- a backtick span the text holds stays a code span (findings quote identifiers that way)
  with a fence longer than any backtick run inside it, so a backtick in a name cannot close
  it early; a lone backtick is escaped. Inside a span GitHub renders nothing, and ``<!--``
  is broken up so that no raw body carries a marker Cairn did not write.

GitHub renders check-run annotations and workflow-command messages as plain text: they are
not Markdown and do not come here.
"""

from __future__ import annotations

import re

__all__ = ["code", "text"]

ZWSP = "\u200b"
# Punctuation that opens emphasis, strikethrough or table cells anywhere in a line (<, > and &
# become entities instead: a backslash does not stop every HTML block); what starts a heading,
# a list, a task box or a link definition at the start of one; and the "](" or "][" that every
# link and image needs, so "[0]" reads as written and "![t](url)" is no image. Underscores
# inside words do nothing on GitHub and stay, so identifiers read as written.
_PUNCTUATION = re.compile(r"([\\`*|~])")
_LEADING = re.compile(r"^(?=#{1,6}(?:\s|$)|[-+=*](?:\s|$)|\[)")
_LINK = re.compile(r"\](?=[(\[])")
_MENTION = re.compile(r"([@#])(?=[A-Za-z0-9_])")
_BACKTICKS = re.compile(r"`+")
_MARKER = re.compile(r"<(?=!--)")


def text(value: str) -> str:
    """``value`` as Markdown prose on one line that renders as written: no HTML, links,
    images, emphasis or mentions of its own; its backtick spans stay code spans."""
    value = " ".join(value.split())
    out: list[str] = []
    at = 0
    runs = list(_BACKTICKS.finditer(value))
    i = 0
    while i < len(runs):
        opening = runs[i]
        closing = next((r for r in runs[i + 1 :] if len(r.group()) == len(opening.group())), None)
        if closing is None:  # an unmatched run: escaped with the prose around it
            i += 1
            continue
        out.append(_prose(value[at : opening.start()]))
        out.append(code(value[opening.end() : closing.start()].strip()))
        at = closing.end()
        i = runs.index(closing) + 1
    out.append(_prose(value[at:]))
    return "".join(out)


def code(value: str) -> str:
    """``value`` as one inline code span on one line, whatever backticks it holds."""
    value = _MARKER.sub("<" + ZWSP, " ".join(value.split())) or " "
    longest = max((len(r) for r in _BACKTICKS.findall(value)), default=0)
    fence = "`" * (longest + 1)
    if value.startswith("`") or value.endswith("`") or (longest and value[0] == value[-1] == " "):
        value = f" {value} "  # CommonMark strips one space each side when both are there
    return f"{fence}{value}{fence}"


def _prose(value: str) -> str:
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    value = _LINK.sub(r"\\]", _PUNCTUATION.sub(r"\\\1", value))
    value = _LEADING.sub("\\\\", value)
    return _MENTION.sub(lambda m: m.group(1) + ZWSP, value)
