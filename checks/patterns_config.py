"""The ``patterns:`` section of ``.cairn.yml``: layers, forbidden and preferred constructs.

```yaml
patterns:
  layers:                      # highest first: a layer may import those below it, never above
    - {name: api, paths: ["shop/api/**"]}
    - {name: domain, paths: ["shop/domain/**"]}
  forbid:
    - id: no-print             # the rule id, for `cairn: ignore[no-print]`
      paths: ["shop/**"]       # where the rule applies (default: everywhere)
      exclude: ["shop/cli/**"]
      calls: ["print"]         # callee globs; and/or
      imports: ["pickle"]      # module names (and their submodules) or path globs; and/or
      query: "(assert_statement) @x"   # a tree-sitter query, with its language
      language: python
      message: "Log through shop.log instead of printing."
  prefer:
    - {id: http-client, use: shop.http, instead_of: [requests], exclude: ["shop/http/**"]}
  naming:                      # names of new units (or files) directly in a directory
    - {id: handler-names, directory: shop/handlers, kind: function, style: snake_case}
  structure:                   # what every new unit of a kind in a directory has
    - {id: handler-base, directory: shop/handlers, kind: class, base: BaseHandler}
  conventions:                 # mining (checks.conventions): the defaults
    {enabled: true, min_evidence: 5, naming_ratio: 0.95, exclude: []}
```

Every problem is collected with its location (``patterns.forbid[0].query: ...``).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from analyzers.languages import LANGUAGES, language_named
from analyzers.rulebounds import MAX_QUERIES, RuleError, compile_query
from analyzers.rulebounds import message as rule_message
from checks.schema import bad_glob, type_name, unknown_keys

NAMING_KINDS = ("file", "function", "method", "class")
STRUCTURE_KINDS = ("function", "class")
STYLES = (
    "snake_case",
    "camelCase",
    "PascalCase",
    "kebab-case",
    "SCREAMING_SNAKE_CASE",
    "MixedCaps",
)
TRAIT_KEYS = ("base", "decorator", "suffix")


def matches(path: str, globs: tuple[str, ...]) -> bool:
    """Whether ``path`` matches one of ``globs`` (``*`` and ``**`` cross directories)."""
    return any(fnmatch.fnmatchcase(path, glob) for glob in globs)


@dataclass(frozen=True, slots=True)
class Layer:
    name: str
    paths: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ForbidRule:
    """Imports, calls or a query's matches that the change may not add within ``paths``."""

    id: str
    location: str  # "patterns.forbid[0]"
    message: str
    paths: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    imports: tuple[str, ...] = ()
    calls: tuple[str, ...] = ()
    query: str = ""
    language: str = ""

    def applies(self, path: str) -> bool:
        return (not self.paths or matches(path, self.paths)) and not matches(path, self.exclude)


@dataclass(frozen=True, slots=True)
class PreferRule:
    """Use ``use`` instead of ``instead_of`` (imports and calls) within ``paths``."""

    id: str
    location: str
    use: str
    instead_of: tuple[str, ...]
    message: str = ""
    paths: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    def applies(self, path: str) -> bool:
        return (not self.paths or matches(path, self.paths)) and not matches(path, self.exclude)


@dataclass(frozen=True, slots=True)
class NamingRule:
    """New ``kind`` units (or files) directly in ``directory`` are named in ``style``."""

    id: str
    location: str
    directory: str
    kind: str  # one of NAMING_KINDS
    style: str  # one of STYLES
    language: str = ""  # "" for any


@dataclass(frozen=True, slots=True)
class StructureRule:
    """New ``kind`` units directly in ``directory`` have ``trait`` ("base:X", ...)."""

    id: str
    location: str
    directory: str
    kind: str  # one of STRUCTURE_KINDS
    trait: str  # "base:BaseHandler" | "decorator:route" | "suffix:Handler"
    language: str = ""


