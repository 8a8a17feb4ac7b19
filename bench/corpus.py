"""Fetch the benchmark corpus from package registries and make each part a git repository.

Every source is pinned by version and sha256, downloaded once into ``bench/.corpus/`` with the
registry's ordinary client, and only its source files (by extension) are copied into
``bench/.work/<name>``, committed and tagged ``corpus-base``. Running it again does nothing
unless the pins change.

* ``django``: the Django 5.2.8 sdist from PyPI, all its Python (the framework and its tests).
* ``js-ts``: TypeScript sources of rxjs 7.8.2 (``src/``) and zod 4.6.7 (``src/``), and the
  plain JavaScript modules of lodash 4.18.1 (the monolithic ``lodash.js``/``core.js`` bundles
  and minified files left out), each packed from npm.
* ``go``: ``net/http``, ``go/`` and ``encoding/`` of the Go 1.19 standard library, from
  Debian's ``golang-1.19-src`` package (no Go toolchain is needed; ``testdata`` left out).
* ``java``: the ``java.base`` module of OpenJDK 17's class library (1.2 M lines), from the
  ``src.zip`` in Debian's ``openjdk-17-source`` package.

Usage: ``python bench/corpus.py [--only NAME ...]``
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath

import gitrepo
from languages import language_of

BENCH = Path(__file__).resolve().parent
DOWNLOADS = BENCH / ".corpus"
WORK = BENCH / ".work"


@dataclass(frozen=True)
class Artifact:
    """One pinned package: how to fetch it and what its bytes must hash to."""

    registry: str  # "pypi" | "npm" | "debian"
    spec: str  # what the client is asked for: "django==5.2.8", "rxjs@7.8.2", "pkg=version"
    filename: str
    sha256: str
    unzip: str = ""  # a zip archive inside the package to unpack where it lies (JDK's src.zip)


@dataclass(frozen=True)
class Part:
    """The files of one artifact that go into a corpus, and where they go."""

    artifact: Artifact
    root: str  # directory inside the extracted artifact
    dest: str  # directory inside the corpus repository
    extensions: tuple[str, ...]
    subdirs: tuple[str, ...] = ()  # only these directories under root (all when empty)
    exclude_names: tuple[str, ...] = ()
    exclude_dirs: tuple[str, ...] = ()
    recursive: bool = True


@dataclass(frozen=True)
class Corpus:
    name: str
    parts: tuple[Part, ...]
    optional: bool = False  # a corpus that may be skipped when its registry cannot serve it

    @property
    def repo(self) -> Path:
        return WORK / self.name

    @property
    def tag(self) -> str:
        """A tag naming this exact definition, so a changed pin rebuilds the repository."""
        digest = hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()
        return f"corpus-{digest[:12]}"


DJANGO = Artifact(
    "pypi",
    "django==5.2.8",
    "django-5.2.8.tar.gz",
    "23254866a5bb9a2cfa6004e8b809ec6246eba4b58a7589bc2772f1bcc8456c7f",
)
RXJS = Artifact(
    "npm",
    "rxjs@7.8.2",
    "rxjs-7.8.2.tgz",
    "2312f8ffd9726ffd7bd53ea12c5f13663d09a3dc3326f448c70b88f5ef6fac82",
)
ZOD = Artifact(
    "npm",
    "zod@4.6.7",
    "zod-4.6.7.tgz",
    "84efd155bed93270286e793fc951be270b536cbd5b0eeb111f0fa3967201d698",
)
LODASH = Artifact(
    "npm",
    "lodash@4.18.1",
    "lodash-4.18.1.tgz",
    "696942c2a488c9d7428e9ca5f12ccf03b52de01dcdbfe4d4751d392f0491ae16",
)
JDK_SRC = Artifact(
    "debian",
    "openjdk-17-source=17.0.21.1+2-1~deb12u1",
    "openjdk-17-source_17.0.21.1+2-1~deb12u1_all.deb",
    "5106aa3881e3b49568823ebdfc3755d4043f6f53bbfc996d0efee03172dc0a9b",
    unzip="usr/lib/jvm/openjdk-17/lib/src.zip",
)
GO_SRC = Artifact(
    "debian",
    "golang-1.19-src=1.19.8-2",
    "golang-1.19-src_1.19.8-2_all.deb",
    "2dfa82fe4f08f4e0193c532e561af4c91871f5235608f04f2bb8d57bb288df5a",
)

CORPORA: tuple[Corpus, ...] = (
    Corpus("django", (Part(DJANGO, "django-5.2.8", "", (".py",)),)),
    Corpus(
        "js-ts",
        (
            Part(RXJS, "package/src", "rxjs/src", (".ts",)),
            Part(ZOD, "package/src", "zod/src", (".ts",)),
            Part(
                LODASH,
                "package",
                "lodash",
                (".js",),
                exclude_names=("lodash.js", "core.js"),
                recursive=False,
            ),
        ),
    ),
    Corpus(
        "go",
        (
            Part(
                GO_SRC,
                "usr/share/go-1.19/src",
                "go/src",
                (".go",),
                subdirs=("net/http", "go", "encoding"),
                exclude_dirs=("testdata",),
            ),
        ),
        optional=True,
    ),
    Corpus(
        "java",
        (
            Part(
                JDK_SRC,
                "usr/lib/jvm/openjdk-17/lib/src",
                "",
                (".java",),
                subdirs=("java.base",),
            ),
        ),
        optional=True,
    ),
)


class FetchError(RuntimeError):
    """A pinned artifact could not be downloaded or did not match its sha256."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _download(artifact: Artifact, into: Path) -> None:
    if artifact.registry == "pypi":
        cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"]
        cmd += ["--no-binary", ":all:", artifact.spec, "--dest", str(into)]
    elif artifact.registry == "npm":
        cmd = ["npm", "pack", "--silent", artifact.spec, "--pack-destination", str(into)]
    elif artifact.registry == "debian":
        cmd = ["apt-get", "download", artifact.spec]
    else:
        raise ValueError(artifact.registry)
    done = subprocess.run(cmd, cwd=into, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        hint = " (run `apt-get update` first)" if artifact.registry == "debian" else ""
        raise FetchError(f"{' '.join(cmd)} failed{hint}: {done.stderr.strip()[-500:]}")


def fetch(artifact: Artifact) -> Path:
    """The artifact's file under ``bench/.corpus/``, downloaded unless already there."""
    DOWNLOADS.mkdir(parents=True, exist_ok=True)
    target = DOWNLOADS / artifact.filename
    if not target.exists():
        with tempfile.TemporaryDirectory(dir=DOWNLOADS) as tmp:
            _download(artifact, Path(tmp))
            got = Path(tmp) / artifact.filename
            if not got.exists():
                raise FetchError(f"{artifact.spec}: expected {artifact.filename} in {tmp}")
            got.replace(target)
    actual = _sha256(target)
    if actual != artifact.sha256:
        raise FetchError(f"{target}: sha256 {actual}, pinned {artifact.sha256}")
    return target


def extract(artifact: Artifact) -> Path:
    """The artifact unpacked under ``bench/.corpus/<filename>.d``, unpacked once."""
    archive = fetch(artifact)
    out = DOWNLOADS / f"{artifact.filename}.d"
    if (out / ".complete").exists():
        return out
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    if artifact.registry == "debian":
        subprocess.run(["dpkg-deb", "-x", str(archive), str(out)], check=True)
        if artifact.unzip:
            inner = out / artifact.unzip
            with zipfile.ZipFile(inner) as zipped:
                zipped.extractall(inner.with_suffix(""))
    else:
        with tarfile.open(archive) as tar:
            tar.extractall(out, filter="data")
    (out / ".complete").touch()
    return out


def _selected(part: Part, root: Path) -> Iterator[tuple[Path, PurePosixPath]]:
    """(source file, path inside the corpus) for every file the part keeps."""
    bases = [root / sub for sub in part.subdirs] if part.subdirs else [root]
    for base in bases:
        files = base.rglob("*") if part.recursive else base.glob("*")
        for path in sorted(files):
            if not path.is_file() or path.is_symlink() or path.suffix not in part.extensions:
                continue
            rel = PurePosixPath(path.relative_to(root).as_posix())
            if path.name in part.exclude_names or ".min." in path.name:
                continue
            if any(d in rel.parts[:-1] for d in part.exclude_dirs):
                continue
            yield path, PurePosixPath(part.dest) / rel if part.dest else rel


def build(corpus: Corpus) -> Path:
    """The corpus as a git repository at ``bench/.work/<name>``, built unless up to date."""
    repo = corpus.repo
    if gitrepo.has_tag(repo, corpus.tag):
        gitrepo.reset_to_base(repo)
        return repo
    shutil.rmtree(repo, ignore_errors=True)
    gitrepo.init(repo)
    for part in corpus.parts:
        root = extract(part.artifact) / part.root
        for source, rel in _selected(part, root):
            target = repo / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
    specs = ", ".join(part.artifact.spec for part in corpus.parts)
    gitrepo.commit_all(repo, f"Corpus {corpus.name}: {specs}")
    gitrepo.git(repo, "tag", gitrepo.BASE_TAG)
    gitrepo.git(repo, "tag", corpus.tag)
    return repo


@dataclass(frozen=True)
class LanguageCount:
    language: str
    files: int
    lines: int


def line_counts(repo: Path) -> list[LanguageCount]:
    """Files and lines per language of the files committed at HEAD."""
    files: Counter[str] = Counter()
    lines: Counter[str] = Counter()
    for rel in gitrepo.git(repo, "ls-files").splitlines():
        language = language_of(rel)
        if language is None:
            continue
        files[language] += 1
        lines[language] += (repo / rel).read_bytes().count(b"\n")
    return [LanguageCount(lang, files[lang], lines[lang]) for lang in sorted(files)]


def build_all(only: tuple[str, ...] = ()) -> dict[str, Path]:
    """Build the selected corpora; an optional one that cannot be fetched is left out."""
    built: dict[str, Path] = {}
    for corpus in CORPORA:
        if only and corpus.name not in only:
            continue
        try:
            built[corpus.name] = build(corpus)
        except FetchError as exc:
            if not corpus.optional:
                raise
            print(f"skipping corpus {corpus.name}: {exc}", file=sys.stderr)
    return built


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=[], help="corpus names to build")
    parser.add_argument("--json", type=Path, help="write the line counts here")
    args = parser.parse_args()
    built = build_all(tuple(args.only))
    counts = {name: line_counts(repo) for name, repo in built.items()}
    print(f"{'corpus':<10} {'language':<12} {'files':>7} {'lines':>9}")
    for name, rows in counts.items():
        for row in rows:
            print(f"{name:<10} {row.language:<12} {row.files:>7} {row.lines:>9}")
    if args.json:
        payload = {
            "corpora": {
                name: {
                    "repo": str(built[name]),
                    "sources": [
                        p.artifact.spec for c in CORPORA if c.name == name for p in c.parts
                    ],
                    "languages": [asdict(row) for row in rows],
                }
                for name, rows in counts.items()
            }
        }
        args.json.write_text(json.dumps(payload, indent=2))


if __name__ == "__main__":
    main()
