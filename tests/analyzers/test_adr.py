from __future__ import annotations

from pathlib import Path

import pytest

from analyzers.adr import Adr, adr_dirs, build_log, derive, is_adr_path, parse_adr

FIXTURES = Path(__file__).parent.parent / "fixtures" / "adr"


def fixture(name: str) -> Adr:
    """A fixture ADR parsed as it would be in ``docs/adr`` (its format prefix dropped)."""
    return parse_adr("docs/adr/" + name.split("-", 1)[1], (FIXTURES / name).read_bytes())


@pytest.mark.parametrize(
    ("name", "number", "title", "status", "date", "avoided"),
    [
        pytest.param(
            "nygard-0004-use-npm-instead-of-yarn.md",
            4,
            "Use npm instead of yarn",
            "accepted",
            "2020-05-26",
            {("yarn", "npm")},
            id="nygard",
        ),
        pytest.param(
            "nygard-0002-use-yarn.md",
            2,
            "Use yarn",
            "superseded",
            "2019-01-10",
            {("npm", "yarn")},
            id="nygard-superseded",
        ),
        pytest.param(
            "madr2-0005-http-client.md",
            5,
            "Use httpx as the HTTP client",
            "accepted",
            "2021-03-04",
            {("requests", "httpx"), ("urllib3", "httpx")},
            id="madr2-rejected-options",
        ),
        pytest.param(
            "madr3-0006-logging.md",
            6,
            "Structured logging",
            "proposed",
            "2022-07-01",
            {("loguru", "structlog")},
            id="madr3",
        ),
        pytest.param(
            "madr4-0007-no-moment.md",
            7,
            "Dates in the front end",
            "accepted",
            "2024-02-01",
            {("moment", "date-fns")},  # 'Chosen option: "date-fns"' names what to use instead
            id="madr4",
        ),
        pytest.param(
            "log4brains-0008-go-errors.md",
            8,
            "Wrap errors with the standard library",
            "accepted",
            "2023-05-05",
            {("github.com/pkg/errors", "fmt.Errorf")},
            id="log4brains",
        ),
        pytest.param(
            "rejected-0011-graphql.md",
            11,
            "GraphQL for the public API",
            "rejected",
            "2024-08-01",
            {("flask", "graphene")},
            id="rejected",
        ),
        pytest.param(
            "deprecated-0012-celery.md",
            12,
            "Celery for jobs",
            "deprecated",
            "2018-01-01",
            {("rq", "")},
            id="deprecated",
        ),
        pytest.param(
            "amended-0013-api.md",
            13,
            "REST conventions",
            "amended",
            "2018-01-01",
            {("camelCase", "snake_case")},
            id="amended",
        ),
    ],
)
def test_formats_and_statuses(
    name: str, number: int, title: str, status: str, date: str, avoided: set[tuple[str, str]]
) -> None:
    adr = fixture(name)
    assert (adr.number, adr.title, adr.status, adr.date) == (number, title, status, date)
    assert {(c.value, c.prefer) for c in adr.constraints if not c.explicit} == avoided
    assert adr.problems == ()


def test_supersession_links_are_read_both_ways() -> None:
    old = fixture("nygard-0002-use-yarn.md")
    new = fixture("nygard-0004-use-npm-instead-of-yarn.md")
    assert old.superseded_by == ("docs/adr/0004-use-npm-instead-of-yarn.md",)
    assert new.supersedes == ("docs/adr/0002-use-yarn.md",)
    log = build_log([old, new])
    assert [a.number for a in log.binding] == [4]
    assert log.problems == ()


def test_a_derived_sentence_keeps_its_line() -> None:
    adr = fixture("nygard-0004-use-npm-instead-of-yarn.md")
    (c,) = adr.constraints
    assert c.line == 17
    assert c.sentence == "We will use `npm` instead of `yarn` for every package."


def test_explicit_front_matter_block() -> None:
    adr = fixture("explicit-0009-no-print.md")
    assert adr.status == "accepted"
    explicit = [c for c in adr.constraints if c.explicit]
    assert [(c.kind, c.value, c.language, c.scope) for c in explicit] == [
        ("regex", r"\bprint\(", "python", ("src/**",)),
        ("import", "pickle", "", ("src/**",)),
    ]
    assert explicit[1].message == "pickle runs code on load; use json."


