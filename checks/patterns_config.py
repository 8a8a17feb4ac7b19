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
```

Every problem is collected with its location (``patterns.forbid[0].query: ...``).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import tree_sitter

from analyzers.languages import LANGUAGES, language_named
from checks.schema import bad_glob, type_name, unknown_keys


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
class PatternsConfig:
    """Configured pattern rules."""

    layers: tuple[Layer, ...] = ()
    forbid: tuple[ForbidRule, ...] = ()
    prefer: tuple[PreferRule, ...] = ()

    def layer_of(self, path: str) -> int | None:
        """The index of the first layer whose paths match ``path`` (0 is the highest)."""
        for i, layer in enumerate(self.layers):
            if matches(path, layer.paths):
                return i
        return None


_KEYS = ("layers", "forbid", "prefer")
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
    prefer = [
        preferred
        for i, item in enumerate(_list(raw, "prefer", "patterns.", problems))
        if (preferred := _prefer(item, f"patterns.prefer[{i}]", i, problems)) is not None
    ]
    return PatternsConfig(layers=tuple(layers), forbid=tuple(forbid), prefer=tuple(prefer))


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
        message=message,
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
        message=_string(item, "message", where, problems),
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
        tree_sitter.Query(language_named(language).grammar_language, query)
    except (tree_sitter.QueryError, ValueError) as exc:
        detail = " ".join(str(exc).split())
        problems.append(f"{where}.query: not a valid {language} tree-sitter query: {detail}")


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