@dataclass(frozen=True, slots=True)
class ConventionSettings:
    """Thresholds of mined conventions (``patterns.conventions``); see checks.conventions.

    Chosen for precision: five members (or importers, or imports) at least, and a naming
    style followed by 95 % of the directory's styled names; every other kind admits no
    exception at all.
    """

    enabled: bool = True
    min_evidence: int = 5  # importers of a wrapper, imports one way, members of a directory
    naming_ratio: float = 0.95  # share of a directory's styled names in its dominant style
    exclude: tuple[str, ...] = ()  # path globs neither mined nor judged


@dataclass(frozen=True, slots=True)
class PatternsConfig:
    """Configured pattern rules, and the settings of mined ones."""

    layers: tuple[Layer, ...] = ()
    forbid: tuple[ForbidRule, ...] = ()
    prefer: tuple[PreferRule, ...] = ()
    naming: tuple[NamingRule, ...] = ()
    structure: tuple[StructureRule, ...] = ()
    conventions: ConventionSettings = ConventionSettings()

    def layer_of(self, path: str) -> int | None:
        """The index of the first layer whose paths match ``path`` (0 is the highest)."""
        for i, layer in enumerate(self.layers):
            if matches(path, layer.paths):
                return i
        return None


_KEYS = ("layers", "forbid", "prefer", "naming", "structure", "conventions")
_NAMING_KEYS = ("id", "directory", "kind", "style", "language")
_STRUCTURE_KEYS = ("id", "directory", "kind", "language", *TRAIT_KEYS)
_CONVENTION_KEYS = ("enabled", "min_evidence", "naming_ratio", "exclude")
_LAYER_KEYS = ("name", "paths")
_FORBID_KEYS = ("id", "paths", "exclude", "imports", "calls", "query", "language", "message")
_PREFER_KEYS = ("id", "use", "instead_of", "paths", "exclude", "message")


def parse_patterns(raw: Any, problems: list[str]) -> PatternsConfig:
    """The ``patterns`` section; every problem is appended to ``problems``."""
    if raw is None:
        return PatternsConfig()
    if not isinstance(raw, Mapping):
        problems.append(f"patterns: must be a mapping, not {type_name(raw)}")
        return PatternsConfig()
    unknown_keys(raw, _KEYS, "patterns.", problems)
    layers = [
        layer
        for i, item in enumerate(_list(raw, "layers", "patterns.", problems))
        if (layer := _layer(item, f"patterns.layers[{i}]", problems)) is not None
    ]
    names = [layer.name for layer in layers]
    for name in {n for n in names if names.count(n) > 1}:
        problems.append(f"patterns.layers: the layer {name!r} is listed twice")
    forbid = [
        rule
        for i, item in enumerate(_list(raw, "forbid", "patterns.", problems))
        if (rule := _forbid(item, f"patterns.forbid[{i}]", i, problems)) is not None
    ]
    if sum(1 for rule in forbid if rule.query) > MAX_QUERIES:
        problems.append(f"patterns.forbid: more than {MAX_QUERIES} queries; Cairn runs that many")
    prefer = [
        preferred
        for i, item in enumerate(_list(raw, "prefer", "patterns.", problems))
        if (preferred := _prefer(item, f"patterns.prefer[{i}]", i, problems)) is not None
    ]
    naming = [
        named
        for i, item in enumerate(_list(raw, "naming", "patterns.", problems))
        if (named := _naming(item, f"patterns.naming[{i}]", i, problems)) is not None
    ]
    structure = [
        shaped
        for i, item in enumerate(_list(raw, "structure", "patterns.", problems))
        if (shaped := _structure(item, f"patterns.structure[{i}]", i, problems)) is not None
    ]
    return PatternsConfig(
        layers=tuple(layers),
        forbid=tuple(forbid),
        prefer=tuple(prefer),
        naming=tuple(naming),
        structure=tuple(structure),
        conventions=_conventions(raw.get("conventions"), problems),
    )


