"""The technology catalog: the names prose uses for technologies, and what a change adds for each.

Pure: the catalog is a data file shipped with Cairn (``technologies.txt``, its format is
described at its top), read once, lazily. A technology has names (aliases, some of them common
English words that only count as written), an exclusive ``group`` (the role it plays: a record
that chose one member passed over the others), the members of a category ("CSS-in-JS"), and
what a change can add for it: packages per ecosystem, import roots, commands, configuration
files, container images and compose services.
"""

from __future__ import annotations

import fnmatch
import functools
import itertools
import posixpath
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources

from analyzers.languages import language_called

ECOSYSTEMS = ("npm", "pypi", "gem", "go", "maven", "cargo", "nuget")
_FIELDS = (*ECOSYSTEMS, "group", "has", "import", "cmd", "file", "image", "service")


@dataclass(frozen=True, slots=True)
class Alias:
    """One name of a technology as prose writes it."""

    tech: str
    written: str  # as in the catalog, separators normalised, case kept
    exact: bool = False  # a common word: counts only written this way (or in code)
    strict: bool = False  # so common a word that a decision verb does not make it the name
    context: tuple[str, ...] = ()  # counts only in a sentence holding one of these


@dataclass(frozen=True, slots=True)
class Technology:
    """One entry of the catalog."""

    id: str
    names: tuple[str, ...]
    group: str = ""
    members: tuple[str, ...] = ()
    packages: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    imports: tuple[str, ...] = ()
    commands: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    images: tuple[str, ...] = ()
    services: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """The display name: the first name, without its marks."""
        return _alias(self.id, self.names[0]).written if self.names else self.id

    def things(self) -> Iterator[tuple[str, str]]:
        """(kind, value) of everything a change can add for it (``kind`` an ecosystem for
        packages)."""
        for eco, names in self.packages.items():
            yield from ((eco, n) for n in names)
        yield from (("import", n) for n in self.imports)
        yield from (("cmd", n) for n in self.commands)
        yield from (("file", n) for n in self.files)
        yield from (("image", n) for n in self.images)
        yield from (("service", n) for n in self.services)


@dataclass(frozen=True, slots=True)
class Found:
    """A technology named in a text: where, and how it was written."""

    start: int
    end: int
    tech: str
    written: str
    weak: bool = False  # an ambiguous name (a common word) outside its context or case
    as_word: bool = False  # a strict name written otherwise: the word ("decided to go with")


class CatalogError(ValueError):
    """The catalog file is malformed (a packaging error, never user input)."""


def _norm(text: str) -> str:
    """Separators as one space, trailing punctuation off, one apostrophe; case kept."""
    return re.sub(r"[\s_-]+", " ", text.replace("’", "'")).strip(" .,:;/")


