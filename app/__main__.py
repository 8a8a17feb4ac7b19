"""The ``cairn`` executable (and ``python -m app``).

It imports the CLI only inside ``main``: a Ctrl-C while Cairn loads is answered like any other,
with one line and exit code 130, not with a traceback of the import it interrupted.
"""

from __future__ import annotations

import sys


def main() -> int:
    try:
        from app.cli import main as cli

        return cli()
    except KeyboardInterrupt:  # before the CLI could catch it: while loading, parsing options
        print("cairn: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
