"""``cairn rules``: mined conventions listed with their evidence (text and JSON), written into
``.cairn.yml`` as explicit rules that keep the file's comments, and then reported once, by the
written rule, never twice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from checks.config import parse_config
from tests.app.test_conventions import N, py_direction, py_naming, py_structure, py_wrapped
from tests.conftest import GitRepoBuilder
from tests.test_cli import cairn

pytestmark = pytest.mark.slow  # cairn processes

CONFIG = """\
# Cairn's settings for the shop.
duplication:
  min_tokens: 60   # our units are long

patterns:
  # the HTTP client adds retries
  prefer:
    - {id: no-urllib, use: shop.http, instead_of: [urllib3]}

fail_on:
  patterns: error
"""


def _shop(repo: GitRepoBuilder, config: str | None) -> None:
    files = {**py_wrapped(N), **py_direction(N), **py_naming(N), **py_structure(N)}
    if config is not None:
        files[".cairn.yml"] = config
    repo.write(files)
    repo.commit("base")


def _rules(env: dict[str, str], root: Path) -> list[dict[str, object]]:
    proc = cairn(env, "rules", "--repo", str(root), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["version"] == 1
    rules: list[dict[str, object]] = doc["rules"]
    return rules


def test_rules_lists_write_merges_and_written_rules_replace_mined_ones(
    repo: GitRepoBuilder, cairn_env: dict[str, str]
) -> None:
    _shop(repo, CONFIG)
    rules = _rules(cairn_env, repo.root)
    by_id = {r["id"]: r for r in rules}
    assert {r["kind"] for r in rules} == {
        "wrapped-dependency",
        "dependency-direction",
        "naming",
        "structure",
    }
    wrapped = by_id["wrapped-requests"]
    assert wrapped["package"] == "requests" and wrapped["wrapper"] == "shop/http.py"
    assert wrapped["evidence"] == {
        "count": N,
        "examples": [
            {"path": "shop/http.py", "line": 1},
            {"path": "shop/users/user0.py", "line": 1},
            {"path": "shop/users/user1.py", "line": 1},
        ],
    }
    assert "`requests` is used only through `shop/http.py`" in str(wrapped["description"])
    direction = by_id["direction-shop-domain-to-shop-api"]
    assert (direction["source"], direction["target"]) == ("shop/api", "shop/domain")
    assert by_id["structure-shop-handlers-python-class"]["trait"] == "base:BaseHandler"
    naming = by_id["naming-shop-util-python-function"]
    assert (naming["style"], naming["evidence"]["count"]) == ("snake_case", N)  # type: ignore[index]

    text = cairn(cairn_env, "rules", "--repo", str(repo.root))
    assert text.returncode == 0, text.stderr
    assert "wrapped-dependency  wrapped-requests" in text.stdout
    assert "e.g. shop/http.py:1" in text.stdout

    wrote = cairn(cairn_env, "rules", "--repo", str(repo.root), "--write")
    assert wrote.returncode == 0, wrote.stderr
    written = (repo.root / ".cairn.yml").read_text()
    for line in CONFIG.splitlines():  # every line of the file, comments included, is kept
        assert line in written.splitlines()
    assert written.index("no-urllib") < written.index("wrapped-requests")  # appended to prefer
    config = parse_config(written)
    assert config.duplication.min_tokens == 60
    [prefer] = [p for p in config.patterns.prefer if p.id == "wrapped-requests"]
    assert (prefer.use, prefer.instead_of) == ("shop/http.py", ("requests",))
    assert "shop/http.py" in prefer.exclude
    [forbid] = config.patterns.forbid
    assert (forbid.paths, forbid.imports) == (("shop/domain/*",), ("shop/api/*",))
    assert [n.directory for n in config.patterns.naming] == ["shop/util"]
    assert [s.trait for s in config.patterns.structure] == ["base:BaseHandler"]
    raw = yaml.safe_load(written)
    assert raw["fail_on"] == {"patterns": "error"}

    assert _rules(cairn_env, repo.root) == []  # written: no mined duplicate is left
    again = cairn(cairn_env, "rules", "--repo", str(repo.root), "--write")
    assert again.returncode == 0 and "no new rules" in again.stderr
    assert (repo.root / ".cairn.yml").read_text() == written

    # Reviewed with the written file: the wrapped dependency is reported once, by its rule.
    repo.commit("cairn rules --write")
    repo.branch("feature")
    repo.write({"shop/orders/order.py": "import requests\n"})
    repo.commit("orders")
    review = cairn(
        cairn_env, "review", "--repo", str(repo.root), "--base", "main", "--format", "json"
    )
    assert review.returncode == 1, review.stderr
    found = [(f["rule"], f["path"]) for f in json.loads(review.stdout)["findings"]]
    assert found == [("wrapped-requests", "shop/orders/order.py")]


def test_write_creates_the_section_and_refuses_an_inline_one(
    repo: GitRepoBuilder, cairn_env: dict[str, str]
) -> None:
    _shop(repo, None)
    wrote = cairn(cairn_env, "rules", "--repo", str(repo.root), "--write")
    assert wrote.returncode == 0, wrote.stderr
    created = (repo.root / ".cairn.yml").read_text()
    assert created.startswith("patterns:\n  prefer:\n    # mined by `cairn rules --write` at ")
    assert len(parse_config(created).patterns.naming) == 1

    inline = "patterns: {prefer: []}\n"
    (repo.root / ".cairn.yml").write_text(inline)
    refused = cairn(cairn_env, "rules", "--repo", str(repo.root), "--write")
    assert refused.returncode == 2
    assert "patterns: is written inline" in refused.stderr
    assert (repo.root / ".cairn.yml").read_text() == inline


def test_a_broken_cairn_yml_is_reported_with_lines(
    repo: GitRepoBuilder, cairn_env: dict[str, str]
) -> None:
    _shop(repo, "patterns:\n  conventions: {min_evidence: 0}\n")
    proc = cairn(cairn_env, "rules", "--repo", str(repo.root))
    assert proc.returncode == 2
    assert "patterns.conventions.min_evidence: must be a whole number from 2" in proc.stderr
    assert "(line 2)" in proc.stderr


def test_write_refuses_a_cairn_yml_that_is_a_symbolic_link(
    repo: GitRepoBuilder, cairn_env: dict[str, str], tmp_path: Path
) -> None:
    outside = tmp_path / "profile.sh"  # a shell-sourced file out of the repository
    outside.write_text("export PATH=/usr/bin\n")
    _shop(repo, None)
    (repo.root / ".cairn.yml").symlink_to(outside)
    repo.commit("a committed link")

    proc = cairn(cairn_env, "rules", "--repo", str(repo.root), "--write")

    assert proc.returncode == 2
    assert "symbolic link" in proc.stderr and "outside the repository" in proc.stderr
    assert outside.read_text() == "export PATH=/usr/bin\n"
    listing = cairn(cairn_env, "rules", "--repo", str(repo.root))
    assert listing.returncode == 2  # nor read through it

    (repo.root / ".cairn.yml").unlink()
    (repo.root / "settings.yml").write_text("")
    (repo.root / ".cairn.yml").symlink_to("settings.yml")  # inside, but still a link
    inside = cairn(cairn_env, "rules", "--repo", str(repo.root), "--write")
    assert inside.returncode == 2 and "elsewhere in the repository" in inside.stderr
    assert (repo.root / "settings.yml").read_text() == ""
