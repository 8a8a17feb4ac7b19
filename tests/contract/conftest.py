"""The published descriptions, fetched once per session (see ``tests.contract.packages``)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from graphql import GraphQLSchema, build_client_schema, validate_schema

from tests.contract.openapi import Description
from tests.contract.packages import (
    GHES_RELEASES,
    GRAPHQL_SCHEMA,
    OPENAPI,
    WEBHOOK_EXAMPLES,
    load_json,
)

#: The descriptions every REST call is checked against: github.com's and each GHES release's.
DESCRIPTIONS = ("api.github.com", *(f"ghes-{r}" for r in GHES_RELEASES))
_loaded: dict[str, Description] = {}


@pytest.fixture(scope="session")
def contract_cache(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    cache = getattr(request.config, "cache", None)
    if cache is not None:
        return Path(cache.mkdir("cairn-contract"))
    return tmp_path_factory.mktemp("cairn-contract")


def description(name: str, cache: Path) -> Description:
    """A description by name, parsed once per session (each is 11-13 MB of JSON)."""
    if name not in _loaded:
        _loaded[name] = Description(name, load_json(OPENAPI, cache, f"generated/{name}.json"))
    return _loaded[name]


@pytest.fixture(scope="session")
def graphql_schema(contract_cache: Path) -> GraphQLSchema:
    """From the package's introspection result (its SDL twin defines two fields twice, which
    graphql-core rightly refuses)."""
    schema = build_client_schema(load_json(GRAPHQL_SCHEMA, contract_cache, "schema.json"))
    comment = schema.type_map["PullRequestReviewComment"]
    assert comment.fields["databaseId"].deprecation_reason  # type: ignore[attr-defined]
    # GitHub deprecates fields (databaseId, for one) on types whose interfaces keep them, which
    # graphql-core >= 3.3 reports as an invalid schema. That one departure is accepted; any
    # other problem of the schema still fails here.
    problems = [
        e.message
        for e in validate_schema(schema)
        if not re.fullmatch(
            r"Interface field \w+\.\w+ is not deprecated, so implementation field \w+\.\w+ "
            r"must not be deprecated\.",
            e.message,
        )
    ]
    assert problems == []
    schema._validation_errors = []  # checked above: validate() and execute() rely on it
    return schema


@pytest.fixture(scope="session")
def webhook_examples(contract_cache: Path) -> dict[str, list[dict[str, Any]]]:
    """Every example payload, by "<index>/<event>" (api.github.com and each GHES index)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for index in ("api.github.com", "ghes-31", "ghes-32", "ghes-33", "ghes-34", "ghes-35"):
        for event in load_json(WEBHOOK_EXAMPLES, contract_cache, f"{index}/index.json"):
            out[f"{index}/{event['name']}"] = event["examples"]
    return out
