from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from analyzers.adr import AddedFile, Adr, DecisionInputs, build_log, parse_adr
from analyzers.imports import Resolved
from analyzers.units import CodeUnit
from checks.config import CairnConfig, ConfigError, parse_config
from checks.context import Change, CheckContext, LocatedUnit
from checks.decisions import DecisionsCheck, RelevantDecision, decision_notes
from checks.finding import Finding, Severity

FIXTURES = Path(__file__).parent.parent / "fixtures" / "adr"


class NoIndex:
    def candidates(self, unit: CodeUnit) -> Sequence[LocatedUnit]:
        return ()


def adr(name: str) -> Adr:
    return parse_adr("docs/adr/" + name.split("-", 1)[1], (FIXTURES / name).read_bytes())


HTTPX = parse_adr(
    "docs/adr/0003-httpx.md",
    b"# 3. Use httpx\n\nDate: 2021-01-01\n\n## Status\n\nAccepted\n\n## Decision\n\n"
    b"Use `httpx` instead of `requests` for HTTP calls.\n",
)


def run(records: Sequence[Adr], path: str, added: str, text: str = "") -> list[Finding]:
    lines = tuple(enumerate(added.split("\n"), start=1))
    inputs = DecisionInputs(log=build_log(records), added=(AddedFile(path, lines, text),))
    ctx = CheckContext(index=NoIndex(), config=CairnConfig(), decisions=inputs)
    found = DecisionsCheck().run(Change(base_sha="b", head_sha="h"), ctx)
    return found


@pytest.mark.parametrize(
    ("path", "added", "flagged"),
    [
        pytest.param("app/client.py", "import requests", ["requests"], id="import"),
        pytest.param(
            "app/client.py",
            "from requests.adapters import HTTPAdapter",
            ["requests.adapters"],
            id="from-import",
        ),
        pytest.param("tests/t.py", "import requests_mock", [], id="near-miss-requests-mock"),
        pytest.param(
            "app/client.py", "# we no longer import requests here", [], id="near-miss-comment"
        ),
        pytest.param("app/client.py", "x = 'requests'", [], id="near-miss-string"),
        pytest.param("requirements.txt", "requests==2.31.0", ["requests"], id="requirements"),
        pytest.param(
            "requirements-dev.txt", "requests-toolbelt==1.0", [], id="near-miss-requirement"
        ),
        pytest.param("pyproject.toml", '    "requests>=2",', ["requests"], id="pyproject"),
    ],
)
def test_derived_prefer_instead_of(path: str, added: str, flagged: list[str]) -> None:
    found = run([HTTPX], path, added)
    assert [f.message.split("`")[1] for f in found] == flagged
    for f in found:
        assert f.severity is Severity.WARNING and f.rule == "adr-0003"


SLOG = parse_adr(
    "docs/adr/0020-slog.md",
    b"# 20. Use slog\n\nDate: 2023-08-15\n\n## Status\n\nAccepted\n\n## Decision\n\n"
    b"Use `log/slog` instead of `logrus`. Avoid `zap` and `fetch` in new code.\n",
)


@pytest.mark.parametrize(
    ("path", "added", "flagged"),
    [
        pytest.param(
            "svc/log.go", '\t"github.com/sirupsen/logrus"', ["github.com/sirupsen/logrus"], id="go"
        ),
        pytest.param(
            "svc/log.go",
            'import "github.com/sirupsen/logrus/hooks/test"',
            ["github.com/sirupsen/logrus/hooks/test"],
            id="go-subpackage",
        ),
        pytest.param("go.mod", "\tgo.uber.org/zap v1.27.0", ["go.uber.org/zap"], id="go-mod"),
        pytest.param("svc/log.go", '\t"github.com/acme/zaplog"', [], id="near-miss-prefix"),
        pytest.param("svc/log.go", '\t"log/slog"', [], id="near-miss-preferred"),
        pytest.param("web/a.ts", "import { get } from './fetch';", [], id="near-miss-relative"),
        pytest.param("web/a.ts", "import { get } from '@/lib/fetch';", [], id="near-miss-alias"),
    ],
)
def test_module_paths_named_by_their_last_element(
    path: str, added: str, flagged: list[str]
) -> None:
    found = run([SLOG], path, added)
    assert [f.message.split("`")[1] for f in found] == flagged


