"""The files a change adds or modifies, read at head, with their imports resolved against head."""

from __future__ import annotations

from collections.abc import Sequence

from analyzers.diff import FileDiff
from analyzers.files import skip_reason
from analyzers.imports import ProjectFiles, Resolved, extract_imports, resolve
from analyzers.languages import language_for_path
from app.indexer import project_paths
from app.source import Source


class ChangedFiles:
    """The HeadFiles port of a review: sources and resolved imports, read once beforehand."""

    def __init__(self, sources: dict[str, bytes], imports: dict[str, list[Resolved]]) -> None:
        self._sources = sources
        self._imports = imports

    def source_of(self, path: str) -> bytes | None:
        return self._sources.get(path)

    def imports_of(self, path: str) -> Sequence[Resolved]:
        return self._imports.get(path, ())


async def changed_files(source: Source, head: str, diffs: Sequence[FileDiff]) -> ChangedFiles:
    """Read the changed source files at ``head`` and resolve their imports against its tree."""
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
    files = ProjectFiles.build(paths, configs)
    imports = {
        path: resolve(path, extract_imports(path, data), files) for path, data in sources.items()
    }
    return ChangedFiles(sources, imports)