def pypi_key(name: str) -> str:
    """PEP 503's normalised project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


class Catalog:
    """Technologies by id, with indexes for prose and for what a change adds."""

    def __init__(self, version: int, techs: Sequence[Technology]) -> None:
        self.version = version
        self.techs: dict[str, Technology] = {t.id: t for t in techs}
        self._aliases: dict[str, list[Alias]] = {}
        self._longest = 1
        self._packages: dict[str, dict[str, set[str]]] = {e: {} for e in ECOSYSTEMS}
        self._imports: dict[str, set[str]] = {}
        self._commands: dict[str, set[str]] = {}
        self._images: dict[str, set[str]] = {}
        self._services: dict[str, set[str]] = {}
        self._files: list[tuple[str, str]] = []
        self._groups: dict[str, list[str]] = {}
        self._categories: dict[str, set[str]] = {}
        for t in techs:
            self._index(t)

    def _index(self, t: Technology) -> None:
        for raw in t.names:
            alias = _alias(t.id, raw)
            key = alias.written.lower()
            self._aliases.setdefault(key, []).append(alias)
            self._longest = max(self._longest, len(key.split(" ")))
        for eco, names in t.packages.items():
            for n in names:
                self._packages[eco].setdefault(_package_key(eco, n), set()).add(t.id)
                if eco == "maven" and ":" in n:  # the artifact alone, as Gradle lines give it
                    self._packages[eco].setdefault(n.split(":", 1)[1].lower(), set()).add(t.id)
        for n in t.imports:
            self._imports.setdefault(n.lower(), set()).add(t.id)
        for n in t.commands:
            self._commands.setdefault(n, set()).add(t.id)
        for n in t.images:
            self._images.setdefault(n.lower(), set()).add(t.id)
        for n in t.services:
            self._services.setdefault(n.lower(), set()).add(t.id)
        self._files += [(glob, t.id) for glob in t.files]
        if t.group:
            self._groups.setdefault(t.group, []).append(t.id)
        for member in t.members:
            self._categories.setdefault(member, set()).add(t.id)

    # --- prose ---------------------------------------------------------------------------

    def find(self, text: str) -> list[Found]:
        """The technologies ``text`` names, longest names first, never overlapping."""
        atoms = [(m.start(), m.end()) for m in _ATOM.finditer(text)]
        lowered = text.lower()
        found: list[Found] = []
        i = 0
        while i < len(atoms):
            hit = None
            for k in range(min(self._longest, len(atoms) - i), 0, -1):
                start, end = atoms[i][0], atoms[i + k - 1][1]
                if k > 1 and not _joinable(text, atoms[i : i + k]):
                    continue
                written = _norm(text[start:end])
                aliases = self._aliases.get(written.lower(), [])
                if not aliases and written.lower().endswith("'s"):  # "Django's admin"
                    written = written[:-2]
                    end -= 2
                    aliases = self._aliases.get(written.lower(), [])
                for alias in aliases:
                    weak = (alias.exact and written != alias.written) or (
                        bool(alias.context)
                        and not any(_has_word(lowered, c) for c in alias.context)
                    )
                    as_word = alias.strict and written != alias.written
                    if hit is None or (hit.weak and not weak):
                        hit = Found(start, start + len(text[start:end].rstrip(".,:;/")),
                                    alias.tech, written, weak, as_word)  # fmt: skip
                if hit is not None:
                    i += k
                    break
            if hit is None:
                i += 1
            else:
                found.append(hit)
        return found

    def named(self, term: str) -> set[str]:
        """The technologies a single term (a code span, a package name) names."""
        term = term.strip().strip("`'\"").rstrip("();")
        if not term:
            return set()
        aliases = self._aliases.get(_norm(term).lower(), [])
        techs = {a.tech for a in aliases}
        lower = term.lower()
        for eco in ECOSYSTEMS:
            techs |= self._packages[eco].get(_package_key(eco, term), set())
        techs |= self._imports.get(lower, set())
        techs |= self._commands.get(term, set())
        if not techs and "." in term:  # a module path or a class: its longest known root
            parts = lower.split(".")
            for n in range(len(parts) - 1, 1, -1):
                techs = self._imports.get(".".join(parts[:n]), set())
                if techs:
                    break
        return techs

    def name(self, tech: str) -> str:
        t = self.techs.get(tech)
        return t.name if t else tech

    # --- relations -----------------------------------------------------------------------

    def expand(self, tech: str) -> set[str]:
        """The technology and, for a category, every member (recursively)."""
        out: set[str] = set()
        todo = [tech]
        while todo:
            t = todo.pop()
            if t in out or t not in self.techs:
                continue
            out.add(t)
            todo += self.techs[t].members
        return out

    def group_of(self, tech: str) -> str:
        t = self.techs.get(tech)
        return t.group if t else ""

    def siblings(self, tech: str) -> list[str]:
        """The other members of the technology's exclusive group."""
        group = self.group_of(tech)
        return [t for t in self._groups.get(group, ()) if t != tech] if group else []

    def categories_of(self, tech: str) -> set[str]:
        return set(self._categories.get(tech, ()))

    def related(self, a: str, b: str) -> bool:
        """Same group, one a category of the other, or members of one category."""
        if a == b:
            return True
        if self.group_of(a) and self.group_of(a) == self.group_of(b):
            return True
        return bool(
            b in self.expand(a)
            or a in self.expand(b)
            or self.categories_of(a) & self.categories_of(b)
        )

    # --- what a change adds --------------------------------------------------------------

    def package_owners(self, ecosystem: str, name: str) -> set[str]:
        if ecosystem not in self._packages:
            return set()
        index = self._packages[ecosystem]
        key = _package_key(ecosystem, name)
        owners = set(index.get(key, set()))
        if ecosystem == "go":  # a module path names its packages and major versions too
            parts = key.split("/")
            for n in range(len(parts) - 1, 1, -1):
                owners |= index.get("/".join(parts[:n]), set())
        if ecosystem == "nuget":  # Serilog.Sinks.Console belongs to Serilog's family
            parts = key.split(".")
            for n in range(len(parts) - 1, 0, -1):
                owners |= index.get(".".join(parts[:n]), set())
        return owners

    def import_owners(self, language: str, module: str) -> set[str]:
        """The technologies an import of ``module`` in ``language`` brings in: by the
        catalog's import roots, else by the package of the language's ecosystem it names."""
        name = module.strip()
        found = language_called(language)
        sep = found.import_roots if found is not None else "."
        if sep:
            parts = name.lower().split(sep)
            for n in range(len(parts), 0, -1):
                owners = self._imports.get(sep.join(parts[:n]), set())
                if owners:
                    return set(owners)
        package = found.import_package(name) if found is not None else ""
        return self.package_owners(found.ecosystem.name, package) if found and package else set()

    def command_owners(self, command: str) -> set[str]:
        return set(self._commands.get(posixpath.basename(command), set()))

    def file_owners(self, path: str) -> set[str]:
        base = posixpath.basename(path)
        owners = set()
        for glob, tech in self._files:
            if "/" in glob:
                if fnmatch.fnmatchcase(path, glob) or fnmatch.fnmatchcase(path, "*/" + glob):
                    owners.add(tech)
            elif fnmatch.fnmatchcase(base, glob):
                owners.add(tech)
        return owners

    def image_owners(self, image: str) -> set[str]:
        repo = image_repository(image)
        owners = set(self._images.get(repo, set()))
        if not owners:
            owners = set(self._images.get(repo.rsplit("/", 1)[-1], set()))
        return owners

    def service_owners(self, service: str) -> set[str]:
        return set(self._services.get(service.lower(), set()))


