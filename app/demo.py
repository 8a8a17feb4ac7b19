"""``cairn demo``: a small sample repository whose feature branch re-implements a helper."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from app.errors import CairnError

_MAIN = {
    "billing/__init__.py": "",
    "billing/dates.py": '''\
"""Dates as the billing system reads them."""

from datetime import date, datetime


def parse_iso_date(value, default=None):
    """Parse '2024-03-01' or '2024-03-01T10:00:00' into a date; ``default`` when empty."""
    if value is None:
        return default
    text = str(value).strip()
    if not text:
        return default
    if "T" in text:
        text = text.split("T", 1)[0]
    parts = text.split("-")
    if len(parts) != 3:
        raise ValueError(f"not an ISO date: {value!r}")
    year, month, day = (int(p) for p in parts)
    return date(year, month, day)


def month_end(day):
    """The last day of ``day``'s month."""
    if day.month == 12:
        return date(day.year, 12, 31)
    first_of_next = date(day.year, day.month + 1, 1)
    return date.fromordinal(first_of_next.toordinal() - 1)


def is_overdue(due, today=None):
    """Whether an invoice due on ``due`` is overdue."""
    today = today or datetime.now().date()
    return due < today
''',
    "billing/invoices.py": '''\
"""Invoices and their totals."""

from billing.dates import parse_iso_date


def invoice_total(lines, tax_rate=0.2):
    """Sum of the lines, with tax."""
    subtotal = sum(line["quantity"] * line["unit_price"] for line in lines)
    return round(subtotal * (1 + tax_rate), 2)


def load_invoice(record):
    """An invoice from a database record."""
    return {
        "number": record["number"],
        "issued": parse_iso_date(record["issued"]),
        "due": parse_iso_date(record.get("due")),
        "lines": list(record.get("lines", [])),
    }
''',
}

_FEATURE = {
    "exports/__init__.py": "",
    "exports/csv_export.py": '''\
"""Export invoices as CSV for the accounting team."""

import csv
import io
from datetime import date


def to_day(raw, fallback=None):
    # Accept both plain dates and timestamps coming from the API.
    if raw is None:
        return fallback
    s = str(raw).strip()
    if not s:
        return fallback
    if "T" in s:
        s = s.split("T", 1)[0]
    pieces = s.split("-")
    if len(pieces) != 3:
        raise ValueError(f"bad date: {raw!r}")
    y, m, d = (int(x) for x in pieces)
    return date(y, m, d)


def export_invoices(invoices):
    """CSV text with one row per invoice."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["number", "issued", "due", "total"])
    for invoice in invoices:
        writer.writerow(
            [invoice["number"], to_day(invoice["issued"]), to_day(invoice["due"]), invoice["total"]]
        )
    return out.getvalue()
''',
}


def build_demo(where: Path | None = None) -> Path:
    """Create the sample repository (main, and a feature/export branch) and return its root."""
    root = Path(tempfile.mkdtemp(prefix="cairn-demo-")) if where is None else where
    if root.exists() and any(root.iterdir()):
        raise CairnError(f"{root} is not empty; pick an empty or new directory for the demo")
    root.mkdir(parents=True, exist_ok=True)
    _git(root, "init", "-q", "-b", "main")
    _write(root, _MAIN)
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "Billing: invoices and ISO dates")
    _git(root, "checkout", "-q", "-b", "feature/export")
    _write(root, _FEATURE)
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "Export invoices as CSV")
    return root


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")


def _git(root: Path, *args: str) -> None:
    subprocess.run(
        [
            "git",
            "-C",
            str(root),
            "-c",
            "user.name=Cairn Demo",
            "-c",
            "user.email=demo@cairn.invalid",
            "-c",
            "commit.gpgsign=false",
            *args,
        ],
        check=True,
        capture_output=True,
    )
