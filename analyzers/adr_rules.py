"""From what a record says to the rules it sets: constraints, confirmed and extended by evidence.

Pure. A rejected or removed technology becomes a constraint (its chosen alternative the
preferred one in the message); a code term the catalog does not know only when the record
writes it in code; a plain word only when the repository itself depends on it (its vocabulary).
The change that made a "remove" decision confirms it and extends it: the packages it removed
together with the technology are forbidden with it.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from analyzers.adr_prose import CHOSEN, NEGATIVE, REMOVED, Mention
from analyzers.catalog import Catalog


@dataclass(frozen=True, slots=True)
class Removal:
    """What the change that made a decision took out of the repository."""

    dependencies: tuple[tuple[str, str, str], ...] = ()  # (ecosystem, name, manifest path)
    imports: tuple[tuple[str, str, str], ...] = ()  # (language, module, file path)
    deleted: tuple[str, ...] = ()  # paths of deleted files
    ref: str = ""  # the commit or pull request ("#12", a short sha)

    @property
    def empty(self) -> bool:
        return not (self.dependencies or self.imports or self.deleted)


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """The repository's own names: its manifest dependencies (now and removed) and import roots."""

    names: frozenset[str] = field(default_factory=frozenset)

    def knows(self, term: str) -> bool:
        return term.lower() in self.names


def allowed(mentions: Sequence[Mention], catalog: Catalog) -> tuple[str, ...]:
    """The concrete technologies a record chose: never forbidden by its own rules."""
    out: set[str] = set()
    for m in mentions:
        chosen = m.stance == CHOSEN and m.tech in catalog.techs
        if chosen and not catalog.techs[m.tech].members:  # a category chooses no member
            out.add(m.tech)
    return tuple(sorted(out))


@dataclass(frozen=True, slots=True)
class Rule:
    """A constraint read from prose, before it becomes a :class:`analyzers.adr.Constraint`."""

    value: str
    technology: str = ""
    prefer: str = ""
    sentence: str = ""
    line: int = 0
    origin: str = "stated"  # stated | weighed | evidence | sibling
    new_code: bool = False
    allow: tuple[str, ...] = ()


def rules(
    mentions: Sequence[Mention], catalog: Catalog, vocabulary: Vocabulary | None = None
) -> list[Rule]:
    """The rules a record's reading sets, one per technology (or code term)."""
    allow = allowed(mentions, catalog)
    out: list[Rule] = []
    seen: set[str] = set()
    for m in mentions:
        if m.stance not in NEGATIVE:
            continue
        if m.tech:
            if m.tech in allow or m.tech in seen:
                continue
            seen.add(m.tech)
            value = m.term
        elif m.code or (vocabulary is not None and vocabulary.knows(m.term)):
            if m.term.lower() in seen:
                continue
            seen.add(m.term.lower())
            value = m.term
        else:
            continue
        out.append(
            Rule(
                value=value,
                technology=m.tech,
                prefer=m.prefer,
                sentence=m.sentence,
                line=m.line,
                origin=m.strength,
                new_code=m.new_code,
                allow=allow,
            )
        )
    return out


def removed_techs(mentions: Iterable[Mention]) -> list[str]:
    return [m.tech for m in mentions if m.stance == REMOVED and m.tech]


