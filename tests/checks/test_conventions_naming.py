"""The naming styles a name is consistent with (checks.names.styles_of)."""

from __future__ import annotations

import pytest

from checks.names import CAMEL, KEBAB, MIXED_CAPS, PASCAL, SCREAMING, SNAKE, styles_of


@pytest.mark.parametrize(
    ("name", "language", "expected"),
    [
        pytest.param("parse_date", "python", {SNAKE}, id="snake"),
        pytest.param("_parse_date", "python", {SNAKE}, id="private-snake"),
        pytest.param("_watch__select_end", "python", {SNAKE}, id="doubled-underscore-joins"),
        pytest.param("watch__cursor", "python", {SNAKE}, id="doubled-underscore-inside"),
        pytest.param("parse", "python", {SNAKE, CAMEL, KEBAB}, id="one-word"),
        pytest.param("parseDate", "typescript", {CAMEL}, id="camel"),
        pytest.param("HttpClient", "python", {PASCAL}, id="pascal"),
        pytest.param("MAX_SIZE", "python", {SCREAMING}, id="screaming"),
        pytest.param("MAX__SIZE", "python", {SCREAMING}, id="screaming-doubled"),
        pytest.param("user-card", "typescript", {KEBAB}, id="kebab"),
        pytest.param("ServeHTTP", "go", {MIXED_CAPS}, id="go-exported"),
        pytest.param("parse_Date", "python", set(), id="mixture"),
        pytest.param("parse__Date", "python", set(), id="mixture-doubled"),
        pytest.param("__init__", "python", None, id="dunder"),
        pytest.param("_", "python", None, id="underscore-only"),
    ],
)
def test_styles_of(name: str, language: str, expected: set[str] | None) -> None:
    found = styles_of(name, language)
    assert (None if found is None else set(found)) == expected
