"""Settings, read once per entry point from the environment and passed down explicitly.

This is the only module that reads ``os.environ``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path


class Secret:
    """A value that never prints: ``repr`` and ``str`` hide it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True, slots=True)
class Settings:
    """Process-wide settings; per-repository ones live in ``.cairn.yml``."""

    home: Path  # CAIRN_HOME: the embedded database lives in home/"pg"
    database_url: Secret | None = None  # DATABASE_URL: an external Postgres with pgvector
    log_level: str = "WARNING"
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def embedded_pgdata(self) -> Path:
        return self.home / "pg"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        home = env.get("CAIRN_HOME") or str(_default_home(env))
        url = env.get("DATABASE_URL") or None
        return cls(
            home=Path(home).expanduser().resolve(),
            database_url=Secret(url) if url else None,
            log_level=env.get("CAIRN_LOG_LEVEL", "WARNING").upper(),
        )


def _default_home(env: Mapping[str, str]) -> Path:
    data = env.get("XDG_DATA_HOME")
    base = Path(data) if data else Path.home() / ".local" / "share"
    return base / "cairn"
