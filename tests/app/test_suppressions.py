"""Inline ``cairn: ignore[...]`` comments silence findings of every check, listed as notes."""

from __future__ import annotations

import pytest

from analyzers.suppressions import Suppression, suppressions
from app.git import GitRepo
from app.review import ReviewResult, review
from app.source import LocalSource
from app.store import Store
from checks.config import parse_config
from tests.app.samples import PARSE_DATE, PARSE_DATE_RENAMED, module
from tests.conftest import GitRepoBuilder

TS_SLUG = """export function slugify(title: string, limit: number): string {
  const lower = title.trim().toLowerCase();
  const words = lower.split(/\\s+/).filter((w) => w.length > 0);
  let out = "";
  for (const word of words) {
    const next = out.length === 0 ? word : out + "-" + word;
    if (next.length > limit) {
      break;
    }
    out = next;
  }
  return out.replace(/[^a-z0-9-]/g, "");
}
"""
TS_SLUG_COPY = (
    TS_SLUG.replace("slugify", "toSlug").replace("title", "heading").replace("limit", "max")
)
CONFIG = """
patterns:
  layers:
    - {name: api, paths: ["app/api/**"]}
    - {name: domain, paths: ["app/domain/**"]}
"""


async def _review(store: Store, repo: GitRepoBuilder) -> ReviewResult:
    git = GitRepo(repo.root)
    row = await store.repository(f"local:{repo.root}")
    return await review(
        store,
        row,
        LocalSource(git),
        git.resolve("main"),
        git.resolve("HEAD"),
        parse_config(CONFIG),
    )


@pytest.mark.parametrize("suppressed", [False, True], ids=["flagged", "suppressed"])
async def test_python_duplication_and_layer_findings_are_silenced(
    store: Store, repo: GitRepoBuilder, suppressed: bool
) -> None:
    repo.write(
        {
            "app/domain/dates.py": module(PARSE_DATE),
            "app/api/views.py": "def view():\n    return 1\n",
            ".cairn.yml": CONFIG,
        }
    )
    repo.commit("base")
    repo.branch("feature")
    dup = "# cairn: ignore[duplication/clone] kept apart until the v2 parser lands\n"
    layer = "  # cairn: ignore[layer] the legacy hook, removed in #42"
    repo.write(
        {
            "app/domain/order.py": "from app.api import views"
            + (layer if suppressed else "")
            + "\nfrom datetime import date\n\n\n"
            + (dup if suppressed else "")
            + PARSE_DATE_RENAMED
        }
    )
    repo.commit("change")
    result = await _review(store, repo)
    kinds = sorted((f.check, f.rule) for f in result.findings)
    if not suppressed:
        assert kinds == [("duplication", "clone"), ("patterns", "layer")]
        assert result.suppressed == []
    else:
        assert kinds == []
        assert result.suppressed == [
            "`patterns/layer` at `app/domain/order.py:1` suppressed inline (line 1): "
            "the legacy hook, removed in #42",
            "`duplication/clone` at `app/domain/order.py:6` suppressed inline (line 5): "
            "kept apart until the v2 parser lands",
        ]


@pytest.mark.parametrize("suppressed", [False, True], ids=["flagged", "suppressed"])
async def test_typescript_duplication_and_layer_findings_are_silenced(
    store: Store, repo: GitRepoBuilder, suppressed: bool
) -> None:
    config = CONFIG
    repo.write(
        {
            "app/domain/slug.ts": TS_SLUG,
            "app/api/routes.ts": "export const r = 1;\n",
            ".cairn.yml": config,
        }
    )
    repo.commit("base")
    repo.branch("feature")
    head = (
        "/* cairn: ignore[patterns/layer] migrating off it */\n" if suppressed else "\n"
    ) + "import { r } from '../api/routes';\n"
    dup = "// cairn: ignore[clone] the copy diverges next sprint\n" if suppressed else "\n"
    repo.write({"app/domain/title.ts": head + dup + TS_SLUG_COPY})
    repo.commit("change")
    result = await _review(store, repo)
    kinds = sorted((f.check, f.rule) for f in result.findings)
    if not suppressed:
        assert kinds == [("duplication", "clone"), ("patterns", "layer")]
    else:
        assert kinds == []
        assert [n.split(" suppressed")[0] for n in result.suppressed] == [
            "`patterns/layer` at `app/domain/title.ts:2`",
            "`duplication/clone` at `app/domain/title.ts:4`",
        ]


@pytest.mark.parametrize(
    ("path", "source", "expected"),
    [
        pytest.param(
            "a.py",
            b'x = "cairn: ignore[layer] in a string"  # cairn: ignore[layer, clone] why\n',
            [Suppression(1, ("layer", "clone"), "why")],
            id="python-string-is-not-a-comment",
        ),
        pytest.param(
            "a.go",
            b"package a\n// cairn: ignore[patterns/no-stdout]\n",
            [Suppression(2, ("patterns/no-stdout",), "")],
            id="go-no-reason",
        ),
        pytest.param(
            "a.rb",
            b"# cairn: ignore[prefer-http] legacy\n",
            [Suppression(1, ("prefer-http",), "legacy")],
            id="ruby",
        ),
        pytest.param("a.ts", b"const s = 'cairn: ignore[x] y';\n", [], id="ts-string"),
    ],
)
def test_suppression_comments_are_parsed(
    path: str, source: bytes, expected: list[Suppression]
) -> None:
    assert suppressions(path, source) == expected
