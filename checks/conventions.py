"""Conventions mined from the codebase itself, each with its evidence.

Four kinds, learned from the index at base (``Codebase``: files, import graph, declarations):

* ``wrapped-dependency`` — an external package (not the standard library) imported by
  exactly one module of the repository, which at least ``min_evidence`` other files import:
  new code should go through that wrapper ("use `app/http.py` (used by 23 files) rather than
  importing `requests`").
* ``dependency-direction`` — between two components (top-level directories below the main
  source root), at least ``min_evidence`` imports one way and none back: an import the other
  way would make them a cycle.
* ``naming`` — in one directory, for one language and kind (files, top-level functions,
  top-level classes, methods), at least ``min_evidence`` names that show a style (single-word
  names such as ``parse`` fit several and are not counted) and at least ``naming_ratio`` of
  them in one style.
* ``structure`` — in one directory, for one language and kind (top-level classes or
  functions), at least ``min_evidence`` units that all share a base type, a decorator or a
  name suffix (a base class defined in the directory itself is not counted against it).

The thresholds, all in ``ConventionSettings`` and overridable in ``.cairn.yml``
(``patterns: {conventions: {...}}``), were chosen for precision rather than recall: a rule
is only learned when the code shows it without exception (structure, direction, a wrapper
being the *only* importer) or nearly so (naming, 95 %), over at least five members.

Tests are neither evidence nor judged (``is_test``): test code legitimately reaches past
wrappers, mocks bases and follows its framework's naming.
"""

from __future__ import annotations

import posixpath
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from analyzers.imports import Resolved
from analyzers.languages import language_called, language_for_path
from analyzers.traits import BASE, DECORATOR, PROPERTY
from checks.context import Codebase, Declaration
from checks.names import file_stem, name_suffix, styles_of
from checks.patterns_config import ConventionSettings

WRAPPED = "wrapped-dependency"
DIRECTION = "dependency-direction"
NAMING = "naming"
STRUCTURE = "structure"
KINDS = (WRAPPED, DIRECTION, NAMING, STRUCTURE)
SUFFIX = "suffix:"


# Test code, as globs (``*`` crosses directories): never evidence, never judged.
TEST_GLOBS = (
    "test/*",
    "tests/*",
    "*/test/*",
    "*/tests/*",
    "__tests__/*",
    "*/__tests__/*",
    "testdata/*",
    "*/testdata/*",
    "spec/*",
    "*/spec/*",
    "test_*.py",
    "*/test_*.py",
    "*_test.py",
    "conftest.py",
    "*/conftest.py",
    "*_test.go",
    "*.test.*",
    "*.spec.*",
    "*Test.java",
    "*Tests.java",
    "*Test.cs",
    "*Tests.cs",
    "*_spec.rb",
    "*_test.rb",
)
_TEST = re.compile(
    "|".join(f"(?:{_g})" for _g in (re.escape(g).replace(r"\*", ".*") for g in TEST_GLOBS))
)


def is_test(path: str) -> bool:
    """Whether ``path`` is test code (one of ``TEST_GLOBS``)."""
    return _TEST.fullmatch(path) is not None


@dataclass(frozen=True, slots=True)
class Example:
    path: str
    line: int


@dataclass(frozen=True, slots=True)
class Convention:
    """A mined (or configured naming/structure) rule, with its evidence."""

    kind: str  # one of KINDS: also the rule id of its findings
    id: str  # stable: "wrapped-requests", "naming-app-handlers-python-function"
    description: str
    count: int  # the evidence: importers, imports, members
    examples: tuple[Example, ...] = ()
    package: str = ""  # wrapped-dependency: the package
    wrapper: str = ""  # wrapped-dependency: the wrapping module's path
    source: str = ""  # dependency-direction: the component that imports ...
    target: str = ""  # ... the one that never imports it back
    directory: str = ""  # naming, structure
    language: str = ""  # naming, structure ("" in a configured rule: any)
    unit_kind: str = ""  # naming, structure: file | function | method | class
    style: str = ""  # naming
    trait: str = ""  # structure: "base:X", "decorator:x", "suffix:Handler"
    configured: str = ""  # for configured rules: their location ("patterns.naming[0]")

    def as_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "id": self.id,
            "kind": self.kind,
            "description": self.description,
            "evidence": {
                "count": self.count,
                "examples": [{"path": e.path, "line": e.line} for e in self.examples],
            },
        }
        fields = {
            WRAPPED: ("package", "wrapper"),
            DIRECTION: ("source", "target"),
            NAMING: ("directory", "language", "unit_kind", "style"),
            STRUCTURE: ("directory", "language", "unit_kind", "trait"),
        }[self.kind]
        for name in fields:
            out[name] = getattr(self, name)
        return out


