"""The GitHub App's speed: webhook acknowledgement latency and throughput, end-to-end latency.

1. ``ack``: a real ``cairn serve`` process (embedded Postgres, Redis db 11) and an open-loop
   load generator on loopback (``loadgen``, a minimal asyncio HTTP/1.1 client: httpx cost
   ~1.7 ms of CPU a request and fell seconds behind its schedule at 500/s): signed
   ``pull_request`` deliveries from the real ``opened`` payload, each with its own delivery
   id, PR number and head sha (so each records a delivery and enqueues a job), sent on a
   fixed schedule. Latency is measured from the *scheduled* send time, so a slow server cannot
   hide its queue (coordinated omission). The issue's rate for 10 s, then rising rates, then
   closed loops. No worker runs: the jobs just queue (and are flushed afterwards).
   ``ack-fast``: the same with uvloop and httptools on ``cairn serve``'s path (pip-installed
   into ``bench/.work/serve-extras``; the test venv has neither).
2. ``e2e``: Django's source (the ``django`` corpus) as the base commit of a repository in the
   GitHub simulator, ``cairn serve`` + ``cairn worker``; the first index is triggered by an
   ``installation_repositories`` delivery and timed apart; then pull requests of ~300 lines
   (see ``review_change``: copied functions plus new code), one after the other, each timed
   from its signed ``pull_request`` delivery to its three completed check runs.

Usage (the test venv: Cairn, the simulator under ``tests/``, httpx, uvicorn; ~5 minutes)::

    /work/venv/bin/python bench/app_speed.py [--part ack ack-fast e2e] [--rate 500] [--prs 5]
    /work/venv/bin/python bench/app_speed.py --report-only   # the RESULTS.md section again

Figures go to ``bench/.work/app_speed.json``; ``app_report`` rewrites the section between the
``app_speed`` markers of ``bench/RESULTS.md`` (``run.py`` keeps it when it rewrites the file).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import hmac
import json
import os
import resource
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil
import redis

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))  # the simulator lives in tests/

import gitrepo  # noqa: E402
import review_change  # noqa: E402
from app_report import ACK_TARGET_RATE, STEP_S, render, write_section  # noqa: E402
from corpus import WORK  # noqa: E402
from loadgen import LoadRun, closed_loop, open_loop, show, sustained  # noqa: E402

from tests.github_sim import State, serve  # noqa: E402
from tests.github_sim.keys import rsa_keypair  # noqa: E402

CAIRN = Path(sys.executable).parent / "cairn"
HOME = WORK / "cairn-home-app"
LOGS = WORK / "app-logs"
FIGURES = WORK / "app_speed.json"
EXTRAS = WORK / "serve-extras"
EXTRA_PKGS = ("uvloop", "httptools")
WEBHOOKS = ROOT / "tests" / "fixtures" / "webhooks"
APP_ID, INSTALLATION, REPO = 4242, 77, "django/django"
SECRET = "bench webhook secret"
REDIS_DB = 11
STEP_RATES = (200, 300, 400, 600, 800, 1000, 1500)
SEED = 20250101
PARTS = ("ack", "ack-fast", "e2e")

Json = dict[str, Any]


# --- processes ---------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_for(predicate: Callable[[], bool], what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.02)


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@dataclass
class World:
    state: State
    env: dict[str, str]


@contextmanager
def world() -> Iterator[World]:
    """The simulator (a thread of this process) and the environment of the cairn processes."""
    state = State()
    private, public = rsa_keypair()
    state.register_app(APP_ID, public)
    state.add_installation(INSTALLATION, APP_ID, [REPO])
    with serve(state) as api_url:
        env = dict(
            os.environ,
            GITHUB_APP_ID=str(APP_ID),
            GITHUB_PRIVATE_KEY=private,
            GITHUB_WEBHOOK_SECRET=SECRET,
            GITHUB_API_URL=api_url,
            REDIS_URL=f"redis://127.0.0.1:6379/{REDIS_DB}",
            CAIRN_HOME=str(HOME),
        )
        yield World(state, env)


@contextmanager
def cairn(env: dict[str, str], *, worker: bool) -> Iterator[tuple[str, psutil.Process]]:
    """``cairn serve`` (and ``cairn worker``) on a free port; yields its URL and process."""
    LOGS.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    procs: list[subprocess.Popen[bytes]] = []
    with (LOGS / "serve.log").open("a") as serve_log, (LOGS / "worker.log").open("a") as wlog:
        procs.append(
            subprocess.Popen([str(CAIRN), "serve", "--port", str(port)], env=env, stderr=serve_log)
        )
        if worker:
            procs.append(subprocess.Popen([str(CAIRN), "worker"], env=env, stderr=wlog))
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_for(lambda: _healthy(url), "cairn serve to answer /healthz", 90)
            yield url, psutil.Process(procs[0].pid)
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def _postgres() -> list[psutil.Process]:
    """The embedded Postgres of ``HOME`` and its backends."""
    pid_file = HOME / "pg" / "postmaster.pid"
    try:
        main = psutil.Process(int(pid_file.read_text().split()[0]))
        return [main, *main.children(recursive=True)]
    except (OSError, ValueError, psutil.Error):
        return []


def _stop_postgres() -> None:
    """Stop the embedded Postgres of ``HOME`` if one is still running (fast shutdown)."""
    procs = _postgres()
    if procs:
        procs[0].send_signal(signal.SIGINT)
        psutil.wait_procs(procs[:1], timeout=30)


def _cpu(procs: list[psutil.Process]) -> dict[int, float]:
    out = {}
    for p in procs:
        try:
            t = p.cpu_times()
            out[p.pid] = t.user + t.system
        except psutil.Error:
            pass
    return out


class CpuMeter:
    """CPU seconds over a run: this process (the generator), serve, Postgres, the machine."""

    def __init__(self, serve_proc: psutil.Process) -> None:
        self.serve = serve_proc
        self.pg = _postgres()

    def __enter__(self) -> CpuMeter:
        self.t0 = time.monotonic()
        self.self0 = _self_cpu()
        self.serve0 = _cpu([self.serve])
        self.pg0 = _cpu(self.pg)
        self.machine0 = psutil.cpu_times()
        return self

    def __exit__(self, *_: object) -> None:
        wall = time.monotonic() - self.t0
        m0, m1 = self.machine0, psutil.cpu_times()
        total = sum(m1) - sum(m0)
        idle = (m1.idle - m0.idle) + (m1.iowait - m0.iowait)
        pg1 = _cpu(self.pg)
        self.figures = {
            "wall_s": wall,
            "generator_cores": (_self_cpu() - self.self0) / wall,
            "serve_cores": sum(_cpu([self.serve]).values()) - sum(self.serve0.values()),
            "postgres_cores": sum(pg1[k] - self.pg0.get(k, 0.0) for k in pg1),
            "machine_busy_cores": psutil.cpu_count() * (1 - idle / total) if total else 0.0,
        }
        self.figures["serve_cores"] /= wall
        self.figures["postgres_cores"] /= wall


def _self_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


# --- webhooks ----------------------------------------------------------------------------------


def _signed(event: str, body: bytes, delivery_id: str) -> dict[str, str]:
    return {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery_id,
        "X-Hub-Signature-256": "sha256="
        + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest(),
        "Content-Type": "application/json",
    }


def pull_request_payload(state: State, number: int, head: str, base: str) -> Json:
    """The real ``pull_request.opened`` payload, carrying the simulated repository's values."""
    payload: Json = json.loads((WEBHOOKS / "pull_request.opened.json").read_text())
    repo = state.repos[REPO]
    payload["installation"]["id"] = INSTALLATION
    payload["repository"].update(id=repo.id, full_name=REPO, default_branch=repo.default_branch)
    payload["number"] = number
    payload["pull_request"].update(number=number, draft=False)
    payload["pull_request"]["head"]["sha"] = head
    payload["pull_request"]["base"]["sha"] = base
    return payload


