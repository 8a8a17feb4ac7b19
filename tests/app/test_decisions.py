from __future__ import annotations

from pathlib import Path

from app.decisions import index_decisions
from app.git import GitRepo
from app.review import ReviewResult, review
from app.source import LocalSource
from app.store import Store
from checks.config import CairnConfig, parse_config
from checks.finding import Severity
from tests.conftest import GitRepoBuilder

FIXTURES = Path(__file__).parent.parent / "fixtures" / "adr"


def _adr(name: str) -> str:
    return (FIXTURES / name).read_text()


async def _review(store: Store, repo: GitRepoBuilder) -> ReviewResult:
    git = GitRepo(repo.root)
    row = await store.repository(f"local:{repo.root}")
    return await review(
        store, row, LocalSource(git), git.resolve("main"), git.resolve("HEAD"), CairnConfig()
    )


def _base(repo: GitRepoBuilder, adr_dir: str = "docs/adr") -> None:
    repo.write(
        {
            f"{adr_dir}/0002-use-yarn.md": _adr("nygard-0002-use-yarn.md"),
            f"{adr_dir}/0004-use-npm-instead-of-yarn.md": _adr(
                "nygard-0004-use-npm-instead-of-yarn.md"
            ),
            f"{adr_dir}/0005-http-client.md": _adr("madr2-0005-http-client.md"),
            f"{adr_dir}/0009-no-print.md": _adr("explicit-0009-no-print.md"),
            "src/app/main.py": "def main() -> None:\n    pass\n",
        }
    )
    repo.commit("base")
    repo.branch("feature")


async def test_a_change_against_an_accepted_decision_is_flagged(
    store: Store, repo: GitRepoBuilder
) -> None:
    _base(repo)
    repo.write(
        {
            "src/app/client.py": "import requests\nimport requests_mock  # tests only\n",
            "src/app/main.py": "def main() -> None:\n    print('hi')\n",
            "package.json": '{\n  "devDependencies": {\n    "npm": "^10.0.0"\n  }\n}\n',
        }
    )
    repo.commit("http client")

    result = await _review(store, repo)

    flagged = [
        (f.path, f.start_line, f.rule, f.severity)
        for f in result.findings
        if f.check == "decisions"
    ]
    assert flagged == [
        ("src/app/client.py", 1, "adr-0005", Severity.WARNING),
        ("src/app/main.py", 2, "adr-0009", Severity.ERROR),
    ]
    http = next(f for f in result.findings if f.rule == "adr-0005")
    assert http.message.startswith(
        "This adds `requests` (import), but ADR-0005 'Use httpx as the HTTP client' "
        "(accepted 2021-03-04) decided:"
    )
    assert http.evidence[0].path == "docs/adr/0005-http-client.md"
    assert not any(f.severity is Severity.NOTICE for f in result.findings)
    relevant = [r.path for r in result.decisions.relevant]
    assert "docs/adr/0005-http-client.md" in relevant


async def test_adrs_are_parsed_again_only_when_their_blob_changes(
    store: Store, repo: GitRepoBuilder
) -> None:
    _base(repo)
    git = GitRepo(repo.root)
    row = await store.repository(f"local:{repo.root}")
    source = LocalSource(git)
    assert await index_decisions(store, row, source, git.resolve("HEAD")) == 4
    assert await index_decisions(store, row, source, git.resolve("HEAD")) == 0
    repo.write({"docs/adr/0005-http-client.md": _adr("madr2-0005-http-client.md") + "\nMore.\n"})
    repo.remove("docs/adr/0002-use-yarn.md")
    repo.commit("edit one, delete one")
    assert await index_decisions(store, row, source, git.resolve("HEAD")) == 1
    assert sorted(await store.decision_blobs(row.id)) == [
        "docs/adr/0004-use-npm-instead-of-yarn.md",
        "docs/adr/0005-http-client.md",
        "docs/adr/0009-no-print.md",
    ]
    # A record an older parser read is read again, though its blob is the same.
    await store.pool.execute(
        "UPDATE decisions SET parser = 0 WHERE repo_id = $1 AND path = $2",
        row.id,
        "docs/adr/0009-no-print.md",
    )
    assert await index_decisions(store, row, source, git.resolve("HEAD")) == 1
    assert await index_decisions(store, row, source, git.resolve("HEAD")) == 0
    other = await store.repository("local:/elsewhere")
    assert await store.decisions(other.id) == []
    assert await store.relevant_decisions(other.id, ["httpx"]) == []
    assert await store.relevant_decisions(row.id, ["httpx"]) == ["docs/adr/0005-http-client.md"]


async def test_adr_dir_file_and_broken_records_never_crash(
    store: Store, repo: GitRepoBuilder
) -> None:
    repo.write(
        {
            ".adr-dir": "architecture/records\n",
            "architecture/records/0001-a.md": b"---\nstatus: [broken\n---\n# A\n",
            "architecture/records/0002-b.md": b"# 2. Caf\xe9\n\n## Status\n\nAccepted\n\x00",
            "architecture/records/0003-c.md": "# 3. C\n\n## Status\n\nSuperseded by [4](0004-d.md)",
            "architecture/records/0004-d.md": "# 4. D\n\n## Status\n\nSuperseded by [3](0003-c.md)",
            "architecture/records/0004-e.md": "# 4. E\n\n## Status\n\nAccepted\n",
        }
    )
    repo.commit("a messy log")
    repo.branch("feature")
    repo.write({"a.py": "x = 1\n"})
    repo.commit("change")

    result = await _review(store, repo)

    text = "\n".join(result.decisions.problems)
    assert "architecture/records/0001-a.md: broken front matter" in text
    assert "architecture/records/0002-b.md: not UTF-8" in text
    assert "ADR number 4 is used by 2 records" in text
    assert "supersession cycle" in text
    assert [f for f in result.findings if f.check == "decisions"] == []


async def test_configured_paths_and_a_rewritten_decision(
    store: Store, repo: GitRepoBuilder
) -> None:
    npm = _adr("nygard-0004-use-npm-instead-of-yarn.md")
    repo.write({"records/0004-use-npm-instead-of-yarn.md": npm, "a.py": "x = 1\n"})
    repo.commit("a log where only the configuration finds it")
    repo.branch("feature")
    repo.write(
        {
            "records/0004-use-npm-instead-of-yarn.md": npm.replace("every", "no"),
            "ci.sh": "yarn install\n",
        }
    )
    repo.commit("rewrite the decision")
    git = GitRepo(repo.root)
    row = await store.repository(f"local:{repo.root}")
    config = parse_config("decisions:\n  paths: [records]\n")

    result = await review(
        store, row, LocalSource(git), git.resolve("main"), git.resolve("HEAD"), config
    )

    assert sorted((f.rule, f.path) for f in result.findings) == [
        ("adr-0004", "ci.sh"),
        ("edited-decision", "records/0004-use-npm-instead-of-yarn.md"),
    ]
