"""One escaping for everything Cairn posts: hostile text renders as written, and nothing more."""

from __future__ import annotations

import re

import pytest

from app.markdown import ZWSP, code, text

HOSTILE = [
    pytest.param("<img src=x onerror=alert(1)>", id="html-image"),
    pytest.param("<details><summary>x</summary>hidden</details>", id="html-block"),
    pytest.param("![t](https://tracker.example/p.gif)", id="markdown-image"),
    pytest.param("[click](javascript:alert(1))", id="markdown-link"),
    pytest.param("[a `b` c](https://evil.example)", id="link-around-a-code-span"),
    pytest.param("[x][ref]", id="reference-link"),
    pytest.param("cc @org/team and @alice", id="mentions"),
    pytest.param("<!-- cairn:finding deadbeef -->", id="fake-marker"),
    pytest.param("line one\n# heading\n| a | b |", id="newlines"),
    pytest.param("`a` ``b` `` ` dangling", id="backticks"),
    pytest.param("fixes #12 and org/repo#3", id="issue-references"),
]


def _visible(markdown: str) -> str:
    """What GitHub shows, roughly: entities and backslash escapes undone, fences dropped."""
    out = re.sub(r"\\(.)", r"\1", markdown)
    out = out.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return out.replace(ZWSP, "")


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_prose_cannot_make_html_links_images_mentions_or_markers(value: str) -> None:
    out = text(value)

    assert "\n" not in out
    assert "<" not in out.replace("<" + ZWSP + "!--", "")  # no raw tag, no hidden comment
    assert "<!--" not in out
    assert not re.search(r"(?<!\\)\]\(", out), out  # no link or image can close
    assert not re.search(r"(?<!\\)\]\[", out), out
    assert not re.search(r"@[A-Za-z0-9]", out), out  # nobody is notified
    assert not re.search(r"#[0-9]", out), out  # no issue is cross-referenced


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        pytest.param("use `parse_iso_date` in `billing/dates.py`", None, id="code-spans-kept"),
        pytest.param("patterns.layers[0].paths: must list", None, id="brackets-kept"),
        pytest.param("a_b_c and 3 * 4", "a_b_c and 3 * 4", id="punctuation"),
        pytest.param("R&D <team>", "R&D <team>", id="entities"),
    ],
)
def test_ordinary_text_reads_as_written(value: str, shown: str | None) -> None:
    out = text(value)
    if shown is None:
        assert out == value
    else:
        assert _visible(out) == shown


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("billing/dates.py", id="plain"),
        pytest.param("we`ird.py", id="one-backtick"),
        pytest.param("a``b```c", id="backtick-runs"),
        pytest.param("`edge`", id="backticks-at-the-ends"),
        pytest.param("<!-- cairn:finding x -->", id="marker"),
        pytest.param("a\nb", id="newline"),
    ],
)
def test_a_code_span_holds_whatever_it_is_given(value: str) -> None:
    out = code(value)
    fence = re.match(r"`+", out)
    assert fence is not None
    inner = out[len(fence.group()) : -len(fence.group())]
    assert out.endswith(fence.group())
    assert fence.group() not in inner  # nothing inside can close the span early
    assert "\n" not in out and "<!--" not in out
    assert inner.strip().replace(ZWSP, "") == " ".join(value.split())