def ack_requests(state: State, count: int, tag: str) -> list[bytes]:
    """``count`` signed deliveries, each a new PR number and head sha (each enqueues a job)."""
    placeholder_number, placeholder_sha = 987654321, "f" * 40
    template = json.dumps(
        pull_request_payload(state, placeholder_number, placeholder_sha, "e" * 40)
    ).encode()
    out = []
    for i in range(count):
        sha = hashlib.sha1(f"{tag}:{i}".encode()).hexdigest()
        body = template.replace(b"%d" % placeholder_number, b"%d" % (i + 1)).replace(
            placeholder_sha.encode(), sha.encode()
        )
        headers = _signed("pull_request", body, f"{tag}-{i}")
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        out.append(
            f"POST /webhooks HTTP/1.1\r\nHost: 127.0.0.1\r\n{head}"
            f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
    return out


def serve_extras() -> Path:
    """uvloop and httptools, installed apart with pip for ``cairn serve`` alone (uvicorn uses
    them when it can import them: ``uvicorn[standard]``); the test venv has neither."""
    if not (EXTRAS / "uvloop").is_dir() or not (EXTRAS / "httptools").is_dir():
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "--target", str(EXTRAS), *EXTRA_PKGS],
            check=True,
        )
    return EXTRAS


def _serve_stack(env: dict[str, str]) -> str:
    """What uvicorn runs `cairn serve` on in this environment (it picks uvloop/httptools up)."""
    probe = (
        "import importlib.util as u; "
        "print('uvloop' if u.find_spec('uvloop') else 'asyncio', "
        "'httptools' if u.find_spec('httptools') else 'h11')"
    )
    loop, http = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    return f"{loop} with {http}"


