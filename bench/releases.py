"""Two consecutive releases of real projects, each pair committed as two commits of one repository.

The conventions benchmark (``rules.py``) mines rules at the older release and replays the diff to
the newer one. Every release is pinned by version and sha256 and fetched from its registry with
``corpus.fetch`` (pip download, npm pack); the files a release keeps are committed to
``bench/.work/rules-<name>``: the older release tagged ``release-old``, the newer one on top of it
tagged ``release-new``. Running it again does nothing unless the pins change.

* ``click``: the click 8.1.8 and 8.2.0 sdists from PyPI, whole (package, tests, docs, examples).
* ``textual``: the textual 1.0.0 and 2.0.0 sdists from PyPI (package, tests, docs), whole.
* ``zod``: the TypeScript sources (``src/``) of zod 4.5.4 and 4.6.0, packed from npm.
* ``eslint``: the JavaScript of eslint 9.33.0 and 9.34.0 as published on npm (``lib/``,
  ``bin/``, ``conf/``, ``messages/``).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import corpus
import gitrepo
from corpus import Artifact

OLD_TAG = "release-old"
NEW_TAG = "release-new"


@dataclass(frozen=True)
class Release:
    """One pinned release and the files of it that the repository holds."""

    version: str
    artifact: Artifact
    root: str  # directory inside the extracted artifact
    dest: str  # directory inside the repository ("" for its root)
    extensions: tuple[str, ...] = ()  # only these (every file when empty)


@dataclass(frozen=True)
class Project:
    name: str
    language: str
    old: Release
    new: Release
    source: str  # where the project lives, for the report

    @property
    def repo(self) -> Path:
        return corpus.WORK / f"rules-{self.name}"

    @property
    def tag(self) -> str:
        """A tag naming this exact definition, so a changed pin rebuilds the repository."""
        digest = hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()
        return f"releases-{digest[:12]}"


def _pypi_sdist(name: str, version: str, sha256: str) -> Release:
    artifact = Artifact("pypi", f"{name}=={version}", f"{name}-{version}.tar.gz", sha256)
    return Release(version, artifact, f"{name}-{version}", "")


def _npm(name: str, version: str, sha256: str, root: str, extension: str) -> Release:
    artifact = Artifact("npm", f"{name}@{version}", f"{name}-{version}.tgz", sha256)
    dest = root.removeprefix("package").strip("/")
    return Release(version, artifact, root, dest, (extension,))


PROJECTS: tuple[Project, ...] = (
    Project(
        "click",
        "python",
        _pypi_sdist(
            "click", "8.1.8", "ed53c9d8990d83c2a27deae68e4ee337473f6330c040a31d4225c9574d16096a"
        ),
        _pypi_sdist(
            "click", "8.2.0", "f5452aeddd9988eefa20f90f05ab66f17fce1ee2a36907fd30b05bbb5953814d"
        ),
        "PyPI sdists",
    ),
    Project(
        "textual",
        "python",
        _pypi_sdist(
            "textual", "1.0.0", "bec9fe63547c1c552569d1b75d309038b7d456c03f86dfa3706ddb099b151399"
        ),
        _pypi_sdist(
            "textual", "2.0.0", "5b32816fb3f2ba6aabd589be295b68d78dd2d0f41279e549f499d9d8418e67cf"
        ),
        "PyPI sdists",
    ),
    Project(
        "zod",
        "typescript",
        _npm(
            "zod",
            "4.5.4",
            "51f51d886af1428713bf52b4e795afa43e2b43956b8483c9a92590f4c5a7b296",
            "package/src",
            ".ts",
        ),
        _npm(
            "zod",
            "4.6.0",
            "245171dcb73229e21a3a961a90559663438ec6537ca7ee5348adaa3945b20141",
            "package/src",
            ".ts",
        ),
        "npm packages, `src/` only",
    ),
    Project(
        "eslint",
        "javascript",
        _npm(
            "eslint",
            "9.33.0",
            "950f0551355e47801ffd1556f0fd588c3d3e69c770bf782ac1649830ef4f86c6",
            "package",
            ".js",
        ),
        _npm(
            "eslint",
            "9.34.0",
            "81f36e48bdafe1b9816d9d08f84af098919aa5bb83bacc7a1e04613d86849146",
            "package",
            ".js",
        ),
        "npm packages, their JavaScript (`lib/`, `bin/`, `conf/`, `messages/`)",
    ),
)


def _copy(release: Release, repo: Path) -> None:
    """Replace the working tree of ``repo`` (all but ``.git``) with the release's files."""
    for child in repo.iterdir():
        if child.name != ".git":
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
    root = corpus.extract(release.artifact) / release.root
    if not root.is_dir():
        raise corpus.FetchError(f"{release.artifact.filename}: no {release.root}/ inside")
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.is_symlink():
            continue
        if release.extensions and path.suffix not in release.extensions:
            continue
        rel = path.relative_to(root)
        target = repo / release.dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)


def build(project: Project) -> Path:
    """The project's repository: the old release, then the new one, built unless up to date."""
    repo = project.repo
    if gitrepo.has_tag(repo, project.tag):
        gitrepo.git(repo, "checkout", "--quiet", "--force", NEW_TAG)
        return repo
    shutil.rmtree(repo, ignore_errors=True)
    gitrepo.init(repo)
    for release, tag in ((project.old, OLD_TAG), (project.new, NEW_TAG)):
        _copy(release, repo)
        gitrepo.commit_all(repo, f"{project.name} {release.version} ({release.artifact.spec})")
        gitrepo.git(repo, "tag", tag)
    gitrepo.git(repo, "tag", project.tag)
    return repo
