# ruff: noqa: E501  (the fixture files read best on one line each)
"""Configured pattern rules end to end: a fixture repository holds the rule at base, a change
breaks it (flagged) or comes near without breaking it (not flagged)."""

from __future__ import annotations

import pytest

from app.git import GitRepo
from app.review import review
from app.source import LocalSource
from app.store import Store
from checks.config import parse_config
from tests.conftest import GitRepoBuilder

LAYERS = """
patterns:
  layers:
    - {name: api, paths: ["%(root)s/api/**"]}
    - {name: domain, paths: ["%(root)s/domain/**"]}
"""
FORBID = """
patterns:
  forbid:
    - id: no-stdout
      paths: ["%(root)s/**"]
      exclude: ["%(root)s/cli/**"]
      calls: ["%(call)s"]
      message: Log through the logger instead of writing to stdout.
"""
PREFER = """
patterns:
  prefer:
    - id: http-client
      use: "%(use)s"
      instead_of: ["%(avoid)s"]
      exclude: ["%(root)s/http/**"]
      message: It adds retries and tracing.
"""

# language → (root, base files, {rule kind: (change that breaks it, near miss)}), and rule values
PY = {
    "shop/api/views.py": "from shop.domain import order\n\n\ndef view():\n    return order.total()\n",
    "shop/domain/order.py": "def total():\n    return 1\n",
    "shop/domain/pricing.py": "RATE = 2\n",
    "shop/http/client.py": "import requests\n",
    "shop/cli/main.py": "def main():\n    pass\n",
}
TS = {
    "web/api/routes.ts": "import { total } from '../domain/order';\nexport const r = total;\n",
    "web/domain/order.ts": "export const total = () => 1;\n",
    "web/domain/pricing.ts": "export const RATE = 2;\n",
    "web/http/client.ts": "import axios from 'axios';\nexport const get = axios.get;\n",
    "web/cli/main.ts": "export function main() {}\n",
}
GO = {
    "go.mod": "module example.com/shop\n\ngo 1.22\n",
    "svc/api/handler.go": 'package api\n\nimport "example.com/shop/svc/domain"\n\nvar T = domain.Total\n',
    "svc/domain/order.go": "package domain\n\nfunc Total() int { return 1 }\n",
    "svc/domain/pricing/rate.go": "package pricing\n\nconst Rate = 2\n",
    "svc/http/client.go": 'package http\n\nimport "net/http"\n\nvar Get = http.Get\n',
    "svc/cli/main.go": "package cli\n\nfunc Main() {}\n",
}
J = "src/main/java/com/shop"
JAVA = {
    f"{J}/api/OrderController.java": "package com.shop.api;\n\nimport com.shop.domain.Order;\n\npublic class OrderController {}\n",
    f"{J}/domain/Order.java": "package com.shop.domain;\n\npublic class Order {\n}\n",
    f"{J}/domain/Pricing.java": "package com.shop.domain;\n\npublic class Pricing {}\n",
    f"{J}/http/Client.java": "package com.shop.http;\n\nimport java.net.http.HttpClient;\n\npublic class Client {}\n",
    f"{J}/cli/Main.java": "package com.shop.cli;\n\npublic class Main {\n}\n",
}

