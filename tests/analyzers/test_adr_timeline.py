"""The log as a timeline per technology: reversals, stale decisions, a record's own change."""

from __future__ import annotations

from analyzers.adr import AddedFile, Adr, DecisionInputs, build_log, parse_adr
from analyzers.adr_rules import Removal, Vocabulary
from checks.config import CairnConfig
from checks.context import Change, CheckContext
from checks.decisions import DecisionsCheck


class NoIndex:
    def candidates(self, unit: object) -> tuple[()]:
        return ()


def nygard(number: int, title: str, decision: str, status: str = "Accepted") -> Adr:
    text = (
        f"# {number}. {title}\n\nDate: 2024-0{number}-01\n\n## Status\n\n{status}\n\n"
        f"## Context\n\nWe had to choose.\n\n## Decision\n\n{decision}\n"
    )
    return parse_adr(f"docs/adr/{number:04d}-{title.lower().replace(' ', '-')}.md", text.encode())


def rules(adr: Adr) -> list[tuple[str, str]]:
    return [(c.value, c.origin) for c in adr.constraints]


def flagged(log_records: list[Adr], path: str, added: str, **log: object) -> list[str]:
    lines = tuple(enumerate(added.split("\n"), start=1))
    inputs = DecisionInputs(
        log=build_log(log_records, **log),  # type: ignore[arg-type]
        added=(AddedFile(path, lines, added, new=True),),
    )
    ctx = CheckContext(index=NoIndex(), config=CairnConfig(), decisions=inputs)  # type: ignore[arg-type]
    found = DecisionsCheck().run(Change(base_sha="b", head_sha="h"), ctx)
    return [f.rule for f in found]


NPM = nygard(4, "Use npm instead of yarn", "Use npm instead of yarn for every package.")
YARN = nygard(9, "Yarn workspaces", "We will use Yarn for the monorepo.")


def test_a_later_choice_reverses_an_earlier_rejection_and_the_status_line_is_given() -> None:
    log = build_log([NPM, YARN])
    assert [a.path for a in log.binding] == [NPM.path, YARN.path]  # both still accepted
    assert ("yarn", "") not in rules(log.binding[0])  # only the later one binds for yarn
    assert any(
        "ADR-0009 'Yarn workspaces' chooses `Yarn workspaces`, which ADR-0004 'Use npm "
        "instead of yarn' rejected, without superseding it"
        in p
        and 'Write in ADR-0004\'s status: "Superseded by [ADR-0009](0009-yarn-workspaces.md)"' in p
        for p in log.problems
    ), log.problems
    assert flagged([NPM, YARN], "yarn.lock", "# yarn lockfile v1") == []
    assert flagged([NPM], "yarn.lock", "# yarn lockfile v1") == ["adr-0004"]  # near miss


def test_a_later_weighed_rejection_of_a_stated_choice_is_reported_not_enforced() -> None:
    react = nygard(3, "Use React", "We will use React for the web app.")
    later = parse_adr(
        "docs/adr/0008-forms.md",
        b"---\nstatus: accepted\n---\n# Forms\n\n## Considered Options\n\n* React Hook Form\n"
        b'* Vue\n\n## Decision Outcome\n\nChosen option: "React Hook Form".\n',
    )
    log = build_log([react, later])
    assert flagged([react, later], "package.json", '{"dependencies": {"react": "^18"}}') == []
    assert not any("passes over `React`" in p for p in log.problems)  # React was no option


def test_a_decision_the_base_contradicts_everywhere_is_stale_not_enforced() -> None:
    used = {"yarn": frozenset(f"scripts/s{i}.sh" for i in range(14))}
    log = build_log([NPM], usage=used)
    assert "yarn" not in [c.value for c in log.binding[0].constraints]
    ((adr, constraint, why),) = log.stale
    assert (adr.path, constraint.value) == (NPM.path, "yarn")
    assert why.startswith("ADR-0004 'Use npm instead of yarn' says npm, but 14 files at base use")
    assert "a stale decision, not enforced" in why
    assert flagged([NPM], "ci.sh", "yarn install", usage=used) == []
    few = {"yarn": frozenset({"scripts/old.sh"})}  # near miss: one leftover is no drift
    assert build_log([NPM], usage=few).stale == ()
    assert flagged([NPM], "ci.sh", "yarn install", usage=few) == ["adr-0004"]


