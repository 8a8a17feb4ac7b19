"""``cairn why`` and ``cairn decisions`` on real git repositories and the real store."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from analyzers.adr import HistoryEntry, parse_adr
from app.errors import CairnError
from app.git import GitRepo
from app.history import GitHistory
from app.publish import PullRequestRef, Renderer
from app.review import review
from app.source import LocalSource
from app.store import Store
from app.why import WhyItem, parse_target, render_why, why
from checks.config import CairnConfig
from checks.decisions import DecisionNotes, RelevantDecision
from checks.finding import Evidence, Finding, Severity
from tests.conftest import GitRepoBuilder

pytestmark = pytest.mark.slow  # cairn processes

CAIRN = Path(sys.executable).parent / "cairn"
HTTPX = """# 5. Use httpx as the HTTP client

Date: 2021-03-04

## Status

Accepted

## Decision

Use `httpx` instead of `requests` for HTTP calls.
"""
LOGGING = """# 6. Structured logging in the billing service

Date: 2022-01-10

## Status

Accepted

## Decision

Every module under billing logs through `billing.log`; `charge_card` logs each attempt.

```cairn
scope: ["billing/**"]
forbid:
  - {call: print, message: "Log through billing.log."}
```
"""
UNRELATED = """# 7. Use PostgreSQL

Date: 2022-02-01

## Status

Accepted

## Decision

