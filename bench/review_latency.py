"""Review latency in a long-lived process, as the App's worker runs it: cold, then warm.

For a corpus (see ``corpus``; ``java`` is the 1.2 M-line one), the ~300-line change of
``review_change`` is committed on a branch; the corpus is indexed once; then one Python process
(Cairn imported, one database pool, as ``cairn worker`` holds them) reviews the change
``--repeat`` times. The first review is *cold*: the process has never built the engine's index
of the base. The next ones are *warm*: the base index is kept between reviews (what a worker
does across the pushes to a repository). Each review is the whole pipeline (index check of the
base, diff, parsing, the three checks), timed with ``time.perf_counter``.

Usage: ``python bench/review_latency.py --corpus java [--repeat 5] [--json FILE]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import time
from pathlib import Path

import corpus
import gitrepo
import review_change

BENCH = Path(__file__).resolve().parent
SEED = 20250101


async def measure(name: str, repo: Path, repeat: int) -> dict[str, object]:
    home = BENCH / ".work" / "cairn-home" / f"latency-{name}"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    os.environ["CAIRN_HOME"] = str(home)
    os.environ.pop("DATABASE_URL", None)
    from app.clones import BASE_INDEXES
    from app.git import GitRepo
    from app.indexer import index_commit
    from app.review import review
    from app.settings import Settings
    from app.source import LocalSource
    from app.store import Store, database
    from checks.config import CairnConfig

    gitrepo.reset_to_base(repo)
    base = gitrepo.head(repo)
    change = review_change.build(name, repo, SEED)
    gitrepo.git(repo, "checkout", "--quiet", "-b", "bench-latency")
    target = repo / change.path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(change.text)
    head = gitrepo.commit_all(repo, "bench: a ~300-line change")
    gitrepo.git(repo, "checkout", "--quiet", "main")
    git = GitRepo(repo)
    settings = Settings.from_env()
    times: list[float] = []
    findings: list[int] = []
    async with database.connect(settings) as pool:
        store = Store(pool)
        row = await store.repository(f"local:{git.root}")
        started = time.perf_counter()
        await index_commit(store, row, LocalSource(git), base)
        index_s = time.perf_counter() - started
        for _ in range(repeat):
            started = time.perf_counter()
            result = await review(store, row, LocalSource(git), base, head, CairnConfig())
            times.append(time.perf_counter() - started)
            findings.append(len(result.findings))
    BASE_INDEXES._cache.clear()
    gitrepo.git(repo, "branch", "--quiet", "-D", "bench-latency")
    gitrepo.reset_to_base(repo)
    shutil.rmtree(home, ignore_errors=True)
    return {
        "corpus": name,
        "change_lines": change.lines,
        "index_s": index_s,
        "cold_s": times[0],
        "warm_s": statistics.median(times[1:]) if len(times) > 1 else None,
        "warm_runs": len(times) - 1,
        "all_s": times,
        "findings": findings,
        "load": os.getloadavg(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    names = [c.name for c in corpus.CORPORA]
    parser.add_argument("--corpus", nargs="*", default=["java"], choices=names)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    built = corpus.build_all(tuple(args.corpus))
    results = [asyncio.run(measure(name, repo, args.repeat)) for name, repo in built.items()]
    for r in results:
        print(
            f"{r['corpus']}: review of a {r['change_lines']}-line change: cold {r['cold_s']:.2f} s,"
            f" warm {r['warm_s']:.2f} s (median of {r['warm_runs']}); findings {r['findings']}"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
