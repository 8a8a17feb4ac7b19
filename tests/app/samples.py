"""Real-looking source used by the index and review tests."""

from __future__ import annotations

PARSE_DATE = '''\
def parse_iso_date(value, default=None):
    """Parse '2024-03-01' or '2024-03-01T10:00:00' into a date."""
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
'''

# The same function with every identifier and literal renamed, comments changed.
PARSE_DATE_RENAMED = """\
def to_day(raw, fallback=None):
    '''Read a day.'''
    # accepts timestamps too
    if raw is None:
        return fallback
    s = str(raw).strip()
    if not s:
        return fallback
    if "T" in s:
        s = s.split("T", 2)[0]
    pieces = s.split("/")
    if len(pieces) != 3:
        raise ValueError(f"bad date: {raw!r}")
    y, m, d = (int(x) for x in pieces)
    return date(y, m, d)
"""

# The same function with statements added and changed (a type-3 clone).
PARSE_DATE_NEAR_MISS = """\
def read_date(value, default=None):
    if value is None:
        return default
    text = str(value).strip()
    if not text:
        return default
    if "T" in text:
        text = text.split("T", 1)[0]
    text = text.replace("/", "-")
    parts = text.split("-")
    if len(parts) != 3:
        raise ValueError(f"not an ISO date: {value!r}")
    year, month, day = (int(p) for p in parts)
    if year < 100:
        year += 2000
    return date(year, month, day)
"""

INVOICE_TOTAL = '''\
def invoice_total(lines, tax_rate=0.2, discount=None):
    """Sum of the lines, with tax and an optional discount."""
    subtotal = 0
    for line in lines:
        subtotal += line["quantity"] * line["unit_price"]
    if discount:
        subtotal -= subtotal * discount
    total = subtotal * (1 + tax_rate)
    return round(total, 2)
'''

UNRELATED = '''\
def render_table(rows, headers, width=80):
    """Render rows as a fixed-width text table."""
    columns = len(headers)
    size = max(4, width // max(columns, 1))
    out = [" | ".join(h.ljust(size)[:size] for h in headers)]
    out.append("-+-".join("-" * size for _ in headers))
    for row in rows:
        cells = [str(cell) for cell in row]
        out.append(" | ".join(c.ljust(size)[:size] for c in cells))
    return "\\n".join(out)
'''

JS_DEBOUNCE = """\
export function debounce(fn, wait, options = {}) {
  let timer = null;
  let lastArgs = null;
  const leading = Boolean(options.leading);
  return function debounced(...args) {
    lastArgs = args;
    if (timer === null && leading) {
      fn.apply(this, args);
    }
    clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      if (!leading) fn.apply(this, lastArgs);
    }, wait);
  };
}
"""


def module(*functions: str, header: str = "from datetime import date\n\n\n") -> str:
    return header + "\n\n".join(functions)


# A repository at base: a date parser to duplicate, and two unrelated modules.
BASE = {
    "billing/dates.py": module(PARSE_DATE),
    "billing/invoices.py": module(INVOICE_TOTAL),
    "reports/table.py": module(UNRELATED),
}
