"""Regexes and tree-sitter queries a repository writes run within bounds."""

from __future__ import annotations

import time

import pytest

from analyzers.adr import parse_adr
from analyzers.constructs import query_lines
from analyzers.languages import language_named
from analyzers.rulebounds import (
    MAX_MESSAGE,
    MAX_QUERIES,
    MAX_QUERY_OPERATORS,
    RuleError,
    compile_query,
    compile_regex,
    matches,
)
from checks.config import ConfigError, parse_config

PYTHON = language_named("python")


def test_a_catastrophic_regex_matches_in_linear_time() -> None:
    pattern = compile_regex(r"(a+)+$")
    started = time.monotonic()
    assert pattern.search("a" * 34 + "!") is None
    assert pattern.search("a" * 100_000 + "!") is None
    assert time.monotonic() - started < 0.5
    assert compile_regex(r"\bprint\(").search("x = print(1)")


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        pytest.param(r"(?<=a)b", "no lookaround", id="lookbehind"),
        pytest.param(r"(a)\1", "no backreferences", id="backreference"),
        pytest.param("a" * 2_000, "longer than", id="too-long"),
        pytest.param(r"\pL{1000}\pL{1000}\pL{1000}", "pattern too large", id="too-big"),
    ],
)
def test_a_regex_re2_cannot_run_is_a_rule_error(pattern: str, why: str) -> None:
    with pytest.raises(RuleError, match=why):
        compile_regex(pattern)


def test_a_query_that_would_take_minutes_to_compile_is_refused_at_once() -> None:
    hostile = "(module " + "(_)* " * 100 + ")"  # minutes of tree_sitter.Query()
    started = time.monotonic()
    with pytest.raises(RuleError, match=f"more than the {MAX_QUERY_OPERATORS}"):
        compile_query(PYTHON.grammar_language, hostile)
    assert time.monotonic() - started < 0.1


@pytest.mark.parametrize(
    "query",
    [
        pytest.param("(identifier) @x" + " " * 3_000, id="too-long"),
        pytest.param('((identifier) @x (#match? @x "(a+)+$"))', id="match-predicate"),
    ],
)
def test_queries_over_the_bounds_are_rule_errors(query: str) -> None:
    with pytest.raises(RuleError):
        compile_query(PYTHON.grammar_language, query)


def test_the_readme_query_still_compiles_and_matches() -> None:
    query = (
        "(call function: (attribute object: (identifier) @o attribute: (identifier) @a)"
        ' (#eq? @o "os") (#eq? @a "system"))'
    )
    source = b"import os\n\nos.system('ls')\nprint(1)\n"
    assert query_lines(PYTHON, query, "a.py", source) == [3]


def test_matching_stops_at_its_deadline_and_says_so() -> None:
    source = ("def f():\n" + "    x = a(b(c(d(e(1)))))\n" * 20_000).encode()
    tree = PYTHON.parser().parse(source)
    query = compile_query(PYTHON.grammar_language, "(call (argument_list (call) @inner)) @outer")
    cut: list[str] = []
    started = time.monotonic()
    found = list(matches(query, tree.root_node, seconds=0.01, on_cut=cut.append))
    assert time.monotonic() - started < 2.0
    assert cut == ["stopped after 0.01 s"]
    assert 0 < len(found) < 80_000


def test_an_adr_with_a_catastrophic_query_or_regex_reports_it_as_a_problem() -> None:
    block = (
        "```cairn\ncairn:\n  forbid:\n"
        f"    - {{query: '(module {'(_)* ' * 60})', language: python}}\n"
        "    - {regex: '(?<=x)y'}\n"
        f"    - {{import: pickle, message: '{'m' * 5_000}'}}\n"
        "```\n"
    )
    adr = parse_adr("docs/adr/0001-x.md", f"# 1. X\n\nStatus: accepted\n\n{block}".encode())
    assert any("quantifiers and alternations" in p for p in adr.problems), adr.problems
    assert any("bad regex" in p for p in adr.problems), adr.problems
    [kept] = adr.constraints
    assert len(kept.message) == MAX_MESSAGE


def test_a_cairn_yml_with_a_catastrophic_query_is_a_config_error() -> None:
    config = (
        "patterns:\n  forbid:\n"
        f"    - {{id: q, paths: ['**'], query: '(module {'(_)* ' * 60})', language: python,"
        " message: m}\n"
    )
    with pytest.raises(ConfigError, match="quantifiers and alternations"):
        parse_config(config)


def test_queries_are_capped_in_number_too() -> None:
    query = "{query: '(call) @c', language: python, message: m}"
    items = "".join(f"    - {query}\n" for _ in range(MAX_QUERIES + 3))
    adr = parse_adr(
        "docs/adr/0001-x.md",
        f"# 1. X\n\nStatus: accepted\n\n```cairn\ncairn:\n  forbid:\n{items}```\n".encode(),
    )
    assert len(adr.constraints) == MAX_QUERIES
    assert sum("queries, not read" in p for p in adr.problems) == 3
    config = "patterns:\n  forbid:\n" + "".join(
        f"    - {{id: q{i}, paths: ['**'], query: '(call) @c', language: python, message: m}}\n"
        for i in range(MAX_QUERIES + 1)
    )
    with pytest.raises(ConfigError, match=f"more than {MAX_QUERIES} queries"):
        parse_config(config)
