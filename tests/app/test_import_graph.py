from __future__ import annotations

from app.git import GitRepo
from app.indexer import index_commit
from app.source import LocalSource
from app.store import Store
from tests.conftest import GitRepoBuilder


async def _index(
    store: Store, repo: GitRepoBuilder
) -> list[tuple[str, int, str, str | None, str | None]]:
    git = GitRepo(repo.root)
    row = await store.repository(f"local:{repo.root}")
    await index_commit(store, row, LocalSource(git), git.resolve("HEAD"))
    return [(r.path, r.line, r.name, r.internal, r.package) for r in await store.imports(row.id)]


async def test_the_graph_is_stored_and_updated_incrementally(
    store: Store, repo: GitRepoBuilder
) -> None:
    repo.write(
        {
            "go.mod": "module example.com/shop\n",
            "api/handler.go": 'package api\n\nimport "example.com/shop/domain"\n',
            "domain/order.go": "package domain\n",
            "app/main.py": "import app.util\nimport requests\n",
        }
    )
    repo.commit("base")
    assert await _index(store, repo) == [
        ("api/handler.go", 3, "example.com/shop/domain", "domain/order.go", None),
        ("app/main.py", 1, "app.util", None, "app"),
        ("app/main.py", 2, "requests", None, "requests"),
    ]
    # A new file resolves an import of an unchanged file; a removed one drops its edges.
    repo.write({"app/util.py": "import app.main  # a cycle\n"})
    repo.remove("api/handler.go")
    repo.commit("util")
    assert await _index(store, repo) == [
        ("app/main.py", 1, "app.util", "app/util.py", None),
        ("app/main.py", 2, "requests", None, "requests"),
        ("app/util.py", 1, "app.main", "app/main.py", None),
    ]


async def test_the_graph_of_one_repository_is_not_another_s(
    store: Store, repo: GitRepoBuilder
) -> None:
    repo.write({"a.py": "import b\n", "b.py": ""})
    repo.commit("a")
    await _index(store, repo)
    other = await store.repository("local:/elsewhere")
    assert await store.imports(other.id) == []
    assert await store.extracted_imports(other.id) == {}
