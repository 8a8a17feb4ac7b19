"""Reports of findings and clone pairs: a terminal, JSON, SARIF."""

from __future__ import annotations

from app.report.document import review_document, scan_document
from app.report.sarif import review_sarif, scan_sarif
from app.report.text import SourceLines, render_review, render_scan

__all__ = [
    "SourceLines",
    "render_review",
    "render_scan",
    "review_document",
    "review_sarif",
    "scan_document",
    "scan_sarif",
]
