"""Every registered language is complete: each part of its entry is there and works.

A new language is one module in ``analyzers/lang/`` and one row of ``SAMPLES``: a small real
file of the language with one unit, one import and one call, read through every part of the
entry (parsing, import extraction and resolution, calls, the import an added line writes, the
standard library).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import tree_sitter

from analyzers import catalog
from analyzers.additions import additions, manifest_ecosystem
from analyzers.constructs import calls
from analyzers.imports import ProjectFiles, extract_imports, resolve
from analyzers.lang.language import CLASS, FUNCTION, METHOD, MODULE
from analyzers.languages import LANGUAGES, Language, language_for_path, language_named
from analyzers.parse import parse_file


@dataclass(frozen=True)
class Sample:
    path: str
    source: str
    unit: str  # a unit's qualname
    imported: str  # the import, as written
    package: str  # the external package it resolves to
    call: str  # a callee
    standard: str  # a package of the standard library ("" when Cairn knows none)
    manifest: tuple[str, str, str]  # a manifest's path, a line of it, the package it names


SAMPLES = {
    "python": Sample(
        "shop/fetch.py",
        "import requests\n\n\ndef fetch(url):\n    return requests.get(url)\n",
        unit="fetch",
        imported="requests",
        package="requests",
        call="requests.get",
        standard="os",
        manifest=("requirements/base.txt", "requests>=2.31", "requests"),
    ),
    "javascript": Sample(
        "web/fetch.js",
        'import axios from "axios";\n\nfunction fetchAll(url) {\n  return axios.get(url);\n}\n',
        unit="fetchAll",
        imported="axios",
        package="axios",
        call="axios.get",
        standard="fs",
        manifest=("web/package.json", '    "axios": "^1.6.0",', "axios"),
    ),
    "typescript": Sample(
        "web/fetch.ts",
        'import { z } from "zod";\n\n'
        "export class Schema {\n  parse(raw: unknown): string {\n"
        "    return z.string().parse(raw);\n  }\n}\n",
        unit="Schema.parse",
        imported="zod",
        package="zod",
        call="z.string().parse",
        standard="node:path",
        manifest=("package.json", '  "zod": "3.22.4"', "zod"),
    ),
    "tsx": Sample(
        "web/Title.tsx",
        'import React from "react";\n\n'
        "export const Title = (props: { text: string }) => <h1>{format(props.text)}</h1>;\n",
        unit="Title",
        imported="react",
        package="react",
        call="format",
        standard="crypto",
        manifest=("package.json", '    "react": "^18.2.0",', "react"),
    ),
    "go": Sample(
        "cmd/fetch.go",
        'package main\n\nimport "github.com/go-resty/resty/v2"\n\n'
        "type Client struct{}\n\nfunc (c *Client) Fetch(url string) {\n"
        "\tresty.New().R().Get(url)\n}\n",
        unit="Client.Fetch",
        imported="github.com/go-resty/resty/v2",
        package="github.com/go-resty/resty/v2",
        call="resty.New().R().Get",
        standard="net/http",
        manifest=(
            "go.mod",
            "require github.com/go-resty/resty/v2 v2.11.0",
            "github.com/go-resty/resty/v2",
        ),
    ),
    "java": Sample(
        "src/main/java/shop/Fetch.java",
        "package shop;\n\nimport okhttp3.OkHttpClient;\n\n"
        "class Fetch {\n    void run() {\n        new OkHttpClient();\n    }\n}\n",
        unit="Fetch.run",
        imported="okhttp3.OkHttpClient",
        package="okhttp3.OkHttpClient",
        call="new OkHttpClient",
        standard="java.util.List",
        manifest=("pom.xml", "      <artifactId>okhttp</artifactId>", "okhttp"),
    ),
    "rust": Sample(
        "src/fetch.rs",
        "use reqwest::blocking;\n\nfn fetch(url: &str) {\n    blocking::get(url);\n}\n",
        unit="fetch",
        imported="reqwest::blocking",
        package="reqwest",
        call="blocking::get",
        standard="std",
        manifest=("Cargo.toml", 'reqwest = { version = "0.11", features = ["json"] }', "reqwest"),
    ),
    "csharp": Sample(
        "Shop/Fetch.cs",
        "using Newtonsoft.Json;\n\nclass Fetch\n{\n    string Run()\n    {\n"
        "        return JsonConvert.SerializeObject(this);\n    }\n}\n",
        unit="Fetch.Run",
        imported="Newtonsoft.Json",
        package="Newtonsoft",
        call="JsonConvert.SerializeObject",
        standard="System",
        manifest=(
            "Shop/Shop.csproj",
            '<PackageReference Include="Newtonsoft.Json" Version="13.0.3" />',
            "Newtonsoft.Json",
        ),
    ),
    "ruby": Sample(
        "lib/fetch.rb",
        'require "faraday"\n\ndef fetch(url)\n  Faraday.get(url)\nend\n',
        unit="fetch",
        imported="faraday",
        package="faraday",
        call="Faraday.get",
        standard="",
        manifest=("Gemfile", "gem 'faraday', '~> 2.7'", "faraday"),
    ),
}

BY_NAME = pytest.mark.parametrize("language", LANGUAGES, ids=lambda language: language.name)


def test_every_registered_language_has_a_sample() -> None:
    assert sorted(SAMPLES) == sorted(language.name for language in LANGUAGES)


@BY_NAME
def test_every_part_of_the_entry_is_there(language: Language) -> None:
    assert language.name and language.extensions
    assert all(ext.startswith(".") and ext == ext.lower() for ext in language.extensions)
    assert set(language.units.values()) <= {FUNCTION, METHOD, CLASS, MODULE}
    assert language.units and language.identifiers and language.literals and language.comments
    assert language.calls
    assert set(language.names) <= set(language.units)
    assert isinstance(language.grammar_language, tree_sitter.Language)
    assert language.imports.compiled(language).pattern_count > 0
    assert language_named(language.name) is language
    assert language.ecosystem.name in catalog.ECOSYSTEMS
    assert language.import_roots in ("", ".", "/", "::")


@BY_NAME
def test_a_sample_unit_parses(language: Language) -> None:
    sample = SAMPLES[language.name]
    assert language_for_path(sample.path) is language
    parsed = parse_file(sample.path, sample.source.encode())
    assert parsed is not None
    assert parsed.error_nodes == 0
    assert sample.unit in [unit.qualname for unit in parsed.units]


@BY_NAME
def test_a_sample_import_is_extracted_and_resolved(language: Language) -> None:
    sample = SAMPLES[language.name]
    found = extract_imports(sample.path, sample.source.encode())
    assert [imp.name for imp in found] == [sample.imported]
    (resolved,) = resolve(sample.path, found, ProjectFiles.build([sample.path]))
    assert (resolved.internal, resolved.package) == (None, sample.package)


@BY_NAME
def test_a_sample_call_is_found(language: Language) -> None:
    sample = SAMPLES[language.name]
    assert sample.call in [callee for _, callee in calls(sample.path, sample.source.encode())]


@BY_NAME
def test_an_added_import_line_is_read(language: Language) -> None:
    sample = SAMPLES[language.name]
    line = next(n for n, text in enumerate(sample.source.split("\n"), 1) if sample.imported in text)
    text = sample.source.split("\n")[line - 1]
    added = additions(sample.path, [(line, text)])
    assert [(a.kind, a.line) for a in added] == [("import", line)]
    assert sample.imported.startswith(added[0].name)


@BY_NAME
def test_the_standard_library_is_known(language: Language) -> None:
    sample = SAMPLES[language.name]
    assert not language.standard(sample.package)
    if sample.standard:
        assert language.standard(sample.standard)


@BY_NAME
def test_a_manifest_line_names_a_dependency(language: Language) -> None:
    path, line, package = SAMPLES[language.name].manifest
    assert manifest_ecosystem(path) == language.ecosystem.name
    added = additions(path, [(7, line)])
    assert [(a.kind, a.name, a.ecosystem) for a in added] == [
        ("dependency", package, language.ecosystem.name)
    ]


# What the catalog makes of each sample's import: a technology it knows, through the language's
# import roots or the package its import names.
CATALOGUED = {
    "python": "requests",
    "javascript": "axios",
    "typescript": "zod",
    "tsx": "react",
    "go": "resty",
    "java": "okhttp",
    "rust": "reqwest",
    "csharp": "newtonsoft-json",
    "ruby": "faraday",
}


@BY_NAME
def test_the_catalog_reads_a_sample_import(language: Language) -> None:
    sample = SAMPLES[language.name]
    owners = catalog.catalog().import_owners(language.name, sample.imported)
    assert CATALOGUED[language.name] in owners
