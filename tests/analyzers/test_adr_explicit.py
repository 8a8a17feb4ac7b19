"""The fenced ``cairn`` blocks of a record: found in one linear pass, whatever the body holds."""

from __future__ import annotations

import re
import time

import pytest

from analyzers.adr import parse_adr
from analyzers.adr_explicit import cairn_fences, without_fences

# The pattern Cairn used before (quadratic on many unclosed fences): the reference for the
# ordinary inputs below, where both must agree.
_OLD = re.compile(r"^```\s*cairn\s*$(.*?)^```\s*$", re.MULTILINE | re.DOTALL)

BLOCK = "```cairn\nforbid:\n  - import: requests\n```\n"


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("# T\n\n" + BLOCK + "\nAfter.\n", id="one-block"),
        pytest.param(BLOCK + "text\n" + BLOCK, id="two-blocks"),
        pytest.param("```cairn\n```\n", id="empty-block"),
        pytest.param("```cairn\nforbid: []\n", id="never-closed"),
        pytest.param("```cairn\n```cairn\nforbid: []\n```\n", id="opener-inside"),
        pytest.param("```python\nx = 1\n```\n" + BLOCK, id="other-fence-first"),
        pytest.param("``` cairn \nforbid: []\n```   \nend", id="spaces-around"),
        pytest.param("text ```cairn\nforbid: []\n```\n", id="not-at-line-start"),
        pytest.param("```cairn\nforbid: []\n```", id="no-final-newline"),
    ],
)
def test_the_blocks_are_those_the_old_pattern_found(body: str) -> None:
    old = [(m.start(), m.group(1)) for m in _OLD.finditer(body)]
    new = [(f.start, f.inner) for f in cairn_fences(body)]
    assert [(s, inner.strip("\n")) for s, inner in new] == [(s, i.strip("\n")) for s, i in old]
    blanked = without_fences(body)
    assert blanked.count("\n") == body.count("\n")  # the prose keeps its line numbers
    assert "import: requests" not in blanked or not old


def test_a_block_says_where_it_starts() -> None:
    (fence,) = cairn_fences("# T\n\nSome prose.\n\n" + BLOCK)
    assert (fence.first_line, fence.line_count) == (4, 4)
    assert fence.inner == "forbid:\n  - import: requests\n"


@pytest.mark.parametrize(
    "hostile",
    [
        pytest.param("```cairn\n" * 120_000, id="openers-never-closed"),
        pytest.param("```\n" * 260_000, id="bare-fences"),
        pytest.param("```cairn\n```\n" * 80_000, id="empty-blocks"),
        pytest.param("```" + " " * 1_048_576 + "\n", id="one-long-line"),
        pytest.param("```\n" + "\n" * 1_000_000 + "x", id="fence-then-blank-lines"),
    ],
)
def test_a_hostile_megabyte_is_scanned_in_linear_time(hostile: str) -> None:
    assert len(hostile) >= 1_000_000
    started = time.perf_counter()
    fences = cairn_fences(hostile)
    blanked = without_fences(hostile)
    # Linear: ~0.3 s on an idle core; the quadratic pattern took 55 s on 180 KB. The bound
    # leaves room for a loaded machine.
    assert time.perf_counter() - started < 5.0
    assert blanked.count("\n") == hostile.count("\n")
    assert len(fences) in (0, 80_000)


def test_a_record_of_unclosed_fences_is_read_quickly() -> None:
    data = b"# 1. Use httpx\n\n## Status\n\nAccepted\n\n" + b"```cairn\n" * 200_000
    started = time.perf_counter()
    adr = parse_adr("docs/adr/0001-use-httpx.md", data)
    assert time.perf_counter() - started < 5.0
    assert adr.status == "accepted"
    assert any("read in part" in p for p in adr.problems)