def test_the_message_quotes_the_decision_and_links_the_adr() -> None:
    npm = adr("nygard-0004-use-npm-instead-of-yarn.md")
    package = json.dumps({"name": "web", "devDependencies": {"yarn": "^1.22.19"}}, indent=2)
    (f,) = run([npm], "package.json", package, package)
    assert f.message == (
        "This adds `yarn` (package.json), but ADR-0004 'Use npm instead of yarn' "
        "(accepted 2020-05-26) decided: «We will use `npm` instead of `yarn` for every "
        "package.» (use `npm` instead). Supersede the ADR or follow it."
    )
    assert (f.path, f.start_line) == ("package.json", 4)
    (e,) = f.evidence
    assert (e.path, e.start_line) == ("docs/adr/0004-use-npm-instead-of-yarn.md", 17)


def test_package_json_fields_that_merely_mention_yarn_are_not_flagged() -> None:
    npm = adr("nygard-0004-use-npm-instead-of-yarn.md")
    package = json.dumps({"name": "yarn", "description": "yarn", "scripts": {"t": "npm test"}})
    assert run([npm], "package.json", package, package) == []


@pytest.mark.parametrize(
    ("path", "added", "flagged"),
    [
        pytest.param("package.json", '  "build": "yarn build"', ["yarn"], id="package-script"),
        pytest.param(".github/workflows/ci.yml", "      - run: yarn install", ["yarn"], id="ci"),
        pytest.param("scripts/setup.sh", "yarn global add x", ["yarn"], id="script"),
        pytest.param("scripts/setup.sh", "# yarn used to live here", [], id="script-comment"),
        pytest.param("scripts/setup.sh", "npm install yarnish", [], id="near-miss-word"),
    ],
)
def test_commands_in_scripts_and_ci(path: str, added: str, flagged: list[str]) -> None:
    npm = adr("nygard-0004-use-npm-instead-of-yarn.md")
    text = '{"scripts": {"build": "yarn build"}}' if path == "package.json" else ""
    assert [f.message.split("`")[1] for f in run([npm], path, added, text)] == flagged


def test_go_mod_adding_a_forbidden_module() -> None:
    log4brains = adr("log4brains-0008-go-errors.md")
    found = run([log4brains], "go.mod", "require github.com/pkg/errors v0.9.1")
    assert [f.message.split("`")[1] for f in found] == ["github.com/pkg/errors"]
    assert run([log4brains], "go.mod", "require github.com/pkg/errorsx v0.1.0") == []
    imported = run([log4brains], "main.go", '\t"github.com/pkg/errors"')
    assert len(imported) == 1


def test_madr_rejected_option_and_js_import() -> None:
    moment = adr("madr4-0007-no-moment.md")
    assert len(run([moment], "web/date.ts", "import moment from 'moment';")) == 1
    assert run([moment], "web/date.ts", "import { format } from 'date-fns'; // not moment") == []


def test_explicit_regex_and_import_fail_by_default_within_scope() -> None:
    rule = adr("explicit-0009-no-print.md")
    found = run([rule], "src/app/service.py", "print('hello')\nimport pickle")
    assert [(f.start_line, f.severity) for f in found] == [
        (1, Severity.ERROR),
        (2, Severity.ERROR),
    ]
    assert "Log with the module's logger, never print." in found[0].message
    assert run([rule], "tools/script.py", "print('hello')\nimport pickle") == []  # out of scope
    assert run([rule], "src/app/service.py", "pprint('x')\nimport pickletools") == []
    assert run([rule], "src/app/notes.md", "print('hello')") == []  # not python


def test_explicit_call_and_prefer_from_a_fenced_block() -> None:
    rule = adr("fenced-0010-no-eval.md")
    found = run([rule], "a.py", "value = eval(text)")
    assert [f.severity for f in found] == [Severity.ERROR]
    assert run([rule], "a.py", "value = ast.literal_eval(text)  # not eval") == []
    assert run([rule], "a.py", "value = my.eval(text)") == []


def test_superseded_proposed_and_rejected_decisions_do_not_bind() -> None:
    records = [
        adr("nygard-0002-use-yarn.md"),  # superseded: prefers yarn over npm
        adr("madr3-0006-logging.md"),  # proposed: avoid loguru
        adr("rejected-0011-graphql.md"),  # rejected: avoid flask
    ]
    assert run(records, "a.py", "import loguru\nimport flask") == []
    assert run(records, "package.json", '"x": "^1"', '{"dependencies": {"npm": "^1"}}') == []


