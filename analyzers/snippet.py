"""A snippet of code as probes for the index: its functions and classes, or the whole of it.

An agent asks "is there already a function that does this?" with a function, a class, or a few
statements. Outermost units are probed (a method inside a given class is part of the class);
a snippet with no unit at all is probed as one stream of its tokens.
"""

from __future__ import annotations

from analyzers.languages import Language, language_for_path, language_named
from analyzers.parse import parse_source
from analyzers.tokens import scan
from analyzers.units import CodeUnit

MAX_PROBES = 8  # units of one snippet probed at most (the largest)


def snippet_language(language: str | None, path: str | None) -> Language | None:
    """The language a snippet is read as: ``language`` by name (or extension), else by
    ``path``'s extension; None when neither names a supported one."""
    if language:
        name = language.strip().lower().lstrip(".")
        aliases = {
            "py": "python",
            "js": "javascript",
            "ts": "typescript",
            "c#": "csharp",
            "cs": "csharp",
            "rb": "ruby",
            "rs": "rust",
            "golang": "go",
        }
        try:
            return language_named(aliases.get(name, name))
        except KeyError:
            return language_for_path(f"snippet.{name}")
    if path:
        return language_for_path(path)
    return None


def probes(source: bytes, language_name: str, path: str = "snippet") -> list[CodeUnit]:
    """The snippet's outermost units, largest first (at most MAX_PROBES), or one unit of its
    whole token stream when it declares none. The language goes by name: this runs in an
    analysis process, and a language entry does not pickle."""
    language = language_named(language_name)
    parsed = parse_source(path, source, language)
    outer: list[CodeUnit] = []
    for unit in parsed.units:  # in document order: an enclosing unit comes before its insides
        if (
            outer
            and unit.start_line >= outer[-1].start_line
            and unit.end_line <= outer[-1].end_line
        ):
            continue
        outer.append(unit)
    if outer:
        outer.sort(key=lambda u: -u.token_count)
        return outer[:MAX_PROBES]
    tokens = scan(language.parser().parse(source), source, language)
    if not tokens.ids:
        return []
    stop = len(tokens.ids)
    return [
        CodeUnit(
            kind="snippet",
            name="snippet",
            qualname="snippet",
            start_line=1,
            end_line=max(1, parsed.lines),
            tokens=tuple(tokens.ids),
            raw_hash=tokens.raw_hash(0, stop),
            exact_hash=tokens.exact_hash(0, stop),
        )
    ]
