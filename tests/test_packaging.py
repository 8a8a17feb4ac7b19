"""The wheel carries every package and the migrations (an editable install would hide a gap)."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

ROOT = Path(__file__).parent.parent


def test_every_package_is_shipped() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    include = config["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for top in ("app", "checks", "analyzers", "migrations")
        for init in (ROOT / top).rglob("__init__.py")
    }
    missing = {p for p in packages if not any(fnmatch.fnmatchcase(p, pat) for pat in include)}
    assert "app.report" in packages
    assert missing == set()
    assert config["tool"]["setuptools"]["package-data"]["migrations"] == ["*.sql"]
    assert list((ROOT / "migrations").glob("0001_*.sql"))
