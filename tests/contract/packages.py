"""GitHub's published API descriptions, from the npm packages that carry them.

Pinned versions, each checked against its registry integrity (sha512) before it is read:

- ``@octokit/openapi`` — GitHub's REST OpenAPI descriptions (api.github.com and each GitHub
  Enterprise Server release it carries);
- ``@octokit/graphql-schema`` — GitHub's GraphQL schema;
- ``@octokit/webhooks-examples`` — webhook payloads GitHub actually sent.

Fetched with ``npm pack`` (the registry npm is configured for) into a cache directory: pytest's
cache (``.pytest_cache/d/cairn-contract``), or the session's temp directory when the cache is
off; the files a test reads are unpacked there once. Offline, put the tarballs ``npm pack``
writes (``octokit-openapi-23.0.2.tgz``, ...) in a directory and point ``CAIRN_CONTRACT_PACKAGES``
at it. Without either, the contract tests fail, saying so: they are never skipped.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ENV = "CAIRN_CONTRACT_PACKAGES"


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    integrity: str  # the registry's dist.integrity

    @property
    def tarball(self) -> str:
        """The file name ``npm pack`` writes."""
        return f"{self.name.lstrip('@').replace('/', '-')}-{self.version}.tgz"

    @property
    def spec(self) -> str:
        return f"{self.name}@{self.version}"


OPENAPI = Package(
    "@octokit/openapi",
    "23.0.2",
    "sha512-pV8M7L9GY23AybNvTmo2nyjmpmnt6+2sRE/tqr0ZLQcPS4lnw7u5eZGNmwRNkBC3D7gZXbFx5AHzLUVRBXGDhg==",
)
GRAPHQL_SCHEMA = Package(
    "@octokit/graphql-schema",
    "15.26.1",
    "sha512-RFDC2MpRBd4AxSRvUeBIVeBU7ojN/SxDfALUd7iVYOSeEK3gZaqR2MGOysj4Zh2xj2RY5fQAUT+Oqq7hWTraMA==",
)
WEBHOOK_EXAMPLES = Package(
    "@octokit/webhooks-examples",
    "7.6.1",
    "sha512-De6U3XB6O3DtCa7bKgCMzTHdeopqqZ6SNivMYJnK65ierKL1AnNIA0tkRYCRS7lwGT792d+Ps1WbfHlso6MynQ==",
)
#: The GitHub Enterprise Server releases whose descriptions @octokit/openapi 23.0.2 carries.
GHES_RELEASES = ("3.17", "3.18", "3.19")


def _how_to_provide(package: Package, why: str) -> str:
    return (
        f"The contract tests need {package.spec} ({why}). They fetch it with `npm pack` from "
        "the npm registry; on a machine without npm or network, run "
        f"`npm pack {package.spec}` elsewhere and set {ENV} to the directory holding "
        f"{package.tarball}."
    )


def _integrity(path: Path) -> str:
    digest = hashlib.sha512(path.read_bytes()).digest()
    return "sha512-" + base64.b64encode(digest).decode()


def tarball(package: Package, cache: Path) -> Path:
    """The package's verified tarball: from CAIRN_CONTRACT_PACKAGES, the cache, or npm."""
    offline = os.environ.get(ENV)
    if offline:
        path = Path(offline) / package.tarball
        if not path.is_file():
            pytest.fail(_how_to_provide(package, f"{path} does not exist"), pytrace=False)
    else:
        path = cache / package.tarball
        if not path.is_file():
            npm = shutil.which("npm")
            if npm is None:
                pytest.fail(_how_to_provide(package, "npm is not installed"), pytrace=False)
            try:
                subprocess.run(
                    [npm, "pack", package.spec, "--pack-destination", str(cache), "--silent"],
                    check=True,
                    capture_output=True,
                    timeout=300,
                )
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as e:
                stderr = getattr(e, "stderr", b"") or b""
                why = f"npm pack failed: {stderr.decode(errors='replace')[-500:]}"
                pytest.fail(_how_to_provide(package, why), pytrace=False)
    found = _integrity(path)
    if found != package.integrity:
        pytest.fail(
            f"{path} is not {package.spec}: its integrity is {found}, the registry's "
            f"{package.integrity}",
            pytrace=False,
        )
    return path


def member(package: Package, cache: Path, name: str) -> Path:
    """One file of the package (``package/...`` in the tarball), unpacked into the cache."""
    target = cache / f"{package.tarball}.d" / name.replace("/", "__")
    if not target.is_file():
        with tarfile.open(tarball(package, cache), "r:gz") as tar:
            source = tar.extractfile(f"package/{name}")
            if source is None:
                pytest.fail(f"{package.spec} has no file {name}", pytrace=False)
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(".partial")
            with partial.open("wb") as out:
                shutil.copyfileobj(source, out)
            partial.replace(target)  # another session never reads half a file
    return target


def load_json(package: Package, cache: Path, name: str) -> Any:
    return json.loads(member(package, cache, name).read_text(encoding="utf-8"))