Store everything in PostgreSQL.
"""
CLIENT = "import httpx\n\n\ndef fetch(url):\n    return httpx.get(url)\n"
CHARGE = (
    "from billing import log\n\n\n"
    "def charge_card(card, amount):\n    log.info('charge')\n    return card.charge(amount)\n\n\n"
    "def refund(card, amount):\n    return card.refund(amount)\n"
)


def history_repo(repo: GitRepoBuilder) -> GitRepoBuilder:
    """ADRs and code, merged through pull requests (merge commits and a squash)."""
    repo.write({"docs/adr/0005-use-httpx.md": HTTPX, "README.md": "shop\n"})
    repo.commit("Record ADR-0005 (#3)")
    repo.branch("billing")
    repo.write({"docs/adr/0006-logging.md": LOGGING, "docs/adr/0007-postgres.md": UNRELATED})
    repo.commit("Decide billing logging")
    repo.write({"billing/charge.py": CHARGE, "app/client.py": CLIENT})
    repo.commit("Charge cards and fetch")
    repo.checkout("main")
    repo.git("merge", "-q", "--no-ff", "billing", "-m", "Merge pull request #9 from shop/billing",
             "-m", "Billing service")  # fmt: skip
    repo.write({"app/client.py": CLIENT.replace("httpx.get(url)", "httpx.get(url, timeout=5)")})
    repo.commit("Time out after 5 s, as adr-5 asks (ADR-50 is something else)")
    repo.branch("refunds")
    repo.write({"billing/charge.py": CHARGE.replace("card.refund(amount)", "card.refund(-amount)")})
    repo.commit("Refund with the sign the gateway wants")
    repo.checkout("main")
    repo.git("merge", "-q", "--no-ff", "refunds", "-m", "Merge pull request #11 from shop/refunds",
             "-m", "Fix refunds")  # fmt: skip
    return repo


async def _why(store: Store, repo: GitRepoBuilder, target: str) -> list[tuple[str, str, str]]:
    git = GitRepo(repo.root)
    row = await store.repository(f"local:{repo.root}")
    path, line = parse_target(target)
    items = await why(store, row, git, git.resolve("HEAD"), path, line, CairnConfig())
    return [(i.kind, i.label, i.reason) for i in items]


async def test_why_a_line_lists_the_decisions_and_the_changes_that_shaped_it(
    store: Store, repo: GitRepoBuilder
) -> None:
    history_repo(repo)
    sha = repo.git("log", "--format=%H", "-n1", "--grep", "Charge cards")[:10]

    charge = await _why(store, repo, "billing/charge.py:5")

    assert [(kind, label) for kind, label, _ in charge] == [
        ("pull-request", "#11"),  # merged a change to the file (same day: merges first)
        ("pull-request", "#9"),
        (  "commit", sha),  # touched the lines of charge_card
        ("decision", "ADR-0006"),
    ]  # fmt: skip
    reasons = dict(((k, label), r) for k, label, r in charge)
    assert reasons[("commit", sha)] == "touched lines 4-6 (charge_card)"
    assert reasons[("pull-request", "#11")] == "merged a change to billing/charge.py"
    decided = repo.git("log", "--format=%H", "-n1", "--grep", "Decide billing")[:10]
    assert reasons[("decision", "ADR-0006")] == (
        "its scope `billing/**` matches billing/charge.py; it mentions `charge_card` "
        f"(recorded in {decided} 'Decide billing logging')"
    )

    refund = await _why(store, repo, "billing/charge.py:10")
    commits = [label for kind, label, _ in refund if kind == "commit"]
    fix = repo.git("log", "--format=%H", "-n1", "--grep", "Refund with")[:10]
    assert commits == [fix, sha]  # both touched refund; charge_card's history is not refund's
    assert ("decision", "ADR-0006") in [(k, label) for k, label, _ in refund]


async def test_why_a_file_names_the_decision_about_what_it_imports(
    store: Store, repo: GitRepoBuilder
) -> None:
    history_repo(repo)

    client = await _why(store, repo, "app/client.py")

    decisions = [(label, reason) for kind, label, reason in client if kind == "decision"]
    assert decisions == [
        (
            "ADR-0005",
            "it decides about `httpx`, which app/client.py uses (recorded in #3 'Record ADR-0005')",
        )
    ]
    assert [label for kind, label, _ in client if kind != "decision"][:1] == ["#9"]
    assert all("0007" not in label for _, label, _ in client)  # an unrelated decision


@pytest.mark.parametrize(
    ("target", "message"),
    [
        pytest.param("app/client.py:0", "lines are numbered from 1", id="line-zero"),
        pytest.param(":3", "give a file path", id="no-path"),
    ],
)
def test_a_bad_target_is_a_clear_error(target: str, message: str) -> None:
    with pytest.raises(CairnError, match=message):
        parse_target(target)


async def test_why_a_missing_file_or_line_is_a_clear_error(
    store: Store, repo: GitRepoBuilder
) -> None:
    history_repo(repo)
    with pytest.raises(CairnError, match="not a file at"):
        await _why(store, repo, "app/nope.py")
    with pytest.raises(CairnError, match="has 6 lines at"):
        await _why(store, repo, "app/client.py:60")


async def test_the_git_history_of_adr_files_names_the_merge_and_the_commit(
    repo: GitRepoBuilder,
) -> None:
    history_repo(repo)
    git = GitRepo(repo.root)
    found = await GitHistory(git, git.resolve("HEAD")).of(
        ["docs/adr/0006-logging.md", "docs/adr/0005-use-httpx.md", "docs/adr/none.md"]
    )
    assert set(found) == {"docs/adr/0006-logging.md", "docs/adr/0005-use-httpx.md"}
    merge, commit = found["docs/adr/0006-logging.md"]
    assert (merge.kind, merge.ref, merge.title) == ("pull-request", "9", "Billing service")
    assert merge.reason == "added docs/adr/0006-logging.md"
    assert (commit.kind, commit.title) == ("commit", "Decide billing logging")
    squash, mention = found["docs/adr/0005-use-httpx.md"]  # one day: the pull request first
    assert squash == HistoryEntry(
        "pull-request", "3", "Record ADR-0005", squash.date, "added docs/adr/0005-use-httpx.md"
    )
    assert (mention.kind, mention.reason) == ("commit", "mentions ADR-0005")
    assert mention.title.startswith("Time out after 5 s")


async def test_a_finding_links_the_pull_request_that_made_the_decision(
    store: Store, repo: GitRepoBuilder
) -> None:
    history_repo(repo)
    repo.branch("feature")
    repo.write({"app/client.py": CLIENT.replace("import httpx", "import requests")})
    repo.commit("Back to requests")
    git = GitRepo(repo.root)
    row = await store.repository(f"local:{repo.root}")

    result = await review(
        store, row, LocalSource(git), git.resolve("main"), git.resolve("HEAD"), CairnConfig()
    )

    [finding] = [f for f in result.findings if f.check == "decisions"]
    assert finding.rule == "adr-0005"
    adr, made, debated = finding.evidence
    assert adr.path == "docs/adr/0005-use-httpx.md"
    assert (made.path, made.kind, made.name) == ("", "pull-request", "#3 Record ADR-0005")
    assert made.note.endswith("added docs/adr/0005-use-httpx.md")
    assert (debated.kind, debated.note[-17:]) == ("commit", "mentions ADR-0005")


def cairn(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CAIRN), *args], env=env, capture_output=True, text=True, timeout=240)


def test_the_cli_why_and_decisions_commands(
    cairn_env: dict[str, str], repo: GitRepoBuilder
) -> None:
    history_repo(repo)
    root = str(repo.root)

    text = cairn(cairn_env, "why", "billing/charge.py:5", "--repo", root)
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith("billing/charge.py:5: 4 decisions, pull requests and commits")
    assert "ADR-0006 Structured logging in the billing service (accepted)" in text.stdout

    doc = json.loads(
        cairn(cairn_env, "why", "app/client.py", "--repo", root, "--format", "json").stdout
    )
    assert doc["path"] == "app/client.py" and doc["line"] is None
    assert {"kind": "decision", "ref": "ADR-0005"}.items() <= doc["items"][-1].items()

    log = json.loads(cairn(cairn_env, "decisions", "--repo", root, "--format", "json").stdout)
    assert [(d["label"], d["binding"]) for d in log["decisions"]] == [
        ("ADR-0005", True),
        ("ADR-0006", True),
        ("ADR-0007", True),
    ]
    assert log["decisions"][0]["constraints"][0]["value"] == "requests"

    suggest = cairn(cairn_env, "decisions", "--suggest", "--repo", root)
    assert suggest.returncode == 0, suggest.stderr
    block = suggest.stdout.split("\n", 1)[1]
    confirmed = parse_adr("docs/adr/0005-use-httpx.md", (HTTPX + "\n" + block).encode())
    assert [(c.kind, c.value, c.prefer, c.explicit) for c in confirmed.constraints] == [
        ("any", "requests", "httpx", True)
    ]

    missing = cairn(cairn_env, "why", "nope.py", "--repo", root)
    assert missing.returncode == 2 and "nope.py is not a file at" in missing.stderr

    # A broken patterns section is not this command's business; a broken decisions one is.
    repo.write({".cairn.yml": "patterns:\n  colour: red\n"}).commit("config")
    assert cairn(cairn_env, "decisions", "--repo", root).returncode == 0
    repo.write({".cairn.yml": "decisions:\n  paths: 7\n"}).commit("config")
    broken = cairn(cairn_env, "decisions", "--repo", root)
    assert broken.returncode == 2 and "decisions.paths" in broken.stderr


def test_the_action_job_summary_links_the_decision_history() -> None:
    ref = PullRequestRef(1, "acme/shop", 7, "b" * 40, "h" * 40, 0)
    finding = Finding(
        check="decisions",
        rule="adr-0005",
        path="app/client.py",
        start_line=1,
        end_line=1,
        message="This adds `requests` (import), but ADR-0005 decided otherwise.",
        severity=Severity.WARNING,
        evidence=(
            Evidence("docs/adr/0005-use-httpx.md", 9, 9, name="Use httpx"),
            Evidence("", 0, 0, name="#3 Record ADR-0005", kind="pull-request"),
            Evidence("", 0, 0, name="8fecb64b14 Decide", kind="commit"),
        ),
    )
    notes = DecisionNotes(
        relevant=(
            RelevantDecision("docs/adr/0005-use-httpx.md", "ADR-0005", "Use httpx", "accepted"),
        ),
        problems=("docs/adr/0002-x.md: no status",),
    )
    text = Renderer("https://gh").job_summary(ref, [finding], "neutral", "no token", None, notes)
    assert (
        "### Decisions relevant to this change\n\n- [ADR-0005 Use httpx]"
        f"(https://gh/acme/shop/blob/{'b' * 40}/docs/adr/0005-use-httpx.md) (accepted)\n"
    ) in text
    assert "### Decision log problems\n\n- docs/adr/0002-x.md: no status\n" in text
    assert f"(https://gh/acme/shop/blob/{'b' * 40}/docs/adr/0005-use-httpx.md#L9)" in text
    # escaped link text: "#\u200b3" cross-references no issue; the link goes to #3 itself
    assert "[#\u200b3 Record ADR-0005 (pull-request)](https://gh/acme/shop/pull/3)" in text
    assert "[8fecb64b14 Decide (commit)](https://gh/acme/shop/commit/8fecb64b14)" in text


async def test_a_decision_without_an_iso_date_is_dated_by_the_change_that_added_it(
    store: Store, repo: GitRepoBuilder
) -> None:
    repo.write(
        {
            "docs/adr/0001-x.md": LOGGING.replace("Date: 2022-01-10", "Date: 10 January 2022"),
            "billing/charge.py": CHARGE,
        }
    )
    repo.commit("Decide billing logging")
    added = repo.git("log", "-1", "--format=%ad", "--date=short")
    git = GitRepo(repo.root)
    row = await store.repository(f"local:{repo.root}")
    items = await why(
        store, row, git, git.resolve("HEAD"), "billing/charge.py", None, CairnConfig()
    )
    [decision] = [i for i in items if i.kind == "decision"]
    assert decision.date == added


def test_the_text_counts_one_item_in_the_singular() -> None:
    commit = WhyItem(
        "commit", "90d85d2b7f", "Billing: ISO dates", "2026-11-24", "touched lines 6-19"
    )
    assert render_why("billing/dates.py", 6, [commit]).splitlines()[0] == (
        "billing/dates.py:6: 1 decision, pull request or commit, newest first"
    )
    two = render_why("billing/dates.py", None, [commit, commit]).splitlines()[0]
    assert two == "billing/dates.py: 2 decisions, pull requests and commits, newest first"


def test_why_finds_records_through_the_catalog() -> None:
    from analyzers.additions import additions
    from app.why import _decision

    def brought(path: str, text: str) -> list[object]:
        lines = tuple(enumerate(text.split("\n"), start=1))
        return list(additions(path, lines, text, new=True))

    moment = parse_adr(
        "docs/adr/0003-dates.md",
        b"# 3. Dates\n\n## Status\n\nAccepted\n\n## Decision\n\nAvoid Moment.js; use date-fns.\n",
    )
    emotion = parse_adr(
        "docs/adr/0004-styles.md",
        b"# 4. Styles\n\n## Status\n\nAccepted\n\n## Decision\n\nWe will use Emotion for styles.\n",
    )
    binding = {moment.path: moment, emotion.path: emotion}
    a_ts = brought(
        "web/a.ts", "import moment from 'moment'\nimport styled from '@emotion/styled'\n"
    )
    item = _decision(moment, binding, "web/a.ts", [], a_ts)  # type: ignore[arg-type]
    assert (
        item is not None
        and item.reason == "it rejected `Moment.js`, which web/a.ts uses (`moment`)"
    )
    item = _decision(emotion, binding, "web/a.ts", [], a_ts)  # type: ignore[arg-type]
    assert item is not None and "it chose `Emotion`, which web/a.ts uses (`@emotion/styled`)" in (
        item.reason
    )
    b_ts = brought("web/b.ts", "import _ from 'lodash'\n")  # near miss: neither technology
    assert _decision(moment, binding, "web/b.ts", [], b_ts) is None  # type: ignore[arg-type]


async def test_a_history_git_cannot_walk_is_no_history_not_a_failed_review(
    repo: GitRepoBuilder,
) -> None:
    # A snapshot or damaged clone can lack an old object: the review goes on without history.
    history_repo(repo)
    git = GitRepo(repo.root)
    head = git.resolve("HEAD")
    oldest = subprocess.run(
        ["git", "-C", str(repo.root), "rev-list", "--max-parents=0", "HEAD"],
        capture_output=True, text=True, check=True,
    ).stdout.split()[0]  # fmt: skip
    tree = subprocess.run(
        ["git", "-C", str(repo.root), "rev-parse", f"{oldest}^{{tree}}"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    loose = repo.root / ".git" / "objects" / tree[:2] / tree[2:]
    assert loose.exists()
    loose.unlink()
    found = await GitHistory(git, head).of(["docs/adr/0006-logging.md"])
    assert found == {}
