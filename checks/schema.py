"""Checks shared by every section of ``.cairn.yml``: unknown keys, globs, type names."""

from __future__ import annotations

import difflib
import fnmatch
import re
from collections.abc import Mapping
from typing import Any


def unknown_keys(
    data: Mapping[Any, Any], known: tuple[str, ...], prefix: str, out: list[str]
) -> None:
    """Add a problem for each key not in ``known``, with the closest known one as a hint."""
    for key in data:
        if key not in known:
            hint = difflib.get_close_matches(str(key), known, n=1)
            suffix = f" (did you mean {hint[0]!r}?)" if hint else f" (known: {', '.join(known)})"
            out.append(f"{prefix}{key}: unknown key{suffix}")


def bad_glob(glob: str) -> bool:
    """Whether a path glob cannot be used (fnmatch accepts an unclosed ``[`` literally)."""
    try:
        re.compile(fnmatch.translate(glob))
    except re.error:
        return True
    return glob.count("[") != glob.count("]")


def type_name(value: Any) -> str:
    """A YAML value's type as a person would name it in an error."""
    return "null" if value is None else type(value).__name__
