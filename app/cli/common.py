"""What the commands share: their common options, the configuration they read, the
repository they index, and how they write to the terminal."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Callable
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TextIO

from app.errors import ConfigError
from app.git import GitRepo
from app.store import Repository, Store
from checks.config import CONFIG_FILE, CairnConfig, parse_config
from checks.finding import Finding, Severity

FAIL_ON = ("notice", "warning", "error", "never")


def cairn_version() -> str:
    """The installed version, or ``0+unknown`` from a source tree."""
    try:
        return version("cairn-review")
    except PackageNotFoundError:  # running from a source tree
        return "0+unknown"


def env_file_arg(p: argparse.ArgumentParser, what: str) -> None:
    """``--env-file``: the App's commands read settings the environment leaves unset there."""
    p.add_argument("--env-file", type=Path, default=Path(".env"), help=f"{what} (default: ./.env)")


def repo_arg(p: argparse.ArgumentParser) -> None:
    """``--repo PATH``."""
    p.add_argument("--repo", type=Path, default=Path.cwd(), help="repository path (default: .)")


def output_args(
    p: argparse.ArgumentParser, formats: tuple[str, ...] = ("text", "json", "sarif")
) -> None:
    """``--format``, ``--output``, ``--config`` and ``--color`` of a report."""
    p.add_argument("--format", choices=formats, default="text", help="(default: text)")
    p.add_argument("--output", "-o", type=Path, help="write the report here instead of stdout")
    p.add_argument(
        "--config", type=Path, help=f"configuration file (default: {CONFIG_FILE} at the ref)"
    )
    p.add_argument("--color", choices=("auto", "always", "never"), default="auto")


def color(args: argparse.Namespace, stream: TextIO) -> bool:
    """Whether to colour the report (``--color``; auto: on a terminal, not to a file)."""
    if args.color == "always":
        return True
    if args.color == "never" or getattr(args, "output", None):
        return False
    return stream.isatty()


def load_config(args: argparse.Namespace, git: GitRepo, commit: str) -> CairnConfig:
    """``--config``, or ``.cairn.yml`` at ``commit``."""
    if args.config is not None:
        try:
            return parse_config(args.config.read_text(encoding="utf-8"), str(args.config))
        except OSError as exc:
            raise ConfigError([f"cannot read it: {exc.strerror}"], str(args.config)) from exc
    data = git.file_at(commit, CONFIG_FILE)
    return parse_config(data.decode("utf-8", errors="replace") if data is not None else None)


async def repository(store: Store, git: GitRepo) -> Repository:
    """The local checkout as the index knows it."""
    return await store.repository(f"local:{git.root}", default_branch=git.default_branch())


def source_at(git: GitRepo, commit: str) -> Callable[[str, int, int], list[str] | None]:
    """The lines of a file at ``commit``, for a report's excerpts."""

    @lru_cache(maxsize=64)
    def lines_of(path: str) -> list[str] | None:
        data = git.file_at(commit, path)
        return None if data is None else data.decode("utf-8", errors="replace").splitlines()

    def source(path: str, start: int, end: int) -> list[str] | None:
        lines = lines_of(path)
        return None if lines is None else lines[start - 1 : end]

    return source


def exit_code(findings: list[Finding], fail_on: str) -> int:
    """1 when a finding is at least as severe as ``fail_on``, else 0."""
    if fail_on == "never":
        return 0
    floor = Severity(fail_on).rank
    return 1 if any(f.severity.rank >= floor for f in findings) else 0


def status(message: str) -> None:
    """A line for the person at the terminal (stderr: stdout holds the report)."""
    print(message, file=sys.stderr)


def emit(args: argparse.Namespace, out: str) -> None:
    """Write the report to ``--output``, or stdout."""
    if not out.endswith("\n"):
        out += "\n"
    output: Path | None = getattr(args, "output", None)
    if output is not None:
        output.write_text(out, encoding="utf-8")
    else:
        sys.stdout.write(out)


INTERRUPTED = "error: interrupted; the index is unchanged where it was not finished"


def stopped(args: argparse.Namespace, signum: int) -> int:
    """After Ctrl-C (SIGINT) or SIGTERM: one line on stderr and 128 + the signal's number.

    ``serve`` and ``worker`` stop gracefully on either: "stopped" after Ctrl-C, and nothing
    but exit code 0 after SIGTERM, how a service manager stops them. A second Ctrl-C while the
    process closes (pools, the embedded Postgres) is ignored, so nothing else is printed.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    server = getattr(args, "server", False)
    if server and signum == signal.SIGTERM:
        return 0
    message: str = "stopped" if server else getattr(args, "interrupted", INTERRUPTED)
    if signum == signal.SIGTERM:
        message = message.replace("interrupted", "terminated", 1)
    print(f"cairn: {message}", file=sys.stderr)
    return 128 + signum
