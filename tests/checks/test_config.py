from __future__ import annotations

import pytest

from checks.config import CairnConfig, ConfigError, DuplicationConfig, parse_config


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(None, CairnConfig(), id="no-file"),
        pytest.param("", CairnConfig(), id="empty"),
        pytest.param("# nothing yet\n", CairnConfig(), id="only-comments"),
        pytest.param(
            "duplication:\n  min_tokens: 80\n  min_lines: 3\n  threshold: 0.9\n"
            "  exclude: ['legacy/**']\n",
            CairnConfig(
                DuplicationConfig(min_tokens=80, min_lines=3, threshold=0.9, exclude=("legacy/**",))
            ),
            id="all-duplication-keys",
        ),
    ],
)
def test_valid_config(text: str | None, expected: CairnConfig) -> None:
    assert parse_config(text) == expected


@pytest.mark.parametrize(
    ("text", "problems"),
    [
        pytest.param("duplication: [\n", ["not valid YAML"], id="broken-yaml"),
        pytest.param("- a\n- b\n", ["top level must be a mapping"], id="list-at-top"),
        pytest.param(
            "duplicaton: {}\n", ["duplicaton: unknown key (did you mean 'duplication'?)"], id="typo"
        ),
        pytest.param(
            "duplication:\n  min_tokens: many\n  threshold: 2\n  exclude: 'x'\n  colour: red\n",
            [
                "duplication.colour: unknown key",
                "duplication.min_tokens: must be a whole number, not str",
                "duplication.threshold: must be between 0.5 and 1.0, not 2",
                "duplication.exclude: must be a list of globs, not str",
            ],
            id="every-error-at-once",
        ),
        pytest.param(
            "duplication:\n  min_tokens: 3\n", ["must be at least 10, not 3"], id="below-floor"
        ),
        pytest.param(
            "duplication:\n  exclude: ['a[']\n", ["'a[' is not a valid glob"], id="bad-glob"
        ),
        pytest.param(
            "duplication:\n  min_lines: true\n", ["must be a whole number, not bool"], id="bool"
        ),
    ],
)
def test_invalid_config_lists_every_problem(text: str, problems: list[str]) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "repo/.cairn.yml")
    assert caught.value.source == "repo/.cairn.yml"
    assert len(caught.value.problems) == len(problems)
    for got, want in zip(sorted(caught.value.problems), sorted(problems), strict=True):
        assert want in got


def test_exclude_globs_match_paths() -> None:
    cfg = DuplicationConfig(exclude=("legacy/**", "*_test.go"))
    assert cfg.excludes("legacy/old/a.py")
    assert cfg.excludes("pkg/x_test.go")
    assert not cfg.excludes("pkg/x.go")


def test_fail_on_policy() -> None:
    assert parse_config(None).fail_on == {
        "duplication": "never",
        "patterns": "error",
        "decisions": "error",
    }
    cfg = parse_config("fail_on:\n  duplication: warning\n  decisions: never\n")
    assert cfg.fail_on == {"duplication": "warning", "patterns": "error", "decisions": "never"}
    with pytest.raises(ConfigError) as caught:
        parse_config("fail_on:\n  duplication: always\n  style: error\n")
    assert sorted(caught.value.problems) == [
        "fail_on.duplication: must be one of never, notice, warning, error, not 'always'",
        "fail_on.style: unknown key (known: duplication, patterns, decisions)",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(None, "neutral", id="unset"),
        pytest.param("not_reviewed: neutral\n", "neutral", id="neutral"),
        pytest.param("not_reviewed: failure\n", "failure", id="failure"),
    ],
)
def test_not_reviewed(text: str | None, expected: str) -> None:
    assert parse_config(text).not_reviewed == expected


@pytest.mark.parametrize("value", ["fail", "true", "[failure]", "success"])
def test_not_reviewed_is_neutral_or_failure(value: str) -> None:
    with pytest.raises(ConfigError) as refused:
        parse_config(f"not_reviewed: {value}\n")
    assert refused.value.problems[0].startswith("not_reviewed: must be neutral or failure")