def test_log_problems_and_relevant_decisions_are_summary_notes_not_findings() -> None:
    broken = parse_adr("docs/adr/0001-a.md", b"# 1. A\n\nWe decided.\n")
    added = parse_adr("docs/adr/0007-b.md", b"---\nstatus: [oops\n---\n# 7. B\n")
    inputs = DecisionInputs(
        log=build_log([broken, HTTPX]), relevant=(HTTPX.path, "docs/adr/gone.md"), head=(added,)
    )
    ctx = CheckContext(index=NoIndex(), config=CairnConfig(), decisions=inputs)
    assert DecisionsCheck().run(Change(base_sha="b", head_sha="h"), ctx) == []
    notes = decision_notes(inputs)
    assert notes.relevant == (
        RelevantDecision(
            "docs/adr/0003-httpx.md", "ADR-0003", "Use httpx", "accepted", "2021-01-01"
        ),
    )
    assert notes.problems == (
        "docs/adr/0001-a.md: no status",
        "in this change: docs/adr/0007-b.md: broken front matter (ParserError); its plain "
        "fields read",
        "in this change: docs/adr/0007-b.md: unknown status '[oops'",
    )


def hygiene(base: Sequence[Adr], head: Sequence[Adr]) -> list[tuple[str, str]]:
    inputs = DecisionInputs(log=build_log(base), head=tuple(head))
    ctx = CheckContext(index=NoIndex(), config=CairnConfig(), decisions=inputs)
    found = DecisionsCheck().run(Change(base_sha="b", head_sha="h"), ctx)
    return [(f.rule, f.path) for f in found if f.severity is Severity.WARNING]


def test_editing_the_decision_of_an_accepted_adr_is_flagged() -> None:
    npm = adr("nygard-0004-use-npm-instead-of-yarn.md")
    edited = parse_adr(npm.path, npm.body.replace("every package", "most packages").encode())
    assert hygiene([npm], [edited]) == [("edited-decision", npm.path)]
    typo = parse_adr(npm.path, npm.body.replace("Two package", "Two  package").encode())
    assert hygiene([npm], [typo]) == []  # the context changed, not the decision


def test_marking_superseded_without_a_successor_is_flagged() -> None:
    npm = adr("nygard-0004-use-npm-instead-of-yarn.md")
    marked = parse_adr(
        npm.path,
        npm.body.replace(
            "Accepted\n\nSupersedes [2. Use yarn](0002-use-yarn.md)", "Superseded"
        ).encode(),
    )
    assert marked.status == "superseded"
    assert hygiene([npm], [marked]) == [("no-successor", npm.path)]
    named = parse_adr(
        npm.path, npm.body.replace("Accepted", "Superseded by [9. Pnpm](0009-pnpm.md)").encode()
    )
    assert hygiene([npm], [named]) == []


def test_a_new_adr_reversing_an_accepted_one_must_supersede_it() -> None:
    npm = adr("nygard-0004-use-npm-instead-of-yarn.md")
    back = (
        b"# 9. Back to yarn\n\n## Status\n\nAccepted\n\n"
        b"## Decision\n\nUse `yarn` instead of `npm`.\n"
    )
    reversal = parse_adr("docs/adr/0009-back-to-yarn.md", back)
    assert hygiene([npm], [reversal]) == [("silent-reversal", "docs/adr/0009-back-to-yarn.md")]
    proper = parse_adr(
        "docs/adr/0009-back-to-yarn.md",
        back.replace(
            b"Accepted\n", b"Accepted\n\nSupersedes [4. npm](0004-use-npm-instead-of-yarn.md)\n"
        ),
    )
    assert hygiene([npm], [proper]) == []


def test_decisions_paths_in_cairn_yml() -> None:
    config = parse_config("decisions:\n  paths: [architecture/adr/]\n")
    assert config.decisions.paths == ("architecture/adr",)
    with pytest.raises(ConfigError) as err:
        parse_config("decisions:\n  paths: docs\n  path: x\n")
    assert err.value.problems == [
        "decisions.path: unknown key (did you mean 'paths'?)",
        "decisions.paths: must be a list of directories",
    ]


