"""Units found in real source files of every language, and inputs that must not break parsing."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzers.languages import LANGUAGES
from analyzers.parse import count_lines, parse_file

FIXTURES = Path(__file__).parent.parent / "fixtures" / "languages"

Expected = list[tuple[str, str, int, int]]  # kind, qualname, start line, end line

CASES: list[tuple[str, Expected]] = [
    (
        "python/billing_dates.py",
        [
            ("function", "parse_iso_date", 11, 17),
            ("class", "BillingPeriod", 20, 42),
            ("method", "BillingPeriod.__init__", 23, 27),
            ("method", "BillingPeriod.days", 30, 31),
            ("method", "BillingPeriod.split", 33, 38),
            ("function", "BillingPeriod.split.chunk", 34, 36),
            ("class", "BillingPeriod.Error", 40, 42),
            ("method", "BillingPeriod.Error.describe", 41, 42),
            ("function", "fetch_rates", 45, 47),
            ("function", "is_weekend", 50, 51),
        ],
    ),
    (
        "javascript/cart.js",
        [
            ("function", "totalOf", 4, 10),
            ("function", "discounted", 12, 12),
            ("function", "onAdd", 15, 17),
            ("function", "onClear", 18, 20),
            ("class", "Cart", 23, 43),
            ("method", "Cart.label", 25, 25),
            ("method", "Cart.constructor", 27, 29),
            ("method", "Cart.add", 31, 34),
            ("method", "Cart.empty", 36, 38),
            ("method", "Cart.summary", 40, 42),
            ("function", "render", 45, 47),
        ],
    ),
    (
        "typescript/retry.ts",
        [
            ("class", "RetryOptions", 2, 6),
            ("class", "Outcome", 8, 11),
            ("function", "sleep", 13, 14),
            ("function", "retry", 16, 28),
            ("class", "Backoff", 30, 38),
            ("method", "Backoff.constructor", 31, 31),
            ("method", "Backoff.reset", 35, 37),
            ("class", "LinearBackoff", 40, 44),
            ("method", "LinearBackoff.next", 41, 43),
            ("class", "Internal", 46, 50),
            ("function", "Internal.clamp", 47, 49),
        ],
    ),
    (
        "tsx/Counter.tsx",
        [
            ("function", "Counter", 5, 13),
            ("function", "Counter.increment", 7, 7),
            ("class", "Panel", 15, 19),
            ("method", "Panel.render", 16, 18),
        ],
    ),
    (
        "go/cache.go",
        [
            ("class", "Entry", 10, 13),
            ("class", "Store", 15, 18),
            ("class", "Counters", 22, 22),
            ("class", "LRU", 25, 29),
            ("function", "New", 32, 34),
            ("method", "LRU.Get", 36, 44),
            ("method", "LRU.Len", 46, 48),
            ("function", "expired", 50, 58),
        ],
    ),
    (
        "java/InvoiceService.java",
        [
            ("class", "InvoiceService", 7, 42),
            ("method", "InvoiceService.InvoiceService", 10, 12),
            ("method", "InvoiceService.total", 14, 20),
            ("class", "InvoiceService.TaxTable", 22, 24),
            ("class", "InvoiceService.Line", 26, 32),
            ("method", "InvoiceService.Line.Line", 27, 31),
            ("class", "InvoiceService.Status", 34, 41),
            ("method", "InvoiceService.Status.isFinal", 38, 40),
        ],
    ),
    (
        "rust/ledger.rs",
        [
            ("class", "Account", 6, 9),
            ("class", "Error", 11, 14),
            ("class", "Ledger", 16, 18),
            ("class", "Memory", 20, 22),
            ("class", "Memory", 24, 38),
            ("method", "Memory.new", 25, 27),
            ("method", "Memory.transfer", 29, 37),
            ("class", "Memory", 40, 44),
            ("method", "Memory.balance", 41, 43),
            ("function", "format_cents", 46, 48),
            ("class", "tests", 50, 54),
            ("function", "tests.roundtrip", 51, 53),
        ],
    ),
    (
        "csharp/OrderQueue.cs",
        [
            ("class", "OrderQueue", 7, 33),
            ("method", "OrderQueue.OrderQueue", 11, 14),
            ("method", "OrderQueue.Next", 18, 21),
            ("method", "OrderQueue.Total", 23, 32),
            ("function", "OrderQueue.Total.Sum", 25, 30),
            ("class", "Order", 35, 35),
            ("class", "IShipper", 37, 40),
            ("class", "Parcel", 42, 46),
            ("method", "Parcel.ToString", 45, 45),
            ("class", "Carrier", 48, 48),
        ],
    ),
    (
        "ruby/invoice.rb",
        [
            ("class", "Billing", 4, 36),
            ("class", "Billing.Invoice", 5, 31),
            ("method", "Billing.Invoice.initialize", 8, 11),
            ("method", "Billing.Invoice.add", 13, 16),
            ("method", "Billing.Invoice.total", 18, 20),
            ("method", "Billing.Invoice.blank", 22, 24),
            ("class", "Billing.Invoice.Line", 26, 30),
            ("method", "Billing.Invoice.Line.to_s", 27, 29),
            ("method", "Billing.currency", 33, 35),
            ("function", "format_amount", 38, 40),
        ],
    ),
]


@pytest.mark.parametrize(("path", "expected"), [pytest.param(*case, id=case[0]) for case in CASES])
def test_units_of_a_real_file(path: str, expected: Expected) -> None:
    source = (FIXTURES / path).read_bytes()
    parsed = parse_file(path, source)
    assert parsed is not None
    assert parsed.path == path
    assert parsed.language == path.split("/")[0]
    assert parsed.error_nodes == 0
    assert parsed.lines == source.count(b"\n")
    units = [(u.kind, u.qualname, u.start_line, u.end_line) for u in parsed.units]
    assert units == expected
    for unit in parsed.units:
        assert unit.qualname.rsplit(".", 1)[-1] == unit.name
        assert unit.tokens, unit.qualname
        assert 0 <= unit.raw_hash < 2**63 and 0 <= unit.exact_hash < 2**63


def test_every_language_has_a_fixture() -> None:
    assert {case[0].split("/")[0] for case in CASES} == {lang.name for lang in LANGUAGES}


def test_a_class_holds_the_tokens_of_its_methods() -> None:
    path = "python/billing_dates.py"
    parsed = parse_file(path, (FIXTURES / path).read_bytes())
    assert parsed is not None
    units = {u.qualname: u for u in parsed.units}
    outer, inner = units["BillingPeriod"].tokens, units["BillingPeriod.split"].tokens
    starts = [i for i in range(len(outer)) if outer[i : i + len(inner)] == inner]
    assert starts, "the method's tokens are a slice of its class's"


@pytest.mark.parametrize("path", ["a.js", "a.ts"])
def test_anonymous_default_exports_are_named_default(path: str) -> None:
    source = b"export default class { m() { return 1 } }\nexport default () => [2]\n"
    parsed = parse_file(path, source)
    assert parsed is not None
    units = [(u.kind, u.qualname, u.start_line) for u in parsed.units]
    assert units == [
        ("class", "default", 1),
        ("method", "default.m", 1),
        ("function", "default", 2),
    ]


@pytest.mark.parametrize(
    "source",
    [
        pytest.param(b"items.map((item) => item.id)", id="callback"),
        pytest.param(b"const { a, b } = () => 1", id="destructuring"),
        pytest.param(b"(function () { return 1 })()", id="iife"),
    ],
)
def test_unbound_functions_are_not_units(source: bytes) -> None:
    parsed = parse_file("a.js", source)
    assert parsed is not None and parsed.units == ()


def test_unknown_extension_is_not_parsed() -> None:
    assert parse_file("README.md", b"# Cairn\n") is None


def _nested_python_functions(depth: int) -> bytes:
    lines = [f"{'    ' * level}def f{level}():" for level in range(depth)]
    return ("\n".join(lines) + "\n" + "    " * depth + "return 1\n").encode()


SYNTAX_ERROR = b"def broken(:\n    return (1 +\n\ndef ok():\n    return 2\n"

BAD_INPUTS = [
    pytest.param("a.py", b"", id="python-empty"),
    pytest.param("a.py", b"\n\n   \n", id="python-blank"),
    pytest.param("a.py", SYNTAX_ERROR, id="python-syntax-error"),
    pytest.param("a.py", b"def caf\xe9():\n    return '\xff\xfe'\n", id="python-latin-1"),
    pytest.param("a.py", b"def f():\x00\n    return 1\x00\n", id="python-nul"),
    pytest.param("a.py", b"x = " + b"[" * 5000 + b"]" * 5000 + b"\n", id="python-5000-brackets"),
    pytest.param("a.py", b"x = " + b"(" * 5000 + b"\n", id="python-5000-unclosed"),
    pytest.param("a.py", _nested_python_functions(1000), id="python-1000-nested-functions"),
    pytest.param(
        "a.js",
        b"".join(b"function f%d() {" % i for i in range(1000)) + b"}" * 1000,
        id="js-1000-nested-functions",
    ),
    pytest.param("a.js", b"const x = " + b"{a:" * 5000 + b"1" + b"}" * 5000, id="js-5000-objects"),
    pytest.param("a.ts", b"class A { m( { return } } } ]]] interface", id="ts-garbage"),
    pytest.param("a.tsx", b"export const A = () => <div><span></div>;", id="tsx-bad-jsx"),
    pytest.param("a.go", b"package main\nfunc (", id="go-truncated"),
    pytest.param("a.java", b"class A { void m() { int x = ; } ", id="java-truncated"),
    pytest.param("a.rs", b"fn main() { let x = \xff\xfe; impl }", id="rust-invalid-utf8"),
    pytest.param("a.cs", b"namespace N { class C { void M( } }", id="csharp-broken"),
    pytest.param("a.rb", b"class A\n  def m\n    if x\n  end\n", id="ruby-missing-end"),
    pytest.param("a.rb", bytes(range(256)) * 8, id="ruby-all-bytes"),
]


@pytest.mark.parametrize(("path", "source"), BAD_INPUTS)
def test_bad_input_never_raises(path: str, source: bytes) -> None:
    parsed = parse_file(path, source)
    assert parsed is not None
    assert parsed.lines == count_lines(source)
    for unit in parsed.units:
        assert 1 <= unit.start_line <= unit.end_line <= max(parsed.lines, 1)
        assert isinstance(unit.name, str) and unit.name


def test_syntax_errors_are_counted_and_the_rest_is_indexed() -> None:
    parsed = parse_file("a.py", SYNTAX_ERROR)
    assert parsed is not None
    assert parsed.error_nodes > 0
    assert ("function", "ok", 4, 5) in [
        (u.kind, u.qualname, u.start_line, u.end_line) for u in parsed.units
    ]


def test_a_clean_file_has_no_error_nodes() -> None:
    parsed = parse_file("a.py", b"def ok():\n    return 2\n")
    assert parsed is not None and parsed.error_nodes == 0


def test_deep_nesting_is_walked_to_the_bottom() -> None:
    # JavaScript: tree-sitter-python's indentation scanner itself gives up near 500 levels.
    source = b"".join(b"function f%d() {" % i for i in range(1000)) + b"}" * 1000
    parsed = parse_file("a.js", source)
    assert parsed is not None and parsed.error_nodes == 0
    assert len(parsed.units) == 1000
    assert parsed.units[-1].qualname == ".".join(f"f{level}" for level in range(1000))
    assert [len(u.tokens) for u in parsed.units[:2]] == [1000 * 6, 999 * 6]


def test_bytes_that_are_not_utf8_are_read_as_they_are() -> None:
    valid = parse_file("a.py", b"def f():\n    return 'caf\xc3\xa9'\n")
    latin1 = parse_file("a.py", b"def f():\n    return 'caf\xe9'\n")
    assert valid is not None and latin1 is not None
    assert latin1.error_nodes == 0
    assert [u.tokens for u in latin1.units] == [u.tokens for u in valid.units]
    assert [u.raw_hash for u in latin1.units] != [u.raw_hash for u in valid.units]


@pytest.mark.parametrize(
    ("source", "lines"),
    [
        pytest.param(b"", 0, id="empty"),
        pytest.param(b"x", 1, id="no-newline"),
        pytest.param(b"x\n", 1, id="one"),
        pytest.param(b"x\ny", 2, id="last-without-newline"),
        pytest.param(b"\n\n", 2, id="blank"),
    ],
)
def test_count_lines(source: bytes, lines: int) -> None:
    assert count_lines(source) == lines