def measure_ack(rate: int, seconds: float, extras: Path | None = None) -> Json:
    redis.Redis(db=REDIS_DB).flushdb()
    load_before = os.getloadavg()
    with world() as w:
        if extras is not None:
            w.env["PYTHONPATH"] = str(extras)
        return _measure_ack(w, rate, seconds) | {
            "serve_pythonpath": str(extras.relative_to(ROOT)) if extras else None,
            "serve_stack": _serve_stack(w.env),
            "load_before": _load(load_before),
            "load_after": _load(os.getloadavg()),
        }


def _load(values: tuple[float, float, float]) -> str:
    return " / ".join(f"{v:.2f}" for v in values)


def _measure_ack(w: World, rate: int, seconds: float) -> Json:
    with cairn(w.env, worker=False) as (base_url, serve_proc):
        port = int(base_url.rsplit(":", 1)[1])
        print(f"signing deliveries ... ({int(rate * seconds):,} for the target run)", flush=True)
        pool = ack_requests(w.state, int(rate * seconds), "ack-target")
        runs: list[LoadRun] = []

        def timed(coro_factory: Callable[[], Any]) -> LoadRun:
            with CpuMeter(serve_proc) as meter:
                result = asyncio.run(coro_factory())
            run: LoadRun = result
            run.cpu = meter.figures
            show(run)
            runs.append(run)
            return run

        # A short warm-up at the target rate (connections, Postgres plans), not reported.
        warm = ack_requests(w.state, int(rate), "ack-warmup")
        asyncio.run(open_loop(port, warm, rate, 1.0))
        time.sleep(1)
        print(f"open loop at {rate}/s for {seconds:.0f} s", flush=True)
        target = timed(lambda: open_loop(port, pool, rate, seconds))
        time.sleep(1)
        steps: list[LoadRun] = []
        for step_rate in STEP_RATES:
            reqs = ack_requests(w.state, int(step_rate * STEP_S), f"ack-{step_rate}")
            print(f"open loop at {step_rate}/s for {STEP_S:.0f} s", flush=True)
            steps.append(timed(lambda r=reqs, s=step_rate: open_loop(port, r, s, STEP_S)))
            time.sleep(1)
            # the machine is shared: one step can lose to a neighbour; two in a row cannot
            if len(steps) >= 2 and not any(sustained(s) for s in steps[-2:]):
                break
        closed: list[LoadRun] = []
        for concurrency in (1, 16):
            reqs = ack_requests(w.state, 15_000, f"ack-closed-{concurrency}")
            print(f"closed loop, {concurrency} clients, {STEP_S:.0f} s", flush=True)
            closed.append(timed(lambda r=reqs, c=concurrency: closed_loop(port, r, c, STEP_S)))
            time.sleep(1)
        queued = redis.Redis(db=REDIS_DB).zcard("arq:queue")
        redis.Redis(db=REDIS_DB).flushdb()  # no worker should ever run those jobs
    return {
        "generator": "a minimal asyncio HTTP/1.1 client in this process (`Generator`: "
        "prepared request bytes, only the status line and Content-Length read back). httpx's "
        "AsyncClient was tried first and was the bottleneck: at 500/s it used 0.88 of a core "
        "and started requests up to 2.3 s (p99) behind schedule, while `cairn serve` idled",
        "target": asdict(target),
        "steps": [asdict(r) for r in steps],
        "closed": [asdict(r) for r in closed],
        "jobs_queued": queued,
        "payload_bytes": len(pool[0]),
    }


