"""Decisions read from prose, one phrasing class at a time: a change that contradicts the
record is flagged, a near miss is not. The records are small and in our own words."""

from __future__ import annotations

import pytest

from analyzers.adr import AddedFile, Adr, DecisionInputs, build_log, is_adr_path, parse_adr
from analyzers.adr_text import underlined_headings
from checks.config import CairnConfig
from checks.context import Change, CheckContext
from checks.decisions import DecisionsCheck
from checks.finding import Finding


class NoIndex:
    def candidates(self, unit: object) -> tuple[()]:
        return ()


def nygard(title: str, decision: str, *, context: str = "", status: str = "Accepted") -> bytes:
    return (
        f"# 7. {title}\n\nDate: 2024-01-01\n\n## Status\n\n{status}\n\n## Context\n\n"
        f"{context or 'We need to settle this.'}\n\n## Decision\n\n{decision}\n\n"
        "## Consequences\n\nReviews check new code against this.\n"
    ).encode()


def record(text: bytes, path: str = "docs/adr/0007-a-decision.md") -> Adr:
    return parse_adr(path, text)


def findings(records: list[Adr], path: str, added: str, text: str = "") -> list[Finding]:
    lines = tuple(enumerate(added.split("\n"), start=1))
    inputs = DecisionInputs(
        log=build_log(records), added=(AddedFile(path, lines, text or added, new=True),)
    )
    ctx = CheckContext(index=NoIndex(), config=CairnConfig(), decisions=inputs)  # type: ignore[arg-type]
    return [f for f in DecisionsCheck().run(Change(base_sha="b", head_sha="h"), ctx)]


def flagged(adr: Adr, path: str, added: str, text: str = "") -> bool:
    return any(f.rule.startswith("adr") for f in findings([adr], path, added, text))


def package_json(*deps: str) -> str:
    listed = ",\n".join(f'    "{d}": "^1.0.0"' for d in deps)
    return '{\n  "name": "web",\n  "dependencies": {\n' + listed + "\n  }\n}\n"