def image_repository(image: str) -> str:
    """``docker.io/library/postgres:16@sha256:…`` → ``postgres``; a registry host is kept
    only when it is not Docker Hub's."""
    ref = image.strip().strip("\"'").split("@", 1)[0]
    host, _, rest = ref.partition("/")
    if rest and ("." in host or ":" in host) and host.split(":")[0] != "docker.io":
        name = ref
    else:
        name = rest if rest and host in ("docker.io", "index.docker.io") else ref
    if name.startswith("library/"):
        name = name[len("library/") :]
    last = name.rsplit("/", 1)
    if ":" in last[-1]:
        last[-1] = last[-1].split(":", 1)[0]
    return "/".join(last).lower()


def image_variant(image: str) -> str:
    """The variant a tag names (``python:3.12-alpine`` → ``alpine``), or ""."""
    ref = image.strip().split("@", 1)[0]
    tag = ref.rsplit("/", 1)[-1].partition(":")[2]
    for variant in ("alpine", "slim", "bookworm", "bullseye", "buster", "windowsservercore"):
        if re.search(rf"(^|[-.]){variant}([-.\d]|$)", tag):
            return variant
    return ""


_ATOM = re.compile(r"[A-Za-z0-9@#+][A-Za-z0-9@#+./:'’_-]*")


