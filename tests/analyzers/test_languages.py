"""The language registry: extensions, names, and node types that exist in each grammar."""

from __future__ import annotations

import pytest

from analyzers.languages import LANGUAGES, Language, language_for_path, language_named


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        pytest.param("billing/dates.py", "python", id="py"),
        pytest.param("typings/stub.pyi", "python", id="pyi"),
        pytest.param("web/app.js", "javascript", id="js"),
        pytest.param("web/app.mjs", "javascript", id="mjs"),
        pytest.param("web/app.cjs", "javascript", id="cjs"),
        pytest.param("web/App.jsx", "javascript", id="jsx"),
        pytest.param("src/retry.ts", "typescript", id="ts"),
        pytest.param("src/types.d.ts", "typescript", id="d.ts"),
        pytest.param("src/mod.mts", "typescript", id="mts"),
        pytest.param("src/mod.cts", "typescript", id="cts"),
        pytest.param("src/Counter.tsx", "tsx", id="tsx"),
        pytest.param("cache/lru.go", "go", id="go"),
        pytest.param("src/main/java/Invoice.java", "java", id="java"),
        pytest.param("src/lib.rs", "rust", id="rust"),
        pytest.param("Shop/Orders.cs", "csharp", id="csharp"),
        pytest.param("lib/invoice.rb", "ruby", id="ruby"),
        pytest.param("LEGACY/OLD.PY", "python", id="upper-case-extension"),
        pytest.param("Makefile", None, id="no-extension"),
        pytest.param("package.json", None, id="json"),
        pytest.param("docs/adr/0001-record.md", None, id="markdown"),
        pytest.param("py", None, id="bare-name"),
        pytest.param(".py/readme", None, id="dot-directory"),
    ],
)
def test_language_for_path(path: str, expected: str | None) -> None:
    language = language_for_path(path)
    assert (language.name if language else None) == expected


def test_language_named() -> None:
    assert language_named("go").extensions == (".go",)
    with pytest.raises(KeyError):
        language_named("cobol")


def test_extensions_are_unique() -> None:
    extensions = [ext for language in LANGUAGES for ext in language.extensions]
    assert len(extensions) == len(set(extensions))


@pytest.mark.parametrize("language", LANGUAGES, ids=lambda language: language.name)
def test_configured_node_types_exist_in_the_grammar(language: Language) -> None:
    grammar = language.grammar_language
    named = {
        grammar.node_kind_for_id(kind)
        for kind in range(grammar.node_kind_count)
        if grammar.node_kind_is_named(kind) and grammar.node_kind_is_visible(kind)
    }
    configured = (
        set(language.units)
        | language.identifiers
        | language.literals
        | language.comments
        | set(language.names)
        | language.calls
    )
    assert configured - named == set()


@pytest.mark.parametrize("language", LANGUAGES, ids=lambda language: language.name)
def test_parser_is_cached_and_parses(language: Language) -> None:
    parser = language.parser()
    assert language.parser() is parser
    assert parser.parse(b"").root_node is not None