MAX_EXAMPLES = 3


# --- mining ----------------------------------------------------------------------------------


def mine(codebase: Codebase, settings: ConventionSettings) -> list[Convention]:
    """Every convention the codebase follows, by the thresholds of ``settings``."""
    if not settings.enabled:
        return []
    keep = kept(settings)
    files = [p for p in codebase.files if keep(p)]
    imports = [i for i in codebase.imports if keep(i.path)]
    declarations = [d for d in codebase.declarations if keep(d.path)]
    rules: list[Convention] = []
    rules.extend(wrapped_dependencies(imports, settings.min_evidence))
    rules.extend(directions(files, imports, settings.min_evidence))
    rules.extend(naming(files, declarations, settings))
    rules.extend(structure(declarations, settings.min_evidence))
    return rules


class _Keep:
    """Whether a path is mined and judged: not a test, not excluded."""

    def __init__(self, exclude: Sequence[str]) -> None:
        globs = [re.escape(g).replace(r"\*", ".*").replace(r"\?", ".") for g in exclude]
        self._exclude = re.compile("|".join(f"(?:{g})" for g in globs)) if globs else None
        self._cache: dict[str, bool] = {}

    def __call__(self, path: str) -> bool:
        kept = self._cache.get(path)
        if kept is None:
            kept = not is_test(path) and not (
                self._exclude is not None and self._exclude.fullmatch(path)
            )
            self._cache[path] = kept
        return kept


def kept(settings: ConventionSettings) -> _Keep:
    """The predicate of paths that mining reads and the check judges."""
    return _Keep(settings.exclude)


def is_standard(package: str, language: str) -> bool:
    """Whether ``package`` is the language's standard library (or private, ``_thread``).

    Wrapping the standard library is seldom a team's convention: a module that happens to be
    the only one importing ``locale`` or ``termios`` wraps nothing. So it is not mined.
    """
    if package.startswith("_"):
        return True
    found = language_called(language)
    return found is not None and found.standard(package)


def wrapped_dependencies(imports: Sequence[Resolved], min_evidence: int) -> list[Convention]:
    """External packages imported by one module only, itself imported by many files.

    A module whose every import of the package is optional (``try: import x except
    ImportError``, a Python 2 fallback, ``if TYPE_CHECKING:``) works without it: it wraps
    nothing, and "import that instead" would be wrong advice.
    """
    importers: dict[str, dict[str, int]] = defaultdict(dict)  # package → importer → line
    required: set[tuple[str, str]] = set()  # (package, importer) with an unguarded import
    users: dict[str, set[str]] = defaultdict(set)  # internal file → files importing it
    lines: dict[tuple[str, str], int] = {}  # (importer, internal file) → its first line
    for imp in imports:
        if imp.internal is not None:
            if imp.internal != imp.path:
                users[imp.internal].add(imp.path)
                lines.setdefault((imp.path, imp.internal), imp.line)
        elif (
            imp.package
            and not imp.package.startswith((".", "/"))
            and not is_standard(imp.package, _language(imp.path))
        ):
            importers[imp.package].setdefault(imp.path, imp.line)
            if not imp.optional:
                required.add((imp.package, imp.path))
    rules = []
    for package, by_path in sorted(importers.items()):
        if len(by_path) != 1:
            continue
        ((wrapper, line),) = by_path.items()
        if (package, wrapper) not in required:
            continue
        using = users.get(wrapper, set()) - {wrapper}
        if len(using) < min_evidence:
            continue
        users_first = sorted(using)[: MAX_EXAMPLES - 1]
        examples = (
            Example(wrapper, line),
            *(Example(p, lines[(p, wrapper)]) for p in users_first),
        )
        rules.append(
            Convention(
                kind=WRAPPED,
                id=f"wrapped-{_slug(package)}",
                description=(
                    f"`{package}` is used only through `{wrapper}` "
                    f"(imported by {len(using)} files); import that instead"
                ),
                count=len(using),
                examples=examples,
                package=package,
                wrapper=wrapper,
            )
        )
    return rules