# (record, (path, added text) flagged, (path, added text) near miss)
CASES = [
    pytest.param(
        nygard("Use pnpm workspaces instead of Nx", "One workspace file lists the packages."),
        ("nx.json", '{"npmScope": "shop"}'),
        ("pnpm-workspace.yaml", "packages:\n  - 'apps/*'"),
        id="title-instead-of",
    ),
    pytest.param(
        nygard("Tailwind CSS (No CSS-in-JS)", "Components are styled with utility classes."),
        ("package.json", package_json("styled-components")),
        ("package.json", package_json("tailwindcss")),
        id="title-no-category",
    ),
    pytest.param(
        nygard("Why Playwright instead of Cypress?", "End-to-end tests run in three browsers."),
        ("package.json", package_json("cypress")),
        ("package.json", package_json("@playwright/test")),
        id="title-why-question",
    ),
    pytest.param(
        nygard("Move from Travis CI to GitHub Actions", "Builds run where the code is."),
        (".travis.yml", "language: python\nscript: make test"),
        (".github/workflows/ci.yml", "on: [push]\njobs:\n  t:\n    runs-on: ubuntu-latest"),
        id="title-move-from-to",
    ),
    pytest.param(
        nygard("Storage", "Remove all dependencies on MongoDB for now."),
        ("requirements.txt", "pymongo==4.6.0"),
        ("requirements.txt", "psycopg==3.1.18"),
        id="imperative-remove",
    ),
    pytest.param(
        nygard(
            "Background jobs",
            "We will use Dramatiq.",
            context="We compared Celery, RQ and Dramatiq for the e-mail jobs. Celery's broker "
            "setup is more than we need.",
        ),
        ("requirements.txt", "celery==5.3.6"),
        ("requirements.txt", "dramatiq==1.16.0"),
        id="nygard-context-weighs-options",
    ),
    pytest.param(
        nygard(
            "HTTP between services",
            "I propose we use httpx.",
            context="Our services call each other with requests, which has no async client.",
        ),
        ("app/client.py", "import requests"),
        ("app/client.py", "import httpx"),
        id="propose-same-role",
    ),
    pytest.param(
        nygard("Front-end HTTP", "We're switching back from axios to fetch."),
        ("package.json", package_json("axios")),
        ("web/api.ts", "// axios is gone: we use fetch"),
        id="switching-back-from-to",
    ),
    pytest.param(
        nygard("Dates", "We will stop using\n`moment` in the web app and\nuse `date-fns` instead."),
        ("package.json", package_json("moment")),
        ("package.json", package_json("date-fns")),
        id="hard-wrapped",
    ),
    pytest.param(
        nygard("Test runner", "We prefer Vitest over Jest."),
        ("package.json", package_json("jest")),
        ("package.json", package_json("vitest")),
        id="x-over-y",
    ),
    pytest.param(
        nygard("CI", "Replace Jenkins with GitHub Actions."),
        ("Jenkinsfile", "pipeline { agent any }"),
        (".github/workflows/ci.yml", "on: [push]"),
        id="replace-with",
    ),
    pytest.param(
        nygard("Styles", "We no longer use Sass; styles are CSS modules."),
        ("package.json", package_json("sass")),
        ("package.json", package_json("postcss")),
        id="no-longer",
    ),
    pytest.param(
        nygard("Python 3 only", "The `six` package is deprecated in this code base."),
        ("requirements.txt", "six==1.16.0"),
        ("requirements.txt", "sixer==0.8"),
        id="deprecated",
    ),
    pytest.param(
        nygard("Caching", "Rather than introducing Redis, we cache in Postgres."),
        ("docker-compose.yml", "services:\n  cache:\n    image: redis:7"),
        ("docker-compose.yml", "services:\n  db:\n    image: postgres:16"),
        id="rather-than-lead-clause",
    ),
    pytest.param(
        nygard(
            "Build tooling",
            "We will not follow the kit's setup guide, which suggests using Gulp as a task "
            "runner. Instead we compile with the bundler we have.",
        ),
        ("package.json", package_json("gulp")),
        ("package.json", package_json("vite")),
        id="declined-advice",
    ),
    pytest.param(
        nygard(
            "Compliance documents",
            "We will keep the controls in spreadsheets.",
            context="The prior decision to use OSCAL with Trestle isn't practical for our team.",
        ),
        ("requirements.txt", "compliance-trestle==3.9.3"),
        ("requirements.txt", "openpyxl==3.1.2"),
        id="prior-decision-impractical",
    ),
    pytest.param(
        nygard(
            "Service calls",
            "HTTP is used between services. No message queue (RabbitMQ or otherwise) shall be "
            "used.",
        ),
        ("requirements.txt", "azure-servicebus==7.12.0"),
        ("requirements.txt", "httpx==0.27.0"),
        id="category-no-queue",
    ),
    pytest.param(
        nygard(
            "Reporting store",
            "In the context of monthly reports, facing slow queries, we decided for PostgreSQL "
            "and neglected MongoDB, to achieve joins, accepting a schema to migrate.",
        ),
        ("requirements.txt", "pymongo==4.6.0"),
        ("requirements.txt", "psycopg==3.1.18"),
        id="y-statement",
    ),
    pytest.param(
        (
            b"---\nstatus: accepted\n---\n# Message broker\n\n## Considered Options\n\n"
            b"* Kafka\n* RabbitMQ\n* Amazon SQS\n\n## Decision Outcome\n\n"
            b'Chosen option: "Amazon SQS", because we run on AWS already.\n'
        ),
        ("requirements.txt", "pika==1.3.2"),
        ("requirements.txt", "boto3==1.34.0"),
        id="madr-options",
    ),
    pytest.param(
        (
            b"# 9. Interactivity\n\n## Status\n\nApproved\n\n## Considered Options\n\n"
            b"**Option 1:** A single-page app\nRewrite the pages with React or Vue.\n\n"
            b"**Option 2:** Server pages with small scripts\nKeep the templates.\n\n"
            b"## Decision\n\nWe chose Option 2.\n"
        ),
        ("package.json", package_json("vue")),
        ("web/app.js", "// no framework: see ADR 9"),
        id="bold-option-labels",
    ),
    pytest.param(
        nygard(
            "Web analytics",
            "We will use New Relic to capture page views. This excludes services that track "
            "users in external systems, e.g. Google Analytics.",
        ),
        ("package.json", package_json("react-ga4")),
        ("package.json", package_json("newrelic")),
        id="excludes-e-g",
    ),
    pytest.param(
        nygard(
            "Dependency updates",
            "Rather than setting up Snyk on a new organisation, we enable Dependabot.",
        ),
        (".snyk", "version: v1.25.0\nignore: {}\n"),
        (".github/dependabot.yml", "version: 2\nupdates: []\n"),
        id="rather-than-setting-up",
    ),
    pytest.param(
        (
            b"# Form library\n\n## Considered Options\n\n* [Formik](https://formik.org)\n"
            b"* [React Hook Form](https://react-hook-form.com)\n* Our own pattern\n\n"
            b"## Decision Outcome\n\n* Chosen Option: Formik\n* Easy to unit test\n\n"
            b"## Pros and Cons of the Options\n\n### React Hook Form\n\n* Good, because fast\n"
        ),
        ("package.json", package_json("react-hook-form")),
        ("package.json", package_json("formik")),
        id="chosen-option-names-no-heading",
    ),
    pytest.param(
        (
            b"# ORM\n\n## Considered Alternatives\n\n* No ORM\n* [Pop](https://gobuffalo.io)\n"
            b"* [GORM](https://gorm.io)\n\n## Decision Outcome\n\n* Chosen Alternative: *Pop*\n"
            b"* Pop is one of the more mature Go ORMs\n"
        ),
        ("go.mod", "module example.com/shop\n\nrequire gorm.io/gorm v1.25.0\n"),
        ("go.mod", "module example.com/shop\n\nrequire github.com/gobuffalo/pop/v6 v6.1.1\n"),
        id="chosen-alternative",
    ),
    pytest.param(
        nygard("Delete the Helm chart", "The Helm chart in the `deploy` folder will be removed."),
        ("deploy/charts/shop/Chart.yaml", "apiVersion: v2\nname: shop\nversion: 0.1.0\n"),
        ("deploy/kustomization.yaml", "resources:\n  - shop.yaml\n"),
        id="delete-title-passive-past-a-place",
    ),
    pytest.param(
        nygard(
            "Structured logs",
            "Services log with `structlog` rather than the standard logging module, with the "
            "processors in `shop/logs.py`.",
        ),
        ("shop/orders.py", "import logging\n\nlog = logging.getLogger(__name__)\n"),
        ("shop/orders.py", "import structlog\n\nlog = structlog.get_logger()\n"),
        id="rather-than-the-standard-module",
    ),
    pytest.param(
        nygard("Remove H2", "SQL tests target a real Postgres instance instead of an embedded H2."),
        ("store/build.gradle.kts", "dependencies {\n    testImplementation(libs.h2)\n}\n"),
        ("store/build.gradle.kts", "dependencies {\n    testImplementation(libs.postgres)\n}\n"),
        id="gradle-version-catalog-accessor",
    ),
    pytest.param(
        nygard("Remove H2", "SQL tests target a real Postgres instance instead of an embedded H2."),
        ("gradle/libs.versions.toml", 'h2 = { module = "com.h2database:h2", version = "2.4" }'),
        (
            "gradle/libs.versions.toml",
            'pg = { module = "org.postgresql:postgresql", version = "42" }',
        ),
        id="gradle-version-catalog-entry",
    ),
    pytest.param(
        nygard(
            "Web analytics",
            "We will use New Relic for page views.",
            context="We must use approved systems. This excludes trackers such as Mixpanel.",
        ),
        ("package.json", package_json("mixpanel-browser")),
        ("package.json", package_json("newrelic")),
        id="context-this-excludes",
    ),
]