def _conventions(raw: Any, problems: list[str]) -> ConventionSettings:
    default = ConventionSettings()
    where = "patterns.conventions"
    if raw is None:
        return default
    if raw is False:
        return ConventionSettings(enabled=False)
    if not isinstance(raw, Mapping):
        problems.append(f"{where}: must be a mapping (or false), not {type_name(raw)}")
        return default
    unknown_keys(raw, _CONVENTION_KEYS, f"{where}.", problems)
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        problems.append(f"{where}.enabled: must be true or false, not {type_name(enabled)}")
        enabled = True
    n = raw.get("min_evidence", default.min_evidence)
    if isinstance(n, bool) or not isinstance(n, int) or n < 2:
        problems.append(f"{where}.min_evidence: must be a whole number from 2, not {n!r}")
        n = default.min_evidence
    ratio = raw.get("naming_ratio", default.naming_ratio)
    if isinstance(ratio, bool) or not isinstance(ratio, int | float) or not 0.5 < ratio <= 1:
        problems.append(f"{where}.naming_ratio: must be a number above 0.5 and at most 1")
        ratio = default.naming_ratio
    return ConventionSettings(
        enabled=enabled,
        min_evidence=n,
        naming_ratio=float(ratio),
        exclude=_globs(raw, "exclude", where, problems),
    )


def _directory(item: Mapping[str, Any], where: str, problems: list[str]) -> str:
    directory = _string(item, "directory", where, problems).strip().strip("/")
    if "directory" not in item:
        problems.append(f'{where}.directory: say which directory ("" for the root)')
    elif any(c in directory for c in "*?["):
        problems.append(f"{where}.directory: a directory, not a glob")
    return directory


def _choice(
    item: Mapping[str, Any], key: str, choices: tuple[str, ...], where: str, problems: list[str]
) -> str:
    value = _string(item, key, where, problems)
    if value not in choices:
        problems.append(f"{where}.{key}: must be one of {', '.join(choices)}, not {value!r}")
        return ""
    return value


def _rule_language(item: Mapping[str, Any], where: str, problems: list[str]) -> str:
    language = _string(item, "language", where, problems)
    names = [lang.name for lang in LANGUAGES]
    if language and language not in names:
        problems.append(f"{where}.language: must be one of {', '.join(names)}")
        return ""
    return language


def _naming(item: Any, where: str, i: int, problems: list[str]) -> NamingRule | None:
    if not isinstance(item, Mapping):
        problems.append(f"{where}: must be a mapping, not {type_name(item)}")
        return None
    unknown_keys(item, _NAMING_KEYS, f"{where}.", problems)
    before = len(problems)
    rule = NamingRule(
        id=_string(item, "id", where, problems) or f"naming-{i}",
        location=where,
        directory=_directory(item, where, problems),
        kind=_choice(item, "kind", NAMING_KINDS, where, problems),
        style=_choice(item, "style", STYLES, where, problems),
        language=_rule_language(item, where, problems),
    )
    return rule if len(problems) == before else None


def _structure(item: Any, where: str, i: int, problems: list[str]) -> StructureRule | None:
    if not isinstance(item, Mapping):
        problems.append(f"{where}: must be a mapping, not {type_name(item)}")
        return None
    unknown_keys(item, _STRUCTURE_KEYS, f"{where}.", problems)
    before = len(problems)
    given = [key for key in TRAIT_KEYS if key in item]
    trait = ""
    if len(given) != 1:
        problems.append(f"{where}: give exactly one of {', '.join(TRAIT_KEYS)}")
    else:
        value = _string(item, given[0], where, problems).strip().lstrip("@")
        if not value:
            problems.append(f"{where}.{given[0]}: must be a non-empty string")
        trait = f"{given[0]}:{value}"
    rule = StructureRule(
        id=_string(item, "id", where, problems) or f"structure-{i}",
        location=where,
        directory=_directory(item, where, problems),
        kind=_choice(item, "kind", STRUCTURE_KINDS, where, problems),
        trait=trait,
        language=_rule_language(item, where, problems),
    )
    return rule if len(problems) == before else None


def _layer(item: Any, where: str, problems: list[str]) -> Layer | None:
    if not isinstance(item, Mapping):
        problems.append(f"{where}: must be a mapping with name and paths, not {type_name(item)}")
        return None
    unknown_keys(item, _LAYER_KEYS, f"{where}.", problems)
    name = item.get("name")
    if not isinstance(name, str) or not name:
        problems.append(f"{where}.name: must be a non-empty string")
    paths = _globs(item, "paths", where, problems, required=True)
    return Layer(name=name, paths=paths) if isinstance(name, str) and name and paths else None


