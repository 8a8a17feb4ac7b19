"""The repository's files at one commit, as import resolvers read them.

Resolution needs the file list (an internal import resolves to a file path) and a few
configuration files (``go.mod`` module paths, ``tsconfig.json`` path aliases), which the caller
reads and passes in: nothing here does I/O.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

CONFIG_FILES = ("go.mod", "tsconfig.json")


def join_path(directory: str, rel: str) -> str:
    """``directory``/``rel`` normalised ("" for the repository's root)."""
    joined = posixpath.normpath(posixpath.join(directory, rel))
    return "" if joined == "." else joined


@dataclass(slots=True)
class ProjectFiles:
    """The repository's files at one commit, and the settings resolution reads."""

    paths: frozenset[str]
    go_modules: dict[str, str] = field(default_factory=dict)  # go.mod directory → module path
    ts_paths: list[tuple[str, str, list[str]]] = field(default_factory=list)  # dir, alias, targets
    _suffixes: dict[str, list[str]] = field(default_factory=dict)
    _dirs: dict[str, list[str]] = field(default_factory=dict)
    _dir_suffixes: dict[str, list[str]] = field(default_factory=dict)
    # (language, directory, name) → resolution, for languages that resolve by directory
    resolved: dict[tuple[str, str, str], tuple[str | None, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for path in sorted(self.paths):
            self._dirs.setdefault(posixpath.dirname(path), []).append(path)
            parts = path.split("/")
            for i in range(len(parts)):
                self._suffixes.setdefault("/".join(parts[i:]), []).append(path)
        for directory in sorted(self._dirs):
            parts = directory.split("/")
            for i in range(len(parts)):
                self._dir_suffixes.setdefault("/".join(parts[i:]), []).append(directory)

    @classmethod
    def build(cls, paths: Iterable[str], configs: Mapping[str, bytes] = {}) -> ProjectFiles:
        """Files by path, and ``go.mod``/``tsconfig.json`` contents by path."""
        project = cls(paths=frozenset(paths))
        for path, data in sorted(configs.items()):
            base = posixpath.dirname(path)
            if posixpath.basename(path) == "go.mod":
                found = re.search(rb"^\s*module\s+(\S+)", data, re.M)
                if found:
                    project.go_modules[base] = found.group(1).decode("utf-8", "replace")
            else:
                project.ts_paths.extend(_tsconfig_paths(base, data))
        return project

    def file(self, path: str) -> str | None:
        return path if path in self.paths else None

    def ending(self, suffix: str) -> str | None:
        found = self._suffixes.get(suffix)
        return found[0] if found else None

    def in_dir_ending(self, suffix: str, ext: str) -> str | None:
        """A file with ``ext`` in the first directory whose path ends with ``suffix``."""
        for directory in self._dir_suffixes.get(suffix, []):
            found = self.in_dir(directory, ext)
            if found:
                return found
        return None

    def in_dir(self, directory: str, ext: str) -> str | None:
        for path in self._dirs.get(directory, []):
            if path.endswith(ext) and not path.endswith("_test" + ext):
                return path
        return None


def _tsconfig_paths(base: str, data: bytes) -> list[tuple[str, str, list[str]]]:
    text = data.decode("utf-8", "replace")
    text = re.sub(r"^\s*//.*$", "", text, flags=re.M)
    text = re.sub(r",(\s*[}\]])", r"\1", text)
    try:
        config = json.loads(text)
        options = config.get("compilerOptions") or {}
        root = posixpath.normpath(posixpath.join(base, options.get("baseUrl") or "."))
        paths = options.get("paths") or {}
        return [
            (root, str(alias), [str(t) for t in targets])
            for alias, targets in paths.items()
            if isinstance(targets, list)
        ]
    except (ValueError, AttributeError, TypeError):
        return []  # an unreadable tsconfig: aliases stay unresolved, never a crash
