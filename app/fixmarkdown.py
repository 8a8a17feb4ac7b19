"""A finding's fix in a GitHub comment: a committable suggestion, or the patch, collapsed.

GitHub's ``suggestion`` block replaces exactly the lines a review comment covers (its
``start_line`` to ``line``). A fix becomes one when it is a single edit of the commented file
spanning exactly those lines; any other fix (another file, other lines, several edits) is shown
as the lines each edit writes, in a collapsed ``<details>`` block that applies nothing by
itself. Code goes in fences longer than any backtick run it holds; a fix whose code carries
``<!--`` (which could fake Cairn's hidden markers) is shown with it broken up, and never as a
suggestion, which would commit the change.
"""

from __future__ import annotations

import posixpath
import re

from app import markdown as md
from checks.fix import Edit, Fix

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
