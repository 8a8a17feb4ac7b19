"""``cairn demo``: a small sample repository whose feature branch breaks all three checks.

``main`` has a billing package: ISO dates (``billing/dates.py``), an S3 wrapper that five
modules import instead of ``boto3`` (``billing/storage.py``), and an accepted decision to use
``httpx`` rather than ``requests`` (``docs/adr/0001-use-httpx.md``), each brought in by a merged
pull request. ``feature/export`` re-implements the date parser (duplication), calls ``boto3``
directly (a mined wrapped-dependency convention) and imports ``requests`` (the decision). The
commits have fixed authors and dates, so the repository is the same on every machine; the
README's examples run on it.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from app.errors import CairnError
from app.settings import child_env

_BILLING = {
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

_STORAGE = {
    "billing/storage.py": '''\
"""Documents in S3: the one place that talks to boto3 (retries, encryption, the bucket)."""

import boto3

BUCKET = "acme-billing"


def _client():
    return boto3.client("s3", config=boto3.session.Config(retries={"max_attempts": 5}))


def put_document(key, body, content_type="application/pdf"):
    """Store ``body`` under ``key``, encrypted at rest."""
    _client().put_object(
        Bucket=BUCKET, Key=key, Body=body, ContentType=content_type, ServerSideEncryption="AES256"
    )
    return key


def get_document(key):
    """The bytes stored under ``key``."""
    return _client().get_object(Bucket=BUCKET, Key=key)["Body"].read()
''',
    "billing/receipts.py": '''\
"""Receipts sent after a payment."""

from billing.storage import get_document, put_document


def store_receipt(number, pdf):
    return put_document(f"receipts/{number}.pdf", pdf)


def receipt(number):
    return get_document(f"receipts/{number}.pdf")
''',
    "billing/payments.py": '''\
"""Payments and their proofs."""

from billing.storage import put_document


def record_payment(invoice_number, amount, proof):
    key = put_document(f"payments/{invoice_number}.pdf", proof)
    return {"invoice": invoice_number, "amount": amount, "proof": key}
''',
    "billing/refunds.py": '''\
"""Refunds, with the credit note sent to the customer."""

from billing.storage import put_document


def refund(invoice_number, amount, credit_note):
    key = put_document(f"credit-notes/{invoice_number}.pdf", credit_note)
    return {"invoice": invoice_number, "refunded": amount, "credit_note": key}
''',
    "billing/reminders.py": '''\
"""Reminders for overdue invoices."""

from billing.dates import is_overdue
from billing.storage import get_document


def reminder(invoice, today=None):
    if not is_overdue(invoice["due"], today):
        return None
    return {"invoice": invoice["number"], "attachment": get_document(invoice["pdf"])}
''',
    "billing/archive.py": '''\
"""Invoices archived as PDF."""

from billing.storage import put_document


def archive_invoice(invoice, pdf):
    return put_document(f"invoices/{invoice['number']}.pdf", pdf)
''',
}

_ADR = {
    "docs/adr/0001-use-httpx.md": """\
# 1. Use httpx as the HTTP client

Date: 2024-02-01

## Status

Accepted

## Context

Billing calls the exchange-rate service and the accounting service. Half of the calls used
`requests`, half `urllib`; neither had timeouts by default, and we need async calls soon.

## Decision

Use `httpx` instead of `requests` for every outgoing HTTP call, with an explicit timeout.

## Consequences

`billing/rates.py` moves to httpx; new code calls services through httpx only.
""",
    "billing/rates.py": '''\
"""Exchange rates from the rates service."""

import httpx

RATES_URL = "https://rates.internal.example/v1/latest"


def exchange_rate(currency, timeout=5.0):
    """How many euros one unit of ``currency`` is worth today."""
    response = httpx.get(RATES_URL, params={"base": currency}, timeout=timeout)
    response.raise_for_status()
    return response.json()["rates"]["EUR"]
''',
}

_FEATURE = {
    "exports/__init__.py": "",
    "exports/csv_export.py": '''\
"""Export invoices as CSV for the accounting team."""

import csv
import io
from datetime import date

import boto3
import requests


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


def publish_export(invoices, bucket, accounting_url):
    """Store the export in S3 and tell the accounting service where it is."""
    key = f"exports/invoices-{date.today():%Y-%m-%d}.csv"
    boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=export_invoices(invoices))
    requests.post(accounting_url, json={"key": key}, timeout=10)
    return key
''',
}


# (branch, commit message, files, date): main's history, pull requests merged with --no-ff
_HISTORY: list[tuple[str, str, dict[str, str], str]] = [
    ("main", "Billing: invoices and ISO dates", _BILLING, "2024-01-08T10:00:00"),
    (
        "storage",
        "Keep invoices, receipts and payment proofs in S3",
        _STORAGE,
        "2024-01-15T11:00:00",
    ),
    ("adr-httpx", "Decide on httpx for outgoing HTTP calls", _ADR, "2024-02-01T09:30:00"),
]
_MERGES = {
    "storage": ("#2", "Documents in S3 through billing.storage", "2024-01-16T09:00:00"),
    "adr-httpx": ("#5", "ADR-0001: httpx for outgoing HTTP calls", "2024-02-02T14:00:00"),
}


def build_demo(where: Path | None = None) -> Path:
    """Create the sample repository (main, and a feature/export branch) and return its root."""
    root = Path(tempfile.mkdtemp(prefix="cairn-demo-")) if where is None else where
    if root.exists() and any(root.iterdir()):
        raise CairnError(f"{root} is not empty; pick an empty or new directory for the demo")
    root.mkdir(parents=True, exist_ok=True)
    _git(root, "init", "-q", "-b", "main")
    for branch, message, files, when in _HISTORY:
        if branch != "main":
            _git(root, "checkout", "-q", "-b", branch, "main")
        _write(root, files)
        _git(root, "add", "-A")
        _git(root, "commit", "-q", "-m", message, when=when)
        if branch in _MERGES:
            number, title, merged = _MERGES[branch]
            _git(root, "checkout", "-q", "main")
            merge = f"Merge pull request {number} from acme/{branch}\n\n{title}"
            _git(root, "merge", "-q", "--no-ff", "-m", merge, branch, when=merged)
            _git(root, "branch", "-q", "-D", branch)
    _git(root, "checkout", "-q", "-b", "feature/export")
    _write(root, _FEATURE)
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "Export invoices as CSV", when="2024-03-04T16:00:00")
    return root


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")


def _git(root: Path, *args: str, when: str = "2024-01-01T00:00:00") -> None:
    # fixed names and dates: the same commits, the same shas, on every machine
    dates = {"GIT_AUTHOR_DATE": f"{when}+0000", "GIT_COMMITTER_DATE": f"{when}+0000"}
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
        env=child_env(dates),
    )
