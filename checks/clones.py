"""Clone pairs: the raw result of ``cairn scan``, the repository's baseline of duplication."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class UnitRef:
    """Where a code unit lives."""

    path: str
    start_line: int
    end_line: int
    name: str
    kind: str = ""  # "function" | "method" | "class"


@dataclass(frozen=True, slots=True)
class ClonePair:
    """Two units that duplicate each other; ``a`` sorts before ``b``."""

    a: UnitRef
    b: UnitRef
    similarity: float  # 0..1, from the verification step
    kind: str  # "exact" | "renamed" | "near-miss"
