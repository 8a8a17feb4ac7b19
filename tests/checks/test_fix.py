"""The fix model, its pieces and its renderings: tables of real inputs."""

from __future__ import annotations

import pytest

from app.publish.render import fix_markdown
from app.report.text import render_review
from checks.config import ConfigError, parse_config
from checks.finding import Finding, Severity
from checks.fix import Edit, EditConflict, Fix, apply_edits
from checks.refactors import restyle
from tests.github_sim.state import suggestions

TEXT = "a\nb\nc\nd\n"


@pytest.mark.parametrize(
    ("edits", "expected"),
    [
        pytest.param([Edit("f", 2, 3, "X")], "a\nX\nd\n", id="two-lines-by-one"),
        pytest.param([Edit("f", 1, 1, "X\nY")], "X\nY\nb\nc\nd\n", id="one-by-two"),
        pytest.param([Edit("f", 2, 2, "")], "a\nc\nd\n", id="delete"),
        pytest.param([Edit("f", 4, 4, "Z"), Edit("f", 1, 1, "A")], "A\nb\nc\nZ\n", id="two"),
    ],
)
def test_apply_edits(edits: list[Edit], expected: str) -> None:
    assert apply_edits(TEXT, edits) == expected


@pytest.mark.parametrize(
    "edits",
    [
        pytest.param([Edit("f", 1, 2, "x"), Edit("f", 2, 3, "y")], id="overlap"),
        pytest.param([Edit("f", 4, 5, "x")], id="past-the-end"),
        pytest.param([Edit("f", 3, 2, "x")], id="backwards"),
    ],
)
def test_bad_edits_are_refused(edits: list[Edit]) -> None:
    with pytest.raises(EditConflict):
        apply_edits(TEXT, edits)


@pytest.mark.parametrize(
    ("name", "style", "expected"),
    [
        ("parseAmount", "snake_case", "parse_amount"),
        ("parse_amount", "camelCase", "parseAmount"),
        ("parse_amount", "PascalCase", "ParseAmount"),
        ("_parseHTTPResponse", "snake_case", "_parse_http_response"),
        ("max_size", "SCREAMING_SNAKE_CASE", "MAX_SIZE"),
        ("Parse_amount", "MixedCaps", "ParseAmount"),
        ("parse_amount", "kebab-case", None),
    ],
)
def test_restyle(name: str, style: str, expected: str | None) -> None:
    assert restyle(name, style) == expected


def test_edited_copy_is_validated() -> None:
    assert parse_config(None).duplication.edited_copy == "notice"
    assert parse_config("duplication: {edited_copy: off}").duplication.edited_copy == "off"
    assert parse_config("duplication: {edited_copy: warning}").duplication.edited_copy == "warning"
    with pytest.raises(ConfigError) as raised:
        parse_config("duplication: {edited_copy: error}")
    assert raised.value.problems == [
        "duplication.edited_copy: must be one of notice, warning, off, not 'error'"
    ]


FIX = Fix("Use `parse` from `a.py`.", (Edit("b.py", 3, 5, "from a import parse as p"),))


def test_a_fix_spanning_the_commented_lines_is_one_suggestion() -> None:
    text = fix_markdown(FIX, "b.py", 3, 5)
    assert suggestions(text) == ["from a import parse as p"]
    assert "<details>" not in text


@pytest.mark.parametrize(
    ("fix", "path", "start", "end"),
    [
        pytest.param(FIX, "b.py", 4, 5, id="other-lines"),
        pytest.param(FIX, "c.py", 3, 5, id="other-file"),
        pytest.param(
            Fix("two", (*FIX.edits, Edit("a.py", 1, 1, "export function parse() {}"))),
            "b.py",
            3,
            5,
            id="two-files",
        ),
        pytest.param(
            Fix("marker", (Edit("b.py", 3, 5, "x = '<!-- cairn:finding 1 -->'"),)),
            "b.py",
            3,
            5,
            id="marker",
        ),
    ],
)
def test_any_other_fix_is_a_collapsed_patch(fix: Fix, path: str, start: int, end: int) -> None:
    text = fix_markdown(fix, path, start, end)
    assert suggestions(text) == []
    assert text.startswith("<details><summary>Fix: ") and text.endswith("</details>")
    assert "<!-- cairn" not in text


def test_code_with_backtick_fences_cannot_close_the_block() -> None:
    fix = Fix("d", (Edit("b.py", 3, 5, 'DOC = """\n```\nnot code\n```\n"""'),))
    [block] = suggestions(fix_markdown(fix, "b.py", 3, 5))
    assert block == 'DOC = """\n```\nnot code\n```\n"""'


def test_the_terminal_shows_the_fix() -> None:
    finding = Finding(
        "duplication", "clone", "b.py", 3, 5, "copy", Severity.WARNING, fingerprint="x", fix=FIX
    )
    out = render_review([finding], source=None, color=False)
    assert (
        "    fix: Use `parse` from `a.py`.\n"
        "      replace b.py:3-5 with\n"
        "      + from a import parse as p\n"
    ) in out
