"""Unified diffs produced by real git (tests/fixtures/diffs/make.sh recreates them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzers.diff import FileDiff, parse_patch, parse_unified_diff

DIFFS = Path(__file__).parent.parent / "fixtures" / "diffs"


def read(name: str) -> str:
    # Bytes, then decode: text mode would turn the CRLF file's "\r\n" into "\n".
    return (DIFFS / name).read_bytes().decode("utf-8")


PULL_REQUEST = [
    FileDiff(None, ".gitmodules", "added", added=((1, 3),)),
    FileDiff(None, "assets/logo copy.bin", "added", binary=True),
    FileDiff("billing/constants.py", "billing/consts.py", "renamed"),
    FileDiff(
        "billing/loader.py", "billing/loading.py", "renamed", added=((6, 6),), removed=((6, 6),)
    ),
    FileDiff(
        "billing/money.py",
        "billing/money.py",
        "modified",
        added=((4, 4), (8, 10)),
        removed=((4, 4), (8, 13)),
    ),
    FileDiff("billing/obsolete.py", None, "deleted", removed=((1, 2),)),
    FileDiff("crlf.txt", "crlf.txt", "modified", added=((2, 2),), removed=((2, 2),)),
    FileDiff(None, "docs/café.py", "added", added=((1, 2),)),
    FileDiff(
        "docs/meeting notes.md",
        "docs/meeting notes.md",
        "modified",
        added=((3, 4),),
        removed=((3, 3),),
    ),
    FileDiff(
        "docs/résumé final.py",
        "docs/résumé final.py",
        "modified",
        added=((2, 2),),
        removed=((2, 2),),
    ),
    FileDiff(None, "empty.py", "added"),
    FileDiff("logo.png", "logo.png", "modified", binary=True),
    FileDiff("no_newline.py", "no_newline.py", "modified", added=((1, 1),), removed=((1, 1),)),
    FileDiff("run.sh", "run.sh", "modified"),
    FileDiff(None, "vendor/sub", "added", submodule=True),
]


def test_pull_request_diff() -> None:
    assert parse_unified_diff(read("pull_request.diff")) == PULL_REQUEST


@pytest.mark.parametrize(
    ("path", "expected"),
    [pytest.param(diff.path, diff, id=diff.path) for diff in PULL_REQUEST],
)
def test_each_file_of_the_pull_request(path: str, expected: FileDiff) -> None:
    found = {diff.path: diff for diff in parse_unified_diff(read("pull_request.diff"))}
    assert found[path] == expected


def test_context_lines_give_the_same_ranges() -> None:
    (with_context,) = parse_unified_diff(read("context.diff"))
    money = next(diff for diff in PULL_REQUEST if diff.path == "billing/money.py")
    assert with_context == money


def test_copy() -> None:
    assert parse_unified_diff(read("copy.diff")) == [
        FileDiff("billing/money.py", "billing/money_copy.py", "copied", added=((11, 11),))
    ]


@pytest.mark.parametrize("text", ["", "\n", "commit 3946f15\nAuthor: someone\n"])
def test_nothing_to_parse(text: str) -> None:
    assert parse_unified_diff(text) == []


@pytest.mark.parametrize(
    ("header", "old", "new"),
    [
        pytest.param(
            '"a/tab\\there.py" "b/tab\\there.py"', "tab\there.py", "tab\there.py", id="tab"
        ),
        pytest.param(
            '"a/caf\\303\\251 \\"q\\".py" "b/caf\\303\\251 \\"q\\".py"',
            'café "q".py',
            'café "q".py',
            id="octal-and-quote",
        ),
        pytest.param(
            "a/with space.bin b/with space.bin", "with space.bin", "with space.bin", id="space"
        ),
        pytest.param('a/plain.bin "b/new\\tname.bin"', "plain.bin", "new\tname.bin", id="mixed"),
    ],
)
def test_paths_from_the_diff_header(header: str, old: str, new: str) -> None:
    # A binary modification has no ---/+++ lines: the header is all there is.
    text = f"diff --git {header}\nindex 1..2 100644\nBinary files differ\n"
    (diff,) = parse_unified_diff(text)
    assert (diff.old_path, diff.new_path, diff.binary) == (old, new, True)


def test_lines_that_look_like_headers_inside_a_hunk() -> None:
    text = (
        "diff --git a/x.md b/x.md\n"
        "--- a/x.md\n"
        "+++ b/x.md\n"
        "@@ -1,2 +1,2 @@\n"
        "--- old\n"
        "-diff --cc\n"
        "+++ new\n"
        "+@@ -9 +9 @@\n"
    )
    (diff,) = parse_unified_diff(text)
    assert (diff.old_path, diff.new_path) == ("x.md", "x.md")
    assert (diff.added, diff.removed) == (((1, 2),), ((1, 2),))


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        pytest.param(1, 3, False, id="before"),
        pytest.param(1, 4, True, id="reaches-first"),
        pytest.param(4, 4, True, id="exactly"),
        pytest.param(5, 7, False, id="between"),
        pytest.param(9, 20, True, id="overlaps-second"),
        pytest.param(7, 12, True, id="covers-second"),
        pytest.param(11, 30, False, id="after"),
    ],
)
def test_touches(start: int, end: int, expected: bool) -> None:
    diff = FileDiff("a.py", "a.py", "modified", added=((4, 4), (8, 10)))
    assert diff.touches(start, end) is expected


def test_a_deletion_touches_nothing() -> None:
    deleted = next(diff for diff in PULL_REQUEST if diff.status == "deleted")
    assert deleted.path == "billing/obsolete.py"
    assert not deleted.touches(1, 1000)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param('diff --git a/x"\n', id="stray-quote"),
        pytest.param("diff --git \n@@ -a +b @@\n+x\n", id="bad-hunk-header"),
        pytest.param('diff --git "a/unterminated\\\n', id="unterminated-quote"),
        pytest.param("diff --git a/x b/x\n@@ -1,5 +1,5 @@\n-a\n", id="hunk-cut-short"),
        pytest.param("diff --git a/x b/x\n@@@ -1 -1 +1 @@@\n- a\n", id="combined-diff"),
    ],
)
def test_malformed_input_never_raises(text: str) -> None:
    (diff,) = parse_unified_diff(text)
    assert diff.status == "modified"


def test_parse_patch_from_the_pull_request_files_api() -> None:
    # The shape GitHub's "list pull request files" returns in `patch`: hunks with context.
    patch = (
        "@@ -1,4 +1,6 @@\n"
        " import os\n"
        "+import sys\n"
        " \n"
        " def main():\n"
        "-    pass\n"
        "+    run(sys.argv)\n"
        "+    return 0\n"
        "@@ -20,2 +22,3 @@ def tail():\n"
        "     a = 1\n"
        "+    b = 2\n"
        "     return a"
    )
    diff = parse_patch(patch, old_path="app.py", new_path="app.py", status="modified")
    assert diff.added == ((2, 2), (5, 6), (23, 23))
    assert diff.removed == ((4, 4),)
    assert diff.hunks == ((1, 6), (22, 24))
    assert diff.touches(5, 5) and not diff.touches(7, 21)


def test_parse_patch_of_a_submodule_adds_no_lines() -> None:
    # GitHub's patch for a gitlink: git's "Subproject commit" line, not a file's content
    patch = "@@ -1 +1 @@\n-Subproject commit " + "5" * 40 + "\n+Subproject commit " + "6" * 40
    diff = parse_patch(patch, old_path="vendor/lib", new_path="vendor/lib", status="modified")
    assert diff.submodule
    assert (diff.added, diff.removed, diff.hunks) == ((), (), ())
    plain = parse_patch("@@ -0,0 +1 @@\n+x = 1", old_path=None, new_path="a.py", status="added")
    assert not plain.submodule


def test_parse_patch_for_an_added_and_a_removed_file() -> None:
    added = parse_patch("@@ -0,0 +1,2 @@\n+a\n+b", old_path=None, new_path="n.py", status="added")
    assert (added.old_path, added.new_path, added.added, added.hunks) == (
        None,
        "n.py",
        ((1, 2),),
        ((1, 2),),
    )
    gone = parse_patch(
        "@@ -1,2 +0,0 @@\n-a\n-b", old_path="o.py", new_path="o.py", status="removed"
    )
    assert (gone.status, gone.new_path, gone.removed, gone.hunks) == (
        "deleted",
        None,
        ((1, 2),),
        (),
    )
