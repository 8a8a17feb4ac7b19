from __future__ import annotations

from pathlib import Path

import pytest

from analyzers.adr import Constraint, build_log, parse_adr
from analyzers.adr_block import cairn_block

FIXTURES = Path(__file__).parent.parent / "fixtures" / "adr"
DERIVED = [
    "nygard-0004-use-npm-instead-of-yarn.md",
    "madr2-0005-http-client.md",
    "madr4-0007-no-moment.md",
    "log4brains-0008-go-errors.md",
]


def _rule(c: Constraint) -> tuple[str, str, str, str, tuple[str, ...], str]:
    return (c.kind, c.value, c.prefer, c.language, c.scope, c.message or c.sentence)


@pytest.mark.parametrize("name", DERIVED)
def test_the_suggested_block_parses_back_into_the_same_constraints(name: str) -> None:
    path = "docs/adr/" + name.split("-", 1)[1]
    adr = parse_adr(path, (FIXTURES / name).read_bytes())
    derived = [c for c in adr.constraints if not c.explicit]
    assert derived, "the fixture states its decision in prose"

    block = cairn_block(derived)
    confirmed = parse_adr(path, (adr.body.rstrip("\n") + "\n\n" + block).encode())

    explicit = [c for c in confirmed.constraints if c.explicit]
    assert [_rule(c) for c in explicit] == [_rule(c) for c in derived]
    assert confirmed.problems == adr.problems


def test_a_block_with_scope_language_and_awkward_text_round_trips() -> None:
    rules = [
        Constraint(kind="any", value="yarn", sentence='Do not use "yarn": it\'s #1 # no'),
        Constraint(kind="any", value="@scope/pkg", prefer="left: pad", sentence="x: y"),
        Constraint(kind="import", value="pickle", language="python", message="No pickle."),
    ]
    scoped = [
        Constraint(
            kind=c.kind,
            value=c.value,
            prefer=c.prefer,
            language=c.language,
            scope=("src/**", "lib/*.py"),
            message=c.message,
            sentence=c.sentence,
        )
        for c in rules
    ]
    adr = parse_adr("docs/adr/0001-x.md", ("# 1. X\n\n" + cairn_block(scoped)).encode())
    assert adr.problems == ("docs/adr/0001-x.md: no status",)
    assert sorted(_rule(c) for c in adr.constraints) == sorted(_rule(c) for c in scoped)


def test_a_confirmed_rule_binds_as_explicit() -> None:
    text = "# 1. Use httpx\n\n## Status\n\nAccepted\n\n## Decision\n\nAvoid `requests`.\n"
    adr = parse_adr("docs/adr/0001-httpx.md", text.encode())
    [derived] = adr.constraints
    confirmed = parse_adr(
        "docs/adr/0001-httpx.md", (text.replace("Avoid", "Skip") + cairn_block([derived])).encode()
    )
    [rule] = build_log([confirmed]).binding[0].constraints
    assert rule.explicit and (rule.kind, rule.value) == ("any", "requests")
