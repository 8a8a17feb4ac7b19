"""The registry of languages: which entry of ``analyzers.lang`` reads a file.

Adding a language is one module in ``analyzers/lang/`` defining its ``Language`` entry, its
line here, and its row in the tests' table of samples (``tests/analyzers/test_languages.py``);
the README's "Adding a language" says what each field means.
"""

from __future__ import annotations

from analyzers.lang.csharp import CSHARP
from analyzers.lang.go import GO
from analyzers.lang.java import JAVA
from analyzers.lang.javascript import JAVASCRIPT, TSX, TYPESCRIPT
from analyzers.lang.language import (
    CLASS,
    FUNCTION,
    METHOD,
    MODULE,
    Ecosystem,
    Language,
    Namer,
    node_text,
)
from analyzers.lang.python import PYTHON
from analyzers.lang.ruby import RUBY
from analyzers.lang.rust import RUST

__all__ = [
    "CLASS",
    "ECOSYSTEMS",
    "FUNCTION",
    "LANGUAGES",
    "METHOD",
    "MODULE",
    "Ecosystem",
    "Language",
    "Namer",
    "language_called",
    "language_for_path",
    "language_named",
    "node_text",
]

LANGUAGES: tuple[Language, ...] = (
    PYTHON,
    JAVASCRIPT,
    TYPESCRIPT,
    TSX,
    GO,
    JAVA,
    RUST,
    CSHARP,
    RUBY,
)

# The package ecosystems of the languages, each once (JavaScript's dialects share npm).
ECOSYSTEMS: tuple[Ecosystem, ...] = tuple(
    {id(lang.ecosystem): lang.ecosystem for lang in LANGUAGES}.values()
)

_BY_EXTENSION = {ext: language for language in LANGUAGES for ext in language.extensions}
_BY_NAME = {language.name: language for language in LANGUAGES}


def language_for_path(path: str) -> Language | None:
    """The language of a file, by its extension (``PurePosixPath.suffix``, without building a
    path object: this runs for every file of a tree and every declaration mined)."""
    name = path.rstrip("/").rsplit("/", 1)[-1]
    dot = name.rfind(".")
    if dot <= 0 or dot == len(name) - 1:
        return None
    return _BY_EXTENSION.get(name[dot:].lower())


def language_named(name: str) -> Language:
    """The language called ``name``; KeyError for an unknown one."""
    return _BY_NAME[name]


def language_called(name: str) -> Language | None:
    """The language called ``name``; None for an unknown one (or "", any language)."""
    return _BY_NAME.get(name)