def _forbid(item: Any, where: str, i: int, problems: list[str]) -> ForbidRule | None:
    if not isinstance(item, Mapping):
        problems.append(f"{where}: must be a mapping, not {type_name(item)}")
        return None
    unknown_keys(item, _FORBID_KEYS, f"{where}.", problems)
    before = len(problems)
    rule_id = _string(item, "id", where, problems) or f"forbid-{i}"
    message = _string(item, "message", where, problems)
    if not message:
        problems.append(f"{where}.message: say why, in one sentence a reviewer can act on")
    imports = _strings(item, "imports", where, problems)
    calls = _globs(item, "calls", where, problems)
    query = _string(item, "query", where, problems)
    language = _string(item, "language", where, problems)
    if not (imports or calls or query):
        problems.append(f"{where}: give imports, calls or a query to forbid")
    if query:
        _check_query(query, language, where, problems)
    elif language:
        problems.append(f"{where}.language: only a query needs a language")
    rule = ForbidRule(
        id=rule_id,
        location=where,
        message=rule_message(message),
        paths=_globs(item, "paths", where, problems),
        exclude=_globs(item, "exclude", where, problems),
        imports=imports,
        calls=calls,
        query=query,
        language=language,
    )
    return rule if len(problems) == before else None


def _prefer(item: Any, where: str, i: int, problems: list[str]) -> PreferRule | None:
    if not isinstance(item, Mapping):
        problems.append(f"{where}: must be a mapping, not {type_name(item)}")
        return None
    unknown_keys(item, _PREFER_KEYS, f"{where}.", problems)
    before = len(problems)
    use = _string(item, "use", where, problems)
    if not use:
        problems.append(f"{where}.use: say what to use instead")
    instead_of = _strings(item, "instead_of", where, problems)
    if not instead_of:
        problems.append(f"{where}.instead_of: list what not to use")
    rule = PreferRule(
        id=_string(item, "id", where, problems) or f"prefer-{i}",
        location=where,
        use=use,
        instead_of=instead_of,
        message=rule_message(_string(item, "message", where, problems)),
        paths=_globs(item, "paths", where, problems),
        exclude=_globs(item, "exclude", where, problems),
    )
    return rule if len(problems) == before else None


def _check_query(query: str, language: str, where: str, problems: list[str]) -> None:
    names = [lang.name for lang in LANGUAGES]
    if language not in names:
        problems.append(f"{where}.language: a query needs one of {', '.join(names)}")
        return
    try:
        compile_query(language_named(language).grammar_language, query)
    except RuleError as exc:
        problems.append(f"{where}.query: not a valid {language} tree-sitter query: {exc}")


def _list(raw: Mapping[str, Any], key: str, where: str, problems: list[str]) -> list[Any]:
    value = raw.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        problems.append(f"{where}{key}: must be a list, not {type_name(value)}")
        return []
    return value


def _string(raw: Mapping[str, Any], key: str, where: str, problems: list[str]) -> str:
    value = raw.get(key, "")
    if not isinstance(value, str):
        problems.append(f"{where}.{key}: must be a string, not {type_name(value)}")
        return ""
    return value


def _strings(raw: Mapping[str, Any], key: str, where: str, problems: list[str]) -> tuple[str, ...]:
    value = raw.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        problems.append(f"{where}.{key}: must be a list of strings, not {type_name(value)}")
        return ()
    out = []
    for j, item in enumerate(value):
        if not isinstance(item, str) or not item:
            problems.append(f"{where}.{key}[{j}]: must be a non-empty string")
        else:
            out.append(item)
    return tuple(out)


def _globs(
    raw: Mapping[str, Any], key: str, where: str, problems: list[str], *, required: bool = False
) -> tuple[str, ...]:
    if required and not raw.get(key):
        problems.append(f"{where}.{key}: must list at least one glob")
        return ()
    out = []
    for j, glob in enumerate(_strings(raw, key, where, problems)):
        if bad_glob(glob):
            problems.append(f"{where}.{key}[{j}]: {glob!r} is not a valid glob")
        else:
            out.append(glob)
    return tuple(out)
