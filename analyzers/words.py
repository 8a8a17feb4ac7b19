"""A code unit's words, for full-text search: identifiers split into words, docstrings, comments.

``parseIsoDate``, ``parse_iso_date`` and ``ParseISODate`` all give ``parse iso date``: an
agent asking "where do we parse ISO dates?" finds the unit whatever its naming style. Pure and
bounded: at most MAX_CHARS of a unit are read, at most MAX_WORDS words kept.
"""

from __future__ import annotations

import re
from itertools import chain, islice

MAX_CHARS = 64 << 10  # of a unit's text read for words
MAX_WORDS = 2_000  # distinct words kept per unit
MAX_QUERY = 500  # characters of a query
MAX_CACHED = 200_000  # distinct tokens whose words are kept between files
MAX_TOKENS = 16_000  # distinct tokens of one unit read for words

_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
# camelCase, PascalCase and ACRONYMWords boundaries: "parseISODate" → parse, ISO, Date
_PARTS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
# Keywords of the supported languages carry no meaning for a search
_NOISE_WORDS = """
    def class return self cls if else elif for while in is not and or none true false import from
    as with try except finally raise pass yield lambda async await function const let var new
    this null undefined func package struct interface type impl pub fn mut use mod public private
    protected static void int string bool end module begin do then unless namespace using
    """
_NOISE = frozenset(_NOISE_WORDS.split())


def split_identifier(name: str) -> list[str]:
    """The words of one identifier, lower case: ``parseISODate`` → ``parse iso date``."""
    words: list[str] = []
    for piece in name.split("_"):
        words.extend(p.lower() for p in _PARTS.findall(piece))
    return words


def unit_words(name: str, text: str) -> tuple[str, str]:
    """(name words, body words) of a unit: the words of its name, and those of its identifiers,
    docstrings and comments, each distinct word once."""
    return file_words(text[:MAX_CHARS], [(name, 1, text.count("\n") + 1)])[0]


def query_words(query: str) -> list[str]:
    """The words of a search query, identifiers split as in units."""
    out: dict[str, None] = {}
    for token in _TOKEN.findall(query[:MAX_QUERY]):
        for p in split_identifier(token):
            if len(p) > 1:
                out.setdefault(p, None)
    return list(out)[:64]


_SPLIT: dict[str, tuple[str, ...]] = {}  # token → its words, across the files of a process


def file_words(text: str, units: list[tuple[str, int, int]]) -> list[tuple[str, str]]:
    """``unit_words`` of each (name, first line, last line) of one file's ``text``: each line
    is read for tokens once, and each distinct token split once, however the units nest."""
    by_line = [_TOKEN.findall(line) for line in text.split("\n")]
    if len(_SPLIT) > MAX_CACHED:
        _SPLIT.clear()
    for t in set(chain.from_iterable(by_line)).difference(_SPLIT):
        _SPLIT[t] = _token_words(t)
    words_of = _SPLIT.__getitem__
    out: list[tuple[str, str]] = []
    for name, start, end in units:
        head = " ".join(dict.fromkeys(split_identifier(name)))
        distinct = dict.fromkeys(chain.from_iterable(by_line[max(0, start - 1) : end]))
        seen = dict.fromkeys(chain.from_iterable(map(words_of, islice(distinct, MAX_TOKENS))))
        out.append((head, " ".join(islice(seen, MAX_WORDS))))
    return out


def _token_words(token: str) -> tuple[str, ...]:
    """What one token adds to a unit's words: nothing for a keyword; its parts, and the whole
    identifier when it has several."""
    low = token.lower()
    if low in _NOISE:
        return ()
    parts = split_identifier(token)
    whole = (low,) if len(parts) > 1 else ()
    return whole + tuple(p for p in parts if len(p) > 1 and p not in _NOISE)
