"""The rule languages a repository writes, with bounds: regular expressions and tree-sitter
queries from ADR ``cairn:`` blocks and ``.cairn.yml``.

- A regex runs on RE2 (``google-re2``): matching takes time linear in the line, whatever the
  pattern (``(a+)+$`` against 34 ``a``s and a ``!`` froze Python's ``re``). RE2 has no
  backreferences or lookaround; a pattern that needs them is a problem of the rule, reported
  with the rule. Patterns are capped at ``MAX_REGEX_CHARS`` and compile within ``REGEX_MEMORY``.
- A tree-sitter query is capped in size (``MAX_QUERY_CHARS``) and in the quantifiers and
  alternations that make compiling it explode (``(_)*`` sixty times took seconds,
  a hundred times minutes) and ``#match?`` (Python's backtracking regex on every node) is
  refused; matching stops at ``MATCH_LIMIT`` in-progress matches and at a deadline.
- A message a rule prints is cut to ``MAX_MESSAGE`` characters.

The bounded child process of the App (``app.analysis``) is the last line behind these: a rule
that gets past them still cannot hold the worker.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import re2
import tree_sitter

__all__ = [
    "MATCH_LIMIT",
    "MAX_MESSAGE",
    "MAX_QUERIES",
    "MAX_QUERY_CHARS",
    "MAX_QUERY_OPERATORS",
    "MAX_REGEX_CHARS",
    "QUERY_SECONDS",
    "RuleError",
    "compile_query",
    "compile_regex",
    "matches",
    "message",
]

MAX_REGEX_CHARS = 1_000
REGEX_MEMORY = 8 << 20  # bytes RE2 may use for one compiled pattern
MAX_QUERY_CHARS = 2_000
MAX_QUERY_OPERATORS = 16  # quantifiers (* + ?) and alternations ([ ]) outside strings
MAX_QUERIES = 50  # per decision log, and per .cairn.yml
MATCH_LIMIT = 10_000  # in-progress matches tree-sitter keeps
QUERY_SECONDS = 2.0  # one query's matching over one file
QUERY_SPAN = 16_384  # bytes matched between two looks at the deadline
MAX_MESSAGE = 500

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_OPERATORS = re.compile(r"[*+?\[]")
_MATCH = re.compile(r"#(?:not-)?(?:any-)?match\?")
_PREDICATE = re.compile(r"#[\w-]+[?!]")


class RuleError(ValueError):
    """A regex or query a rule states cannot be used; the message says why (cut short)."""

    def __init__(self, why: str) -> None:
        super().__init__(message(why))


def compile_regex(pattern: str) -> Any:
    """``pattern`` compiled by RE2 (``.search(text)`` like ``re``); RuleError if it cannot be."""
    if len(pattern) > MAX_REGEX_CHARS:
        raise RuleError(f"longer than {MAX_REGEX_CHARS:,} characters")
    options = re2.Options()
    options.max_mem = REGEX_MEMORY
    options.log_errors = False
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        detail = exc.args[0] if exc.args else exc
        if isinstance(detail, bytes):
            detail = detail.decode("utf-8", "replace")
        raise RuleError(f"{detail} (on RE2: no backreferences, no lookaround)") from None


def compile_query(grammar: Any, query: str) -> tree_sitter.Query:
    """``query`` compiled for ``grammar`` (a tree-sitter Language); RuleError if it cannot be
    or is over the bounds."""
    if len(query) > MAX_QUERY_CHARS:
        raise RuleError(f"longer than {MAX_QUERY_CHARS:,} characters")
    bare = _STRING.sub('""', query)
    if _MATCH.search(bare):
        raise RuleError("#match? runs a backtracking regex on every node: use a regex rule")
    operators = len(_OPERATORS.findall(_PREDICATE.sub("", bare)))
    if operators > MAX_QUERY_OPERATORS:
        raise RuleError(
            f"{operators} quantifiers and alternations, more than the {MAX_QUERY_OPERATORS} "
            "Cairn compiles"
        )
    try:
        return tree_sitter.Query(grammar, query)
    except (tree_sitter.QueryError, ValueError) as exc:
        raise RuleError(" ".join(str(exc).split())) from None


def matches(
    query: tree_sitter.Query,
    node: tree_sitter.Node,
    *,
    seconds: float = QUERY_SECONDS,
    on_cut: Callable[[str], None] | None = None,
) -> Iterator[tuple[int, dict[str, list[tree_sitter.Node]]]]:
    """The query's matches under ``node``, within ``MATCH_LIMIT`` and ``seconds``; ``on_cut``
    hears why when matching stopped early.

    The file is matched in byte ranges of ``QUERY_SPAN``, the deadline checked between them
    (tree-sitter's own progress callback crashes py-tree-sitter 0.26 when it fires); a match
    that spans two ranges may come twice.
    """
    cursor = tree_sitter.QueryCursor(query, match_limit=MATCH_LIMIT)
    deadline = time.monotonic() + seconds
    exceeded = False
    for start in range(node.start_byte, max(node.end_byte, node.start_byte + 1), QUERY_SPAN):
        if time.monotonic() > deadline:
            if on_cut is not None:
                on_cut(f"stopped after {seconds:g} s")
            return
        cursor.set_byte_range(start, min(start + QUERY_SPAN, node.end_byte))
        yield from cursor.matches(node)
        exceeded = exceeded or cursor.did_exceed_match_limit
    if exceeded and on_cut is not None:
        on_cut(f"stopped at {MATCH_LIMIT:,} matches in progress")


def message(text: str) -> str:
    """A rule's message, cut to ``MAX_MESSAGE`` characters."""
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"