def test_new_code_only_decisions_are_never_stale() -> None:
    adr = nygard(5, "Dates", "Avoid moment in new code.")
    log = build_log([adr], usage={"moment": frozenset(f"f{i}.ts" for i in range(40))})
    assert log.stale == () and [c.value for c in log.binding[0].constraints] == ["moment"]


def test_the_records_own_change_confirms_and_extends_a_removal() -> None:
    adr = nygard(6, "Remove MongoDB", "We will remove MongoDB from the stack.")
    removal = Removal(
        dependencies=(
            ("pypi", "pymongo", "requirements.txt"),
            ("pypi", "beanie", "requirements.txt"),
            ("pypi", "requests", "requirements.txt"),
        ),
        imports=(("python", "pymongo", "app/db.py"), ("python", "beanie", "app/db.py")),
        ref="#42",
    )
    log = build_log([adr], removals={adr.path: removal}, vocabulary=Vocabulary(frozenset()))
    values = {c.value: c.origin for c in log.binding[0].constraints}
    assert values == {"MongoDB": "stated", "beanie": "evidence"}  # imported beside pymongo
    assert "requests" not in values  # removed in the same change, unrelated: near miss
    on = {"removals": {adr.path: removal}}
    assert flagged([adr], "requirements.txt", "beanie==1.25", **on) == ["adr-0006"]
    assert flagged([adr], "requirements.txt", "requests==2.31", **on) == []
    assert flagged([adr], "requirements.txt", "beanie==1.25") == []  # no evidence, no rule


def test_sibling_rules_only_for_alternatives_the_base_does_not_use() -> None:
    adr = nygard(7, "Background jobs", "We will use Sidekiq for background jobs.")
    used = {"sidekiq": frozenset({"Gemfile"}), "delayed-job": frozenset({"Gemfile"})}
    log = build_log([adr], usage=used)
    values = {c.value for c in log.binding[0].constraints if c.origin == "sibling"}
    assert "Resque" in values or "resque" in {v.lower() for v in values}
    assert not any(v.lower().startswith("delayed") for v in values)  # in use: no rule
    assert flagged([adr], "Gemfile", 'gem "resque"', usage=used) == ["adr-0007"]
    assert flagged([adr], "Gemfile", 'gem "sidekiq-cron"', usage=used) == []


def test_what_a_later_proposal_weighs_is_passed_over_by_no_sibling_rule() -> None:
    # ADR-7 chose Sidekiq; ADR-8, only proposed, weighs Resque against it: the team is
    # discussing Resque in the open, so ADR-7's choice is no guess against it.
    adr = nygard(7, "Background jobs", "We will use Sidekiq for background jobs.")
    proposal = nygard(
        8, "Job runner", "We will keep Sidekiq rather than Resque.", status="Proposed"
    )
    used = {"sidekiq": frozenset({"Gemfile"})}
    assert flagged([adr, proposal], "Gemfile", 'gem "resque"', usage=used) == []
    assert flagged([adr, proposal], "Gemfile", 'gem "good_job"', usage=used) == ["adr-0007"]
    earlier = nygard(6, "Job runner", "We will keep Sidekiq rather than Resque.", status="Proposed")
    assert flagged([earlier, adr], "Gemfile", 'gem "resque"', usage=used) == ["adr-0007"]


def test_a_literal_the_base_uses_widely_under_a_longer_path_is_stale() -> None:
    # ADR-2 passed over "XLSX" (tealeg/xlsx); the base already imports github.com/tealeg/xlsx/v3
    # in many files: the check would match that path, so the decision is stale, not enforced.
    adr = nygard(2, "Spreadsheets", "We will use Excelize rather than `xlsx`.")
    files = frozenset(f"pkg/parser/p{i}.go" for i in range(6))
    used = {"name:github.com/tealeg/xlsx/v3": files}
    log = build_log([adr], usage=used)
    assert any("stale" in p for p in log.problems)
    assert flagged([adr], "pkg/x.go", 'import "github.com/tealeg/xlsx/v3"', usage=used) == []
    few = {"name:github.com/tealeg/xlsx/v3": frozenset({"pkg/parser/p0.go"})}
    assert flagged([adr], "pkg/x.go", 'import "github.com/tealeg/xlsx/v3"', usage=few) == [
        "adr-0002"
    ]