def test_a_capitalised_name_in_prose_is_not_a_command() -> None:
    py2 = parse_adr(
        "docs/adr/0020-py3.md",
        b"# 20. Python 3 only\n\n## Status\n\nAccepted\n\n## Decision\n\nDo not use Python 2.\n",
    )
    assert [c.value for c in py2.constraints] == ["Python 2"]
    assert run([py2], ".github/workflows/ci.yml", "      - run: python -m pytest") == []
    assert len(run([py2], ".github/workflows/ci.yml", "      - run: python2 setup.py test")) == 1
    mock = parse_adr(
        "docs/adr/0021-no-mock.md",
        b"# 21. Mocks\n\n## Status\n\nAccepted\n\n## Decision\n\nDo not use `Mock`.\n",
    )
    assert len(run([mock], "requirements.txt", "mock==5.1")) == 1  # a dependency, any case


class Sources:
    """Head sources by path (the HeadFiles a review reads from git)."""

    def __init__(self, files: dict[str, str]) -> None:
        self.files = files

    def source_of(self, path: str) -> bytes | None:
        text = self.files.get(path)
        return None if text is None else text.encode()

    def imports_of(self, path: str) -> Sequence[Resolved]:
        return ()


SHELL_QUERY = parse_adr(
    "docs/adr/0014-no-shell.md",
    b"""# 14. No shell from Python

Date: 2024-02-02

## Status

Accepted

## Decision

We run processes through `subprocess.run` with an argument list.

```cairn
scope: ["svc/**"]
forbid:
  - query: '(call function: (attribute object: (identifier) @o attribute: (identifier) @a)
      (#eq? @o "os") (#eq? @a "system"))'
    language: python
    message: "os.system runs a shell; use subprocess.run with a list."
```
""",
)


def query_run(path: str, text: str, added: Sequence[int]) -> list[tuple[str, int, Severity]]:
    lines = text.split("\n")
    inputs = DecisionInputs(
        log=build_log([SHELL_QUERY]),
        added=(AddedFile(path, tuple((n, lines[n - 1]) for n in added)),),
    )
    ctx = CheckContext(
        index=NoIndex(), config=CairnConfig(), decisions=inputs, head=Sources({path: text})
    )
    found = DecisionsCheck().run(Change(base_sha="b", head_sha="h"), ctx)
    return [(f.path, f.start_line, f.severity) for f in found]


def test_a_tree_sitter_query_in_a_cairn_block_flags_added_matches_only() -> None:
    assert SHELL_QUERY.problems == ()
    [rule] = SHELL_QUERY.constraints
    assert (rule.kind, rule.language, rule.explicit) == ("query", "python", True)
    assert rule.line == 13  # the block's opening fence: the finding's evidence points there
    code = "import os\n\nos.system('ls')\n\n\ndef f(cmd):\n    return os.system(cmd)\n"
    assert query_run("svc/run.py", code, [6, 7]) == [("svc/run.py", 7, Severity.ERROR)]
    assert query_run("svc/run.py", code, [1, 2]) == []  # the match is on a line not added
    assert query_run("tools/run.py", code, [7]) == []  # out of scope
    near = "import os\n\n\ndef f(cmd):\n    return os.getenv(cmd) or my.os.system(cmd)\n"
    assert query_run("svc/run.py", near, [5]) == []
    other = "os.system('ls')\n"
    assert query_run("svc/run.js", other, [1]) == []  # a query is for its own language


@pytest.mark.parametrize(
    ("item", "problem"),
    [
        pytest.param(
            "{query: '(call) @c'}", "a tree-sitter query needs a language", id="no-language"
        ),
        pytest.param(
            "{query: '(call', language: python}",
            "not a valid python tree-sitter query",
            id="bad-query",
        ),
        pytest.param(
            "{query: '(no_such_node) @n', language: go}",
            "not a valid go tree-sitter query",
            id="unknown-node",
        ),
    ],
)
def test_a_bad_query_is_a_problem_of_the_log(item: str, problem: str) -> None:
    adr = parse_adr(
        "docs/adr/0001-q.md",
        f"# 1. Q\n\n## Status\n\nAccepted\n\n```cairn\nforbid:\n  - {item}\n```\n".encode(),
    )
    assert adr.constraints == ()
    [found] = adr.problems
    assert found.startswith("docs/adr/0001-q.md: cairn.forbid[0]: " + problem)
