from __future__ import annotations

import pytest

from analyzers.imports import Import, ProjectFiles, extract_imports, resolve

# One small repository holding every language; each case is a real-looking file in it.
TREE = [
    "shop/__init__.py",
    "shop/api/__init__.py",
    "shop/api/serializers.py",
    "shop/domain/__init__.py",
    "shop/domain/order.py",
    "shop/domain/pricing.py",
    "web/src/util.ts",
    "web/src/core/thing/index.ts",
    "web/lib/legacy.js",
    "web/src/widgets/Button.tsx",
    "internal/db/db.go",
    "internal/db/db_test.go",
    "src/main/java/com/shop/domain/Order.java",
    "src/main/java/com/shop/domain/Util.java",
    "crates/shop/src/lib.rs",
    "crates/shop/src/domain/mod.rs",
    "crates/shop/src/domain/order.rs",
    "crates/shop/src/util.rs",
    "crates/shop/src/api/handlers.rs",
    "Shop/Domain/Order.cs",
    "Shop/Domain/Money.cs",
    "lib/shop/domain/order.rb",
    "lib/shop/helpers.rb",
]
CONFIGS = {
    "go.mod": b"module example.com/shop\n\ngo 1.22\n\nrequire github.com/lib/pq v1.10.9\n",
    "web/tsconfig.json": b"""{
  // editors write comments here
  "compilerOptions": {"baseUrl": "src", "paths": {"@app/*": ["*"]},},
}""",
}

CASES = [
    pytest.param(
        "shop/api/views.py",
        b"""import os
import shop.domain.order as order_model
from . import serializers
from ..domain.order import Order
from shop.domain import pricing
from django.http import JsonResponse


def view(request):
    return JsonResponse({})
""",
        [
            (1, "os", None, "os"),
            (2, "shop.domain.order", "shop/domain/order.py", None),
            (3, ".serializers", "shop/api/serializers.py", None),
            (4, "..domain.order.Order", "shop/domain/order.py", None),
            (5, "shop.domain.pricing", "shop/domain/pricing.py", None),
            (6, "django.http.JsonResponse", None, "django"),
        ],
        id="python",
    ),
    pytest.param(
        "web/src/app.ts",
        b"""import { slug } from './util';
import thing from '@app/core/thing';
import React from 'react';
import { q } from '@scope/pkg/sub';
export * from '../lib/legacy';
const fs = require('fs');
const lazy = () => import('./widgets/Button');
""",
        [
            (1, "./util", "web/src/util.ts", None),
            (2, "@app/core/thing", "web/src/core/thing/index.ts", None),
            (3, "react", None, "react"),
            (4, "@scope/pkg/sub", None, "@scope/pkg"),
            (5, "../lib/legacy", "web/lib/legacy.js", None),
            (6, "fs", None, "fs"),
            (7, "./widgets/Button", "web/src/widgets/Button.tsx", None),
        ],
        id="typescript",
    ),
    pytest.param(
        "web/src/widgets/List.tsx",
        b"""import { Button } from './Button';
import { slug } from '../util.js';
export const List = () => <Button label={slug('x')} />;
""",
        [
            (1, "./Button", "web/src/widgets/Button.tsx", None),
            (2, "../util.js", "web/src/util.ts", None),
        ],
        id="tsx",
    ),
    pytest.param(
        "web/lib/server.js",
        b"""const express = require('express');
const legacy = require('./legacy');
module.exports = { express, legacy };
""",
        [
            (1, "express", None, "express"),
            (2, "./legacy", "web/lib/legacy.js", None),
        ],
        id="javascript",
    ),
    pytest.param(
        "cmd/shop/main.go",
        b"""package main

import (
\t"fmt"
\tdb "example.com/shop/internal/db"
\t_ "github.com/lib/pq"
)

func main() { fmt.Println(db.Open()) }
""",
        [
            (4, "fmt", None, "fmt"),
            (5, "example.com/shop/internal/db", "internal/db/db.go", None),
            (6, "github.com/lib/pq", None, "github.com/lib/pq"),
        ],
        id="go",
    ),
    pytest.param(
        "src/main/java/com/shop/api/OrderController.java",
        b"""package com.shop.api;

import com.shop.domain.Order;
import java.util.List;
import static com.shop.domain.Util.total;

public class OrderController {}
""",
        [
            (3, "com.shop.domain.Order", "src/main/java/com/shop/domain/Order.java", None),
            (4, "java.util.List", None, "java.util"),
            (5, "com.shop.domain.Util.total", "src/main/java/com/shop/domain/Util.java", None),
        ],
        id="java",
    ),
    pytest.param(
        "crates/shop/src/api/mod.rs",
        b"""use crate::domain::order::Order;
use std::collections::HashMap;
use super::{domain::{self, Price}, util};
mod handlers;

pub fn route() {}
""",
        [
            (1, "crate::domain::order::Order", "crates/shop/src/domain/order.rs", None),
            (2, "std::collections::HashMap", None, "std"),
            (3, "super::domain", "crates/shop/src/domain/mod.rs", None),
            (3, "super::domain::Price", "crates/shop/src/domain/mod.rs", None),
            (3, "super::util", "crates/shop/src/util.rs", None),
            (4, "self::handlers", "crates/shop/src/api/handlers.rs", None),
        ],
        id="rust",
    ),
    pytest.param(
        "Shop/Api/OrdersController.cs",
        b"""using System;
using Shop.Domain;
using Money = Shop.Domain.Money;

namespace Shop.Api { public class OrdersController {} }
""",
        [
            (1, "System", None, "System"),
            (2, "Shop.Domain", "Shop/Domain/Money.cs", None),
            (3, "Shop.Domain.Money", "Shop/Domain/Money.cs", None),
        ],
        id="csharp",
    ),
    pytest.param(
        "lib/shop/api.rb",
        b"""require 'json'
require 'shop/domain/order'
require_relative 'helpers'

module Shop; end
""",
        [
            (1, "json", None, "json"),
            (2, "shop/domain/order", "lib/shop/domain/order.rb", None),
            (3, "./helpers", "lib/shop/helpers.rb", None),
        ],
        id="ruby",
    ),
]


