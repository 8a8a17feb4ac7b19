"""YAML from repositories is read within bounds: bombs and monsters are YAML errors, fast."""

from __future__ import annotations

import time

import pytest
import yaml

from analyzers import safeyaml
from analyzers.adr import parse_adr
from checks.config import ConfigError, load_config

# 381 bytes that PyYAML's safe_load expands into 9**8 nodes
BOMB = (
    "a0: &a0 [x, x, x, x, x, x, x, x, x]\n"
    + "".join(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 8))
    + "status: *a7\n"
)

MONSTERS = [
    pytest.param(BOMB, "aliases are not allowed", id="alias-bomb"),
    pytest.param("x: &a 1\ny: *a\n", "aliases are not allowed", id="one-alias"),
    pytest.param("x: " + "[" * 50_000 + "]" * 50_000, "nested deeper", id="deep-flow"),
    pytest.param("- " * 5_000 + "x\n", "nested deeper", id="deep-block"),
    pytest.param("{" + ", ".join(f"k{i}: 1" for i in range(30_000)) + "}", "more than", id="wide"),
    pytest.param("n: " + "9" * 5_000, "cannot be read", id="huge-integer"),
]


@pytest.mark.parametrize(("text", "problem"), MONSTERS)
def test_a_hostile_document_is_a_yaml_error_within_a_second(text: str, problem: str) -> None:
    started = time.process_time()
    with pytest.raises(yaml.YAMLError, match=problem):
        safeyaml.load(text)
    assert time.process_time() - started < 1.0


def test_ordinary_yaml_reads_as_safe_load_reads_it() -> None:
    text = "a: &anchor 1\nb: [1, 2.5, yes, null, '2024-01-02']\nc: {d: e}\n"
    assert safeyaml.load(text) == yaml.safe_load(text)


@pytest.mark.parametrize(("text", "problem"), MONSTERS)
def test_a_hostile_cairn_yml_is_reported_not_expanded(text: str, problem: str) -> None:
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(text)


def test_an_adr_with_a_bomb_in_its_front_matter_is_a_problem_of_the_log() -> None:
    adr = f"---\n{BOMB}---\n# 1. Use httpx\n\nAccepted.\n".encode()
    started = time.process_time()
    parsed = parse_adr("docs/adr/0001-use-httpx.md", adr)
    assert time.process_time() - started < 1.0
    assert any("aliases are not allowed" in p for p in parsed.problems), parsed.problems


def test_a_cairn_block_with_a_bomb_is_a_problem_of_the_log() -> None:
    adr = f"# 1. Use httpx\n\nStatus: accepted\n\n```cairn\ncairn:\n{BOMB}```\n".encode()
    parsed = parse_adr("docs/adr/0001-use-httpx.md", adr)
    assert any("aliases are not allowed" in p for p in parsed.problems), parsed.problems
