"""The decisions benchmark: ADRs and changes, violating or not, reviewed by Cairn end to end.

Each case is a real git repository built here: a base commit with a decision log (Nygard,
MADR or log4brains records written for the case, in the formats teams use) and some code, then
a ``feature`` branch with the change. ``cairn``'s review pipeline (index, diff, checks, on the
embedded Postgres) runs on it in-process, and the decisions check's findings on ADR rules
(``adr-NNNN``) are compared with what the case expects, as (file, rule) pairs:

* true positive: an expected (file, rule) reported; false positive: reported, not expected;
  false negative: expected, not reported. Log hygiene findings are not counted (they have
  their own tests).
* a finding is *explicit* when its rule comes from a ``cairn:`` block (severity error) and
  *derived* when it comes from the decision's prose (warning).

The cases cover Python, TypeScript and Go (and CI files and manifests): planted violations,
near-misses that must not be flagged (a similar package name, a mention in a comment or a
README, a path outside the rule's scope, another language), superseded, proposed and rejected
records, prose-derived and explicit constraints, manifest dependencies and CI commands.

Usage (~1 minute)::

    python bench/decisions.py                 # run, write bench/.work/decisions.json
    python bench/decisions.py --report-only   # rewrite the RESULTS.md section from the JSON

The section between the ``decisions`` markers of ``bench/RESULTS.md`` is this script's;
``run.py`` keeps it when it rewrites the file.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))

from app.git import GitRepo  # noqa: E402
from app.review import review  # noqa: E402
from app.settings import Settings  # noqa: E402
from app.source import LocalSource  # noqa: E402
from app.store import Store, database  # noqa: E402
from bench.gitrepo import commit_all, git, init  # noqa: E402
from checks.config import CairnConfig  # noqa: E402
from checks.finding import Severity  # noqa: E402

WORK = BENCH / ".work"
FIGURES = WORK / "decisions.json"
RESULTS = BENCH / "RESULTS.md"
BEGIN, END = "<!-- decisions:begin -->", "<!-- decisions:end -->"

# ---------------------------------------------------------------------------------------------
# The decision records


def nygard(number: int, title: str, date: str, status: str, context: str, decision: str) -> str:
    return (
        f"# {number}. {title}\n\nDate: {date}\n\n## Status\n\n{status}\n\n## Context\n\n"
        f"{context}\n\n## Decision\n\n{decision}\n\n## Consequences\n\n"
        "Reviews check new code against this decision.\n"
    )


def madr(
    title: str, date: str, status: str, context: str, options: Sequence[str], chosen: str, why: str
) -> str:
    listed = "\n".join(f"* {o}" for o in options)
    return (
        f"---\nstatus: {status}\ndate: {date}\ndeciders: [platform team]\n---\n# {title}\n\n"
        f"## Context and Problem Statement\n\n{context}\n\n## Considered Options\n\n{listed}\n\n"
        f'## Decision Outcome\n\nChosen option: "{chosen}", because {why}\n'
    )


ADRS: dict[str, tuple[str, str]] = {
    # --- Python
    "httpx": (
        "docs/adr/0001-use-httpx.md",
        nygard(
            1,
            "Use httpx as the HTTP client",
            "2021-03-04",
            "Accepted",
            "Our services call each other over HTTP with three different clients, two of them "
            "without timeouts by default, and we want async calls in the API workers.",
            "Use `httpx` instead of `requests` for every outgoing HTTP call. Timeouts are set "
            "on the shared client in `shop/http.py`.",
        ),
    ),
    "no-six": (
        "docs/adr/0002-python3-only.md",
        nygard(
            2,
            "Python 3 only",
            "2020-01-15",
            "Accepted",
            "Python 2 reached its end of life; the compatibility layer costs us in every module.",
            "We support Python 3.11 and later. We will remove `six` from the code base and new "
            "code does not use it.",
        ),
    ),
    "pickle": (
        "docs/adr/0003-no-pickle.md",
        "# 3. No pickle for data at rest\n\nDate: 2022-06-01\n\n## Status\n\nAccepted\n\n"
        "## Context\n\nA pickled job payload from the queue ran code on a worker during the "
        "2022-05 incident.\n\n## Decision\n\nData that leaves a process is JSON.\n\n"
        '```cairn\nscope: ["shop/**"]\nforbid:\n'
        '  - {import: pickle, message: "pickle runs code on load; serialise to JSON."}\n'
        "```\n",
    ),
    "os-system": (
        "docs/adr/0004-processes.md",
        "# 4. Start processes without a shell\n\nDate: 2023-02-02\n\n## Status\n\nAccepted\n\n"
        "## Context\n\nShell strings built from user input are injection bugs waiting.\n\n"
        "## Decision\n\nWe start processes with `subprocess.run` and an argument list.\n\n"
        "```cairn\nforbid:\n"
        "  - query: '(call function: (attribute object: (identifier) @o attribute: "
        '(identifier) @a) (#eq? @o "os") (#eq? @a "system"))\'\n'
        "    language: python\n"
        '    message: "os.system runs a shell; use subprocess.run with a list."\n```\n',
    ),
    "celery-old": (
        "docs/adr/0005-background-jobs.md",
        nygard(
            5,
            "Background jobs with Celery",
            "2019-04-01",
            "Superseded by [6. Use RQ](0006-use-rq.md)",
            "We need background jobs for e-mails and exports.",
            "Use `celery` rather than `rq` for background jobs.",
        ),
    ),
    "rq": (
        "docs/adr/0006-use-rq.md",
        nygard(
            6,
            "Use RQ for background jobs",
            "2023-09-12",
            "Accepted\n\nSupersedes [5. Background jobs with Celery](0005-background-jobs.md)",
            "Celery's broker setup and its canvas cost us more than the jobs we run.",
            "Use `rq` instead of `celery` for background jobs.",
        ),
    ),
    "uv": (
        "docs/adr/0007-python-packaging.md",
        madr(
            "Python packaging and lock files",
            "2024-03-01",
            "accepted",
            "Three tools manage dependencies across our services.",
            ["`poetry`", "`pipenv`", "`uv`"],
            "`uv`",
            "it is fast and reads standard pyproject metadata.",
        ),
    ),
    "structlog": (
        "docs/adr/0008-logging.md",
        nygard(
            8,
            "Structured logs",
            "2024-04-04",
            "Accepted",
            "Our log lines cannot be queried; each service formats them differently.",
            "Services log with `structlog` rather than the standard logging module, with the "
            "processors configured in `shop/logs.py`.",
        ),
    ),
    "postgres": (
        "docs/adr/0009-use-postgresql-instead-of-mysql.md",
        nygard(
            9,
            "Use PostgreSQL instead of MySQL",
            "2018-10-10",
            "Accepted",
            "We run two database engines for historical reasons.",
            "All new services store their data in PostgreSQL; the MySQL instances are migrated "
            "by the end of the year.",
        ),
    ),
    # --- prose that names things in passing (any language)
    "testing": (
        "docs/adr/0030-testing-strategy.md",
        nygard(
            30,
            "Testing strategy",
            "2023-03-03",
            "Accepted",
            "Mocks of the database hid two migrations that broke production.",
            "Avoid test doubles for the database: run Postgres in tests. Avoid global state; "
            "pass dependencies explicitly.",
        ),
    ),
    "containers": (
        "docs/adr/0031-containers.md",
        nygard(
            31,
            "Container images",
            "2023-04-04",
            "Accepted",
            "Images ran as root and production used a compose file nobody reviewed.",
            "Never use sudo in Dockerfiles. Do not use docker compose in production; "
            "deployments go through the Helm charts.",
        ),
    ),
    "make": (
        "docs/adr/0032-task-runner.md",
        nygard(
            32,
            "One task runner",
            "2024-01-20",
            "Accepted",
            "CI jobs call make, npm scripts and shell scripts for the same steps.",
            "Avoid make in CI; use the task runner (`task`) so local and CI steps match.",
        ),
    ),
    # --- TypeScript
    "ky": (
        "docs/adr/0010-frontend-http.md",
        madr(
            "HTTP client for the web app",
            "2022-11-20",
            "accepted",
            "The web app fetches from three APIs; we want one client with retries.",
            ["axios", "ky", "superagent"],
            "ky",
            "it is small, typed and built on fetch.",
        ),
    ),
    "date-fns": (
        "docs/adr/0011-dates.md",
        nygard(
            11,
            "Dates in the web app",
            "2021-08-09",
            "Accepted",
            "`moment` is in maintenance mode and weighs 70 kB in our bundle.",
            "Prefer `date-fns` over `moment` for date arithmetic and formatting.",
        ),
    ),
    "moment-explicit": (
        "docs/adr/0012-no-moment.md",
        '---\nstatus: accepted\ndate: 2022-01-05\ncairn:\n  scope: ["web/**", "package.json"]\n'
        '  prefer:\n    - {use: date-fns, instead_of: moment, message: "moment is legacy."}\n'
        "---\n# Drop moment from the bundle\n\n## Context and Problem Statement\n\n"
        "Bundle size.\n\n## Decision Outcome\n\nChosen option: date-fns.\n",
    ),
    "console": (
        "docs/adr/0013-logging-web.md",
        "# 13. Log through the telemetry client\n\nDate: 2023-05-05\n\n## Status\n\nAccepted\n\n"
        "## Context\n\nConsole output is lost in production.\n\n## Decision\n\n"
        "Code under `web/src` logs through `web/src/telemetry.ts`.\n\n"
        '```cairn\nscope: ["web/src/**"]\nforbid:\n'
        "  - {regex: '\\bconsole\\.log\\(', language: typescript, message: \"Use telemetry.\"}\n"
        "```\n",
    ),
    "npm": (
        "docs/adr/0014-package-manager.md",
        nygard(
            14,
            "Use npm instead of yarn",
            "2020-05-26",
            "Accepted",
            "Two package managers left two lock files that disagreed.",
            "Use npm instead of yarn for every package and in CI.",
        ),
    ),
    "lodash-proposed": (
        "docs/adr/0015-no-lodash.md",
        nygard(
            15,
            "Drop lodash",
            "2024-06-01",
            "Proposed",
            "Most lodash helpers have native equivalents now.",
            "Do not use `lodash` in new code.",
        ),
    ),
    "graphql-rejected": (
        "docs/adr/0016-graphql.md",
        nygard(
            16,
            "Move the API to GraphQL",
            "2023-01-10",
            "Rejected",
            "Clients ask for fewer round trips.",
            "Use `graphql` instead of `express` for the public API.",
        ),
    ),
    # --- Go
    "slog": (
        "docs/adr/0020-structured-logging.md",
        nygard(
            20,
            "Structured logging with log/slog",
            "2023-08-15",
            "Accepted",
            "Go 1.21 ships structured logging; we carry two third-party loggers.",
            "Use `log/slog` instead of `logrus` in every service. Avoid `zap` in new code.",
        ),
    ),
    "errors": (
        "doc/adr/0021-errors.md",
        "# 21. Wrap errors with the standard library\n\n- Status: accepted\n"
        "- Date: 2022-02-02\n- Deciders: backend\n\n## Context and Problem Statement\n\n"
        "Go 1.13 added wrapping.\n\n## Decision Outcome\n\n"
        "Replace `github.com/pkg/errors` with `errors` and `fmt.Errorf`.\n",
    ),
    "no-panic": (
        "docs/adr/0022-no-panic.md",
        "# 22. No panics in library code\n\nDate: 2021-12-12\n\n## Status\n\nAccepted\n\n"
        "## Context\n\nA panic in a handler took down the gateway.\n\n## Decision\n\n"
        'Library code returns errors.\n\n```cairn\nscope: ["internal/**"]\nforbid:\n'
        '  - {call: panic, language: go, message: "Return an error instead."}\n```\n',
    ),
    "gorm": (
        "docs/adr/0023-sql.md",
        madr(
            "Database access in Go services",
            "2022-07-07",
            "accepted",
            "We want plain SQL with generated, typed code.",
            ["gorm", "sqlc", "ent"],
            "sqlc",
            "queries stay SQL and are checked at build time.",
        ),
    ),
}

# ---------------------------------------------------------------------------------------------
# The cases

PY_BASE = {"shop/__init__.py": "", "shop/http.py": "import httpx\n\nclient = httpx.Client()\n"}
TS_BASE = {
    "package.json": '{\n  "name": "web",\n  "scripts": {\n    "build": "tsc"\n  },\n'
    '  "dependencies": {\n    "ky": "^1.0.0"\n  }\n}\n',
    "web/src/index.ts": "export const version = 1;\n",
}
GO_BASE = {
    "go.mod": "module example.com/shop\n\ngo 1.22\n\nrequire (\n"
    "\tgithub.com/google/uuid v1.6.0\n)\n",
    "internal/orders/orders.go": "package orders\n\nfunc Total(a, b int) int {\n"
    "\treturn a + b\n}\n",
}


@dataclass(frozen=True, slots=True)
class Case:
    id: str
    language: str
    adrs: tuple[str, ...]
    change: dict[str, str]
    expected: tuple[tuple[str, str, str], ...] = ()  # (file, rule, "derived" | "explicit")
    base: dict[str, str] = field(default_factory=dict)
    note: str = ""


def _req(extra: str) -> str:
    return "httpx==0.27.0\n" + extra


CASES: tuple[Case, ...] = (
    # ---- Python
    Case(
        "py-import-requests",
        "python",
        ("httpx",),
        {"shop/client.py": "import requests\n\n\ndef get(url):\n    return requests.get(url)\n"},
        (("shop/client.py", "adr-0001", "derived"),),
        note="planted import",
    ),
    Case(
        "py-from-requests-adapters",
        "python",
        ("httpx",),
        {"shop/retry.py": "from requests.adapters import HTTPAdapter\n\nADAPTER = HTTPAdapter()\n"},
        (("shop/retry.py", "adr-0001", "derived"),),
        note="a submodule of the avoided package",
    ),
    Case(
        "py-requirements-requests",
        "python",
        ("httpx",),
        {"requirements.txt": _req("requests==2.31.0\n")},
        (("requirements.txt", "adr-0001", "derived"),),
        base={"requirements.txt": _req("")},
        note="manifest dependency",
    ),
    Case(
        "py-pyproject-requests",
        "python",
        ("httpx",),
        {
            "pyproject.toml": '[project]\nname = "shop"\ndependencies = [\n    "httpx>=0.27",\n'
            '    "requests>=2.31",\n]\n'
        },
        (("pyproject.toml", "adr-0001", "derived"),),
        base={
            "pyproject.toml": '[project]\nname = "shop"\ndependencies = [\n    "httpx>=0.27",\n]\n'
        },
        note="pyproject dependency",
    ),
    Case(
        "py-near-requests-mock",
        "python",
        ("httpx",),
        {"tests/test_client.py": "import requests_mock\n\n\ndef test_x():\n    assert True\n"},
        note="near-miss: a different package with a similar name",
    ),
    Case(
        "py-near-comment",
        "python",
        ("httpx",),
        {
            "shop/notes.py": "# We used requests here before ADR-0001; see shop/http.py.\n"
            'MESSAGE = "requests are retried three times"\n'
        },
        note="near-miss: a comment and a string",
    ),
    Case(
        "py-near-toolbelt",
        "python",
        ("httpx",),
        {"requirements.txt": _req("requests-toolbelt==1.0.0\n")},
        base={"requirements.txt": _req("")},
        note="near-miss: requests-toolbelt is not requests",
    ),
    Case(
        "py-six-removed",
        "python",
        ("no-six",),
        {"shop/compat.py": "import six\n\nstring_types = six.string_types\n"},
        (("shop/compat.py", "adr-0002", "derived"),),
        note='"we will remove Y"',
    ),
    Case(
        "py-pickle-explicit",
        "python",
        ("pickle",),
        {"shop/cache.py": "import pickle\n\n\ndef dump(x):\n    return pickle.dumps(x)\n"},
        (("shop/cache.py", "adr-0003", "explicit"),),
        note="explicit forbid import",
    ),
    Case(
        "py-pickle-out-of-scope",
        "python",
        ("pickle",),
        {"scripts/debug.py": "import pickle\n\nprint(pickle.HIGHEST_PROTOCOL)\n"},
        note="near-miss: outside the rule's scope",
    ),
    Case(
        "py-os-system-query",
        "python",
        ("os-system",),
        {"shop/run.py": "import os\n\n\ndef run(cmd):\n    return os.system(cmd)\n"},
        (("shop/run.py", "adr-0004", "explicit"),),
        note="explicit tree-sitter query",
    ),
    Case(
        "py-os-getenv-near",
        "python",
        ("os-system",),
        {"shop/env.py": "import os\n\n\ndef home():\n    return os.getenv('HOME')\n"},
        note="near-miss: another os call",
    ),
    Case(
        "py-celery-superseded",
        "python",
        ("celery-old", "rq"),
        {"shop/jobs.py": "import celery\n\napp = celery.Celery('shop')\n"},
        (("shop/jobs.py", "adr-0006", "derived"),),
        note="the superseding record binds",
    ),
    Case(
        "py-rq-superseded-not-binding",
        "python",
        ("celery-old", "rq"),
        {"shop/jobs.py": "from rq import Queue\n\nqueue = Queue()\n"},
        note="the superseded record does not bind",
    ),
    Case(
        "py-poetry-ci",
        "python",
        ("uv",),
        {
            ".github/workflows/ci.yml": "name: ci\non: [push]\njobs:\n  test:\n"
            "    runs-on: ubuntu-latest\n    steps:\n      - run: poetry install\n"
            "      - run: poetry run pytest\n"
        },
        ((".github/workflows/ci.yml", "adr-0007", "derived"),),
        note="a MADR's rejected option as a CI command",
    ),
    Case(
        "py-uv-ci-near",
        "python",
        ("uv",),
        {
            ".github/workflows/ci.yml": "name: ci\non: [push]\njobs:\n  test:\n"
            "    runs-on: ubuntu-latest\n    steps:\n      - run: uv sync\n"
            "      - run: uv run pytest  # was: poetry run pytest\n"
        },
        note="near-miss: the chosen tool, the rejected one in a comment",
    ),
    Case(
        "py-own-requests-module-near",
        "python",
        ("httpx",),
        {"shop/api.py": "from shop.requests import parse\n\n\nPARSE = parse\n"},
        note="near-miss: the repository's own module named requests",
    ),
    Case(
        "py-structlog-vs-logging",
        "python",
        ("structlog",),
        {"shop/orders.py": "import logging\n\nlog = logging.getLogger(__name__)\n"},
        (("shop/orders.py", "adr-0008", "derived"),),
        note='"X rather than the standard Y module" (prose a rule does not read)',
    ),
    Case(
        "py-mysql-from-title",
        "python",
        ("postgres",),
        {"shop/db.py": "import mysql.connector\n\nconn = mysql.connector.connect()\n"},
        (("shop/db.py", "adr-0009", "derived"),),
        note="derived from the title only",
    ),
    # ---- TypeScript
    Case(
        "ts-superagent-local-near",
        "typescript",
        ("ky",),
        {"web/src/upload.ts": "import { put } from './superagent';\n\nexport { put };\n"},
        note="near-miss: a local module named like a rejected option",
    ),
    Case(
        "ts-axios-import",
        "typescript",
        ("ky",),
        {"web/src/api.ts": "import axios from 'axios';\n\nexport const api = axios.create();\n"},
        (("web/src/api.ts", "adr-0010", "derived"),),
        note="a MADR's rejected option as an import",
    ),
    Case(
        "ts-axios-dependency",
        "typescript",
        ("ky",),
        {
            "package.json": '{\n  "name": "web",\n  "scripts": {\n    "build": "tsc"\n  },\n'
            '  "dependencies": {\n    "axios": "^1.6.0",\n    "ky": "^1.0.0"\n  }\n}\n'
        },
        (("package.json", "adr-0010", "derived"),),
        note="package.json dependency",
    ),
    Case(
        "ts-axios-mock-near",
        "typescript",
        ("ky",),
        {
            "package.json": '{\n  "name": "web",\n  "scripts": {\n    "build": "tsc"\n  },\n'
            '  "dependencies": {\n    "ky": "^1.0.0"\n  },\n  "devDependencies": {\n'
            '    "axios-mock-adapter": "^1.22.0"\n  }\n}\n'
        },
        note="near-miss: a package with a similar name",
    ),
    Case(
        "ts-ky-near",
        "typescript",
        ("ky",),
        {"web/src/api.ts": "import ky from 'ky';\n\nexport const api = ky.create({});\n"},
        note="near-miss: the chosen option",
    ),
    Case(
        "ts-moment-derived",
        "typescript",
        ("date-fns",),
        {
            "web/src/dates.ts": "import moment from 'moment';\n\n"
            "export const now = () => moment();\n"
        },
        (("web/src/dates.ts", "adr-0011", "derived"),),
        note='"prefer X over Y"',
    ),
    Case(
        "ts-moment-locale-subpath",
        "typescript",
        ("date-fns",),
        {"web/src/fr.ts": "import 'moment/locale/fr';\n\nexport const lang = 'fr';\n"},
        (("web/src/fr.ts", "adr-0011", "derived"),),
        note="a subpath of the avoided package",
    ),
    Case(
        "ts-moment-explicit-dependency",
        "typescript",
        ("moment-explicit",),
        {
            "package.json": '{\n  "name": "web",\n  "scripts": {\n    "build": "tsc"\n  },\n'
            '  "dependencies": {\n    "ky": "^1.0.0",\n    "moment": "^2.30.1"\n  }\n}\n'
        },
        (("package.json", "adr-0012", "explicit"),),
        note="explicit prefer in front matter, manifest dependency",
    ),
    Case(
        "ts-moment-timezone-near",
        "typescript",
        ("moment-explicit",),
        {"web/src/tz.ts": "import { zone } from './moment-timezone-data';\n\nexport { zone };\n"},
        note="near-miss: a local module with a similar name",
    ),
    Case(
        "ts-console-regex",
        "typescript",
        ("console",),
        {
            "web/src/cart.ts": "export function add(n: number) {\n  console.log(n);\n"
            "  return n;\n}\n"
        },
        (("web/src/cart.ts", "adr-0013", "explicit"),),
        note="explicit regex",
    ),
    Case(
        "ts-console-outside-scope",
        "typescript",
        ("console",),
        {"web/scripts/build.ts": "console.log('building');\n"},
        note="near-miss: outside the rule's scope",
    ),
    Case(
        "ts-yarn-ci",
        "typescript",
        ("npm",),
        {
            ".github/workflows/web.yml": "name: web\non: [push]\njobs:\n  build:\n"
            "    runs-on: ubuntu-latest\n    steps:\n      - run: yarn install --frozen-lockfile\n"
        },
        ((".github/workflows/web.yml", "adr-0014", "derived"),),
        note="derived from the title, a CI command",
    ),
    Case(
        "ts-yarn-script",
        "typescript",
        ("npm",),
        {
            "package.json": '{\n  "name": "web",\n  "scripts": {\n    "build": "tsc",\n'
            '    "setup": "yarn install"\n  },\n  "dependencies": {\n    "ky": "^1.0.0"\n  }\n}\n'
        },
        (("package.json", "adr-0014", "derived"),),
        note="a package.json script",
    ),
    Case(
        "ts-yarn-readme-near",
        "typescript",
        ("npm",),
        {"README.md": "# web\n\nWe moved from yarn to npm; run `npm ci`.\n"},
        note="near-miss: prose in a README",
    ),
    Case(
        "ts-lodash-proposed",
        "typescript",
        ("lodash-proposed",),
        {"web/src/util.ts": "import { chunk } from 'lodash';\n\nexport const pairs = chunk;\n"},
        note="a proposed record does not bind",
    ),
    Case(
        "ts-express-rejected",
        "typescript",
        ("graphql-rejected",),
        {"web/src/server.ts": "import express from 'express';\n\nexport const app = express();\n"},
        note="a rejected record does not bind",
    ),
    # ---- Go
    Case(
        "go-logrus-import",
        "go",
        ("slog",),
        {
            "internal/orders/log.go": 'package orders\n\nimport "github.com/sirupsen/logrus"\n\n'
            "var log = logrus.New()\n"
        },
        (("internal/orders/log.go", "adr-0020", "derived"),),
        note="a Go module path named by its last element in the prose",
    ),
    Case(
        "go-zap-gomod",
        "go",
        ("slog",),
        {
            "go.mod": "module example.com/shop\n\ngo 1.22\n\nrequire (\n"
            "\tgithub.com/google/uuid v1.6.0\n\tgo.uber.org/zap v1.27.0\n)\n"
        },
        (("go.mod", "adr-0020", "derived"),),
        note='"avoid Y", a go.mod requirement',
    ),
    Case(
        "go-slog-near",
        "go",
        ("slog",),
        {
            "internal/orders/log.go": 'package orders\n\nimport "log/slog"\n\n'
            "var log = slog.Default()\n"
        },
        note="near-miss: the preferred package",
    ),
    Case(
        "go-zaplog-near",
        "go",
        ("slog",),
        {
            "internal/orders/log.go": 'package orders\n\nimport "github.com/acme/zaplog"\n\n'
            "var log = zaplog.New()\n"
        },
        note="near-miss: a module whose name starts like the avoided one",
    ),
    Case(
        "go-pkg-errors",
        "go",
        ("errors",),
        {
            "internal/orders/err.go": 'package orders\n\nimport "github.com/pkg/errors"\n\n'
            'var ErrEmpty = errors.New("empty")\n'
        },
        (("internal/orders/err.go", "adr-0021", "derived"),),
        note='log4brains bullets, "replace Y with X"',
    ),
    Case(
        "go-std-errors-near",
        "go",
        ("errors",),
        {
            "internal/orders/err.go": 'package orders\n\nimport "errors"\n\n'
            'var ErrEmpty = errors.New("empty")\n'
        },
        note="near-miss: the standard errors package",
    ),
    Case(
        "go-panic-explicit",
        "go",
        ("no-panic",),
        {
            "internal/orders/must.go": "package orders\n\nfunc Must(err error) {\n"
            "\tif err != nil {\n\t\tpanic(err)\n\t}\n}\n"
        },
        (("internal/orders/must.go", "adr-0022", "explicit"),),
        note="explicit call",
    ),
    Case(
        "go-panic-cmd-near",
        "go",
        ("no-panic",),
        {"cmd/shop/main.go": 'package main\n\nfunc main() {\n\tpanic("unreachable")\n}\n'},
        note="near-miss: outside the rule's scope",
    ),
    Case(
        "go-gorm-import",
        "go",
        ("gorm",),
        {"internal/store/db.go": 'package store\n\nimport "gorm.io/gorm"\n\nvar DB *gorm.DB\n'},
        (("internal/store/db.go", "adr-0023", "derived"),),
        note="a MADR's rejected option, a module path",
    ),
    Case(
        "go-sqlc-near",
        "go",
        ("gorm",),
        {
            "internal/store/queries.sql.go": "package store\n\n// Code generated by sqlc. "
            'DO NOT EDIT.\n// (not gorm)\n\nconst q = "SELECT 1"\n'
        },
        note="near-miss: generated code mentioning the rejected option",
    ),
)


CI = "name: ci\non: [push]\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n"
PROSE_CASES: tuple[Case, ...] = (
    Case(
        "ci-global-state-near",
        "typescript",
        ("testing",),
        {".github/workflows/web.yml": CI + "      - run: yarn global add typescript\n"},
        note='near-miss: "avoid global state" is no rule about a `global` argument',
    ),
    Case(
        "ci-test-doubles-near",
        "go",
        ("testing",),
        {
            "Makefile": "test:\n\tgo test ./...\n",
            ".github/workflows/ci.yml": CI + "      - run: make test\n",
        },
        note='near-miss: "avoid test doubles" is no rule about `make test`',
    ),
    Case(
        "docker-compose-near",
        "python",
        ("containers",),
        {".github/workflows/ci.yml": CI + "      - run: docker build -t shop .\n"},
        note='near-miss: "do not use docker compose in production" is no rule about docker',
    ),
    Case(
        "dockerfile-sudo",
        "python",
        ("containers",),
        {"Dockerfile": "FROM python:3.12-slim\nRUN sudo apt-get install -y curl\n"},
        (("Dockerfile", "adr-0031", "derived"),),
        note='"never use Y in …", a Dockerfile command',
    ),
    Case(
        "ci-make",
        "go",
        ("make",),
        {".github/workflows/ci.yml": CI + "      - run: make build\n"},
        ((".github/workflows/ci.yml", "adr-0032", "derived"),),
        note='"avoid Y in CI", a CI command',
    ),
    Case(
        "ci-task-near",
        "go",
        ("make",),
        {".github/workflows/ci.yml": CI + "      - run: task build  # was: make build\n"},
        note="near-miss: the chosen tool, the avoided one in a comment",
    ),
)
CASES = CASES + PROSE_CASES


# ---------------------------------------------------------------------------------------------
# Running


def _build(root: Path, case: Case) -> None:
    init(root)
    files = {**_base_of(case.language), **case.base}
    for key in case.adrs:
        path, text = ADRS[key]
        files[path] = text
    _write(root, files)
    commit_all(root, "base: the decision log and the code")
    git(root, "checkout", "--quiet", "-b", "feature")
    _write(root, case.change)
    commit_all(root, f"change: {case.id}")


def _base_of(language: str) -> dict[str, str]:
    return {"python": PY_BASE, "typescript": TS_BASE, "go": GO_BASE}[language]


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


async def _run(cases: Sequence[Case]) -> list[dict[str, object]]:
    home = WORK / "decisions-home"
    shutil.rmtree(home, ignore_errors=True)
    env = {**os.environ, "CAIRN_HOME": str(home)}
    env.pop("DATABASE_URL", None)
    settings = Settings.from_env(env)
    out: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="cairn-decisions-") as tmp:
        async with database.connect(settings) as pool:
            store = Store(pool)
            for case in cases:
                root = Path(tmp) / case.id
                _build(root, case)
                gitrepo = GitRepo(root)
                repo = await store.repository(f"local:{root}")
                started = time.perf_counter()
                result = await review(
                    store,
                    repo,
                    LocalSource(gitrepo),
                    gitrepo.resolve("main"),
                    gitrepo.resolve("feature"),
                    CairnConfig(),
                )
                seconds = time.perf_counter() - started
                got = sorted(
                    (
                        f.path,
                        f.rule,
                        "explicit" if f.severity is Severity.ERROR else "derived",
                        f.message,
                    )
                    for f in result.findings
                    if f.check == "decisions" and f.rule.startswith("adr-")
                )
                out.append(
                    {
                        "id": case.id,
                        "language": case.language,
                        "note": case.note,
                        "expected": [list(e) for e in case.expected],
                        "got": [list(g) for g in got],
                        "seconds": round(seconds, 3),
                    }
                )
                print(f"{case.id:32} expected {len(case.expected)} got {len(got)}", flush=True)
    return out


# ---------------------------------------------------------------------------------------------
# Scoring and the report


def score(rows: Sequence[dict[str, object]]) -> dict[str, dict[str, int]]:
    """TP/FP/FN over (file, rule) pairs: overall, by origin (derived/explicit), by language."""
    tally: dict[str, Counter[str]] = {}

    def add(group: str, outcome: str) -> None:
        tally.setdefault(group, Counter())[outcome] += 1

    for row in rows:
        expected = {(e[0], e[1]): e[2] for e in row["expected"]}  # type: ignore[attr-defined]
        got = {(g[0], g[1]): g[2] for g in row["got"]}  # type: ignore[attr-defined]
        for key in expected.keys() | got.keys():
            outcome = "tp" if key in expected and key in got else "fn" if key in expected else "fp"
            origin = got.get(key) or expected[key]
            for group in ("overall", origin, str(row["language"])):
                add(group, outcome)
    return {g: {k: c[k] for k in ("tp", "fp", "fn")} for g, c in tally.items()}


def _pairs(row: dict[str, object], key: str) -> set[tuple[str, str]]:
    return {(p[0], p[1]) for p in row[key]}  # type: ignore[attr-defined]


def _ratio(a: int, b: int) -> str:
    return f"{a / b:.2f}" if b else "–"


def section(doc: dict[str, object]) -> str:
    rows: list[dict[str, object]] = doc["cases"]  # type: ignore[assignment]
    scores = score(rows)
    languages = Counter(str(r["language"]) for r in rows)
    flagged = sum(1 for r in rows if r["expected"])
    lines = [
        BEGIN,
        "## Decisions",
        "",
        f"`{doc['command']}` on {doc['when']} ({doc['machine']}): {len(rows)} cases "
        f"({flagged} with a planted violation, {len(rows) - flagged} that must stay clean; "
        + ", ".join(f"{n} {lang}" for lang, n in sorted(languages.items()))
        + "), each a git repository reviewed end to end (index, diff, checks) on the embedded "
        f"Postgres in {doc['seconds']:.1f} s in all. Scored on (file, ADR rule) pairs; a "
        "finding from a `cairn:` block is explicit, one from the decision's prose derived.",
        "",
        "| group | TP | FP | FN | precision | recall |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    order = ["overall", "derived", "explicit", *sorted(languages)]
    for group in order:
        s = scores.get(group, {"tp": 0, "fp": 0, "fn": 0})
        lines.append(
            f"| {group} | {s['tp']} | {s['fp']} | {s['fn']} | "
            f"{_ratio(s['tp'], s['tp'] + s['fp'])} | {_ratio(s['tp'], s['tp'] + s['fn'])} |"
        )
    lines += ["", "| case | language | expected | reported | outcome | what it tests |"]
    lines += ["| --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        expected, got = _pairs(r, "expected"), _pairs(r, "got")
        outcome = "ok" if expected == got else "FP" if got - expected else "FN"
        if got - expected and expected - got:
            outcome = "FP+FN"
        shown = lambda pairs: ", ".join(f"`{p}` {rule}" for p, rule in sorted(pairs)) or "–"  # noqa: E731
        lines.append(
            f"| {r['id']} | {r['language']} | {shown(expected)} | {shown(got)} | {outcome} | "
            f"{r['note']} |"
        )
    derived = scores.get("derived", {"tp": 0, "fp": 0, "fn": 0})
    precision = derived["tp"] / (derived["tp"] + derived["fp"]) if derived["tp"] else 0.0
    verdict = (
        f"Derived-constraint precision is {precision:.2f}, at or above the 0.9 target."
        if precision >= 0.9
        else f"Derived-constraint precision is {precision:.2f}, below the 0.9 target: see the "
        "FP rows above."
    )
    wrong = [r for r in rows if _pairs(r, "expected") != _pairs(r, "got")]
    if wrong:
        lines += ["", "Cases not right: " + "; ".join(f"{r['id']} ({r['note']})" for r in wrong)]
    lines += [
        "",
        verdict + " The cases were written together with the matcher, so they show what it handles"
        " and where it stops, not how it fares on a log it has never seen.",
        END,
    ]
    return "\n".join(lines) + "\n"


def write_section(text: str) -> None:
    """Replace the decisions block of RESULTS.md (or append it), leaving the rest as it is."""
    old = RESULTS.read_text() if RESULTS.exists() else ""
    begin, end = old.find(BEGIN), old.find(END)
    if begin != -1 and end != -1:
        new = old[:begin] + text.rstrip("\n") + old[end + len(END) :]
    else:
        new = (old.rstrip("\n") + "\n\n" if old else "") + text
    RESULTS.write_text(new if new.endswith("\n") else new + "\n")
    print(f"wrote the decisions section of bench/{RESULTS.name}")


def _machine() -> str:
    cpu = os.cpu_count() or 0
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    return f"{cpu} cores, load average {load:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report-only", action="store_true", help="rewrite RESULTS.md only")
    parser.add_argument("--case", nargs="*", help="only these cases (not written to RESULTS.md)")
    args = parser.parse_args()
    if not args.report_only:
        cases = [c for c in CASES if not args.case or c.id in args.case]
        started = time.perf_counter()
        rows = asyncio.run(_run(cases))
        doc = {
            "command": "python bench/decisions.py",
            "when": time.strftime("%Y-%m-%d", time.gmtime()),
            "machine": _machine(),
            "seconds": time.perf_counter() - started,
            "cases": rows,
        }
        for group, s in sorted(score(rows).items()):
            print(f"{group:12} tp {s['tp']:3} fp {s['fp']:3} fn {s['fn']:3}")
        if args.case:
            return
        WORK.mkdir(parents=True, exist_ok=True)
        FIGURES.write_text(json.dumps(doc, indent=2) + "\n")
    doc = json.loads(FIGURES.read_text())
    write_section(section(doc))


if __name__ == "__main__":
    main()
