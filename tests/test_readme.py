"""The README's examples on the demo repository print what the README shows: each ``$ cairn ...
--repo demo`` line of a ``console`` block runs, from the directory holding ``cairn demo
--dir demo``, and its standard output is the lines that follow it."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
CAIRN = Path(sys.executable).parent / "cairn"


def console_examples(text: str) -> list[tuple[list[str], str]]:
    """(argv after ``cairn``, expected output) of every ``$ cairn`` line in console blocks."""
    examples: list[tuple[list[str], str]] = []
    fence: str | None = None
    current: tuple[list[str], list[str]] | None = None
    for line in text.splitlines():
        if fence is None:
            opened = re.fullmatch(r"(`{3,})console", line)
            fence = opened[1] if opened else None
            continue
        if line == fence or line.startswith("$ "):
            if current is not None:
                examples.append((current[0], "\n".join(current[1]) + "\n"))
            current = None
            if line == fence:
                fence = None
            elif line.startswith("$ cairn "):
                current = (shlex.split(line)[2:], [])
            continue
        if current is not None:
            current[1].append(line)
    return examples


@pytest.mark.slow
def test_the_demo_examples_print_what_the_readme_shows(
    cairn_env: dict[str, str], tmp_path: Path
) -> None:
    examples = [
        (argv, out)
        for argv, out in console_examples((ROOT / "README.md").read_text(encoding="utf-8"))
        if "--repo" in argv and argv[argv.index("--repo") + 1] == "demo"
    ]
    commands = {argv[0] for argv, _ in examples}
    assert {"review", "why", "decisions", "rules"} <= commands  # the README shows them all
    built = subprocess.run(
        [str(CAIRN), "demo", "--dir", "demo"],
        cwd=tmp_path,
        env=cairn_env,
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stderr
    for argv, expected in examples:
        proc = subprocess.run(
            [str(CAIRN), *argv], cwd=tmp_path, env=cairn_env, capture_output=True, text=True
        )
        assert proc.returncode in (0, 1), (argv, proc.stderr)
        assert proc.stdout == expected, argv


def test_console_examples_are_read_from_every_fence() -> None:
    text = (
        "````console\n$ cairn a --repo demo\none\n```cairn\nx\n```\n$ cairn b\ntwo\n````\n"
        "```sh\n$ cairn ignored\n```\n```console\n$ ls\nno\n$ cairn c\nthree\n```\n"
    )
    assert console_examples(text) == [
        (["a", "--repo", "demo"], "one\n```cairn\nx\n```\n"),
        (["b"], "two\n"),
        (["c"], "three\n"),
    ]