# --- end to end --------------------------------------------------------------------------------


def corpus_files(repo: Path) -> dict[str, bytes]:
    """Every file of the corpus repository at its base tag, read from git."""
    listing = gitrepo.git(repo, "ls-tree", "-r", "-z", gitrepo.BASE_TAG)
    entries = []
    for line in listing.split("\0"):
        if line:
            meta, path = line.split("\t", 1)
            _, kind, sha = meta.split()
            if kind == "blob":
                entries.append((path, sha))
    batch = subprocess.run(
        ["git", "-C", str(repo), "cat-file", "--batch"],
        input="".join(f"{sha}\n" for _, sha in entries).encode(),
        capture_output=True,
        check=True,
    ).stdout
    files: dict[str, bytes] = {}
    offset = 0
    for path, _ in entries:
        newline = batch.index(b"\n", offset)
        size = int(batch[offset:newline].split()[2])
        files[path] = batch[newline + 1 : newline + 1 + size]
        offset = newline + 1 + size + 1
    return files


def _job_result(r: redis.Redis, job_id: str) -> Any:
    from arq.jobs import deserialize_result

    raw = r.get(f"arq:result:{job_id}")
    return None if raw is None else deserialize_result(raw)


def _completed(state: State, head: str) -> int:
    with state.lock:
        return sum(
            1 for run in state.runs(REPO) if run.head_sha == head and run.status == "completed"
        )


def measure_e2e(prs: int) -> Json:
    repo_dir = WORK / "django"
    if not gitrepo.has_tag(repo_dir, gitrepo.BASE_TAG):
        raise SystemExit("no django corpus: run `python bench/corpus.py` first")
    r = redis.Redis(db=REDIS_DB)
    r.flushdb()
    load_before = os.getloadavg()
    files = corpus_files(repo_dir)
    lines = sum(content.count(b"\n") for content in files.values())
    with world() as w:
        state = w.state
        base = state.commit(REPO, files, "Django 5.2.8", branch="main")
        print(f"simulated {REPO}: {len(files):,} files, {lines:,} lines", flush=True)
        with cairn(w.env, worker=True) as (url, _):
            added: Json = json.loads(
                (WEBHOOKS / "installation_repositories.added.json").read_text()
            )
            added["installation"]["id"] = INSTALLATION
            added["repositories_added"] = [
                {"id": state.repos[REPO].id, "full_name": REPO, "name": "django"}
            ]
            body = json.dumps(added).encode()
            requests_before = len(state.requests)
            t0 = time.monotonic()
            answer = httpx.post(
                f"{url}/webhooks",
                content=body,
                headers=_signed("installation_repositories", body, "e2e-index"),
                timeout=10,
            )
            assert answer.status_code == 202, answer.text
            job_id = f"index:{state.repos[REPO].id}:e2e-index"
            _wait_for(lambda: _job_result(r, job_id) is not None, "the first index", 900)
            index_s = time.monotonic() - t0
            result = _job_result(r, job_id)
            print(f"first index: {index_s:.1f} s: {result.result}", flush=True)
            index = {
                "seconds": index_s,
                "success": result.success,
                "result": str(result.result),
                "github_requests": len(state.requests) - requests_before,
            }
            reviews = [_one_review(state, url, base, files, repo_dir, n) for n in range(prs)]
    times = [rv["seconds"] for rv in reviews]
    return {
        "load_before": _load(load_before),
        "load_after": _load(os.getloadavg()),
        "files": len(files),
        "lines": lines,
        "index": index,
        "reviews": reviews,
        "p50_s": statistics.median(times),
        "max_s": max(times),
        "unknown_routes": list(state.unknown_routes),
    }


