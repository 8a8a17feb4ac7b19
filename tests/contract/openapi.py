"""An httpx transport that holds every REST call to GitHub's published OpenAPI description.

``ContractTransport`` finds the operation a request names (method and path template; a
parameter marked ``x-multi-segment`` may span slashes), then checks what GitHub would check
and more: path parameters, every query parameter declared and of its type or enum, the
``X-GitHub-Api-Version`` Cairn pins, and the JSON body against the request schema (required
fields, enums such as ``annotation_level``, ``maxItems``) with no property the description
does not declare. A call that breaks the contract is recorded in ``violations`` and answered
599, so the code under test fails loudly too. A call that keeps it is answered with the
description's own example for the operation's success status, or forwarded to ``inner`` (the
simulator) when one is given. GraphQL requests go to ``graphql`` (see ``tests.contract.graphql``).

OpenAPI 3.0 schemas are JSON Schema draft 4 but for ``nullable``, turned into ``null`` types.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

API_VERSION = "2022-11-28"
ROOT = "urn:github:openapi"


def _nullable(node: Any) -> Any:
    """``node`` with OpenAPI's ``nullable: true`` spelled in JSON Schema."""
    if isinstance(node, list):
        return [_nullable(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _nullable(v) for k, v in node.items() if k != "nullable"}
    if node.get("nullable") is True:
        return {"anyOf": [out, {"type": "null"}]}
    return out


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    pattern: re.Pattern[str]
    pointer: str  # JSON pointer of the operation in the description
    spec: dict[str, Any]
    parameters: tuple[dict[str, Any], ...]

    @property
    def name(self) -> str:
        return str(self.spec.get("operationId") or f"{self.method} {self.template}")


class Description:
    """One published description (api.github.com, or a GHES release)."""

    def __init__(self, name: str, raw: dict[str, Any]) -> None:
        self.name = name
        self.raw = raw
        self.doc = _nullable(raw)
        self.registry: Registry[Any] = Registry().with_resource(
            ROOT, Resource(contents=self.doc, specification=DRAFT4)
        )
        self.operations: list[Operation] = []
        for template, item in raw["paths"].items():
            shared = item.get("parameters", [])
            for method, spec in item.items():
                if method not in ("get", "post", "put", "patch", "delete"):
                    continue
                params = tuple(self.resolve(p) for p in (*shared, *spec.get("parameters", [])))
                multi = {p["name"] for p in params if p.get("x-multi-segment")}

                def group(m: re.Match[str], multi: set[str] = multi) -> str:
                    name = m.group(1)
                    return f"(?P<{name}>.+)" if name in multi else f"(?P<{name}>[^/]+)"

                regex = re.sub(r"\\\{(\w+)\\\}", group, re.escape(template))
                pointer = "/paths/" + _escape(template) + "/" + method
                self.operations.append(
                    Operation(
                        method.upper(),
                        template,
                        re.compile(f"^{regex}$"),
                        pointer,
                        spec,
                        params,
                    )
                )
        # the most literal template first: /commits/{ref}/check-runs before /commits/{ref}
        self.operations.sort(key=lambda o: -len(re.sub(r"\{\w+\}", "", o.template)))

    def resolve(self, node: Any) -> Any:
        """``node`` with a top-level ``$ref`` into the description followed."""
        while isinstance(node, dict) and "$ref" in node:
            target: Any = self.raw
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[_unescape(part)]
            node = target
        return node

    def find(self, method: str, path: str) -> tuple[Operation, dict[str, str]] | None:
        for op in self.operations:
            if op.method == method and (m := op.pattern.match(path)):
                return op, m.groupdict()
        return None

    def validator(self, schema: Any) -> Draft4Validator:
        return Draft4Validator(_nullable(schema), registry=self.registry)

    def ref(self, pointer: str) -> Draft4Validator:
        return Draft4Validator({"$ref": f"{ROOT}#{pointer}"}, registry=self.registry)

    def example(self, op: Operation) -> tuple[int, Any]:
        """The operation's success status and its example answer (None: no body)."""
        responses = op.spec.get("responses", {})
        status = min(int(s) for s in responses if s.startswith("2"))
        response = self.resolve(responses[str(status)])
        content = (response.get("content") or {}).get("application/json")
        if content is None:
            return status, None
        examples = content.get("examples")
        if examples:
            first = self.resolve(next(iter(examples.values())))
            return status, first.get("value")
        return status, content.get("example")


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def _unescape(part: str) -> str:
    return part.replace("~1", "/").replace("~0", "~")


def _coerce(value: str, schema: dict[str, Any]) -> Any:
    kind = schema.get("type")
    if kind == "integer":
        return int(value) if re.fullmatch(r"-?\d+", value) else value
    if kind == "boolean":
        return {"true": True, "false": False}.get(value, value)
    return value


@dataclass
class Call:
    """One request as the contract saw it."""

    description: str
    operation: str  # operationId, or "graphql"
    method: str
    path: str
    query: dict[str, str]
    body: Any


@dataclass
class ContractTransport(httpx.AsyncBaseTransport):
    description: Description
    base_path: str = ""  # "/api/v3" for a GHES
    inner: httpx.AsyncBaseTransport | None = None
    graphql: Callable[[dict[str, Any]], Any] | None = None
    api_version: str = API_VERSION
    calls: list[Call] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        raw = await request.aread()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            return self._refuse(f"{request.method} {path}: the body is not JSON")
        # GitHub serves GraphQL at /graphql; a GHES at /api/graphql, beside REST's /api/v3
        if path == ("/api/graphql" if self.base_path == "/api/v3" else "/graphql"):
            return await self._graphql(request, body)
        if not path.startswith(self.base_path):
            return self._refuse(f"{request.method} {path}: not under {self.base_path or '/'}")
        path = path.removeprefix(self.base_path) or "/"
        found = self.description.find(request.method, path)
        if found is None:
            return self._refuse(
                f"{request.method} {path}: no such operation in {self.description.name}"
            )
        op, groups = found
        query = dict(request.url.params.multi_items())
        self.calls.append(Call(self.description.name, op.name, request.method, path, query, body))
        problems = list(self._check(op, groups, query, request.headers, body))
        if problems:
            return self._refuse(f"{op.name} ({request.method} {path}): " + "; ".join(problems))
        if self.inner is not None:
            return await self.inner.handle_async_request(request)
        status, example = self.description.example(op)
        if example is None:
            return httpx.Response(status)
        return httpx.Response(status, json=example)

    def _refuse(self, problem: str) -> httpx.Response:
        self.violations.append(problem)
        return httpx.Response(599, json={"message": f"contract: {problem}"})

    def _check(
        self,
        op: Operation,
        groups: dict[str, str],
        query: dict[str, str],
        headers: httpx.Headers,
        body: Any,
    ) -> Iterator[str]:
        version = headers.get("x-github-api-version")
        if version != self.api_version:
            yield f"X-GitHub-Api-Version is {version!r}, not {self.api_version!r}"
        declared = {p["name"]: p for p in op.parameters if p.get("in") == "query"}
        for p in op.parameters:
            where, name, schema = p.get("in"), p["name"], p.get("schema", {})
            if where == "path":
                value = groups.get(name)
            elif where == "query":
                value = query.get(name)
            else:
                continue
            if value is None:
                if p.get("required"):
                    yield f"{where} parameter {name!r} is required"
                continue
            for error in self.description.validator(schema).iter_errors(_coerce(value, schema)):
                yield f"{where} parameter {name}={value!r}: {error.message}"
        for name in query:
            if name not in declared:
                yield f"query parameter {name!r} is not one of {sorted(declared)}"
        request_body = self.description.resolve(op.spec.get("requestBody"))
        if request_body is None:
            if body is not None:
                yield "a body, where the operation takes none"
            return
        if body is None:
            if request_body.get("required"):
                yield "the body is required"
            return
        pointer = op.pointer + "/requestBody/content/application~1json/schema"
        media = request_body["content"].get("application/json")
        if media is None:
            yield "the operation takes no JSON body"
            return
        validator = self.description.ref(pointer)
        for error in sorted(validator.iter_errors(body), key=lambda e: list(e.path)):
            where = "/".join(str(p) for p in error.path) or "body"
            yield f"{where}: {error.message}"
        yield from self._undeclared(media["schema"], body, "body")

    def _undeclared(self, schema: Any, value: Any, where: str) -> Iterator[str]:
        """Properties the (plain, composition-free) request schema does not declare."""
        schema = self.description.resolve(schema)
        if not isinstance(schema, dict) or any(k in schema for k in ("allOf", "anyOf", "oneOf")):
            return
        if isinstance(value, dict) and "properties" in schema:
            extra = schema.get("additionalProperties")
            for key, item in value.items():
                if key in schema["properties"]:
                    yield from self._undeclared(schema["properties"][key], item, f"{where}/{key}")
                elif extra in (None, False):
                    yield f"{where}/{key}: not a property the description declares"
        elif isinstance(value, list) and isinstance(schema.get("items"), dict):
            for i, item in enumerate(value):
                yield from self._undeclared(schema["items"], item, f"{where}/{i}")

    async def _graphql(self, request: httpx.Request, body: Any) -> httpx.Response:
        self.calls.append(
            Call(self.description.name, "graphql", request.method, request.url.path, {}, body)
        )
        if request.method != "POST" or not isinstance(body, dict):
            return self._refuse("graphql: a POST with a JSON object is expected")
        if self.graphql is not None:
            try:
                answer = self.graphql(body)
            except AssertionError as e:
                return self._refuse(f"graphql: {e}")
            if self.inner is None:
                return httpx.Response(200, json=answer)
        if self.inner is not None:
            return await self.inner.handle_async_request(request)
        return self._refuse("graphql: nothing answers GraphQL here")
