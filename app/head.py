"""The files a change adds or modifies, read at head, with their imports resolved against head."""

from __future__ import annotations

from collections.abc import Sequence

from analyzers.diff import FileDiff
from analyzers.files import skip_reason
from analyzers.imports import ProjectFiles, Resolved, extract_imports, resolve
from analyzers.languages import language_for_path
from analyzers.suppressions import Suppression, suppressions
from app.analysis import Inline, Runner
from app.indexer import project_paths
from app.source import Source
from checks.context import HeadFiles
from checks.finding import Finding


class ChangedFiles:
    """The HeadFiles port of a review: sources and resolved imports, read once beforehand."""

    def __init__(self, sources: dict[str, bytes], imports: dict[str, list[Resolved]]) -> None:
        self._sources = sources
        self._imports = imports

    def source_of(self, path: str) -> bytes | None:
        return self._sources.get(path)

    def imports_of(self, path: str) -> Sequence[Resolved]:
        return self._imports.get(path, ())


async def changed_files(
    source: Source, head: str, diffs: Sequence[FileDiff], *, analysis: Runner | None = None
) -> ChangedFiles:
    """Read the changed source files at ``head`` and resolve their imports against its tree
    (on ``analysis``: parsing reads what the pull request wrote)."""
    sources: dict[str, bytes] = {}
    for diff in diffs:
        path = diff.new_path
        if path is None or not diff.added or diff.binary or diff.submodule:
            continue
        if language_for_path(path) is None:
            continue
        data = await source.file_at(head, path)
        if data is None or skip_reason(path, len(data), data[:8192]) is not None:
            continue  # generated, minified, vendored or huge: not judged
        sources[path] = data
    if not sources:
        return ChangedFiles({}, {})
    paths, configs = await project_paths(source, head, await source.tree(head))
    runner = analysis if analysis is not None else Inline()
    return ChangedFiles(sources, await runner.run(_imports, sources, paths, configs))


def _imports(
    sources: dict[str, bytes], paths: list[str], configs: dict[str, bytes]
) -> dict[str, list[Resolved]]:
    """The resolved imports of each of ``sources`` in the tree of ``paths``."""
    files = ProjectFiles.build(paths, configs)
    return {
        path: resolve(path, extract_imports(path, data), files) for path, data in sources.items()
    }


def suppress(findings: list[Finding], files: HeadFiles) -> tuple[list[Finding], list[str]]:
    """Findings without those an inline ``cairn: ignore[...]`` comment silences, and a note for
    each silenced one (listed in the check summaries, so silence stays visible)."""
    by_path: dict[str, list[Suppression]] = {}
    kept: list[Finding] = []
    notes: list[str] = []
    for f in sorted(findings, key=lambda f: (f.path, f.start_line, f.check, f.rule)):
        if f.path not in by_path:
            data = files.source_of(f.path)
            by_path[f.path] = suppressions(f.path, data) if data is not None else []
        mark = next((s for s in by_path[f.path] if s.covers(f.check, f.rule, f.start_line)), None)
        if mark is None:
            kept.append(f)
        else:
            reason = mark.reason or "no reason given"
            notes.append(
                f"`{f.check}/{f.rule}` at `{f.path}:{f.start_line}` suppressed inline "
                f"(line {mark.line}): {reason}"
            )
    return kept, notes
