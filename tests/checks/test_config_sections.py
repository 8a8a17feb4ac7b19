"""``.cairn.yml`` section by section: a broken section invalidates only its own check, with
every problem and its line; a file that is not YAML (or not a mapping) still breaks all."""

from __future__ import annotations

import pytest

from checks.config import ConfigError, load_config, parse_config
from checks.patterns_config import ConventionSettings, NamingRule, StructureRule
from checks.schema import yaml_lines

TEXT = """\
duplication:
  min_tokens: 60
# a comment
patterns:
  forbid:
    - {calls: [print]}
  naming:
    - {directory: app, kind: module, style: snake_case}
decisions:
  paths: [docs/adr]
"""


def test_a_broken_patterns_section_leaves_the_others_valid() -> None:
    config = load_config(TEXT)
    assert config.duplication.min_tokens == 60
    assert config.decisions.paths == ("docs/adr",)
    assert set(config.invalid) == {"patterns"}
    assert config.invalid["patterns"] == (
        "patterns.forbid[0].message: say why, in one sentence a reviewer can act on (line 6)",
        "patterns.naming[0].kind: must be one of file, function, method, class, not 'module' "
        "(line 8)",
    )


def test_the_cli_still_gets_every_problem_at_once() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(TEXT)
    assert len(caught.value.problems) == 2
    assert all("(line" not in p for p in caught.value.problems)
    assert [d.rsplit(" (line ", 1)[1] for d in caught.value.described] == ["6)", "8)"]


@pytest.mark.parametrize(
    ("text", "invalid"),
    [
        pytest.param("pattern: {}\n", {"patterns"}, id="typo-of-a-section"),
        pytest.param("colour: red\n", {"duplication", "patterns", "decisions"}, id="unknown"),
        pytest.param("fail_on: {patterns: sometimes}\n", {"patterns"}, id="fail-on-one"),
        pytest.param(
            "fail_on: never\n", {"duplication", "patterns", "decisions"}, id="fail-on-all"
        ),
        pytest.param("duplication: {threshold: 2}\n", {"duplication"}, id="duplication"),
        pytest.param("decisions: {paths: x}\n", {"decisions"}, id="decisions"),
        pytest.param("patterns: {conventions: {min_evidence: 1}}\n", {"patterns"}, id="mining"),
    ],
)
def test_each_problem_belongs_to_its_check(text: str, invalid: set[str]) -> None:
    assert set(load_config(text).invalid) == invalid


@pytest.mark.parametrize(
    "text", [pytest.param("patterns: [\n", id="not-yaml"), pytest.param("- a\n", id="a-list")]
)
def test_a_file_that_is_not_a_mapping_still_breaks_every_check(text: str) -> None:
    with pytest.raises(ConfigError):
        load_config(text)


def test_yaml_lines_name_locations_as_problems_do() -> None:
    lines = yaml_lines(TEXT)
    assert lines["duplication"] == 1
    assert lines["duplication.min_tokens"] == 2
    assert lines["patterns.forbid[0]"] == 6
    assert lines["patterns.forbid[0].calls[0]"] == 6
    assert lines["decisions.paths"] == 10
    assert yaml_lines("a: [\n") == {}


def test_naming_structure_and_mining_settings_parse() -> None:
    config = parse_config(
        """
patterns:
  naming:
    - {id: views, directory: shop/views/, kind: function, style: snake_case, language: python}
  structure:
    - {directory: shop/handlers, kind: class, base: BaseHandler}
    - {directory: web/components, kind: class, decorator: "@Component"}
  conventions: {min_evidence: 8, naming_ratio: 0.9, exclude: ["legacy/*"]}
"""
    ).patterns
    assert config.naming == (
        NamingRule(
            id="views",
            location="patterns.naming[0]",
            directory="shop/views",
            kind="function",
            style="snake_case",
            language="python",
        ),
    )
    assert [r.trait for r in config.structure] == ["base:BaseHandler", "decorator:Component"]
    assert config.structure[0] == StructureRule(
        id="structure-0",
        location="patterns.structure[0]",
        directory="shop/handlers",
        kind="class",
        trait="base:BaseHandler",
    )
    assert config.conventions == ConventionSettings(
        min_evidence=8, naming_ratio=0.9, exclude=("legacy/*",)
    )
    assert not parse_config("patterns: {conventions: false}\n").patterns.conventions.enabled


def test_naming_and_structure_problems_are_all_listed() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(
            """
patterns:
  naming:
    - {directory: "a/*", kind: function, style: shouting}
    - {kind: class, style: PascalCase, language: cobol}
  structure:
    - {directory: a, kind: class, base: X, suffix: Y}
    - {directory: a, kind: method, decorator: x}
  conventions: {enabled: maybe, naming_ratio: 0.2, extra: 1}
"""
        )
    problems = caught.value.problems
    for fragment in (
        "patterns.naming[0].directory: a directory, not a glob",
        "patterns.naming[0].style: must be one of",
        "patterns.naming[1].directory: say which directory",
        "patterns.naming[1].language: must be one of",
        "patterns.structure[0]: give exactly one of base, decorator, suffix",
        "patterns.structure[1].kind: must be one of function, class, not 'method'",
        "patterns.conventions.extra: unknown key",
        "patterns.conventions.enabled: must be true or false",
        "patterns.conventions.naming_ratio: must be a number above 0.5",
    ):
        assert any(p.startswith(fragment) for p in problems), (fragment, problems)
    assert len(problems) == 9
