"""Inline suppressions: a ``cairn: ignore[rule-id] reason`` comment, in the language's syntax.

Only comment nodes count (the language's ``comments`` node types), so the phrase inside a
string literal silences nothing. A suppression covers findings that start on its own line (a
trailing comment) or on the next line (a comment above a line or a unit's header).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from analyzers.languages import language_for_path, node_text

_MARK = re.compile(r"cairn:\s*ignore\[([^\]]*)\]\s*(.*)")


@dataclass(frozen=True, slots=True)
class Suppression:
    """One ``cairn: ignore[...]`` comment."""

    line: int  # 1-based line of the comment
    rules: tuple[str, ...]  # "patterns/layer", "layer", "duplication", ...
    reason: str

    def covers(self, check: str, rule: str, start_line: int) -> bool:
        """Whether this comment silences a finding of ``check``/``rule`` starting there."""
        if start_line not in (self.line, self.line + 1):
            return False
        return any(r in (f"{check}/{rule}", rule, check) for r in self.rules)


def suppressions(path: str, source: bytes) -> list[Suppression]:
    """The ``cairn: ignore[...]`` comments of a file; [] for an unsupported language."""
    if b"cairn:" not in source:
        return []
    language = language_for_path(path)
    if language is None:
        return []
    tree = language.parser().parse(source)
    found: list[Suppression] = []
    cursor = tree.walk()
    visited_children = False
    while True:  # iterative pre-order walk: deep nesting is no danger
        node = cursor.node
        if not visited_children and node is not None and node.type in language.comments:
            text = node_text(node)
            for offset, line in enumerate(text.splitlines()):
                mark = _MARK.search(line)
                if mark:
                    rules = tuple(r.strip() for r in mark.group(1).split(",") if r.strip())
                    reason = mark.group(2).strip().removesuffix("*/").strip()
                    found.append(Suppression(node.start_point.row + 1 + offset, rules, reason))
            visited_children = True  # a comment has nothing inside worth reading
        if not visited_children and cursor.goto_first_child():
            continue
        if cursor.goto_next_sibling():
            visited_children = False
            continue
        if not cursor.goto_parent():
            break
        visited_children = True
    return found
