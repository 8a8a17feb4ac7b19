"""Sibling copies: a change that edits one copy of code and leaves the others (edited-copy)."""

from __future__ import annotations

from app.git import GitRepo
from app.review import ReviewResult, review
from app.source import LocalSource
from app.store import Store
from checks.config import CairnConfig, DuplicationConfig, parse_config
from checks.finding import Finding, Severity
from tests.app.samples import PARSE_DATE, PARSE_DATE_RENAMED, UNRELATED, module
from tests.conftest import GitRepoBuilder

COPY_B = PARSE_DATE.replace("parse_iso_date", "parse_day")
COPY_C = PARSE_DATE_RENAMED  # a renamed copy: `to_day`
FIXED = ("if not text:", "if not text or text == '-':")


async def _review(
    store: Store, repo: GitRepoBuilder, config: CairnConfig | None = None
) -> ReviewResult:
    git = GitRepo(repo.root)
    row = await store.repository(f"local:{repo.root}")
    return await review(
        store,
        row,
        LocalSource(git),
        git.resolve("main"),
        git.resolve("HEAD"),
        config or CairnConfig(),
    )


def _three_copies(repo: GitRepoBuilder) -> None:
    repo.write(
        {
            "billing/dates.py": module(PARSE_DATE),
            "exports/days.py": module(COPY_B),
            "imports/reader.py": module(COPY_C),
            "tests/test_dates.py": module(PARSE_DATE.replace("parse_iso_date", "helper_date")),
            "reports/table.py": module(UNRELATED),
        }
    )
    repo.commit("three copies and one in the tests")
    repo.branch("feature")


def _edited(result: ReviewResult) -> list[Finding]:
    return [f for f in result.findings if f.rule == "edited-copy"]


async def test_one_copy_of_three_edited_names_the_two_others(
    store: Store, repo: GitRepoBuilder
) -> None:
    _three_copies(repo)
    repo.write({"billing/dates.py": module(PARSE_DATE.replace(*FIXED))})
    repo.commit("accept a lone dash")
    result = await _review(store, repo)
    found = _edited(result)
    assert len(found) == 1
    finding = found[0]
    assert (finding.check, finding.path, finding.severity) == (
        "duplication",
        "billing/dates.py",
        Severity.NOTICE,
    )
    # On the edited line only, which the message shows as a small diff.
    assert (finding.start_line, finding.end_line) == (9, 9)
    assert (
        "`- if not text:`" in finding.message
        and "`+ if not text or text == '-':`" in finding.message
    )
    named = [(e.path, e.name, e.start_line, e.end_line) for e in finding.evidence]
    # The production copies first, the copy in the tests listed apart, last.
    assert named[:2] == sorted(named[:2])
    assert {n[:2] for n in named[:2]} == {
        ("exports/days.py", "parse_day"),
        ("imports/reader.py", "to_day"),
    }
    assert named[2][:2] == ("tests/test_dates.py", "helper_date")
    # All three were added by one commit: they changed together once.
    assert finding.evidence[2].note == "changed together 1 time; in tests"
    assert finding.evidence[0].similarity is not None and finding.evidence[0].similarity >= 0.7
    assert "Does the same change belong there?" in finding.message
    assert "(and 1 in tests or excluded paths)" in finding.message


async def test_every_copy_edited_says_nothing(store: Store, repo: GitRepoBuilder) -> None:
    _three_copies(repo)
    repo.write(
        {
            "billing/dates.py": module(PARSE_DATE.replace(*FIXED)),
            "exports/days.py": module(COPY_B.replace(*FIXED)),
            "imports/reader.py": module(COPY_C.replace("if not s:", "if not s or s == '-':")),
            "tests/test_dates.py": module(
                PARSE_DATE.replace("parse_iso_date", "helper_date").replace(*FIXED)
            ),
        }
    )
    repo.commit("the same fix everywhere")
    result = await _review(store, repo)
    assert _edited(result) == []


async def test_a_moved_copy_says_nothing(store: Store, repo: GitRepoBuilder) -> None:
    _three_copies(repo)
    repo.remove("billing/dates.py")
    repo.write({"common/dates.py": module(PARSE_DATE)})
    repo.commit("move the date parser")
    result = await _review(store, repo)
    assert _edited(result) == []


