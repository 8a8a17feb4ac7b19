"""Reports of findings and clone families: a terminal, JSON, SARIF (and HTML for a scan)."""

from __future__ import annotations

from app.report.document import review_document
from app.report.sarif import review_sarif
from app.report.text import SourceLines, render_review

__all__ = [
    "SourceLines",
    "render_review",
    "review_document",
    "review_sarif",
]
