"""``cairn rules``: the conventions mined from a repository, listed with their evidence, or
written into ``.cairn.yml`` as explicit rules a team can review, edit or delete.

``--write`` merges into the working copy's ``.cairn.yml`` as text, so its comments and layout
stay as they were: the new rules are appended to the ``prefer``/``forbid``/``naming``/
``structure`` lists of its ``patterns:`` section (each list and the section are created when
missing), one flow mapping a line, under a comment saying where they came from. The result is
parsed again before it is written; a file Cairn cannot merge into safely (a ``patterns:``
section in flow style, say) is left untouched and the rules are printed for pasting instead.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Sequence
from typing import Any

import yaml

from analyzers import safeyaml
from app.errors import CairnError, ConfigError
from app.store import Store
from checks.config import CONFIG_FILE, CairnConfig, parse_config
from checks.context import Codebase
from checks.conventions import (
    DIRECTION,
    NAMING,
    STRUCTURE,
    TEST_GLOBS,
    WRAPPED,
    Convention,
    mine,
)
from checks.conventions_check import covered
from checks.patterns_config import PatternsConfig


async def load_codebase(store: Store, repo_id: int) -> Codebase:
    """What mining reads from the index at its indexed tree."""
    return Codebase(
        files=tuple(await store.source_files(repo_id)),
        imports=tuple(await store.imports(repo_id)),
        declarations=tuple(await store.declarations(repo_id)),
    )


def wants_codebase(patterns: PatternsConfig) -> bool:
    """Whether a review must load the codebase (mining on, or naming/structure rules)."""
    return patterns.conventions.enabled or bool(patterns.naming or patterns.structure)


def mined_rules(codebase: Codebase, config: CairnConfig) -> list[Convention]:
    """The mined conventions that no configured rule states yet."""
    return [
        r for r in mine(codebase, config.patterns.conventions) if not covered(r, config.patterns)
    ]


def render_text(rules: Sequence[Convention], commit: str) -> str:
    if not rules:
        return f"no conventions mined at {commit[:10]}\n"
    lines = [f"{len(rules)} conventions mined at {commit[:10]}:", ""]
    for r in rules:
        lines.append(f"{r.kind}  {r.id}")
        lines.append(f"  {r.description}")
        for e in r.examples:
            lines.append(f"    e.g. {e.path}:{e.line}")
        lines.append("")
    return "\n".join(lines)


# --- writing -------------------------------------------------------------------------------


def test_globs(files: Sequence[str]) -> tuple[str, ...]:
    """The test globs (mining's ``TEST_GLOBS``) that match a file of the repository: written
    prefer and forbid rules exclude them, as the mined ones did."""
    return tuple(g for g in TEST_GLOBS if any(fnmatch.fnmatchcase(f, g) for f in files))


def as_config(rule: Convention, tests: Sequence[str] = ()) -> tuple[str, dict[str, Any]]:
    """The explicit rule (``patterns.<list>`` entry) that states ``rule``."""
    if rule.kind == WRAPPED:
        return "prefer", {
            "id": rule.id,
            "use": rule.wrapper,
            "instead_of": [rule.package],
            "exclude": [rule.wrapper, *tests],
            "message": f"{rule.wrapper} wraps {rule.package} (imported by {rule.count} files).",
        }
    if rule.kind == DIRECTION:
        return "forbid", {
            "id": rule.id,
            "paths": [f"{rule.target}/*"],
            "exclude": list(tests),
            "imports": [f"{rule.source}/*"],
            "message": (
                f"{rule.source} imports {rule.target} ({rule.count} imports); "
                f"an import back would make them a cycle."
            ),
        }
    if rule.kind == NAMING:
        return "naming", {
            "id": rule.id,
            "directory": rule.directory,
            "kind": rule.unit_kind,
            "style": rule.style,
            "language": rule.language,
        }
    assert rule.kind == STRUCTURE
    key, _, value = rule.trait.partition(":")
    return "structure", {
        "id": rule.id,
        "directory": rule.directory,
        "kind": rule.unit_kind,
        "language": rule.language,
        key: value,
    }


_LISTS = ("prefer", "forbid", "naming", "structure")


def merge_rules(
    text: str, rules: Sequence[Convention], commit: str, tests: Sequence[str] = ()
) -> str:
    """``text`` with ``rules`` appended to its ``patterns:`` lists; comments kept.

    Raises ConfigError when the file cannot be merged into safely.
    """
    if not rules:
        return text
    entries: dict[str, list[str]] = {k: [] for k in _LISTS}
    for rule in rules:
        key, item = as_config(rule, tests)
        entries[key].append(_flow(item))
    note = f"# mined by `cairn rules --write` at {commit[:10]}: review, edit or delete"
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if re.match(r"patterns\s*:", line)), None)
    if start is None:
        block = ["patterns:"]
        for key in _LISTS:
            if entries[key]:
                block += [f"  {key}:", f"    {note}"] + [f"    - {e}" for e in entries[key]]
        merged = "\n".join([*lines, *([""] if lines and lines[-1].strip() else []), *block])
    else:
        if lines[start].split(":", 1)[1].split("#", 1)[0].strip():
            raise ConfigError(
                ["patterns: is written inline; add the rules by hand (cairn rules shows them)"],
                CONFIG_FILE,
            )
        merged = "\n".join(_merge_block(lines, start, entries, note))
    merged += "\n"
    parse_config(merged)  # must still be valid, or nothing is written
    if safeyaml.load(merged) is None:
        raise CairnError("merging the rules produced an empty file")
    return merged


def _merge_block(
    lines: list[str], start: int, entries: dict[str, list[str]], note: str
) -> list[str]:
    end = start + 1
    while end < len(lines) and (not lines[end].strip() or lines[end][:1] in (" ", "\t", "#")):
        end += 1
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1  # blank lines after the section stay after it
    body = lines[start + 1 : end]
    indent = next(
        (len(b) - len(b.lstrip()) for b in body if b.strip() and not b.lstrip().startswith("#")),
        2,
    )
    pad = " " * indent
    out = list(body)
    for key in _LISTS:
        if not entries[key]:
            continue
        at = next((i for i, b in enumerate(out) if re.match(rf"{pad}{key}\s*:\s*(#.*)?$", b)), None)
        if at is None:
            if any(re.match(rf"{pad}{key}\s*:", b) for b in out):
                raise ConfigError(
                    [f"patterns.{key} is written inline; add the rules by hand"], CONFIG_FILE
                )
            out += [f"{pad}{key}:", f"{pad}  {note}"] + [f"{pad}  - {e}" for e in entries[key]]
            continue
        stop = at + 1
        while stop < len(out) and (not out[stop].strip() or _deeper(out[stop], indent)):
            stop += 1
        while stop > at + 1 and not out[stop - 1].strip():
            stop -= 1
        items = [b for b in out[at + 1 : stop] if b.lstrip().startswith("- ")]
        item_pad = items[0][: len(items[0]) - len(items[0].lstrip())] if items else pad + "  "
        out[stop:stop] = [f"{item_pad}{note}"] + [f"{item_pad}- {e}" for e in entries[key]]
    return [*lines[: start + 1], *out, *lines[end:]]


def _deeper(line: str, indent: int) -> bool:
    stripped = line.lstrip()
    depth = len(line) - len(stripped)
    return depth > indent or (depth == indent and stripped.startswith("- "))


def _flow(item: dict[str, Any]) -> str:
    text: str = yaml.safe_dump(item, default_flow_style=True, sort_keys=False, width=10_000)
    return text.strip()