@pytest.mark.parametrize(("text", "bad", "near"), CASES)
def test_each_phrasing_flags_the_change_and_not_the_near_miss(
    text: bytes, bad: tuple[str, str], near: tuple[str, str]
) -> None:
    adr = record(text)
    assert adr.status == "accepted"
    assert flagged(adr, *bad), adr.mentions
    assert not flagged(adr, *near), adr.mentions


@pytest.mark.parametrize(
    "decision",
    [
        pytest.param("Ship fixes sooner rather than later.", id="sooner-rather-than-later"),
        pytest.param("Write the tests first to avoid redoing work.", id="to-avoid-redoing"),
        pytest.param("We might drop Redis if the costs rise.", id="hedge"),
        pytest.param("Avoid python scripts for deployment.", id="modifier"),
        pytest.param("We decided to go with an approach we call hexagonal lite.", id="go-with"),
        pytest.param("All APIs are exposed over HTTP.", id="exposed-over"),
        pytest.param("Use MSW to mock http requests in tests.", id="purpose-clause"),
        pytest.param("Tests keep working instead of mocking fetch directly.", id="gerund"),
    ],
)
def test_plain_words_make_no_rule(decision: str) -> None:
    adr = record(nygard("Working agreement", decision))
    assert [c.value for c in adr.constraints] == []


