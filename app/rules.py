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

import argparse
import fnmatch
import json
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from analyzers import safeyaml
from app.errors import CairnError, ConfigError
from app.git import GitRepo
from app.indexer import index_commit
from app.settings import Settings
from app.source import LocalSource
from app.store import Store, database
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


def add_parser(sub: Any) -> None:
    """Register ``cairn rules`` on the CLI's subcommands."""
    p = sub.add_parser("rules", help="conventions mined from the code, with their evidence")
    p.add_argument("--repo", type=Path, default=Path.cwd(), help="repository path (default: .)")
    p.add_argument("--ref", default="HEAD", help="the commit to mine (default: HEAD)")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument(
        "--write",
        action="store_true",
        help=f"write them into the working copy's {CONFIG_FILE} as explicit rules",
    )
    p.set_defaults(run=run)


async def run(args: argparse.Namespace, settings: Settings) -> int:
    git = GitRepo.discover(args.repo)
    commit = git.resolve(args.ref)
    config_path = git.root / CONFIG_FILE  # the working copy's: --write edits it
    _check_config_path(config_path, git.root, writing=args.write)
    text = config_path.read_text(encoding="utf-8") if config_path.is_file() else None
    config = parse_config(text, str(config_path))
    async with database.connect(settings) as pool:
        store = Store(pool)
        repo = await store.repository(f"local:{git.root}", default_branch=git.default_branch())
        await index_commit(store, repo, LocalSource(git), commit, progress_stream=sys.stderr)
        codebase = await load_codebase(store, repo.id)
    rules = mined_rules(codebase, config)
    if args.write:
        tests = test_globs(codebase.files)
        merged = merge_rules(text or "", rules, commit, tests)
        if merged == (text or ""):
            print(f"no new rules to write into {config_path}", file=sys.stderr)
            return 0
        _write(config_path, merged)
        print(f"wrote {len(rules)} rules into {config_path}", file=sys.stderr)
        return 0
    if args.format == "json":
        print(json.dumps({"version": 1, "rules": [r.as_json() for r in rules]}, indent=2))
    else:
        print(render_text(rules, commit), end="")
    return 0


def _check_config_path(path: Path, root: Path, *, writing: bool) -> None:
    """Refuse a ``.cairn.yml`` that is a symbolic link when writing, or that leads out of the
    repository at all: a committed link would have Cairn read or write any file."""
    if not path.is_symlink():
        return
    target = path.resolve()
    outside = not target.is_relative_to(root.resolve())
    if writing or outside:
        where = "outside the repository" if outside else "elsewhere in the repository"
        raise ConfigError(
            [
                f"it is a symbolic link to {target} ({where}): Cairn "
                f"{'writes' if writing else 'reads'} only a plain file"
            ],
            str(path),
        )


def _write(path: Path, text: str) -> None:
    """Write ``text`` to ``path``, never through a symbolic link put there meanwhile."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW
    try:
        fd = os.open(path, flags, 0o644)
    except OSError as exc:
        raise ConfigError([f"cannot write it: {exc.strerror}"], str(path)) from exc
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)


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
