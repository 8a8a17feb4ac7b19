"""Per-repository configuration: ``.cairn.yml`` parsed into typed, frozen settings.

Every error is collected with its location and reported together; a broken file never
crashes a review. Defaults come from the clone benchmark (``bench/RESULTS.md``):

* ``min_tokens: 50`` — below ~50 normalised tokens, unrelated functions (getters, one-line
  delegations, ``__str__``) share the same shape too often; jscpd uses the same floor.
* ``min_lines: 5`` — a unit must span at least five lines to be worth reusing.
* ``threshold: 0.70`` — token-alignment similarity (``analyzers.fingerprint.similarity``)
  from which a pair is reported. Measured on Django, clones with 10/20/30 % of their
  statements edited score 0.91/0.83/0.75 on average, unrelated units of similar size 0.36
  (0.50 at the 99th percentile): 0.70 keeps type-3 clones and leaves a wide margin.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import yaml

from analyzers import safeyaml
from analyzers.errors import CairnError
from checks.patterns_config import PatternsConfig, parse_patterns
from checks.schema import bad_glob, type_name, unknown_keys, yaml_lines

CONFIG_FILE = ".cairn.yml"


class ConfigError(CairnError):
    """``.cairn.yml`` is invalid; ``problems`` lists every error with its location.

    ``described`` is the same list with the line of each location in the file, where the
    YAML gives it ("patterns.forbid[0].query: not a valid query (line 7)").
    """

    def __init__(
        self, problems: list[str], source: str = CONFIG_FILE, described: list[str] | None = None
    ) -> None:
        self.problems = problems
        self.source = source
        self.described = described if described is not None else list(problems)
        super().__init__(f"{source}: " + "; ".join(self.described))


@dataclass(frozen=True, slots=True)
class DuplicationConfig:
    """Settings of the duplication check."""

    min_tokens: int = 50
    min_lines: int = 5
    threshold: float = 0.70
    exclude: tuple[str, ...] = ()
    edited_copy: str = "notice"  # severity of `edited-copy` findings, or "off"

    def excludes(self, path: str) -> bool:
        return any(fnmatch.fnmatchcase(path, pattern) for pattern in self.exclude)


CHECKS = ("duplication", "patterns", "decisions")
FAIL_LEVELS = ("never", "notice", "warning", "error")
# The least severity that fails a check's run (a required status check blocks the merge):
# configured rules and explicit decisions block; duplication and mined patterns inform.
DEFAULT_FAIL_ON = {"duplication": "never", "patterns": "error", "decisions": "error"}


@dataclass(frozen=True, slots=True)
class CairnConfig:
    """Everything ``.cairn.yml`` can say."""

    duplication: DuplicationConfig = field(default_factory=DuplicationConfig)
    fail_on: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_FAIL_ON))
    patterns: PatternsConfig = field(default_factory=PatternsConfig)
    decisions: DecisionsConfig = field(default_factory=lambda: DecisionsConfig())
    commands: CommandsConfig = field(default_factory=lambda: CommandsConfig())
    # The conclusion of the check runs of a push Cairn could not review whole (its analysis
    # killed at a time or memory limit, or the pull request over the App's caps): "neutral"
    # passes a required check, "failure" blocks the merge until someone looks.
    not_reviewed: str = "neutral"
    # load_config only: the checks whose section is invalid → its problems (with lines);
    # those checks are reported neutral, the others run.
    invalid: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DecisionsConfig:
    """Settings of the decisions check: where the decision log lives (empty: the usual places)."""

    paths: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CommandsConfig:
    """What ``/cairn`` commands in a pull request may do (people with write access only)."""

    # whether a pull request's author may `/cairn ignore` an error-level finding on it
    author_may_ignore_errors: bool = False


def _commands(raw: Any, problems: list[str]) -> CommandsConfig:
    if raw is None:
        return CommandsConfig()
    if not isinstance(raw, Mapping):
        problems.append(f"commands: must be a mapping, not {type_name(raw)}")
        return CommandsConfig()
    unknown_keys(raw, ("author_may_ignore_errors",), "commands.", problems)
    value = raw.get("author_may_ignore_errors", False)
    if not isinstance(value, bool):
        problems.append(f"commands.author_may_ignore_errors: must be true or false, not {value!r}")
        return CommandsConfig()
    return CommandsConfig(author_may_ignore_errors=value)


def _decisions(raw: Any, problems: list[str]) -> DecisionsConfig:
    if raw is None:
        return DecisionsConfig()
    if not isinstance(raw, Mapping):
        problems.append(f"decisions: must be a mapping, not {type_name(raw)}")
        return DecisionsConfig()
    unknown_keys(raw, ("paths",), "decisions.", problems)
    paths = raw.get("paths", [])
    if not isinstance(paths, list) or not all(isinstance(p, str) and p.strip() for p in paths):
        problems.append("decisions.paths: must be a list of directories")
        return DecisionsConfig()
    return DecisionsConfig(paths=tuple(p.strip().strip("/") for p in paths))


_SECTIONS = ("duplication", "fail_on", "patterns", "decisions", "commands", "not_reviewed")
NOT_REVIEWED = ("neutral", "failure")
_DUPLICATION_KEYS = ("min_tokens", "min_lines", "threshold", "exclude", "edited_copy")
EDITED_COPY_LEVELS = ("notice", "warning", "off")
# The index keeps units from this size up; a lower min_tokens would find nothing more.
MIN_TOKENS_FLOOR = 10


def parse_config(text: str | None, source: str = CONFIG_FILE) -> CairnConfig:
    """Parse ``.cairn.yml`` text (None or empty: defaults); raise ConfigError with every problem."""
    config, problems, lines = _parse(text, source)
    if problems:
        raise ConfigError(problems, source, [_with_line(p, lines) for p in problems])
    return config


def load_config(text: str | None, source: str = CONFIG_FILE) -> CairnConfig:
    """Parse ``.cairn.yml`` section by section: a section's problems make only its check
    invalid (``CairnConfig.invalid``), the others keep their valid settings. Problems of the
    whole file (not YAML, not a mapping) still raise ConfigError.

    A problem's check is the section it is in; ``fail_on.<check>`` is that check's; an
    unknown top-level key belongs to the section it looks like a typo of (``pattern:`` to
    ``patterns``), or to every check when it looks like none, as ``fail_on`` when it is not
    a mapping.
    """
    config, problems, lines = _parse(text, source)
    invalid: dict[str, list[str]] = {}
    for problem in problems:
        for check in _checks_of(problem):
            invalid.setdefault(check, []).append(_with_line(problem, lines))
    return replace(config, invalid={c: tuple(ps) for c, ps in invalid.items()})


def _checks_of(problem: str) -> tuple[str, ...]:
    location = problem.split(":", 1)[0]
    parts = re.split(r"[.\[]", location)
    section = parts[0]
    if section in CHECKS:
        return (section,)
    if section == "fail_on":
        return (parts[1],) if len(parts) > 1 and parts[1] in CHECKS else CHECKS
    like = difflib.get_close_matches(section, _SECTIONS, n=1)
    return (like[0],) if like and like[0] in CHECKS else CHECKS


def _parse(text: str | None, source: str) -> tuple[CairnConfig, list[str], dict[str, int]]:
    """The configuration, every problem, and the line of each location in the file."""
    if text is None or not text.strip():
        return CairnConfig(), [], {}
    try:
        data = safeyaml.load(text)
    except yaml.YAMLError as exc:
        raise ConfigError([f"not valid YAML: {_yaml_problem(exc)}"], source) from exc
    if data is None:
        return CairnConfig(), [], {}
    if not isinstance(data, Mapping):
        raise ConfigError([f"the top level must be a mapping, not {type_name(data)}"], source)
    problems: list[str] = []
    unknown_keys(data, _SECTIONS, "", problems)
    duplication = _duplication(data.get("duplication"), problems)
    fail_on = _fail_on(data.get("fail_on"), problems)
    patterns = parse_patterns(data.get("patterns"), problems)
    decisions = _decisions(data.get("decisions"), problems)
    commands = _commands(data.get("commands"), problems)
    not_reviewed = data.get("not_reviewed", "neutral")
    if not_reviewed not in NOT_REVIEWED:
        problems.append(f"not_reviewed: must be neutral or failure, not {not_reviewed!r}")
        not_reviewed = "failure"  # a setting that asked for something: the stricter one
    config = CairnConfig(
        duplication=duplication,
        fail_on=fail_on,
        patterns=patterns,
        decisions=decisions,
        commands=commands,
        not_reviewed=not_reviewed,
    )
    return config, problems, yaml_lines(text) if problems else {}


def _with_line(problem: str, lines: Mapping[str, int]) -> str:
    """The problem with the line of its location (or of the nearest enclosing one)."""
    location = problem.split(":", 1)[0]
    while location:
        line = lines.get(location)
        if line is not None:
            return f"{problem} (line {line})"
        cut = max(location.rfind("."), location.rfind("["))
        location = location[:cut] if cut > 0 else ""
    return problem


def _fail_on(raw: Any, problems: list[str]) -> dict[str, str]:
    policy = dict(DEFAULT_FAIL_ON)
    if raw is None:
        return policy
    if not isinstance(raw, Mapping):
        problems.append(f"fail_on: must be a mapping of check to level, not {type_name(raw)}")
        return policy
    unknown_keys(raw, CHECKS, "fail_on.", problems)
    for check in CHECKS:
        if check not in raw:
            continue
        level = raw[check]
        if level is False:  # YAML reads a bare `no`/`off` as false
            level = "never"
        if level not in FAIL_LEVELS:
            problems.append(
                f"fail_on.{check}: must be one of {', '.join(FAIL_LEVELS)}, not {level!r}"
            )
        else:
            policy[check] = level
    return policy


def _duplication(raw: Any, problems: list[str]) -> DuplicationConfig:
    default = DuplicationConfig()
    if raw is None:
        return default
    if not isinstance(raw, Mapping):
        problems.append(f"duplication: must be a mapping, not {type_name(raw)}")
        return default
    unknown_keys(raw, _DUPLICATION_KEYS, "duplication.", problems)
    min_tokens = _int(raw, "min_tokens", default.min_tokens, MIN_TOKENS_FLOOR, problems)
    min_lines = _int(raw, "min_lines", default.min_lines, 1, problems)
    threshold = raw.get("threshold", default.threshold)
    if isinstance(threshold, bool) or not isinstance(threshold, int | float):
        problems.append(f"duplication.threshold: must be a number, not {type_name(threshold)}")
        threshold = default.threshold
    elif not 0.5 <= threshold <= 1.0:
        problems.append(f"duplication.threshold: must be between 0.5 and 1.0, not {threshold}")
        threshold = default.threshold
    exclude = raw.get("exclude", [])
    globs: list[str] = []
    if not isinstance(exclude, list):
        problems.append(f"duplication.exclude: must be a list of globs, not {type_name(exclude)}")
    else:
        for i, glob in enumerate(exclude):
            if not isinstance(glob, str) or not glob:
                problems.append(f"duplication.exclude[{i}]: must be a glob string")
            elif bad_glob(glob):
                problems.append(f"duplication.exclude[{i}]: {glob!r} is not a valid glob")
            else:
                globs.append(glob)
    edited_copy = raw.get("edited_copy", default.edited_copy)
    if edited_copy is False:  # YAML reads a bare `off` as false
        edited_copy = "off"
    if edited_copy not in EDITED_COPY_LEVELS:
        problems.append(
            f"duplication.edited_copy: must be one of {', '.join(EDITED_COPY_LEVELS)}, "
            f"not {edited_copy!r}"
        )
        edited_copy = default.edited_copy
    return DuplicationConfig(
        min_tokens=min_tokens,
        min_lines=min_lines,
        threshold=float(threshold),
        exclude=tuple(globs),
        edited_copy=edited_copy,
    )


def _int(raw: Mapping[str, Any], key: str, default: int, low: int, problems: list[str]) -> int:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        problems.append(f"duplication.{key}: must be a whole number, not {type_name(value)}")
        return default
    if value < low:
        problems.append(f"duplication.{key}: must be at least {low}, not {value}")
        return default
    return value


def _yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    if mark is not None:
        return f"{problem} (line {mark.line + 1}, column {mark.column + 1})"
    return str(problem)
