"""Normalised token streams and the two hashes: blind to layout, and blind to names too."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from analyzers.languages import language_for_path
from analyzers.parse import parse_file
from analyzers.tokens import ID, LIT, scan, token_id
from analyzers.units import CodeUnit

FIXTURES = Path(__file__).parent.parent / "fixtures" / "languages"
CLONES = FIXTURES / "python" / "clones"


def stream(path: str, source: bytes) -> str:
    """The whole file's normalised stream, spelled out."""
    language = language_for_path(path)
    assert language is not None
    tokens = scan(language.parser().parse(source), source, language)
    assert len(tokens.texts) == len(tokens.ids) == len(tokens.starts)
    names = {ID: "$ID", LIT: "$LIT"}
    return " ".join(
        names.get(id_, text.decode()) for text, id_ in zip(tokens.texts, tokens.ids, strict=True)
    )


@pytest.mark.parametrize(
    ("path", "source", "expected"),
    [
        pytest.param(
            "a.py",
            b"def f(x):\n    # why\n"
            b"    return f\"{x!r} and {y}\" + 'a' 'b' if x is None else True\n",
            "def $ID ( $ID ) : return $LIT + $LIT if $ID is None else True",
            id="python-fstring-concatenation-keywords",
        ),
        pytest.param(
            "a.py",
            b"x = 1 + \\\n    2.5  # layout only\n",
            "$ID = $LIT + $LIT",
            id="python-line-continuation",
        ),
        pytest.param(
            "a.js",
            b"function f(a) { return `${a}px` + /x+/g.source + 0x1F + null; } // c\n",
            "function $ID ( $ID ) { return $LIT + $LIT . $ID + $LIT + null ; }",
            id="javascript-template-regex-number",
        ),
        pytest.param(
            "a.ts",
            b"function f(a: number): string | null { return a > 1 ? 'big' : null; }\n",
            "function $ID ( $ID : number ) : string | null { return $ID > $LIT ? $LIT : null ; }",
            id="typescript-predefined-types",
        ),
        pytest.param(
            "a.tsx",
            b'const A = () => <div className="x">hi {name}</div>;\n',
            "const $ID = ( ) => < $ID $ID = $LIT > $LIT { $ID } </ $ID > ;",
            id="tsx-jsx",
        ),
        pytest.param(
            "a.go",
            b"package p\nfunc f(s string) bool { return s == \"x\" || 'c' == 2 || nil == nil }\n",
            "package $ID func $ID ( $ID $ID ) $ID { return $ID == $LIT || $LIT == $LIT"
            " || nil == nil }",
            id="go-rune-nil",
        ),
        pytest.param(
            "a.java",
            b"class A { boolean f(String s) { /* c */ return s == null && 'c' == 1.5f; } }\n",
            "class $ID { boolean $ID ( $ID $ID ) { return $ID == null && $LIT == $LIT ; } }",
            id="java-char-float-block-comment",
        ),
        pytest.param(
            "a.rs",
            b"fn f(x: i32) -> bool { /// d\n x == 'a' as i32 || true }\n",
            "fn $ID ( $ID : i32 ) -> bool { $ID == $LIT as i32 || true }",
            id="rust-doc-comment-primitive-type",
        ),
        pytest.param(
            "a.cs",
            b'class A { bool F(string s) { return s == $"v{s}" || s == null; } }\n',
            "class $ID { bool $ID ( string $ID ) { return $ID == $LIT || $ID == null ; } }",
            id="csharp-interpolated-string",
        ),
        pytest.param(
            "a.rb",
            b'def f(x)\n  return nil if x.empty?\n  { key: :sym, "s#{x}" => 1 }\nend\n',
            "def $ID ( $ID ) return nil if $ID . $ID { $ID : $LIT , $LIT => $LIT } end",
            id="ruby-symbols-interpolation",
        ),
    ],
)
def test_normalised_stream(path: str, source: bytes, expected: str) -> None:
    assert stream(path, source) == expected


def test_token_ids_are_crc32_of_the_text() -> None:
    assert token_id(b"return") == zlib.crc32(b"return")
    assert zlib.crc32(b"$ID") == ID
    assert zlib.crc32(b"$LIT") == LIT
    assert all(0 <= token_id(text) < 2**32 for text in (b"", b"(", "é".encode()))


def first_function(name: str) -> CodeUnit:
    parsed = parse_file(name, (CLONES / name).read_bytes())
    assert parsed is not None
    return next(unit for unit in parsed.units if unit.kind != "class")


def test_renamed_clone_same_exact_hash_different_raw_hash() -> None:
    original, renamed = first_function("normpath.py"), first_function("normpath_renamed.py")
    assert original.name != renamed.name
    assert renamed.tokens == original.tokens
    assert renamed.exact_hash == original.exact_hash
    assert renamed.raw_hash != original.raw_hash


def test_layout_and_comments_do_not_change_raw_hash() -> None:
    original, moved = first_function("normpath.py"), first_function("normpath_reformatted.py")
    assert (moved.qualname, moved.kind) == ("Paths.normpath", "method")
    assert moved.start_line != original.start_line
    assert moved.raw_hash == original.raw_hash
    assert moved.exact_hash == original.exact_hash


def test_an_edited_clone_has_other_hashes() -> None:
    original, edited = first_function("normpath.py"), first_function("normpath_edited.py")
    assert edited.raw_hash != original.raw_hash
    assert edited.exact_hash != original.exact_hash


_PROBE = """
import json, sys
from pathlib import Path
from analyzers.parse import parse_file
from analyzers.fingerprint import lsh_bands, minhash
units = []
for path in sys.argv[1:]:
    for unit in parse_file(path, Path(path).read_bytes()).units:
        units.append([unit.tokens[:20], unit.raw_hash, unit.exact_hash,
                      lsh_bands(minhash(unit.tokens))[:4]])
print(json.dumps(units))
"""


def test_ids_hashes_and_bands_are_stable_across_processes() -> None:
    paths = [str(FIXTURES / "python" / "billing_dates.py"), str(FIXTURES / "go" / "cache.go")]
    runs = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", _PROBE, *paths],
            capture_output=True,
            check=True,
            env=env,
            cwd=Path(__file__).parent.parent.parent,
            text=True,
        )
        runs.append(json.loads(done.stdout))
    assert runs[0] == runs[1]
    assert len(runs[0]) == 18


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        pytest.param(
            'def f(x):\n    return ("abc"\n            "def" + x)\n',
            'def f(x):\n  return ("abc"  # why\n    "def" + x)\n',
            True,
            id="implicit-concatenation-reindented",
        ),
        pytest.param(
            'def f(x):\n    return ("abc"\n            "def" + x)\n',
            'def f(x):\n    return ("abc"\n            "dex" + x)\n',
            False,
            id="a-part-changed",
        ),
        pytest.param(
            'def f(x):\n    return """abc\n    def""" + x\n',
            'def f(x):\n    return """abc\n        def""" + x\n',
            False,
            id="whitespace-inside-a-string-is-content",
        ),
    ],
)
def test_layout_between_the_parts_of_a_literal_is_not_content(a: str, b: str, same: bool) -> None:
    first, second = parse_file("a.py", a.encode()), parse_file("a.py", b.encode())
    assert first is not None and second is not None
    assert (first.units[0].raw_hash == second.units[0].raw_hash) is same
    assert first.units[0].exact_hash == second.units[0].exact_hash