def extend(
    base: Sequence[Rule],
    mentions: Sequence[Mention],
    removal: Removal,
    catalog: Catalog,
) -> tuple[list[Rule], list[str]]:
    """Rules the record's own change confirms and extends, and what it confirmed.

    A removed technology is confirmed when the change took out something of it (a package, an
    import, a configuration file). The packages removed with it are forbidden too: those the
    catalog relates to it (an ORM of a removed database) and those imported next to it in the
    files the change edited or deleted.
    """
    if removal.empty:
        return list(base), []
    removed = {t for t in removed_techs(mentions)}
    if not removed:
        return list(base), []
    allow = set(base[0].allow) if base else set()
    confirmed: set[str] = set()
    gone_by_file: dict[str, set[str]] = {}
    owned: dict[str, set[str]] = {}  # package → techs
    for eco, name, _ in removal.dependencies:
        owners = catalog.package_owners(eco, name)
        owned[name] = owners
        confirmed |= {t for t in removed if catalog.expand(t) & owners}
    for language, module, path in removal.imports:
        owners = catalog.import_owners(language, module)
        gone_by_file.setdefault(path, set()).add(module)
        confirmed |= {t for t in removed if catalog.expand(t) & owners}
    for path in removal.deleted:
        owners = catalog.file_owners(path)
        confirmed |= {t for t in removed if catalog.expand(t) & owners}
    if not confirmed:
        return list(base), []
    # files where an import of a confirmed technology went: what else they lost goes with it
    near: set[str] = set()
    for language, module, path in removal.imports:
        if catalog.import_owners(language, module) & _all(confirmed, catalog):
            near |= {_root(m) for m in gone_by_file.get(path, ())}
    rule_of = {r.technology: r for r in base if r.technology}
    out = list(base)
    known = {r.value.lower() for r in base}
    for _, name, _ in removal.dependencies:
        owners = owned.get(name, set())
        if owners & _all(confirmed, catalog) or owners & allow or name.lower() in known:
            continue
        related = [t for t in confirmed if any(catalog.related(t, o) for o in owners)]
        if not related and _root(name) not in near:
            continue
        anchor = rule_of.get((related or sorted(confirmed))[0]) or (base[0] if base else None)
        if anchor is None:
            continue
        known.add(name.lower())
        out.append(replace(anchor, value=name, technology="", origin="evidence"))
    return out, sorted(confirmed)


def _all(techs: Iterable[str], catalog: Catalog) -> set[str]:
    out: set[str] = set()
    for t in techs:
        out |= catalog.expand(t)
    return out


def _root(module: str) -> str:
    m = module.strip().lower()
    if m.startswith("@"):
        return "/".join(m.split("/")[:2])
    return m.split("/")[0].split(".")[0]


def sibling_rules(
    mentions: Sequence[Mention],
    catalog: Catalog,
    present: Mapping[str, int],
) -> list[Rule]:
    """What a choice passes over without naming it: the other technologies of its role that
    the repository does not use yet ("ADR-5 chose Rollup as the bundler; this adds esbuild")."""
    allow = allowed(mentions, catalog)
    named = {m.tech for m in mentions if m.tech}
    out: list[Rule] = []
    seen: set[str] = set()
    for m in mentions:
        if m.stance != CHOSEN or not m.tech or m.section not in ("title", "decision"):
            continue
        group = catalog.group_of(m.tech)
        if not group or group == "language":
            continue
        for sibling in catalog.siblings(m.tech):
            if sibling in named or sibling in allow or sibling in seen or present.get(sibling):
                continue
            seen.add(sibling)
            out.append(
                Rule(
                    value=catalog.name(sibling),
                    technology=sibling,
                    prefer=m.term,
                    sentence=m.sentence,
                    line=m.line,
                    origin="sibling",
                    allow=allow,
                )
            )
    return out


def manifest_ecosystem(path: str) -> str:
    """The package ecosystem of a manifest file ("" when it is none)."""
    name = posixpath.basename(path)
    lower = name.lower()
    if name == "package.json":
        return "npm"
    if (
        name in ("pyproject.toml", "Pipfile", "setup.py", "setup.cfg")
        or (lower.endswith((".txt", ".in")) and "requirements" in path.lower())
        or name in ("environment.yml", "environment.yaml")
    ):
        return "pypi"
    if name == "Gemfile" or name.endswith(".gemspec"):
        return "gem"
    if name == "go.mod":
        return "go"
    if (
        name in ("pom.xml",)
        or name.startswith("build.gradle")
        or name.endswith((".gradle.kts", ".versions.toml"))
    ):
        return "maven"
    if name == "Cargo.toml":
        return "cargo"
    if lower.endswith((".csproj", ".fsproj", ".vbproj")) or name in (
        "packages.config",
        "Directory.Packages.props",
        "Directory.Build.props",
    ):
        return "nuget"
    return ""