async def test_co_change_ranks_first_the_copy_that_changed_with_it(
    store: Store, repo: GitRepoBuilder
) -> None:
    _three_copies(repo)
    repo.checkout("main")
    for n in range(3):  # imports/reader.py changes with billing/dates.py, three times
        repo.write(
            {
                "billing/dates.py": module(PARSE_DATE) + f"\n\nVERSION = {n}\n",
                "imports/reader.py": module(COPY_C) + f"\n\nVERSION = {n}\n",
            }
        )
        repo.commit(f"bump {n}")
    repo.git("branch", "-f", "feature", "main")
    repo.checkout("feature")
    repo.write({"billing/dates.py": module(PARSE_DATE.replace(*FIXED)) + "\n\nVERSION = 2\n"})
    repo.commit("accept a lone dash")
    finding = _edited(await _review(store, repo))[0]
    assert finding.evidence[0].path == "imports/reader.py"
    assert finding.evidence[0].note == "changed together 4 times"  # the first commit too
    assert finding.evidence[1].path == "exports/days.py"


async def test_severity_and_off_come_from_the_config(store: Store, repo: GitRepoBuilder) -> None:
    _three_copies(repo)
    repo.write({"billing/dates.py": module(PARSE_DATE.replace(*FIXED))})
    repo.commit("accept a lone dash")
    warn = parse_config("duplication:\n  edited_copy: warning\n")
    assert [f.severity for f in _edited(await _review(store, repo, warn))] == [Severity.WARNING]
    off = parse_config("duplication:\n  edited_copy: off\n")
    assert _edited(await _review(store, repo, off)) == []
    excluded = CairnConfig(duplication=DuplicationConfig(exclude=("exports/*",)))
    finding = _edited(await _review(store, repo, excluded))[0]
    assert [e.note for e in finding.evidence if e.path == "exports/days.py"] == [
        "changed together 1 time; excluded by duplication.exclude"
    ]


async def test_a_copy_that_no_longer_holds_the_edited_code_is_no_sibling(
    store: Store, repo: GitRepoBuilder
) -> None:
    drifted = COPY_B.replace(
        "    if not text:\n        return default\n", "    text = text or '1970-01-01'\n"
    )
    repo.write({"billing/dates.py": module(PARSE_DATE), "exports/days.py": module(drifted)})
    repo.commit("a copy that drifted where the edit lands")
    repo.branch("feature")
    repo.write({"billing/dates.py": module(PARSE_DATE.replace(*FIXED))})
    repo.commit("accept a lone dash")
    assert _edited(await _review(store, repo)) == []


async def test_an_edited_test_is_not_judged(store: Store, repo: GitRepoBuilder) -> None:
    _three_copies(repo)
    helper = PARSE_DATE.replace("parse_iso_date", "helper_date")
    repo.write({"tests/test_dates.py": module(helper.replace(*FIXED))})
    repo.commit("the test helper accepts a lone dash")
    assert _edited(await _review(store, repo)) == []


async def test_copies_the_change_only_inserts_into_are_edited_too(
    store: Store, repo: GitRepoBuilder
) -> None:
    _three_copies(repo)
    slash = (
        "    text = str(value).strip()\n",
        "    text = str(value).strip()\n    text = text.replace('/', '-')\n",
    )
    slash_c = (
        "    s = str(raw).strip()\n",
        "    s = str(raw).strip()\n    s = s.replace('/', '-')\n",
    )
    repo.write(
        {
            "billing/dates.py": module(PARSE_DATE.replace(*slash)),
            "exports/days.py": module(COPY_B.replace(*slash)),
            "imports/reader.py": module(COPY_C.replace(*slash_c)),
        }
    )
    repo.commit("slashes too, in every copy: one line inserted in each")
    git = GitRepo(repo.root)
    assert "+++ b/exports/days.py\n@@ -8,0 +9 @@" in git.diff(
        git.resolve("main"), git.resolve("HEAD")
    )
    assert _edited(await _review(store, repo)) == []


def _as_class(name: str, function: str) -> str:
    body = "".join(f"    {line}\n" if line else "\n" for line in function.splitlines())
    method = body.replace("(value, default", "(self, value, default")
    return f"class {name}:\n    unit = 'day'\n\n{method}"


async def test_an_edit_in_a_method_of_a_copied_class_is_one_finding(
    store: Store, repo: GitRepoBuilder
) -> None:
    repo.write(
        {
            "billing/dates.py": module(_as_class("DateReader", PARSE_DATE)),
            "exports/days.py": module(_as_class("DayReader", PARSE_DATE)),
        }
    )
    repo.commit("a copied class")
    repo.branch("feature")
    repo.write({"billing/dates.py": module(_as_class("DateReader", PARSE_DATE.replace(*FIXED)))})
    repo.commit("accept a lone dash")
    [finding] = _edited(await _review(store, repo))
    assert [e.name for e in finding.evidence] == ["DayReader.parse_iso_date"]
