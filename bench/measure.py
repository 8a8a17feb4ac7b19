"""Run one command and measure it: wall time and peak memory of everything it runs.

Peak memory is sampled every 50 ms over the command's process tree plus any process whose
command line mentions ``watch`` (Cairn's embedded Postgres is started under ``CAIRN_HOME`` and
may be detached from the tree). Two figures are kept:

* ``peak_tree_pss``: the largest sum of proportional set sizes (PSS) over those processes and
  their children at one instant — shared pages (Postgres' shared buffers, shared libraries)
  counted once;
* ``max_rss``: the largest resident set of a single process: the kernel's own figure as
  ``/usr/bin/time`` reports it for the command and its waited-for children, or the samples'
  (Postgres, detached from the tree, is only sampled).
"""

from __future__ import annotations

import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

_INTERVAL_S = 0.05
TIME = "/usr/bin/time"  # GNU time: Debian's ``time`` package


@dataclass(frozen=True)
class Run:
    """One measured command."""

    cmd: tuple[str, ...]
    returncode: int
    wall_s: float
    peak_tree_pss: int  # bytes
    max_rss: int  # bytes
    stdout: str
    stderr: str
    cpu_s: float = 0.0  # user + system seconds of the command, its children and watched servers

    @property
    def ok(self) -> bool:
        return self.returncode == 0


class _Sampler(threading.Thread):
    def __init__(self, pid: int, watch: str | None) -> None:
        super().__init__(daemon=True)
        self._pid = pid
        self._watch = watch
        self._stop_event = threading.Event()
        self.peak_tree_pss = 0
        self.max_rss = 0
        self._extra: dict[int, psutil.Process] = {}
        self._last_scan = 0.0
        self._tree: set[int] = set()  # the command's own processes (timed by /usr/bin/time)
        self._cpu_first: dict[int, float] = {}  # watched server processes: CPU when first seen
        self._cpu_last: dict[int, float] = {}

    @property
    def server_cpu_s(self) -> float:
        """CPU the watched processes outside the command's tree spent while it ran."""
        return sum(
            self._cpu_last[pid] - self._cpu_first[pid]
            for pid in self._cpu_last
            if pid not in self._tree
        )

    def _watched(self) -> list[psutil.Process]:
        if self._watch is None:
            return []
        now = time.monotonic()
        if now - self._last_scan > 0.5:  # iterating /proc is the expensive part
            self._last_scan = now
            for proc in psutil.process_iter(["cmdline"]):
                cmdline = proc.info.get("cmdline") or []
                if any(self._watch in part for part in cmdline):
                    self._extra.setdefault(proc.pid, proc)
        return list(self._extra.values())

    def _sample(self) -> None:
        procs: dict[int, psutil.Process] = {}
        try:
            root = psutil.Process(self._pid)
            procs[root.pid] = root
            for child in root.children(recursive=True):
                procs[child.pid] = child
        except psutil.Error:
            pass
        self._tree.update(procs)
        for proc in self._watched():  # a server and its backends (whose titles change)
            try:
                family = [proc, *proc.children(recursive=True)]
            except psutil.Error:
                continue
            for member in family:
                procs.setdefault(member.pid, member)
                try:
                    times = member.cpu_times()
                except psutil.Error:
                    continue
                cpu = times.user + times.system
                self._cpu_first.setdefault(member.pid, cpu)
                self._cpu_last[member.pid] = cpu
        total = 0
        for proc in procs.values():
            try:
                info = proc.memory_full_info()
            except psutil.Error:
                continue
            total += getattr(info, "pss", info.rss)
            self.max_rss = max(self.max_rss, info.rss)
        self.peak_tree_pss = max(self.peak_tree_pss, total)

    def run(self) -> None:
        while not self._stop_event.is_set():
            self._sample()
            self._stop_event.wait(_INTERVAL_S)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def run(
    cmd: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    watch: str | None = None,
) -> Run:
    """Run ``cmd`` to completion, its output going to temporary files, and measure it."""
    with (
        tempfile.TemporaryFile("w+") as out,
        tempfile.TemporaryFile("w+") as err,
        tempfile.NamedTemporaryFile("r", prefix="maxrss-") as maxrss,
    ):
        # The kernel's max RSS of a child counts the memory of the process that forked it
        # (it survives exec), so the command is started by the small /usr/bin/time, not by
        # this Python process; without /usr/bin/time only the samples count.
        wrapper = [TIME, "-f", "%M %U %S", "-o", maxrss.name] if Path(TIME).exists() else []
        started = time.perf_counter()
        proc = subprocess.Popen([*wrapper, *cmd], stdout=out, stderr=err, env=env, cwd=cwd)
        sampler = _Sampler(proc.pid, watch)
        sampler.start()
        returncode = proc.wait()
        wall = time.perf_counter() - started
        sampler.stop()
        out.seek(0)
        err.seek(0)
        reported = maxrss.read().split()
        kernel_max_rss, command_cpu = 0, 0.0
        if len(reported) >= 3 and reported[-3].isdigit():
            kernel_max_rss = int(reported[-3]) * 1024
            command_cpu = float(reported[-2]) + float(reported[-1])
        return Run(
            cmd=tuple(cmd),
            returncode=returncode,
            wall_s=wall,
            peak_tree_pss=sampler.peak_tree_pss,
            max_rss=max(sampler.max_rss, kernel_max_rss),
            stdout=out.read(),
            stderr=err.read(),
            cpu_s=command_cpu + sampler.server_cpu_s,
        )


@dataclass(frozen=True)
class Summary:
    """Median wall time and the worst memory of repeated runs."""

    runs: int
    median_s: float
    min_s: float
    peak_tree_pss: int
    max_rss: int
    cpu_s: float = 0.0  # median CPU seconds (command, children and watched servers)


def summarize(runs: Sequence[Run]) -> Summary:
    walls = [r.wall_s for r in runs]
    return Summary(
        runs=len(runs),
        median_s=statistics.median(walls),
        min_s=min(walls),
        peak_tree_pss=max(r.peak_tree_pss for r in runs),
        max_rss=max(r.max_rss for r in runs),
        cpu_s=statistics.median(r.cpu_s for r in runs),
    )


def repeat(measure: Callable[[int], Run], times: int, budget_s: float) -> list[Run]:
    """Call ``measure(i)`` up to ``times`` times, stopping early once ``budget_s`` is spent."""
    runs: list[Run] = []
    spent = 0.0
    for i in range(times):
        if runs and spent >= budget_s:
            break
        result = measure(i)
        runs.append(result)
        spent += result.wall_s
        if not result.ok:
            break
    return runs
