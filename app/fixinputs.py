"""What fixes and sibling copies read beyond the head files, gathered before the checks run.

* base files: the previous version of each edited file (the sibling finding's small diff),
  the originals of exact and renamed copies (the clone fix) and the modules ``prefer`` rules
  name (the import fix) — at most MAX_FILES files and MAX_BYTES bytes;
* the internal import graph at base (a Python clone fix must not create an import cycle);
* co-change: how often each changed file changed together with other files in the last
  MAX_COMMITS commits of the git log, read within a time cap (a local checkout: the CLI and
  the Action), or in the merged pull requests the App recorded (``pull_requests``).
"""

from __future__ import annotations

import asyncio
import logging
import subprocess
from collections import Counter
from collections.abc import Sequence

from analyzers.diff import FileDiff
from analyzers.files import skip_reason
from app.source import LocalSource, Source
from app.store import Repository, Store
from app.store import history as recorded
from checks.config import CairnConfig
from checks.context import ChangedUnit, LocatedUnit
from checks.fix import FixInputs

logger = logging.getLogger(__name__)

MAX_FILES = 200
MAX_BYTES = 16 << 20
MAX_COMMITS = 500  # of history read for co-change
MAX_FILES_PER_COMMIT = 100  # a larger commit (a mass rename, a reformat) says nothing
HISTORY_SECONDS = 5.0
MAX_COPIES_READ = 20  # copies of one edited unit whose file is read
_JS_EXTS = (".ts", ".tsx", ".js", ".jsx", ".mjs", "/index.ts", "/index.js")


async def fix_inputs(
    store: Store,
    repo: Repository,
    source: Source,
    base: str,
    diffs: Sequence[FileDiff],
    units: Sequence[ChangedUnit],
    candidates: Sequence[Sequence[LocatedUnit]],
    previous_candidates: Sequence[Sequence[LocatedUnit]],
    config: CairnConfig,
) -> FixInputs:
    """The base files, import graph and co-change counts for this change."""
    wanted: list[str] = []
    for diff in diffs:
        edited = any(cu.path == diff.new_path and cu.previous is not None for cu in units)
        if diff.old_path is not None and edited:
            wanted.append(diff.old_path)
    # The copies of edited units (whether they still hold the edited lines), then the copies'
    # originals of new units.
    for found in previous_candidates:
        wanted += [c.path for c in found[:MAX_COPIES_READ]]
    python_copy = False
    for cu, found in zip(units, candidates, strict=True):
        for rank, cand in enumerate(found):
            # Exact and renamed copies; and the best candidates, which may differ from the
            # unit only by a docstring or comments.
            if cand.unit.exact_hash == cu.unit.exact_hash or rank < 3:
                wanted.append(cand.path)
                python_copy |= cand.path.endswith(".py")
    for rule in config.patterns.prefer:
        stem = rule.use.replace(".", "/")
        wanted += [
            f"{root}{stem}{ext}" for root in ("", "src/", "lib/") for ext in (".py", "/__init__.py")
        ]
        wanted += [rule.use + ext for ext in _JS_EXTS]
    sources = await _read(source, base, wanted)
    graph: dict[str, tuple[str, ...]] = {}
    if python_copy:
        edges: dict[str, list[str]] = {}
        for imp in await store.imports(repo.id):
            if imp.internal is not None:
                edges.setdefault(imp.path, []).append(imp.internal)
        graph = {k: tuple(v) for k, v in edges.items()}
    cochange: dict[str, dict[str, int]] = {}
    changed = sorted({cu.path for cu in units if cu.previous is not None})
    if changed and isinstance(source, LocalSource):
        cochange = await asyncio.to_thread(_git_cochange, source, base, changed)
    elif changed:  # the App: the merged pull requests it recorded
        merged = await recorded.touching(store.pool, repo.id, changed)
        cochange = _counted(changed, [pr.files for pr in merged])
    return FixInputs(base_sources=sources, imports=graph, cochange=cochange)


async def _read(source: Source, base: str, paths: Sequence[str]) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    total = 0
    for path in dict.fromkeys(paths):
        if len(out) >= MAX_FILES:
            break
        data = await source.file_at(base, path)
        if data is None or skip_reason(path, len(data), data[:8192]) is not None:
            continue
        if total + len(data) > MAX_BYTES:
            break
        total += len(data)
        out[path] = data
    return out


def _git_cochange(
    source: LocalSource, base: str, changed: Sequence[str]
) -> dict[str, dict[str, int]]:
    """changed path → other path → commits among the last MAX_COMMITS that changed both."""
    args = [
        "git", "-C", str(source.git.root), "log", "--no-merges", "--no-renames",
        f"-n{MAX_COMMITS}", "--name-only", "--format=%x1e", base,
    ]  # fmt: skip
    try:
        out = subprocess.run(
            args, capture_output=True, timeout=HISTORY_SECONDS, check=True, start_new_session=True
        ).stdout.decode("utf-8", "replace")
    except (subprocess.SubprocessError, OSError) as exc:
        logger.warning("co-change history not read: %s", exc)
        return {}
    records = [[f for f in r.split("\n") if f.strip()] for r in out.split("\x1e")]
    return _counted(changed, records)


def _counted(changed: Sequence[str], changes: Sequence[Sequence[str]]) -> dict[str, dict[str, int]]:
    """changed path → other path → how many of ``changes`` (file lists) hold both."""
    wanted = set(changed)
    counts: dict[str, Counter[str]] = {p: Counter() for p in changed}
    for files in changes:
        if len(files) > MAX_FILES_PER_COMMIT:
            continue
        for path in wanted.intersection(files):
            counts[path].update(f for f in files if f != path)
    return {p: dict(c) for p, c in counts.items() if c}
