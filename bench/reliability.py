"""The GitHub App under load and faults: is every delivery reviewed, once, with nothing stuck?

Real processes only (``tests/reliability/harness.py``): ``cairn serve``, ``cairn worker``
subprocesses, the GitHub simulator sending signed deliveries (each attempt recorded, so the
redelivery sweep can ask for failed ones again), and a Redis and a Postgres with pgvector of
the bench's own on loopback ports (``tests/servers.py``; never the machine's shared ones).

Each run: 100 pull requests, each with one planted duplicate (one inline comment per review),
and 1,000 signed deliveries in a seeded random order, 10 per pull request: ``opened``,
``synchronize``, ``reopened`` and ``ready_for_review`` of the same head (one review: the job id
dedupes), two GitHub redeliveries of an earlier delivery id, and four actions Cairn ignores
(``labeled``, ``edited``, ``assigned``, ``review_requested``), sent open-loop at ``--rate``.

- ``1-worker``, ``2-workers``: no fault.
- ``faults``: 2 workers, and mid-stream: 30 GitHub 502s and 10 secondary rate limits
  (403 + Retry-After), a worker SIGKILLed (another started), Redis stopped for 2 s and started
  empty (no persistence), Postgres stopped for 3 s.

Figures: deliveries sent and their answers; pull requests to review, reviewed (the latest run
of each check completed as success or neutral), lost (not reviewed ``--settle`` seconds after
the last delivery), duplicate comments (Cairn comments beyond the first per finding), stuck
check runs (not completed); throughput (reviews per second from the first delivery to the
last review) and latencies: queue (arq's enqueue to start of the review job's last attempt) and
end to end (the first delivery asking for the review to its three completed runs).

Usage (the test venv; ~5 minutes)::

    python bench/reliability.py [--runs 1-worker 2-workers faults] [--rate 50]
    python bench/reliability.py --report-only   # the RESULTS.md section again

Figures go to ``bench/.work/reliability.json``; the section between the ``reliability``
markers of ``bench/RESULTS.md`` is rewritten (``run.py`` keeps it).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import shlex
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))  # the harness and the simulator live in tests/

from arq.connections import RedisSettings, create_pool  # noqa: E402
from arq.jobs import DeserializationError, Job  # noqa: E402

from tests.reliability.harness import REPO, Processes, World, cairn, wait_for, world  # noqa: E402
from tests.servers import PostgresServer, RedisServer  # noqa: E402

WORK = BENCH / ".work"
FIGURES = WORK / "reliability.json"
RESULTS = BENCH / "RESULTS.md"
BEGIN, END = "<!-- reliability:begin -->", "<!-- reliability:end -->"
RUNS = ("1-worker", "2-workers", "faults")
SEED = 20261124
PRS = 100
REVIEWING = ("opened", "synchronize", "reopened", "ready_for_review")
IGNORED = ("labeled", "edited", "assigned", "review_requested")
REDELIVERIES = 2
Json = dict[str, Any]


def _percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p95": None, "p99": None, "max": None, "n": 0}
    ordered = sorted(values)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    return {"p50": at(0.50), "p95": at(0.95), "p99": at(0.99), "max": ordered[-1], "n": len(values)}


def plan(prs: int, seed: int) -> list[tuple[int, str, str | None]]:
    """(pull request, action, guid of an earlier delivery to redeliver or None), shuffled."""
    rng = random.Random(seed)
    items: list[tuple[int, str, str | None]] = []
    for n in range(1, prs + 1):
        items += [(n, action, None) for action in REVIEWING + IGNORED]
        items += [(n, "redelivery", None)] * REDELIVERIES
    rng.shuffle(items)
    return items


class Faults:
    """The faults of the ``faults`` run, each fired once the stream reaches its share."""

    def __init__(
        self, sim: World, procs: Processes, redis: RedisServer, postgres: PostgresServer
    ) -> None:
        self.sim, self.procs, self.redis, self.postgres = sim, procs, redis, postgres
        self.log: list[str] = []
        self.steps: list[tuple[float, str, Callable[[], None]]] = [
            (0.10, "GitHub: 30 x 502, 10 x secondary rate limit", self._github),
            (0.30, "SIGKILL worker 0, start another", self._kill_worker),
            (0.50, "Redis stopped 2 s, started empty", self._redis),
            (0.70, "Postgres stopped 3 s", self._postgres),
        ]

    def due(self, share: float) -> list[tuple[str, Callable[[], None]]]:
        out = [(what, fire) for at, what, fire in self.steps if at <= share]
        self.steps = [s for s in self.steps if s[0] > share]
        return out

    def _github(self) -> None:
        self.sim.state.fail_next(30, status=502)
        self.sim.state.secondary_rate_limit(10, retry_after=2)

    def _kill_worker(self) -> None:
        self.procs.kill_worker(self.procs.workers[0])
        self.procs.start_worker()

    def _redis(self) -> None:
        self.redis.stop()
        time.sleep(2)
        self.redis.start()

    def _postgres(self) -> None:
        self.postgres.stop()
        time.sleep(3)
        self.postgres.start()


def run_once(name: str, rate: float, settle: float, prs: int) -> Json:
    workers = 1 if name == "1-worker" else 2
    faults = name == "faults"
    print(f"\n== {name}: {prs} pull requests, {prs * 10} deliveries, {workers} worker(s)")
    tmp = Path(tempfile.mkdtemp(prefix=f"cairn-reliability-{name}-"))
    since = time.time()
    with PostgresServer() as postgres, RedisServer() as redis:
        postgres.psql("CREATE DATABASE bench")
        base_env = dict(os.environ)
        with world(
            base_env,
            database_url=postgres.url_for("bench"),
            redis_url=redis.url,
            home=tmp / "home",
        ) as sim:
            sim.env.update(
                # one installation here: let it use both workers (the default limit is 2)
                CAIRN_INSTALLATION_CONCURRENCY="20",
                CAIRN_LOG_LEVEL="WARNING",
                # a killed worker's job runs again after this much (the default is 15 min)
                CAIRN_JOB_TIMEOUT="60",
                CAIRN_JOB_RERUN_AFTER="2",
                CAIRN_REDELIVERY_INTERVAL="1",
            )
            for n in range(1, prs + 1):
                sim.open_pull_request(n)
            with cairn(sim, tmp / "logs", workers=workers) as procs:
                figures = _drive(sim, procs, redis, postgres, rate, settle, prs, faults)
                figures["tracebacks"] = len(procs.tracebacks())
            queue = asyncio.run(_queue_latencies(redis.url, sim, since))
    figures.update(name=name, workers=workers, queue_latency_s=_percentiles(queue))
    figures["logs"] = str(tmp / "logs")
    print(json.dumps({k: v for k, v in figures.items() if k != "fault_log"}, indent=1))
    return figures


def _drive(
    sim: World,
    procs: Processes,
    redis: RedisServer,
    postgres: PostgresServer,
    rate: float,
    settle: float,
    prs: int,
    faults: bool,
) -> Json:
    items = plan(prs, SEED)
    firing = Faults(sim, procs, redis, postgres) if faults else None
    answers: Counter[str] = Counter()
    guids: dict[int, list[str]] = {}
    asked: dict[int, float] = {}  # pull request -> when its first reviewing delivery was sent
    done: dict[int, float] = {}
    lock = threading.Lock()
    stop = threading.Event()

    def watch() -> None:  # when each pull request's review completes
        while not stop.is_set():
            for n in list(asked):
                if n not in done and sim.reviewed(n):
                    done[n] = time.monotonic()
            time.sleep(0.2)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    fault_log: list[str] = []
    started = time.monotonic()
    senders: list[threading.Thread] = []

    def send(i: int, n: int, action: str) -> None:
        with lock:
            earlier = guids.get(n, [])
            guid = earlier[i % len(earlier)] if action == "redelivery" and earlier else None
            action = "opened" if action == "redelivery" else action
            if guid is None:
                guid = sim.delivery_id()
                guids.setdefault(n, []).append(guid)
            if action in REVIEWING:
                asked.setdefault(n, time.monotonic())
        attempt = sim.post(n, delivery_id=guid, action=action)
        with lock:
            answers[str(attempt.status_code)] += 1

    for i, (n, action, _) in enumerate(items):
        scheduled = started + i / rate
        delay = scheduled - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        if firing is not None:
            for what, fire in firing.due(i / len(items)):
                at = time.monotonic() - started
                fault_log.append(f"{at:.1f} s: {what}")
                print(f"   fault at {at:.1f} s: {what}")
                threading.Thread(target=fire, daemon=True).start()
        t = threading.Thread(target=send, args=(i, n, action), daemon=True)
        t.start()
        senders.append(t)
    for t in senders:
        t.join(30)
    sent_s = time.monotonic() - started
    try:
        wait_for(sim.all_reviewed, "every pull request reviewed", timeout=settle)
    except AssertionError as exc:
        print(f"   {exc}")
    time.sleep(1.0)
    stop.set()
    watcher.join(5)
    tally = sim.tally()
    e2e = [done[n] - asked[n] for n in done if n in asked]
    last = max(done.values(), default=started)
    return {
        "deliveries": len(items),
        "answers": dict(answers),
        "send_seconds": round(sent_s, 2),
        "tally": tally.as_dict(),
        "throughput_reviews_per_s": round(len(done) / (last - started), 2) if done else 0.0,
        "wall_seconds": round(last - started, 1),
        "e2e_latency_s": _percentiles(e2e),
        "fault_log": fault_log,
        "check_runs": len(sim.state.runs(REPO)),
    }


async def _queue_latencies(redis_url: str, sim: World, since: float) -> list[float]:
    """arq's enqueue-to-start of each review job's last attempt (results kept in Redis; a
    Redis restart loses those finished before it; a job arq found expired has no times)."""
    pool = await create_pool(RedisSettings.from_dsn(redis_url))
    repo_id = sim.state.repos[REPO].id
    out = []
    try:
        for head in sim.heads.values():
            try:
                info = await Job(f"review:{repo_id}:{head}", pool).result_info()
            except DeserializationError:
                continue
            if info is not None and info.enqueue_time.timestamp() >= since:
                out.append((info.start_time - info.enqueue_time).total_seconds())
    finally:
        await pool.aclose()
    return out


# --- the RESULTS.md section ------------------------------------------------------------------


def _s(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.1f} s"


def render(figures: Json) -> str:
    runs = figures["runs"]
    lines = [
        BEGIN,
        "## Reliability: load and faults (the GitHub App)",
        "",
        f"`{figures['command']}` ({figures['when']}; {figures['machine']}) — real `cairn serve`"
        " and `cairn worker` processes, the GitHub simulator sending signed deliveries, and a"
        " Redis and a Postgres (pgvector) of the bench's own on loopback ports. "
        f"{figures['prs']} pull requests, each with one planted duplicate; "
        f"{figures['prs'] * 10:,} deliveries (10 per pull "
        "request: four actions of one head, two redeliveries, four actions Cairn ignores) in a "
        f"seeded random order at {figures['rate']:.0f}/s.",
        "",
        "| run | workers | deliveries sent | answers | to review | reviewed | lost | duplicate "
        "comments | stuck check runs | throughput | queue p50 / p95 / p99 | end to end p50 / "
        "p95 / p99 |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        t, q, e = r["tally"], r["queue_latency_s"], r["e2e_latency_s"]
        answers = ", ".join(f"{k}: {v}" for k, v in sorted(r["answers"].items()))
        lines.append(
            f"| {r['name']} | {r['workers']} | {r['deliveries']} | {answers} | {t['sent']} | "
            f"{t['reviewed']} | {t['lost']} | {t['duplicate_comments']} | {t['stuck_runs']} | "
            f"{r['throughput_reviews_per_s']:.2f} reviews/s | "
            f"{_s(q['p50'])} / {_s(q['p95'])} / {_s(q['p99'])} (n={q['n']}) | "
            f"{_s(e['p50'])} / {_s(e['p95'])} / {_s(e['p99'])} |"
        )
    lines += [
        "",
        "- Targets: lost 0, duplicate comments 0, stuck check runs 0.",
        "- Queue latency: arq's enqueue to the start of a review job's last attempt (a deferred "
        "job's waits included); n counts the jobs whose result Redis still held (the faults "
        "run's Redis restart drops those finished before it). End to end: the first delivery "
        "asking for a review to its three completed check runs.",
        "- Throughput: reviews completed per second from the first delivery to the last review.",
        "- Settings: CAIRN_INSTALLATION_CONCURRENCY=20 (one installation here; the default 2 "
        "would cap both workers at two reviews), CAIRN_JOB_TIMEOUT=60 and "
        "CAIRN_JOB_RERUN_AFTER=2 (a killed worker's job runs again after 62 s, not 15 min), "
        "CAIRN_REDELIVERY_INTERVAL=1 (minutes). The 2-core machine is shared with other work: "
        "see the load average; a second worker adds processes, not cores.",
    ]
    for r in runs:
        if r.get("fault_log"):
            lines.append(f"- Faults in `{r['name']}`: " + "; ".join(r["fault_log"]) + ".")
    lines += [f"- {note}" for note in figures.get("notes", [])]
    lines.append(END)
    return "\n".join(lines) + "\n"


def write_section(text: str) -> None:
    """Replace the reliability block of RESULTS.md (or append it), leaving the rest as is."""
    old = RESULTS.read_text() if RESULTS.exists() else ""
    begin, end = old.find(BEGIN), old.find(END)
    if begin != -1 and end != -1:
        new = old[:begin] + text.rstrip("\n") + old[end + len(END) :]
    else:
        new = (old.rstrip("\n") + "\n\n" if old else "") + text
    RESULTS.write_text(new if new.endswith("\n") else new + "\n")
    print(f"wrote the reliability section of bench/{RESULTS.name}")


def _machine() -> str:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{os.cpu_count()} cores, load average at the end {load}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", nargs="*", default=list(RUNS), choices=RUNS)
    parser.add_argument("--rate", type=float, default=50.0, help="deliveries per second")
    parser.add_argument(
        "--settle", type=float, default=240.0, help="seconds after the last delivery"
    )
    parser.add_argument("--prs", type=int, default=PRS, help="pull requests (10 deliveries each)")
    parser.add_argument("--report-only", action="store_true")
    args = parser.parse_args()
    if not args.report_only:
        runs = [run_once(name, args.rate, args.settle, args.prs) for name in args.runs]
        argv = " ".join(shlex.quote(a) for a in sys.argv[1:])
        figures = {
            "command": f"python bench/reliability.py {argv}".strip(),
            "when": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": _machine(),
            "rate": args.rate,
            "prs": args.prs,
            "runs": runs,
        }
        WORK.mkdir(parents=True, exist_ok=True)
        FIGURES.write_text(json.dumps(figures, indent=1))
    figures = json.loads(FIGURES.read_text())
    write_section(render(figures))


if __name__ == "__main__":
    main()