def _one_review(
    state: State, url: str, base: str, files: dict[str, bytes], repo_dir: Path, n: int
) -> Json:
    change = review_change.build("django", repo_dir, SEED + n)
    number = 101 + n
    head = state.commit(
        REPO, files | {change.path: change.text.encode()}, f"PR {number}", parents=[base]
    )
    state.open_pull_request(REPO, base, head, title=f"Review bench {n}", number=number)
    body = json.dumps(pull_request_payload(state, number, head, base)).encode()
    requests_before = len(state.requests)
    t0 = time.monotonic()
    answer = httpx.post(
        f"{url}/webhooks",
        content=body,
        headers=_signed("pull_request", body, f"e2e-pr-{number}"),
        timeout=10,
    )
    ack_s = time.monotonic() - t0
    assert answer.status_code == 202, answer.text
    _wait_for(lambda: _completed(state, head) == 3, "three completed check runs", 300)
    seconds = time.monotonic() - t0
    time.sleep(0.3)  # the job may still be tidying up after the last run's completion
    with state.lock:
        runs = {run.name: run.conclusion for run in state.runs(REPO) if run.head_sha == head}
        comments = [c for c in state.review_comments(REPO, number) if c.in_reply_to_id is None]
    flagged = traced = 0
    for c in change.copies:
        on_it = [
            m
            for m in comments
            if m.path == change.path
            and (m.start_line or m.line) <= c.end_line
            and m.line >= c.start_line
        ]
        flagged += bool(on_it)
        origin_path, _, _ = c.origin_span
        traced += any(f"/{origin_path}#L" in m.body for m in on_it)
    print(
        f"PR {number}: {seconds:.2f} s to 3 completed runs ({runs}); {len(comments)} comments, "
        f"copies flagged {flagged}/{len(change.copies)}, traced {traced}",
        flush=True,
    )
    return {
        "number": number,
        "lines": change.lines,
        "copies": len(change.copies),
        "seconds": seconds,
        "ack_ms": ack_s * 1000,
        "runs": runs,
        "comments": len(comments),
        "copies_flagged": flagged,
        "copies_traced": traced,
        "github_requests": len(state.requests) - requests_before,
    }


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", nargs="*", choices=PARTS, default=list(PARTS))
    parser.add_argument("--rate", type=int, default=ACK_TARGET_RATE)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--prs", type=int, default=5)
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument("--note", action="append", help="a remark for the section (replaces)")
    args = parser.parse_args()
    if not args.report_only:
        figures: Json = json.loads(FIGURES.read_text()) if FIGURES.exists() else {}
        _stop_postgres()  # one left running by an earlier run would hold the old database
        shutil.rmtree(HOME, ignore_errors=True)  # a fresh database: the first index is first
        load_before = os.getloadavg()
        parts: dict[str, Callable[[], Json]] = {
            "ack": lambda: measure_ack(args.rate, args.seconds),
            "ack_fast": lambda: measure_ack(args.rate, args.seconds, serve_extras()),
            "e2e": lambda: measure_e2e(args.prs),
        }
        try:
            for part in args.part:
                key = part.replace("-", "_")
                figures[key] = parts[key]() | {"when": _now()}
        finally:
            # pgserver should stop it once the last cairn process is gone; after SIGTERM to
            # serve and worker it does not, so the bench stops the server its processes began
            _stop_postgres()
        figures.update(
            command=shlex.join(["python", "bench/app_speed.py", *sys.argv[1:]]),
            python=Path(sys.executable).as_posix().replace(str(ROOT) + "/", ""),
            when=_now(),
            machine=f"{os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.1f} GiB",
            load_before=" / ".join(f"{v:.2f}" for v in load_before),
            load_after=" / ".join(f"{v:.2f}" for v in os.getloadavg()),
        )
        FIGURES.parent.mkdir(parents=True, exist_ok=True)
        FIGURES.write_text(json.dumps(figures, indent=2))
    if not FIGURES.exists():
        raise SystemExit("no figures: run `bench/app_speed.py` first")
    if args.note:
        FIGURES.write_text(json.dumps(json.loads(FIGURES.read_text()) | {"notes": args.note}))
    write_section(render(json.loads(FIGURES.read_text())))


if __name__ == "__main__":
    main()