@pytest.mark.parametrize(
    ("status", "binds"),
    [
        ("Approved", True),
        ("Decided", True),
        ("Agreed", True),
        ("Adopted", True),
        ("~~Proposed~~ Accepted", True),
        ("Supersedes [3. Old](0003-old.md)", True),
        ("[![ADR](https://badgen.net/badge/ADR/approved/green/)](README.md)", True),
        ("![status](https://img.shields.io/badge/status-proposed-yellow)", False),
        ("Pending review", False),
        ("Proposed", False),
        ("Superceded by [9. New](0009-new.md)", False),
        ("Rejected", False),
    ],
)
def test_statuses_as_teams_write_them(status: str, binds: bool) -> None:
    adr = record(nygard("Use npm instead of yarn", "Use npm.", status=status))
    log = build_log([adr])
    assert (adr in log.binding) is binds
    assert flagged(adr, "package.json", package_json("yarn")) is binds


def test_records_without_md_and_links_written_as_full_urls() -> None:
    assert is_adr_path("doc/adr/0004-use-postgres", ["doc/adr"])
    assert is_adr_path("doc/adr/0004-use-postgres.txt", ["doc/adr"])
    assert is_adr_path("docs/decisions/0039-use-velocity-as-template-engine.md", ["docs/decisions"])
    assert not is_adr_path("docs/decisions/adr-template.md", ["docs/decisions"])
    old = record(
        nygard("Use MySQL", "Use MySQL.", status="Superseded by "
               "https://github.com/acme/shop/blob/main/doc/adr/0009-use-postgres"),
        "doc/adr/0004-use-mysql",
    )  # fmt: skip
    new = record(
        nygard("Use Postgres", "Use PostgreSQL instead of MySQL."), "doc/adr/0009-use-postgres"
    )
    log = build_log([old, new])
    assert [a.path for a in log.binding] == ["doc/adr/0009-use-postgres"]
    assert any(
        f.rule.startswith("adr") for f in findings([old, new], "requirements.txt", "pymysql")
    )


def test_front_matter_yaml_cannot_read_still_gives_title_and_status() -> None:
    adr = record(
        b"---\ntitle: ADR006: Avoid moment\nstatus: accepted\n---\n\n"
        b"## Decision\n\nAvoid `moment`.\n"
    )
    assert (adr.title, adr.status) == ("ADR006: Avoid moment", "accepted")
    assert any("broken front matter" in p for p in adr.problems)
    assert flagged(adr, "package.json", package_json("moment"))


def test_a_status_table_under_its_header() -> None:
    adr = record(
        b"| Status   | Date       | Author |\n|:--|:--|:--|\n| Accepted | 2025-01-29 | @a |\n\n"
        b"## Context\n\nKafka costs us.\n\n## Decision\n\nWe will drop Kafka.\n"
    )
    assert (adr.status, adr.date) == ("accepted", "2025-01-29")
    assert flagged(adr, "requirements.txt", "confluent-kafka==2.3.0")


def test_the_finding_points_at_the_sentence_and_every_offending_line() -> None:
    adr = record(nygard("Dates", "We will stop using\n`moment` in the web app."))
    sentence_line = next(
        i for i, line in enumerate(adr.body.split("\n"), 1) if "stop using" in line
    )
    text = package_json("moment", "moment-timezone", "date-fns")
    found = findings([adr], "package.json", text)
    assert [f.start_line for f in found] == [4, 5]  # moment and its moment-timezone add-on
    assert found[0].evidence[0].start_line == sentence_line
    twice = findings([adr], "web/a.ts", "import m from 'moment'\nimport m2 from 'moment'")
    assert [f.start_line for f in twice] == [1, 2]
    assert len({f.fingerprint for f in twice}) == 2


def test_bad_input_is_read_as_far_as_it_goes_never_a_crash() -> None:
    big = nygard("Dates", "Avoid moment.") + b"\n\nMore context about moment and yarn. " * 30_000
    assert len(big) > 1_000_000
    adr = record(big)
    assert any("read in part" in p for p in adr.problems)
    assert [c.value for c in adr.constraints] == ["moment"]
    mixed = nygard("Caf\xe9 rules", "Avoid moment.").replace(b"Caf\xc3\xa9", b"Caf\xe9 \xc3\xa9")
    adr = record(mixed)
    assert any("not UTF-8" in p for p in adr.problems) and adr.status == "accepted"
    weird = record(b"---\nstatus: [\n---\n\x00\x01# \n\n## Decision\n\n\xff\xfe use\n")
    assert weird.constraints == () and weird.problems
    many = [
        record(nygard(f"Rule {i}", f"Avoid lib{i}."), f"docs/adr/{i:04d}-r.md") for i in range(300)
    ]
    assert len(build_log(many).binding) == 300