# Directories that only hold the real components (``src/``, Go's ``internal/``, ...).
CONTAINERS = frozenset({"src", "lib", "libs", "pkg", "internal", "packages", "apps", "modules"})


def source_root(files: Sequence[str]) -> str:
    """The main source root: descend while one directory holds 95 % of the files below."""
    root = ""
    below = list(files)
    while True:
        heads = Counter(p.split("/", 1)[0] for p in below if "/" in p)
        if not heads:
            return root
        head, n = heads.most_common(1)[0]
        if n < 0.95 * len(below):
            return root
        root = f"{root}/{head}" if root else head
        below = [p.split("/", 1)[1] for p in below if p.startswith(head + "/")]


def component(path: str, root: str) -> str | None:
    """The component (a directory) of ``path``: below ``root``, or its top-level directory."""
    rel = path[len(root) + 1 :] if root and path.startswith(root + "/") else path
    prefix = root + "/" if root and path.startswith(root + "/") else ""
    parts = rel.split("/")
    if len(parts) < 2:
        return None  # a file at the root belongs to no component
    if parts[0] in CONTAINERS:
        if len(parts) < 3:
            return None
        return prefix + "/".join(parts[:2])
    return prefix + parts[0]


def directions(
    files: Sequence[str], imports: Sequence[Resolved], min_evidence: int
) -> list[Convention]:
    """Pairs of components with many imports one way and none back."""
    root = source_root(files)
    counts: Counter[tuple[str, str]] = Counter()
    examples: dict[tuple[str, str], list[Example]] = defaultdict(list)
    seen: set[tuple[str, str]] = set()
    for imp in imports:
        if imp.internal is None or (imp.path, imp.internal) in seen:
            continue
        seen.add((imp.path, imp.internal))
        a, b = component(imp.path, root), component(imp.internal, root)
        if a is None or b is None or a == b:
            continue
        counts[(a, b)] += 1
        if len(examples[(a, b)]) < MAX_EXAMPLES:
            examples[(a, b)].append(Example(imp.path, imp.line))
    rules = []
    for (a, b), n in sorted(counts.items()):
        if n < min_evidence or counts.get((b, a), 0):
            continue
        rules.append(
            Convention(
                kind=DIRECTION,
                id=f"direction-{_slug(b)}-to-{_slug(a)}",
                description=(
                    f"`{a}` imports `{b}` ({n} imports) and `{b}` never imports `{a}`: "
                    f"keep the dependency one way"
                ),
                count=n,
                examples=tuple(examples[(a, b)]),
                source=a,
                target=b,
            )
        )
    return rules


def _language(path: str) -> str:
    language = language_for_path(path)
    return language.name if language is not None else ""


def naming_kind(d: Declaration) -> str | None:
    """The naming group of a declaration: top-level function/class, or method; else None.

    A function named after the object key it is stored under takes its name from data (a
    lookup table's keys), so it belongs to no group."""
    if PROPERTY in d.traits:
        return None
    if d.kind == "method":
        owner = d.qualname.rsplit(".", 1)[0]
        if owner.rsplit(".", 1)[-1] == d.name:
            return None  # a constructor (Java, C#) is named after its class
        return "method"
    return d.kind if "." not in d.qualname else None