def test_explicit_fenced_block() -> None:
    adr = fixture("fenced-0010-no-eval.md")
    explicit = [(c.kind, c.value, c.prefer) for c in adr.constraints if c.explicit]
    assert explicit == [("call", "eval", ""), ("any", "eval", "ast.literal_eval")]


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        pytest.param("Use `httpx` instead of `requests`.", [("requests", "httpx")], id="instead"),
        pytest.param("We prefer pytest over unittest.", [("unittest", "pytest")], id="prefer"),
        pytest.param("poetry rather than pipenv", [("pipenv", "poetry")], id="rather"),
        pytest.param("Replace `moment` with `dayjs`.", [("moment", "dayjs")], id="replace"),
        pytest.param("Do not use `eval`.", [("eval", "")], id="do-not-use"),
        pytest.param("Avoid lodash in new code.", [("lodash", "")], id="avoid"),
        pytest.param("We will remove `celery`.", [("celery", "")], id="remove"),
        pytest.param("Avoid duplication where we can.", [], id="avoid-a-stopword"),
        pytest.param("We discussed requests at length.", [], id="mention-only"),
    ],
)
def test_derived_sentences(sentence: str, expected: list[tuple[str, str]]) -> None:
    assert [(c.value, c.prefer) for c in derive(sentence)] == expected


def test_only_accepted_and_unsuperseded_bind() -> None:
    records = [
        fixture(n)
        for n in (
            "nygard-0002-use-yarn.md",
            "nygard-0004-use-npm-instead-of-yarn.md",
            "madr3-0006-logging.md",
            "rejected-0011-graphql.md",
            "deprecated-0012-celery.md",
        )
    ]
    assert [a.number for a in build_log(records).binding] == [4]


def test_a_silent_reversal_is_reported_and_the_later_record_followed() -> None:
    yarn = parse_adr(
        "docs/adr/0002-use-yarn.md",
        b"# 2. Use yarn\n\nDate: 2019-01-10\n\n## Status\n\nAccepted\n\n## Decision\n\n"
        b"Use `yarn` instead of `npm`.\n",
    )
    npm = fixture("nygard-0004-use-npm-instead-of-yarn.md")
    npm = parse_adr(
        npm.path, npm.body.replace("Supersedes [2. Use yarn](0002-use-yarn.md)", "").encode()
    )
    log = build_log([yarn, npm])
    assert [a.number for a in log.binding] == [2, 4]
    assert log.binding[0].constraints == ()  # reversed by ADR-0004: no longer enforced
    assert [c.value for c in log.binding[1].constraints] == ["yarn"]
    assert log.problems == (
        "ADR-0004 'Use npm instead of yarn' chooses `npm`, which ADR-0002 'Use yarn' rejected, "
        "without superseding it; following ADR-0004. Write in ADR-0002's status: "
        '"Superseded by [ADR-0004](0004-use-npm-instead-of-yarn.md)"',
    )


def test_a_status_never_updated_is_reported_and_the_successor_binds() -> None:
    old = parse_adr(
        "docs/adr/0002-use-yarn.md",
        b"# 2. Use yarn\n\n## Status\n\nAccepted\n\n## Decision\n\nUse `yarn`.\n",
    )
    new = fixture("nygard-0004-use-npm-instead-of-yarn.md")
    log = build_log([old, new])
    assert [a.number for a in log.binding] == [4]
    assert log.problems == (
        "docs/adr/0002-use-yarn.md: ADR-0004 supersedes it, but its status is still accepted",
    )


@pytest.mark.parametrize(
    ("path", "data", "problem"),
    [
        pytest.param(
            "docs/adr/0001-a.md",
            b"---\nstatus: [accepted\n---\n# A\n",
            "broken front matter",
            id="broken-front-matter",
        ),
        pytest.param(
            "docs/adr/0001-a.md",
            b"---\nstatus: accepted\n# A\n",
            "front matter is never closed",
            id="unclosed-front-matter",
        ),
        pytest.param("docs/adr/0001-a.md", b"# 1. A\n\nWe decided.\n", "no status", id="no-status"),
        pytest.param(
            "docs/adr/0001-a.md",
            b"# 1. Caf\xe9\n\n## Status\n\nAccepted\n",
            "not UTF-8",
            id="not-utf8",
        ),
        pytest.param(
            "docs/adr/0001-a.md",
            b"# 1. A\n\n## Status\n\nSuperseded\n",
            "names no successor",
            id="superseded-without-successor",
        ),
        pytest.param(
            "docs/adr/0001-a.md",
            b"# 1. A\n\n## Status\n\nAccepted\n\n```cairn\nforbid: [\n```\n",
            "cairn block is not valid YAML",
            id="broken-cairn-block",
        ),
        pytest.param(
            "docs/adr/0001-a.md",
            b"---\nstatus: accepted\ncairn:\n  forbid:\n"
            b"    - regex: '('\n    - nothing: x\n---\n# A\n",
            "bad regex",
            id="bad-regex",
        ),
        pytest.param("docs/adr/0001-a.md", b"\x00\xff\xfe garbage", "no title", id="binary"),
    ],
)
def test_broken_input_is_parsed_as_far_as_possible(path: str, data: bytes, problem: str) -> None:
    adr = parse_adr(path, data)
    assert adr.number == 1
    assert any(problem in p for p in adr.problems), adr.problems
    assert "\x00" not in adr.body


