"""Children of Cairn's spawn context leave Ctrl-C to their parent from their first instruction."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

PROGRAM = textwrap.dedent(
    """
    import signal

    from app.signals import quiet_spawn_context


    def report(conn):
        conn.send(signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, []))


    if __name__ == "__main__":
        ctx = quiet_spawn_context()
        for _ in range(2):  # the first spawn also starts multiprocessing's resource tracker
            mine, theirs = ctx.Pipe()
            child = ctx.Process(target=report, args=(theirs,))
            child.start()
            print(mine.recv())
            child.join()
    """
)


@pytest.mark.slow
def test_every_child_starts_with_sigint_blocked_the_first_one_too(tmp_path) -> None:  # type: ignore[no-untyped-def]
    script = tmp_path / "spawn_twice.py"
    script.write_text(PROGRAM)
    # a fresh interpreter: no resource tracker is running yet, as in a new `cairn` process
    out = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.split() == ["True", "True"], out.stderr