def naming(
    files: Sequence[str], declarations: Sequence[Declaration], settings: ConventionSettings
) -> list[Convention]:
    """Per directory, language and kind: a style followed by nearly every styled name."""
    groups: dict[tuple[str, str, str], list[tuple[str, int, str]]] = defaultdict(list)
    for path in files:
        groups[(posixpath.dirname(path), _language(path), "file")].append(
            (file_stem(path), 1, path)
        )
    for d in declarations:
        kind = naming_kind(d)
        if kind is not None:
            groups[(posixpath.dirname(d.path), _language(d.path), kind)].append(
                (d.name, d.line, d.path)
            )
    rules = []
    for (directory, language, kind), members in sorted(groups.items()):
        if len(members) < settings.min_evidence:
            continue
        styled: list[tuple[frozenset[str], str, int, str]] = []
        for name, line, path in members:
            found = styles_of(name, language)
            if found is not None and len(found) != 1:
                continue  # fits several styles (or none): no evidence either way
            if found is not None:
                styled.append((found, name, line, path))
        # names matching no style count against every style
        mixed = sum(1 for name, _, _ in members if styles_of(name, language) == frozenset())
        total = len(styled) + mixed
        if total < settings.min_evidence:
            continue
        by_style = Counter(next(iter(s)) for s, _, _, _ in styled)
        if not by_style:
            continue
        style, n = by_style.most_common(1)[0]
        if n < settings.min_evidence or n < settings.naming_ratio * total:
            continue
        examples = tuple(Example(path, line) for s, _, line, path in styled if style in s)[
            :MAX_EXAMPLES
        ]
        where = directory or "the repository root"
        plural = {
            "file": "file names",
            "function": "functions",
            "method": "methods",
            "class": "classes",
        }
        rules.append(
            Convention(
                kind=NAMING,
                id=f"naming-{_slug(directory or 'root')}-{language}-{kind}",
                description=(
                    f"{language} {plural[kind]} in `{where}` are {style} "
                    f"({n} of {total} styled names)"
                ),
                count=n,
                examples=examples,
                directory=directory,
                language=language,
                unit_kind=kind,
                style=style,
            )
        )
    return rules


def structure(declarations: Sequence[Declaration], min_evidence: int) -> list[Convention]:
    """Per directory, language and kind: a base, decorator or suffix that every unit has."""
    groups: dict[tuple[str, str, str], list[Declaration]] = defaultdict(list)
    for d in declarations:
        if d.kind in ("class", "function") and "." not in d.qualname:
            groups[(posixpath.dirname(d.path), _language(d.path), d.kind)].append(d)
    rules = []
    for (directory, language, kind), members in sorted(groups.items()):
        if len(members) < min_evidence:
            continue
        trait = _shared_trait(members, min_evidence)
        if trait is None:
            continue
        having = [d for d in members if trait in unit_traits(d.name, d.traits)]
        where = directory or "the repository root"
        plural = {"function": "functions", "class": "classes"}[kind]
        rules.append(
            Convention(
                kind=STRUCTURE,
                id=f"structure-{_slug(directory or 'root')}-{language}-{kind}",
                description=f"every {language} {kind} in `{where}` {describe_trait(trait)} "
                f"({len(having)} {plural})",
                count=len(having),
                examples=tuple(Example(d.path, d.line) for d in having[:MAX_EXAMPLES]),
                directory=directory,
                language=language,
                unit_kind=kind,
                trait=trait,
            )
        )
    return rules


def unit_traits(name: str, traits: Sequence[str]) -> tuple[str, ...]:
    """A unit's stored traits and its name suffix (``suffix:Handler``)."""
    suffix = name_suffix(name)
    return (*traits, SUFFIX + suffix) if suffix else tuple(traits)


def _shared_trait(members: Sequence[Declaration], min_evidence: int) -> str | None:
    """The trait every member has (base first, then decorator, then suffix); a base class
    defined among the members does not count against its own rule."""
    candidates: Counter[str] = Counter()
    for d in members:
        candidates.update(set(unit_traits(d.name, d.traits)))
    for prefix in (BASE, DECORATOR, SUFFIX):
        for trait, n in candidates.most_common():
            if not trait.startswith(prefix):
                continue
            bare = trait[len(prefix) :].rsplit(".", 1)[-1]
            exempt = sum(1 for d in members if prefix == BASE and d.name == bare)
            if n >= min_evidence and n + exempt == len(members):
                return trait
    return None


def describe_trait(trait: str) -> str:
    """``base:Handler`` → "subclasses `Handler`", and so on."""
    if trait.startswith(BASE):
        return f"extends `{trait[len(BASE) :]}`"
    if trait.startswith(DECORATOR):
        return f"is decorated with `@{trait[len(DECORATOR) :]}`"
    return f"is named `…{trait[len(SUFFIX) :]}`"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "root"
