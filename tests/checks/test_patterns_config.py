from __future__ import annotations

import pytest

from checks.config import ConfigError, parse_config
from checks.patterns_config import ForbidRule, Layer, PreferRule


def test_a_valid_patterns_section_is_typed() -> None:
    config = parse_config(
        """
patterns:
  layers:
    - {name: api, paths: ["shop/api/**"]}
    - {name: domain, paths: ["shop/domain/**"]}
  forbid:
    - id: no-assert
      paths: ["shop/**"]
      query: "(assert_statement) @a"
      language: python
      message: Raise a real exception.
  prefer:
    - {id: http, use: shop.http, instead_of: requests}
"""
    )
    patterns = config.patterns
    assert patterns.layers == (
        Layer("api", ("shop/api/**",)),
        Layer("domain", ("shop/domain/**",)),
    )
    assert patterns.layer_of("shop/domain/x/y.py") == 1
    assert patterns.layer_of("shop/other.py") is None
    assert patterns.forbid == (
        ForbidRule(
            id="no-assert",
            location="patterns.forbid[0]",
            message="Raise a real exception.",
            paths=("shop/**",),
            query="(assert_statement) @a",
            language="python",
        ),
    )
    assert patterns.prefer == (
        PreferRule(
            id="http", location="patterns.prefer[0]", use="shop.http", instead_of=("requests",)
        ),
    )


def test_every_problem_is_listed_at_once_with_its_location() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(
            """
patterns:
  layer: []
  layers:
    - {name: api, paths: ["shop/[api/**"]}
    - {name: domain}
    - api
  forbid:
    - query: "(assert_statement @a"
      language: python
      message: No asserts.
    - query: "(no_such_node) @x"
      language: go
      message: Nope.
    - {calls: print}
    - {imports: [pickle], message: x, colour: red}
  prefer:
    - {use: shop.http}
"""
        )
    problems = caught.value.problems
    assert problems[0] == "patterns.layer: unknown key (did you mean 'layers'?)"
    expected = [
        "patterns.layers[0].paths[0]: 'shop/[api/**' is not a valid glob",
        "patterns.layers[1].paths: must list at least one glob",
        "patterns.layers[2]: must be a mapping with name and paths, not str",
        "patterns.forbid[0].query: not a valid python tree-sitter query",
        "patterns.forbid[1].query: not a valid go tree-sitter query",
        "patterns.forbid[2].message: say why, in one sentence a reviewer can act on",
        "patterns.forbid[3].colour: unknown key",
        "patterns.prefer[0].instead_of: list what not to use",
    ]
    for fragment in expected:
        assert any(p.startswith(fragment) for p in problems), (fragment, problems)
    assert len(problems) == 1 + len(expected)


def test_a_broken_patterns_section_does_not_hide_other_sections_errors() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config("duplication: {threshold: 2}\npatterns: {forbid: {}}\n")
    assert caught.value.problems == [
        "duplication.threshold: must be between 0.5 and 1.0, not 2",
        "patterns.forbid: must be a list, not dict",
    ]