def test_a_selected_option_that_names_no_technology() -> None:
    adr = record(
        b"# 2. Service calls\n\n- **Status**: Adopted\n\n## Options considered\n\n"
        b"### Option 1 (SELECTED) - Plain HTTP\n\nEach service calls the others.\n\n"
        b"### Option 2 - A queue\n\nServices publish to RabbitMQ.\n"
    )
    assert adr.status == "accepted" and not adr.problems
    assert flagged(adr, "requirements.txt", "pika==1.3.2")
    assert not flagged(adr, "requirements.txt", "httpx==0.27.0")


def test_an_npm_package_is_the_registry_not_a_reversal_of_the_package_manager() -> None:
    yarn = record(nygard("Use Yarn instead of npm", "Install with Yarn."), "docs/adr/0002-yarn.md")
    later = record(
        nygard("Distribute the CLI as a global npm package", "Publish `shop-cli` for all."),
        "docs/adr/0009-distribute-the-cli.md",
    )
    assert not any(m.tech == "npm" and m.stance == "chosen" for m in later.mentions)
    bad = findings([yarn, later], "package-lock.json", '{"lockfileVersion": 3}')
    assert [f.rule for f in bad] == ["adr-0002"]
    assert findings([yarn, later], "yarn.lock", "# yarn lockfile v1") == []


def rst(title: str, decision: str, *, status: str = "Accepted", alternatives: str = "") -> bytes:
    """A record as reStructuredText logs write them: underlined headings, no "#"."""
    text = (
        f"{title}\n{'=' * len(title)}\n\nStatus\n------\n\n{status}\n\nContext\n-------\n\n"
        "We need to settle this.\n\nBackground\n~~~~~~~~~~\n\nSome history.\n\n"
        f"Decision\n--------\n\n{decision}\n"
    )
    if alternatives:
        text += f"\nAlternatives\n------------\n\n{alternatives}\n"
    return text.encode()


def test_a_restructuredtext_record_has_its_title_status_and_sections() -> None:
    title = "Use Postgres instead of MySQL"
    adr = record(rst(title, "Data lives in Postgres."), "docs/decisions/0003-db.rst")
    assert (adr.title, adr.status, adr.problems) == (title, "accepted", ())
    assert adr.decision == "Data lives in Postgres."
    assert flagged(adr, "package.json", package_json("mysql2"))
    assert not flagged(adr, "package.json", package_json("pg"))
    proposed = record(rst(title, "Data lives in Postgres.", status="Draft"))
    assert proposed.status == "proposed"
    assert not flagged(proposed, "package.json", package_json("mysql2"))


def test_underlined_headings_keep_their_lines_and_leave_wrapped_prose_alone() -> None:
    text = (
        "=====\nTitle\n=====\n\nStatus\n------\nAccepted\n\nWe chose it\nover the old one.\n---\n"
        "```\nfenced\n-------\n```\nLong~\n~\n"
    )
    out = underlined_headings(text)
    assert out.count("\n") == text.count("\n")
    lines = out.split("\n")
    assert lines[:7] == ["", "# Title", "", "", "## Status", "", "Accepted"]
    assert "over the old one." in lines and "---" in lines  # a wrapped paragraph over a rule
    assert "fenced" in lines and "-------" in lines  # a fence is code
    assert "Long~" in lines  # an rst underline shorter than its title is none
    markdown = underlined_headings("# 4. Title\n\nContext\n=======\n\nText.\n")
    assert markdown.split("\n")[2] == "## Context"  # after an ATX title, a level below it


def test_an_alternative_considered_for_use_is_weighed_not_chosen() -> None:
    adr = record(
        nygard(
            "Publish one package",
            "The libraries ship as one package under one version number.",
            context="We considered using Lerna, but it would keep five version numbers.",
        )
    )
    assert [(m.tech, m.stance) for m in adr.mentions if m.tech == "lerna"] == [
        ("lerna", "rejected")
    ]
    assert flagged(adr, "lerna.json", '{"version": "independent"}')
    assert not flagged(adr, "package.json", package_json("semantic-release"))
    kept = record(nygard("Publishing", "We considered using Lerna and it serves us well."))
    assert not any(m.tech == "lerna" and m.stance == "chosen" for m in kept.mentions)
    assert not flagged(kept, "lerna.json", '{"version": "independent"}')
