"""Checks shared by every section of ``.cairn.yml``: unknown keys, globs, type names."""

from __future__ import annotations

import difflib
import fnmatch
import re
from collections.abc import Mapping
from typing import Any

import yaml

from analyzers import safeyaml


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


def yaml_lines(text: str) -> dict[str, int]:
    """The 1-based line of every location in a YAML document, by its path as problems name it
    (``patterns``, ``patterns.forbid[0]``, ``patterns.forbid[0].query``); {} if unreadable."""
    try:
        root = safeyaml.compose(text)
    except yaml.YAMLError:
        return {}
    lines: dict[str, int] = {}
    stack: list[tuple[str, yaml.Node]] = [("", root)] if root is not None else []
    while stack:  # no recursion: a deeply nested file is no danger
        path, node = stack.pop()
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                name = f"{path}.{key.value}" if path else str(key.value)
                lines.setdefault(name, key.start_mark.line + 1)
                stack.append((name, value))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                name = f"{path}[{i}]"
                lines.setdefault(name, item.start_mark.line + 1)
                stack.append((name, item))
    return lines