@pytest.mark.parametrize(("path", "source", "expected"), CASES)
def test_imports_are_extracted_and_resolved(
    path: str, source: bytes, expected: list[tuple[int, str, str | None, str | None]]
) -> None:
    files = ProjectFiles.build([*TREE, path], CONFIGS)
    resolved = resolve(path, extract_imports(path, source), files)
    assert [(r.line, r.name, r.internal, r.package) for r in resolved] == expected


@pytest.mark.parametrize(
    ("path", "source"),
    [
        pytest.param("a.py", b"from . import (\nimport import\n", id="python-broken"),
        pytest.param("a.ts", b"import { from '", id="ts-broken"),
        pytest.param("a.go", b"package a\nimport (\n", id="go-broken"),
        pytest.param("a.rs", b"use crate::{a::{b, c", id="rust-broken"),
        pytest.param("a.txt", b"import os", id="unsupported"),
    ],
)
def test_broken_or_unsupported_files_never_raise(path: str, source: bytes) -> None:
    imports = extract_imports(path, source)
    resolve(path, imports, ProjectFiles.build([path]))


def test_a_cycle_and_an_unreadable_tsconfig_resolve() -> None:
    files = ProjectFiles.build(["a.py", "b.py", "t/x.ts"], {"t/tsconfig.json": b"{not json"})
    a = resolve("a.py", extract_imports("a.py", b"import b\n"), files)
    b = resolve("b.py", extract_imports("b.py", b"import a\n"), files)
    x = resolve("t/x.ts", extract_imports("t/x.ts", b"import y from '@app/y';\n"), files)
    assert [(r.internal, r.package) for r in a + b + x] == [
        ("b.py", None),
        ("a.py", None),
        (None, "@app/y"),
    ]


@pytest.mark.parametrize(
    ("path", "source", "optional"),
    [
        pytest.param(
            "compat.py",
            b"try:\n    import simplejson as json\nexcept ImportError:\n    import json\n",
            {"simplejson": True, "json": True},
            id="py-try-import-error",
        ),
        pytest.param(
            "compat.py",
            b"try:\n    from urllib.parse import quote\n"
            b"except (ImportError, AttributeError):\n    from urllib import quote\n",
            {"urllib.parse.quote": True, "urllib.quote": True},
            id="py2-fallback",
        ),
        pytest.param(
            "lazy.py",
            b"def load():\n    try:\n        import ujson\n    except:\n        return None\n",
            {"ujson": True},
            id="py-bare-except-in-a-function",
        ),
        pytest.param(
            "types.py",
            b"from typing import TYPE_CHECKING\n"
            b"if TYPE_CHECKING:\n    from requests import Session\n",
            {"typing.TYPE_CHECKING": False, "requests.Session": True},
            id="py-type-checking",
        ),
        pytest.param(
            "meta.py",
            b"import sys\nif sys.version_info >= (3, 8):\n    from importlib import metadata\n"
            b"else:\n    import importlib_metadata as metadata\n",
            {"sys": False, "importlib.metadata": True, "importlib_metadata": True},
            id="py-version-check",
        ),
        pytest.param(
            "config.py",
            b"try:\n    import yaml\nexcept ValueError:\n    yaml = None\nimport requests\n",
            {"yaml": False, "requests": False},
            id="py-try-not-about-imports",
        ),
        pytest.param(
            "nested.py",
            b"try:\n    try:\n        import ujson\n    except ImportError:\n        ujson = None\n"
            b"    import yaml\nexcept ValueError:\n    pass\nif True:\n    import toml\n",
            {"ujson": True, "yaml": False, "toml": False},
            id="py-guard-inside-another-try",
        ),
        pytest.param(
            "load.js",
            b"const a = require('a');\nlet b;\ntry { b = require('b'); } catch (e) { b = null; }\n",
            {"a": False, "b": True},
            id="js-try-require",
        ),
        pytest.param(
            "main.go",
            b'package main\n\nimport "fmt"\n',
            {"fmt": False},
            id="go-has-no-guards",
        ),
    ],
)
def test_optional_imports_are_marked(path: str, source: bytes, optional: dict[str, bool]) -> None:
    assert {i.name: i.optional for i in extract_imports(path, source)} == optional


def test_one_relative_name_resolves_per_directory_in_one_tree() -> None:
    # Resolution is shared between files of a tree: a relative import must still resolve
    # from each importing file's own directory, and a package's module from its own package.
    python = ["a/models.py", "a/views.py", "b/models.py", "b/views.py", "c/views.py"]
    files = ProjectFiles.build([*python, "a/u.ts", "a/util.ts", "b/u.ts", "b/util.ts"])
    imports = [Import(line=1, name=".models")]
    ts = [Import(line=1, name="./util")]
    got = [
        resolve(path, found, files)[0].internal
        for path, found in [
            ("a/views.py", imports),
            ("b/views.py", imports),
            ("c/views.py", imports),
            ("a/views.py", imports),
            ("a/u.ts", ts),
            ("b/u.ts", ts),
        ]
    ]
    assert got == ["a/models.py", "b/models.py", None, "a/models.py", "a/util.ts", "b/util.ts"]
