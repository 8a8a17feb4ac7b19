"""The technology catalog: the shipped data file, and each kind of entry field."""

from __future__ import annotations

import pytest

from analyzers.catalog import ECOSYSTEMS, CatalogError, catalog, image_repository, parse_catalog


def test_the_shipped_catalog_is_large_versioned_and_consistent() -> None:
    c = catalog()
    assert len(c.techs) >= 400
    assert c.version >= 1
    assert all(m in c.techs for t in c.techs.values() for m in t.members)
    ecosystems = {e for t in c.techs.values() for e in t.packages}
    assert ecosystems == set(ECOSYSTEMS)
    for kind in ("imports", "commands", "files", "images", "services", "members"):
        assert any(getattr(t, kind) for t in c.techs.values()), kind


def test_names_aliases_and_possessives() -> None:
    found = catalog().find("We run Postgres (psql on laptops) behind Django's admin.")
    assert [(f.tech, f.written) for f in found] == [
        ("postgresql", "Postgres"),
        ("postgresql", "psql"),
        ("django", "Django"),
    ]
    assert catalog().named("PostgreSQL") == catalog().named("postgres") == {"postgresql"}


def test_common_words_count_only_as_written_or_in_their_context() -> None:
    found = {f.written: f for f in catalog().find("We react to events; React renders them.")}
    assert found["react"].weak and not found["React"].weak  # ~React: a word in lower case
    go = {f.written: f for f in catalog().find("We decided to go with it. Go builds fast.")}
    assert go["go"].as_word and not go["Go"].as_word  # =Go: the word, never the language
    express = catalog().find("An express delivery.")  # Express{node,server,…}: no context
    assert all(f.weak for f in express if f.tech == "express")


def test_categories_and_exclusive_groups() -> None:
    c = catalog()
    assert {"styled-components", "emotion"} <= c.expand("css-in-js")
    assert c.group_of("pnpm") == c.group_of("yarn") == "js-package-manager"
    assert "npm" in c.siblings("pnpm") and "pnpm" not in c.siblings("pnpm")
    assert c.related("emotion", "styled-components")
    assert not c.related("emotion", "postgresql")


@pytest.mark.parametrize(
    ("ecosystem", "name", "tech"),
    [
        ("npm", "@emotion/styled", "emotion"),
        ("pypi", "Psycopg2_Binary", "postgresql"),  # PyPI names compare normalised
        ("gem", "sidekiq", "sidekiq"),
        ("go", "github.com/sirupsen/logrus", "logrus"),
        ("maven", "org.apache.velocity:velocity-engine-core", "velocity"),
        ("cargo", "axum", "axum"),
        ("nuget", "Serilog.AspNetCore", "serilog"),
        # web analytics, client-side search, form libraries, visual regression, load testing
        ("npm", "react-ga4", "google-analytics"),
        ("npm", "fuse.js", "fuse-js"),
        ("npm", "react-hook-form", "react-hook-form"),
        ("npm", "happo.io", "happo"),
        ("maven", "io.gatling.highcharts:gatling-charts-highcharts", "gatling"),
        ("maven", "org.apache.jmeter:ApacheJMeter_core", "jmeter"),
        ("go", "github.com/gobuffalo/pop/v6", "gobuffalo-pop"),
        ("npm", "eslint-config-standard", "standardjs"),
    ],
)
def test_packages_per_ecosystem(ecosystem: str, name: str, tech: str) -> None:
    assert tech in catalog().package_owners(ecosystem, name)


def test_imports_commands_files_images_and_services() -> None:
    c = catalog()
    assert c.import_owners("python", "psycopg2.extras") == {"postgresql"}
    assert c.import_owners("java", "org.apache.commons.cli.Options") == {"commons-cli"}
    assert "styled-components" in c.import_owners("typescript", "styled-components")
    assert c.command_owners("yarn") == {"yarn"}
    assert c.file_owners(".circleci/config.yml") == {"circleci"}
    assert c.file_owners("apps/web/lerna.json") == {"lerna"}
    assert c.image_owners("docker.io/library/postgres:16-alpine") == {"postgresql"}
    assert c.service_owners("redis") == {"redis"}
    assert c.file_owners("deploy/charts/shop/Chart.yaml") == {"helm"}  # not Cluster Autoscaler
    assert c.file_owners("sonar-project.properties") == {"sonarcloud"}
    assert image_repository("ghcr.io/acme/app:1.2") == "ghcr.io/acme/app"
    assert image_repository("postgres:16") == "postgres"


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("version 1\n[Bad Id] X\n", r"line 2: expected `\[id\] Name; Alias`"),
        ("version 1\n[x] X\n  colour: red\n", "unknown field 'colour'"),
        ("version 1\nloose text\n", "not an entry, a field or a comment"),
        ("version 1\n[x] X\n[x] Y\n", "duplicate ids: x"),
        ("version 1\n[cat] Things\n  has: nothing-known\n", "unknown members: nothing-known"),
    ],
)
def test_a_malformed_catalog_is_refused(text: str, error: str) -> None:
    with pytest.raises(CatalogError, match=error):
        parse_catalog(text)


def test_a_small_catalog_of_our_own() -> None:
    c = parse_catalog(
        "version 3\n[queue] message queue\n  has: mq\n[mq] Rabbit MQ; ~Bunny{amqp}\n"
        "  group: broker\n  pypi: pika\n  import: pika\n  cmd: rabbitmqctl\n"
        "  file: rabbitmq.conf\n  image: rabbitmq\n  service: rabbit\n"
    )
    assert c.version == 3
    assert c.expand("queue") == {"queue", "mq"}
    assert [f.tech for f in c.find("No message queue; no Rabbit-MQ.")] == ["queue", "mq"]
    assert all(f.weak for f in c.find("a bunny"))
    assert not any(f.weak for f in c.find("Bunny speaks amqp"))
    assert c.package_owners("pypi", "Pika") == {"mq"}
    assert c.command_owners("rabbitmqctl") == c.file_owners("etc/rabbitmq.conf") == {"mq"}
    assert c.image_owners("rabbitmq:3-management") == c.service_owners("rabbit") == {"mq"}


def test_csharp_usings_name_nuget_packages() -> None:
    c = catalog()
    assert c.import_owners("csharp", "RestSharp") == {"restsharp"}
    assert c.import_owners("csharp", "Serilog.Sinks.Console") >= {"serilog"}
    assert c.import_owners("csharp", "Shop.Domain") == set()
