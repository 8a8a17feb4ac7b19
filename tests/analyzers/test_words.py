"""Words of units for full-text search: identifiers split whatever their style."""

from __future__ import annotations

import pytest

from analyzers.words import file_words, query_words, split_identifier


@pytest.mark.parametrize(
    ("name", "words"),
    [
        pytest.param("parse_iso_date", ["parse", "iso", "date"], id="snake"),
        pytest.param("parseIsoDate", ["parse", "iso", "date"], id="camel"),
        pytest.param("ParseISODate", ["parse", "iso", "date"], id="acronym"),
        pytest.param("HTTPServer2", ["http", "server", "2"], id="digits"),
        pytest.param("__init__", ["init"], id="dunder"),
    ],
)
def test_identifiers_split_into_words(name: str, words: list[str]) -> None:
    assert split_identifier(name) == words


SOURCE = '''class Ledger:
    """Money in and out."""

    def parse_iso_date(self, rawValue):
        # accepts timestamps too
        return rawValue

    def total(self):
        return sum(self.entries)
'''


def test_a_unit_has_the_words_of_its_lines_only_and_a_class_those_of_its_methods() -> None:
    ledger, parse, total = file_words(
        SOURCE, [("Ledger", 1, 9), ("parse_iso_date", 4, 6), ("total", 8, 9)]
    )
    assert parse[0] == "parse iso date"
    assert set(parse[1].split()) == {
        "parse_iso_date", "parse", "iso", "date", "rawvalue", "raw", "value", "accepts",
        "timestamps", "too",
    }  # fmt: skip
    assert "entries" in total[1].split() and "parse" not in total[1].split()
    assert {"money", "parse", "entries", "ledger"} <= set(ledger[1].split())
    assert "def" not in ledger[1].split() and "self" not in ledger[1].split()  # keywords


def test_query_words() -> None:
    assert query_words("where do we parse ISO dates?") == [
        "where",
        "do",
        "we",
        "parse",
        "iso",
        "dates",
    ]
    assert query_words("x" * 10_000) == ["x" * 500]
