# ruff: noqa: E501  (the fixture files read best on one line each)
"""Mined conventions end to end, in Python, TypeScript, Go and Java: a fixture repository with
just enough evidence (five) teaches the rule and a change breaking it is flagged; with one
less (four) nothing is learned and the same change passes."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from app.git import GitRepo
from app.review import review
from app.rules import load_codebase
from app.source import LocalSource
from app.store import Store
from checks.config import parse_config
from checks.conventions import mine
from checks.patterns_config import ConventionSettings
from tests.conftest import GitRepoBuilder

Files = dict[str, str]
N = ConventionSettings().min_evidence
J = "src/main/java/com/shop"
GO_MOD = {"go.mod": "module example.com/shop\n\ngo 1.22\n"}


def py_wrapped(n: int) -> Files:
    files = {"shop/http.py": "import requests\n\n\ndef get(url):\n    return requests.get(url)\n"}
    for i in range(n):
        files[f"shop/users/user{i}.py"] = (
            f"import shop.http\n\n\ndef fetch{i}():\n    return shop.http.get('u')\n"
        )
    return files


def py_direction(n: int) -> Files:
    files = {"shop/domain/order.py": "def total():\n    return 1\n"}
    for i in range(n):
        files[f"shop/api/view{i}.py"] = "import shop.domain.order\n"
    return files


def py_naming(n: int) -> Files:
    body = "".join(f"def load_item_{chr(97 + i)}():\n    return {i}\n\n\n" for i in range(n))
    return {"shop/util/items.py": body}


def py_structure(n: int) -> Files:
    files = {"shop/base.py": "class BaseHandler:\n    pass\n"}
    for i in range(n):
        files[f"shop/handlers/h{i}.py"] = (
            f"from shop.base import BaseHandler\n\n\nclass H{i}(BaseHandler):\n    pass\n"
        )
    return files


def ts_wrapped(n: int) -> Files:
    files = {"web/http.ts": "import axios from 'axios';\nexport const get = axios.get;\n"}
    for i in range(n):
        files[f"web/users/user{i}.ts"] = (
            f"import {{ get }} from '../http';\nexport const u{i} = get;\n"
        )
    return files


def ts_direction(n: int) -> Files:
    files = {"web/domain/order.ts": "export const total = () => 1;\n"}
    for i in range(n):
        files[f"web/api/view{i}.ts"] = (
            f"import {{ total }} from '../domain/order';\nexport const v{i} = total;\n"
        )
    return files


def ts_naming(n: int) -> Files:
    body = "".join(f"export function loadItem{chr(65 + i)}() {{ return {i}; }}\n" for i in range(n))
    return {"web/util/items.ts": body}


def ts_structure(n: int) -> Files:
    files = {"web/base.ts": "export class BaseHandler {}\n"}
    for i in range(n):
        files[f"web/handlers/h{i}.ts"] = (
            f"import {{ BaseHandler }} from '../base';\nexport class H{i} extends BaseHandler {{}}\n"
        )
    return files


def go_wrapped(n: int) -> Files:
    files = {
        **GO_MOD,
        "svc/web/client.go": 'package web\n\nimport "github.com/go-resty/resty/v2"\n\nvar New = resty.New\n',
    }
    for i in range(n):
        files[f"svc/user{i}/user.go"] = (
            f'package user{i}\n\nimport "example.com/shop/svc/web"\n\nvar G = web.Get\n'
        )
    return files


def go_direction(n: int) -> Files:
    files = {**GO_MOD, "svc/domain/order.go": "package domain\n\nfunc Total() int { return 1 }\n"}
    for i in range(n):
        files[f"svc/api/view{i}.go"] = (
            f'package api\n\nimport "example.com/shop/svc/domain"\n\nvar V{i} = domain.Total\n'
        )
    return files


def go_naming(n: int) -> Files:
    files = dict(GO_MOD)
    for i in range(n):
        files[f"svc/store/item_store_{chr(97 + i)}.go"] = f"package store\n\nconst A{i} = {i}\n"
    return files


def go_structure(n: int) -> Files:
    files = dict(GO_MOD)
    for i in range(n):
        files[f"svc/handlers/h{i}.go"] = (
            f"package handlers\n\ntype Item{chr(65 + i)}Handler struct{{}}\n"
        )
    return files


def java_wrapped(n: int) -> Files:
    files = {
        f"{J}/web/Client.java": "package com.shop.web;\n\nimport com.squareup.okhttp.OkHttpClient;\n\npublic class Client {}\n"
    }
    for i in range(n):
        files[f"{J}/users/User{i}.java"] = (
            f"package com.shop.users;\n\nimport com.shop.web.Client;\n\npublic class User{i} {{}}\n"
        )
    return files


def java_direction(n: int) -> Files:
    files = {f"{J}/domain/Order.java": "package com.shop.domain;\n\npublic class Order {\n}\n"}
    for i in range(n):
        files[f"{J}/api/View{i}.java"] = (
            f"package com.shop.api;\n\nimport com.shop.domain.Order;\n\npublic class View{i} {{}}\n"
        )
    return files


def java_naming(n: int) -> Files:
    body = "".join(f"  int loadItem{chr(65 + i)}() {{ return {i}; }}\n" for i in range(n))
    return {f"{J}/util/Items.java": f"package com.shop.util;\n\npublic class Items {{\n{body}}}\n"}


def java_structure(n: int) -> Files:
    files = {f"{J}/Base.java": "package com.shop;\n\npublic class BaseHandler {}\n"}
    for i in range(n):
        files[f"{J}/handlers/H{i}.java"] = (
            f"package com.shop.handlers;\n\nimport com.shop.BaseHandler;\n\npublic class H{i} extends BaseHandler {{}}\n"
        )
    return files


# (language, rule, base files for n, the breaking change for n, expected (path, line))
Change = Callable[[Files], Files]
CASES: list[tuple[str, str, Callable[[int], Files], Change, tuple[str, int]]] = [
    (
        "python",
        "wrapped-dependency",
        py_wrapped,
        lambda b: {"shop/orders/order.py": "import requests\n"},
        ("shop/orders/order.py", 1),
    ),
    (
        "python",
        "dependency-direction",
        py_direction,
        lambda b: {
            "shop/domain/order.py": "import shop.api.view0\n\n\ndef total():\n    return 1\n"
        },
        ("shop/domain/order.py", 1),
    ),
    (
        "python",
        "naming",
        py_naming,
        lambda b: {
            "shop/util/items.py": b["shop/util/items.py"] + "def loadItemZ():\n    return 0\n"
        },
        ("shop/util/items.py", 4 * N + 1),
    ),
    (
        "python",
        "structure",
        py_structure,
        lambda b: {"shop/handlers/export.py": "class Export:\n    pass\n"},
        ("shop/handlers/export.py", 1),
    ),
    (
        "typescript",
        "wrapped-dependency",
        ts_wrapped,
        lambda b: {"web/orders/order.ts": "import axios from 'axios';\nexport const o = axios;\n"},
        ("web/orders/order.ts", 1),
    ),
    (
        "typescript",
        "dependency-direction",
        ts_direction,
        lambda b: {
            "web/domain/order.ts": "import { v0 } from '../api/view0';\nexport const total = () => v0;\n"
        },
        ("web/domain/order.ts", 1),
    ),
    (
        "typescript",
        "naming",
        ts_naming,
        lambda b: {
            "web/util/items.ts": b["web/util/items.ts"]
            + "export function load_item_z() { return 0; }\n"
        },
        ("web/util/items.ts", N + 1),
    ),
    (
        "typescript",
        "structure",
        ts_structure,
        lambda b: {"web/handlers/export.ts": "export class Export {}\n"},
        ("web/handlers/export.ts", 1),
    ),
    (
        "go",
        "wrapped-dependency",
        go_wrapped,
        lambda b: {
            "svc/orders/order.go": 'package orders\n\nimport "github.com/go-resty/resty/v2"\n\nvar N = resty.New\n'
        },
        ("svc/orders/order.go", 3),
    ),
    (
        "go",
        "dependency-direction",
        go_direction,
        lambda b: {
            "svc/domain/order.go": 'package domain\n\nimport "example.com/shop/svc/api"\n\nvar X = api.V0\n\nfunc Total() int { return 1 }\n'
        },
        ("svc/domain/order.go", 3),
    ),
    (
        "go",
        "naming",
        go_naming,
        lambda b: {"svc/store/orderStore.go": "package store\n\nconst Z = 0\n"},
        ("svc/store/orderStore.go", 1),
    ),
    (
        "go",
        "structure",
        go_structure,
        lambda b: {"svc/handlers/export.go": "package handlers\n\ntype Exporter struct{}\n"},
        ("svc/handlers/export.go", 3),
    ),
    (
        "java",
        "wrapped-dependency",
        java_wrapped,
        lambda b: {
            f"{J}/orders/Order.java": "package com.shop.orders;\n\nimport com.squareup.okhttp.Request;\n\npublic class Order {}\n"
        },
        (f"{J}/orders/Order.java", 3),
    ),
    (
        "java",
        "dependency-direction",
        java_direction,
        lambda b: {
            f"{J}/domain/Order.java": "package com.shop.domain;\n\nimport com.shop.api.View0;\n\npublic class Order {\n}\n"
        },
        (f"{J}/domain/Order.java", 3),
    ),
    (
        "java",
        "naming",
        java_naming,
        lambda b: {
            f"{J}/util/Items.java": b[f"{J}/util/Items.java"][:-2]
            + "  int load_item_z() { return 0; }\n}\n"
        },
        (f"{J}/util/Items.java", N + 4),
    ),
    (
        "java",
        "structure",
        java_structure,
        lambda b: {
            f"{J}/handlers/Export.java": "package com.shop.handlers;\n\npublic class Export {}\n"
        },
        (f"{J}/handlers/Export.java", 3),
    ),
]


async def _review(
    store: Store, repo: GitRepoBuilder, base: Files, change: Files
) -> tuple[list[tuple[str, str, int, str]], list[str]]:
    repo.write(base)
    repo.commit("base")
    repo.branch("feature")
    repo.write(change)
    repo.commit("change")
    git = GitRepo(repo.root)
    row = await store.repository(f"local:{repo.root}")
    result = await review(
        store, row, LocalSource(git), git.resolve("main"), git.resolve("HEAD"), parse_config(None)
    )
    mined = [r.kind for r in mine(await load_codebase(store, row.id), ConventionSettings())]
    found = [
        (f.rule, f.path, f.start_line, f.message) for f in result.findings if f.check == "patterns"
    ]
    return found, mined


@pytest.mark.parametrize(
    ("rule", "base", "change", "where"),
    [pytest.param(r, b, c, w, id=f"{lang}-{r}") for lang, r, b, c, w in CASES],
)
async def test_learned_and_flagged(
    store: Store,
    repo: GitRepoBuilder,
    rule: str,
    base: Callable[[int], Files],
    change: Change,
    where: tuple[str, int],
) -> None:
    files = base(N)
    found, mined = await _review(store, repo, files, change(files))
    assert rule in mined
    hits = [(path, line) for r, path, line, _ in found if r == rule]
    assert hits == [where]
    message = next(m for r, _, _, m in found if r == rule)
    assert message.endswith(".")


@pytest.mark.parametrize(
    ("rule", "base", "change"),
    [pytest.param(r, b, c, id=f"{lang}-{r}-below-threshold") for lang, r, b, c, _ in CASES],
)
async def test_below_threshold_nothing_learned(
    store: Store,
    repo: GitRepoBuilder,
    rule: str,
    base: Callable[[int], Files],
    change: Change,
) -> None:
    files = base(N - 1)
    found, mined = await _review(store, repo, files, change(files))
    assert rule not in mined
    assert [f for f in found if f[0] == rule] == []


async def test_optional_imports_teach_no_wrapped_dependency(
    store: Store, repo: GitRepoBuilder
) -> None:
    """A compat module tries packages (a faster JSON, a Python 2 name, a typing-only import)
    and many files import it: none of those packages is wrapped by it; and a change importing
    one of them directly is not told to go through it."""
    compat = (
        "try:\n    import simplejson as json\nexcept ImportError:\n    import json\n"
        "try:\n    from urlparse import urljoin\nexcept ImportError:\n"
        "    from urllib.parse import urljoin\n"
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from attrs import Attribute\n"
    )
    base = {"shop/compat.py": compat} | {
        f"shop/users/user{i}.py": "from shop.compat import json, urljoin\n" for i in range(N + 2)
    }
    found, mined = await _review(
        store, repo, base, {"shop/orders/order.py": "import simplejson\nimport attrs\n"}
    )
    assert "wrapped-dependency" not in mined
    assert found == []