def _joinable(text: str, atoms: Sequence[tuple[int, int]]) -> bool:
    """Atoms of one name are separated by spaces or hyphens only (not by a sentence break)."""
    for (_, end), (start, _) in itertools.pairwise(atoms):
        gap = text[end:start]
        if gap.strip(" -") or "\n\n" in gap:
            return False
    return True


def _has_word(text: str, word: str) -> bool:
    """``word`` in ``text`` as a whole word (``stem*``: as the start of one)."""
    stem = word.endswith("*")
    pattern = rf"(?<![a-z0-9]){re.escape(word.rstrip('*'))}" + ("" if stem else r"(?![a-z0-9])")
    return re.search(pattern, text) is not None


def _package_key(ecosystem: str, name: str) -> str:
    if ecosystem == "pypi":
        return pypi_key(name)
    return name.lower()


def _alias(tech: str, raw: str) -> Alias:
    raw = raw.strip()
    strict = raw.startswith("=")
    exact = strict or raw.startswith("~")
    raw = raw.lstrip("~=")
    context: tuple[str, ...] = ()
    m = re.fullmatch(r"(.+?)\{([^}]*)\}", raw)
    if m:
        raw = m.group(1)
        context = tuple(c.strip().lower() for c in m.group(2).split(",") if c.strip())
    return Alias(tech=tech, written=_norm(raw), exact=exact, strict=strict, context=context)


def parse_catalog(text: str) -> Catalog:
    """The catalog's text format (see the data file's header) → a :class:`Catalog`."""
    version = 0
    techs: list[Technology] = []
    entry: tuple[str, list[str]] | None = None
    fields: dict[str, list[str]] = {}

    def close() -> None:
        if entry is None:
            return
        tech_id, names = entry
        techs.append(
            Technology(
                id=tech_id,
                names=tuple(names),
                group=" ".join(fields.get("group", ())),
                members=tuple(fields.get("has", ())),
                packages={e: tuple(fields[e]) for e in ECOSYSTEMS if e in fields},
                imports=tuple(fields.get("import", ())),
                commands=tuple(fields.get("cmd", ())),
                files=tuple(fields.get("file", ())),
                images=tuple(fields.get("image", ())),
                services=tuple(fields.get("service", ())),
            )
        )

    for n, line in enumerate(text.split("\n"), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line.startswith("version "):
            version = int(line.split()[1])
        elif line.startswith("["):
            close()
            m = re.fullmatch(r"\[([a-z0-9][a-z0-9.+-]*)\]\s*(.*)", line.strip())
            if not m:
                raise CatalogError(f"line {n}: expected `[id] Name; Alias`")
            entry = (m.group(1), [s.strip() for s in m.group(2).split(";") if s.strip()])
            fields = {}
        elif line[0] in " \t" and entry is not None:
            key, _, value = line.strip().partition(":")
            if key not in _FIELDS:
                raise CatalogError(f"line {n}: unknown field {key!r}")
            fields.setdefault(key, []).extend(value.split())
        else:
            raise CatalogError(f"line {n}: not an entry, a field or a comment")
    close()
    ids = [t.id for t in techs]
    if len(ids) != len(set(ids)):
        raise CatalogError(
            "duplicate ids: " + ", ".join(sorted({i for i in ids if ids.count(i) > 1}))
        )
    catalog = Catalog(version, techs)
    for t in techs:
        unknown = [m for m in t.members if m not in catalog.techs]
        if unknown:
            raise CatalogError(f"[{t.id}] has unknown members: {', '.join(unknown)}")
    return catalog


@functools.cache
def catalog() -> Catalog:
    """The catalog shipped with Cairn, read on first use."""
    text = resources.files("analyzers").joinpath("technologies.txt").read_text(encoding="utf-8")
    return parse_catalog(text)


def ids(techs: Iterable[str]) -> list[str]:
    return sorted(set(techs))
