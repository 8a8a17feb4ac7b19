"""The App posts fixes: a suggestion GitHub can commit, else the patch in a collapsed block."""

from __future__ import annotations

import pytest

from analyzers.shapes import syntax_errors
from tests.app.samples import PARSE_DATE, module
from tests.app.test_worker import INSTALLATION, REPO, World, world  # noqa: F401  (the fixture)
from tests.conftest import FIXTURES
from tests.github_sim.state import suggestions

pytestmark = [
    pytest.mark.slow,  # an arq worker on Redis against the simulator, end to end
    pytest.mark.filterwarnings("ignore:Call to deprecated close:DeprecationWarning"),
]

CASE = FIXTURES / "fixes" / "py-clone"


def _side(name: str) -> dict[str, str]:
    root = CASE / name
    return {str(p.relative_to(root)): p.read_text() for p in root.rglob("*") if p.is_file()}


async def test_a_copy_gets_a_suggestion_that_commits_the_fix(world: World) -> None:  # noqa: F811
    base = _side("base")
    _, head = world.pull_request(_side("head"), base=base)
    result = await world.run("review_pull_request", *world.review_args(head))
    assert result.success, result.result
    comments = {c.line: c for c in world.state.review_comments(REPO, 1)}
    assert sorted(comments) == [26, 41]
    for line, comment in comments.items():
        [block] = suggestions(comment.body)  # one block, on the RIGHT side: the simulator's rule
        assert "**Suggested fix:**" in comment.body and "<details>" not in comment.body
        committed = world.state.apply_suggestion(REPO, 1, comment.id)
        assert syntax_errors("exports/csv_export.py", committed.encode()) == 0
        if line == 41:
            assert block == "from billing.dates import parse_iso_date as parse_date"
            assert (comment.start_line, comment.line) == (29, 41)
            assert "def parse_date" not in committed
            assert "from billing.dates import parse_iso_date as parse_date\n" in committed
        else:
            assert block.endswith("    return parse_iso_date(raw, fallback)")
            assert "def to_day(raw, fallback=None):\n    return parse_iso_date(raw" in committed


async def test_a_fix_beyond_the_commented_lines_is_a_collapsed_patch(
    world: World,  # noqa: F811
) -> None:
    # The copy's first lines are context at base: GitHub's comment covers only the part of
    # the unit inside the diff, so its fix cannot be a suggestion there.
    base = _side("base")
    head = _side("head")
    text = head["exports/csv_export.py"]
    start = text.index("def parse_date")
    base["exports/csv_export.py"] = text[: text.index("\n", start + 200)] + "\n"
    _, sha = world.pull_request(head, base=base)
    result = await world.run("review_pull_request", *world.review_args(sha))
    assert result.success, result.result
    bodies = [c.body for c in world.state.review_comments(REPO, 1) if "parse_date" in c.body]
    assert bodies, [c.body for c in world.state.review_comments(REPO, 1)]
    [body] = bodies
    assert suggestions(body) == []
    assert "<details><summary>Fix: " in body and "lines 29–41 become:" in body


async def test_the_app_ranks_sibling_copies_by_the_pull_requests_it_recorded(
    world: World,  # noqa: F811
) -> None:
    base = {
        "billing/dates.py": module(PARSE_DATE),
        "exports/days.py": module(PARSE_DATE.replace("parse_iso_date", "parse_day")),
        "imports/reader.py": module(PARSE_DATE.replace("parse_iso_date", "read_day")),
    }
    for number in (7, 8):  # imports/reader.py changed with billing/dates.py twice, merged
        touched = {p: text + f"\nREVISION = {number}\n" for p, text in base.items()}
        del touched["exports/days.py"]
        world.pull_request(touched, base=base, number=number)
        recorded = await world.run(
            "record_pull_request",
            INSTALLATION,
            world.repo_id(),
            REPO,
            number,
            f"2024-01-0{number}T10:00:00Z",
            [],
        )
        assert recorded.result == "recorded"
    edited = PARSE_DATE.replace("if not text:", "if not text or text == '-':")
    _, head = world.pull_request({"billing/dates.py": module(edited)}, base=base)
    result = await world.run("review_pull_request", *world.review_args(head))
    assert result.success, result.result
    [comment] = world.state.review_comments(REPO, 1)
    assert "duplication/edited-copy" in comment.body
    first, second = [line for line in comment.body.split("\n") if line.startswith("- [")]
    assert "imports/reader.py" in first and "changed together 2 times" in first
    assert "exports/days.py" in second