def test_duplicate_numbers_cycles_and_missing_links_are_reported() -> None:
    a = parse_adr(
        "docs/adr/0001-a.md",
        b"# 1. A\n\n## Status\n\nSuperseded by [2. B](0002-b.md)\n",
    )
    b = parse_adr(
        "docs/adr/0002-b.md",
        b"# 2. B\n\n## Status\n\nSuperseded by [1. A](0001-a.md)\n",
    )
    c = parse_adr("docs/adr/0002-c.md", b"# 2. C\n\n## Status\n\nAccepted\n\nSupersedes ADR-9\n")
    log = build_log([a, b, c])
    problems = "\n".join(log.problems)
    assert "ADR number 2 is used by 2 records: docs/adr/0002-b.md, docs/adr/0002-c.md" in problems
    assert "supersession cycle: docs/adr/0001-a.md → docs/adr/0002-b.md → docs/adr/0001-a.md" in (
        problems
    )
    assert "docs/adr/0002-c.md: links to ADR-9, which is not in the decision log" in problems
    assert [x.path for x in log.binding] == ["docs/adr/0002-c.md"]


def test_thousands_of_records() -> None:
    records = [
        parse_adr(
            f"docs/adr/{i:04d}-x.md",
            f"# {i}. X{i}\n\n## Status\n\nSuperseded by [{i + 1}](./{i + 1:04d}-x.md)\n".encode(),
        )
        for i in range(1, 3001)
    ]
    log = build_log(records)
    assert log.binding == ()
    assert log.problems == (
        "docs/adr/3000-x.md: links to docs/adr/3001-x.md, which is not in the decision log",
    )


def test_where_the_log_lives() -> None:
    assert adr_dirs({})[0] == "docs/adr"
    assert adr_dirs({".adr-dir": b"architecture/adrs\n"})[0] == "architecture/adrs"
    assert adr_dirs({".log4brains.yml": b"project:\n  adrFolder: ./docs/l4b\n"})[0] == "docs/l4b"
    assert adr_dirs({".log4brains.yml": b"{broken"})[0] == "docs/adr"
    assert is_adr_path("docs/adr/0001-x.md", ["docs/adr"])
    assert not is_adr_path("docs/adr/README.md", ["docs/adr"])
    assert not is_adr_path("docs/adr/template.md", ["docs/adr"])
    assert is_adr_path("docs/adr/app/0001-x.md", ["docs/adr"])  # a log of one part
    assert not is_adr_path("docs/adr/img/0001-x.md", ["docs/adr"])
    assert not is_adr_path("docs/adr/app/sub/0001-x.md", ["docs/adr"])
    assert is_adr_path("docs/adr/0001-x.txt", ["docs/adr"])  # adr-tools logs hold text files
    assert is_adr_path("docs/adr/0025-caching", ["docs/adr"])  # and numbered files, no extension
    assert not is_adr_path("docs/adr/0001-x.png", ["docs/adr"])
    assert not is_adr_path("docs/adr/notes.txt", ["docs/adr"])
    # one folder per record, named by date or number: its README is the record
    assert is_adr_path("docs/adr/2022-08-17-remove-h2/README.md", ["docs/adr"])
    assert is_adr_path("docs/adr/0007-use-x/index.md", ["docs/adr"])
    assert not is_adr_path("docs/adr/app/README.md", ["docs/adr"])  # a part's own index
    assert not is_adr_path("docs/adr/0000-template/README.md", ["docs/adr"])


@pytest.mark.parametrize(
    ("sentence", "rules"),
    [
        pytest.param("Avoid global state; pass dependencies explicitly.", [], id="global-state"),
        pytest.param("Avoid test doubles for the database.", [], id="test-doubles"),
        pytest.param("Do not use docker compose in production.", [], id="docker-compose"),
        pytest.param("Use UTC instead of local time everywhere.", [], id="local-time"),
        pytest.param("Avoid python scripts for deployment.", [], id="python-scripts"),
        pytest.param("Never use sudo in Dockerfiles.", [("sudo", "")], id="sudo-in"),
        pytest.param("Avoid make in CI; use the task runner.", [("make", "")], id="make-in"),
        pytest.param("Do not use lodash anymore.", [("lodash", "")], id="anymore"),
        pytest.param("Use npm instead of yarn for every package.", [("yarn", "npm")], id="for"),
        pytest.param("Avoid `global` flags in scripts.", [("global", "")], id="code-span"),
        pytest.param("We will remove six from the code base.", [("six", "")], id="from"),
    ],
)
def test_a_word_that_qualifies_a_noun_is_no_rule(
    sentence: str, rules: list[tuple[str, str]]
) -> None:
    assert [(c.value, c.prefer) for c in derive(sentence)] == rules