CASES = [
    # (id, config, base, change, expected (rule, path, line) of patterns findings)
    pytest.param(
        LAYERS % {"root": "shop"},
        PY,
        {"shop/domain/order.py": "from shop.api import views\n\n\ndef total():\n    return 1\n"},
        [("layer", "shop/domain/order.py", 1)],
        id="python-layer",
    ),
    pytest.param(
        LAYERS % {"root": "shop"},
        PY,
        {"shop/api/views.py": PY["shop/api/views.py"] + "from shop.domain import pricing\n"},
        [],
        id="python-layer-near-miss",
    ),
    pytest.param(
        FORBID % {"root": "shop", "call": "print"},
        PY,
        {"shop/domain/order.py": "def total():\n    print('total')\n    return 1\n"},
        [("no-stdout", "shop/domain/order.py", 2)],
        id="python-forbid",
    ),
    pytest.param(
        FORBID % {"root": "shop", "call": "print"},
        PY,
        {
            "shop/cli/main.py": "def main():\n    print('usage')\n",
            "shop/domain/order.py": "def total():\n    log.print_total()\n    return 1\n",
        },
        [],
        id="python-forbid-near-miss",
    ),
    pytest.param(
        PREFER % {"root": "shop", "use": "shop.http.client", "avoid": "requests"},
        PY,
        {"shop/domain/order.py": "import requests.adapters\n\n\ndef total():\n    return 1\n"},
        [("http-client", "shop/domain/order.py", 1)],
        id="python-prefer",
    ),
    pytest.param(
        PREFER % {"root": "shop", "use": "shop.http.client", "avoid": "requests"},
        PY,
        {
            "shop/http/client.py": "import requests\nimport requests.adapters\n",
            "shop/domain/order.py": "import requests_cache\n\n\ndef total():\n    return 1\n",
        },
        [],
        id="python-prefer-near-miss",
    ),
    pytest.param(
        LAYERS % {"root": "web"},
        TS,
        {
            "web/domain/order.ts": "import { r } from '../api/routes';\nexport const total = () => 1;\n"
        },
        [("layer", "web/domain/order.ts", 1)],
        id="typescript-layer",
    ),
    pytest.param(
        LAYERS % {"root": "web"},
        TS,
        {
            "web/api/routes.ts": TS["web/api/routes.ts"]
            + "import { RATE } from '../domain/pricing';\n"
        },
        [],
        id="typescript-layer-near-miss",
    ),
    pytest.param(
        FORBID % {"root": "web", "call": "console.*"},
        TS,
        {"web/domain/order.ts": "export const total = () => { console.log('t'); return 1; };\n"},
        [("no-stdout", "web/domain/order.ts", 1)],
        id="typescript-forbid",
    ),
    pytest.param(
        FORBID % {"root": "web", "call": "console.*"},
        TS,
        {
            "web/cli/main.ts": "export function main() { console.log('usage'); }\n",
            "web/domain/order.ts": "export const total = () => { logger.console(); return 1; };\n",
        },
        [],
        id="typescript-forbid-near-miss",
    ),
    pytest.param(
        PREFER % {"root": "web", "use": "web/http/client", "avoid": "axios"},
        TS,
        {"web/domain/order.ts": "import axios from 'axios';\nexport const total = () => 1;\n"},
        [("http-client", "web/domain/order.ts", 1)],
        id="typescript-prefer",
    ),
    pytest.param(
        PREFER % {"root": "web", "use": "web/http/client", "avoid": "axios"},
        TS,
        {
            "web/http/client.ts": "import axios from 'axios';\nexport const get = axios.get;\nexport const post = axios.post;\n"
        },
        [],
        id="typescript-prefer-near-miss",
    ),
    pytest.param(
        LAYERS % {"root": "svc"},
        GO,
        {
            "svc/domain/order.go": 'package domain\n\nimport "example.com/shop/svc/api"\n\nvar H = api.T\n\nfunc Total() int { return 1 }\n'
        },
        [("layer", "svc/domain/order.go", 3)],
        id="go-layer",
    ),
    pytest.param(
        LAYERS % {"root": "svc"},
        GO,
        {
            "svc/domain/order.go": 'package domain\n\nimport "example.com/shop/svc/domain/pricing"\n\nfunc Total() int { return pricing.Rate }\n'
        },
        [],
        id="go-layer-near-miss",
    ),
    pytest.param(
        FORBID % {"root": "svc", "call": "fmt.Print*"},
        GO,
        {
            "svc/domain/order.go": 'package domain\n\nimport "fmt"\n\nfunc Total() int {\n\tfmt.Println("t")\n\treturn 1\n}\n'
        },
        [("no-stdout", "svc/domain/order.go", 6)],
        id="go-forbid",
    ),
    pytest.param(
        FORBID % {"root": "svc", "call": "fmt.Print*"},
        GO,
        {
            "svc/domain/order.go": 'package domain\n\nimport "fmt"\n\nfunc Total() string { return fmt.Sprint(1) }\n'
        },
        [],
        id="go-forbid-near-miss",
    ),
    pytest.param(
        PREFER % {"root": "svc", "use": "example.com/shop/svc/http", "avoid": "net/http"},
        GO,
        {
            "svc/domain/order.go": 'package domain\n\nimport "net/http"\n\nvar G = http.Get\n\nfunc Total() int { return 1 }\n'
        },
        [("http-client", "svc/domain/order.go", 3)],
        id="go-prefer",
    ),
    pytest.param(
        PREFER % {"root": "svc", "use": "example.com/shop/svc/http", "avoid": "net/http"},
        GO,
        {
            "svc/domain/order.go": 'package domain\n\nimport "net/netip"\n\nvar A = netip.Addr{}\n\nfunc Total() int { return 1 }\n'
        },
        [],
        id="go-prefer-near-miss",
    ),
    pytest.param(
        LAYERS % {"root": J},
        JAVA,
        {
            f"{J}/domain/Order.java": "package com.shop.domain;\n\nimport com.shop.api.OrderController;\n\npublic class Order {\n}\n"
        },
        [("layer", f"{J}/domain/Order.java", 3)],
        id="java-layer",
    ),
    pytest.param(
        LAYERS % {"root": J},
        JAVA,
        {
            f"{J}/domain/Order.java": "package com.shop.domain;\n\nimport com.shop.domain.Pricing;\n\npublic class Order {\n}\n"
        },
        [],
        id="java-layer-near-miss",
    ),
    pytest.param(
        FORBID % {"root": J, "call": "System.out.print*"},
        JAVA,
        {
            f"{J}/domain/Order.java": "package com.shop.domain;\n\npublic class Order {\n  void log() { System.out.println(1); }\n}\n"
        },
        [("no-stdout", f"{J}/domain/Order.java", 4)],
        id="java-forbid",
    ),
    pytest.param(
        FORBID % {"root": J, "call": "System.out.print*"},
        JAVA,
        {
            f"{J}/cli/Main.java": "package com.shop.cli;\n\npublic class Main {\n  void run() { System.out.println(1); }\n}\n"
        },
        [],
        id="java-forbid-near-miss",
    ),
    pytest.param(
        PREFER % {"root": J, "use": "com.shop.http.Client", "avoid": "java.net.http"},
        JAVA,
        {
            f"{J}/domain/Order.java": "package com.shop.domain;\n\nimport java.net.http.HttpClient;\n\npublic class Order {\n}\n"
        },
        [("http-client", f"{J}/domain/Order.java", 3)],
        id="java-prefer",
    ),
    pytest.param(
        PREFER % {"root": J, "use": "com.shop.http.Client", "avoid": "java.net.http"},
        JAVA,
        {
            f"{J}/domain/Order.java": "package com.shop.domain;\n\nimport java.net.URI;\n\npublic class Order {\n}\n"
        },
        [],
        id="java-prefer-near-miss",
    ),
]


@pytest.mark.parametrize(("config", "base", "change", "expected"), CASES)
async def test_configured_rules(
    store: Store,
    repo: GitRepoBuilder,
    config: str,
    base: dict[str, str],
    change: dict[str, str],
    expected: list[tuple[str, str, int]],
) -> None:
    repo.write({**base, ".cairn.yml": config})
    repo.commit("base")
    repo.branch("feature")
    repo.write(change)
    repo.commit("change")
    git = GitRepo(repo.root)
    row = await store.repository(f"local:{repo.root}")
    result = await review(
        store,
        row,
        LocalSource(git),
        git.resolve("main"),
        git.resolve("HEAD"),
        parse_config(config),
    )
    found = [(f.rule, f.path, f.start_line) for f in result.findings if f.check == "patterns"]
    assert found == expected
    for finding in result.findings:
        if finding.check == "patterns":
            assert finding.message.endswith(".")
            assert any(e.path == ".cairn.yml" for e in finding.evidence)
        if finding.rule == "layer":
            assert "domain layer may not import the api layer" in finding.message
            assert any(e.note == "layers, highest first: api > domain" for e in finding.evidence)
