"""The bench's own virtualenv: jscpd 5, psutil and Cairn from this checkout, made at bench time.

``bench/.work/venv`` is created with the interpreter that runs the bench. jscpd comes from its
native PyPI wheel (a Rust rewrite, no Node needed); Cairn is installed editable from the
checkout, reinstalled when ``pyproject.toml`` changes. Standard library only: this module runs
before the venv exists.
"""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
import sys
import venv
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
VENV = BENCH / ".work" / "venv"
JSCPD_VERSION = "5.4.2"
PSUTIL_VERSION = "7.2.2"
_CAIRN_MARKER = VENV / ".cairn-pyproject.sha256"


def bin_path(name: str) -> Path:
    """An executable of the bench venv."""
    return VENV / "bin" / name


PYTHON = bin_path("python")
JSCPD = bin_path("jscpd")
CAIRN = bin_path("cairn")


def _pip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(PYTHON), "-m", "pip", "--disable-pip-version-check", "--quiet", *args],
        capture_output=True,
        text=True,
        check=False,
    )


def _installed(package: str, version: str) -> bool:
    done = _pip("show", package)
    return done.returncode == 0 and f"\nVersion: {version}\n" in f"\n{done.stdout}"


@dataclass(frozen=True)
class Setup:
    cairn_ok: bool
    cairn_error: str


def ensure() -> Setup:
    """Create the venv and install what the bench runs; Cairn's failure is reported, not fatal."""
    if not PYTHON.exists():
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    for package, version in (("jscpd", JSCPD_VERSION), ("psutil", PSUTIL_VERSION)):
        if not _installed(package, version):
            done = _pip("install", f"{package}=={version}")
            if done.returncode != 0:
                raise RuntimeError(f"pip install {package}=={version}: {done.stderr[-800:]}")
    digest = hashlib.sha256((REPO / "pyproject.toml").read_bytes()).hexdigest()
    if CAIRN.exists() and _CAIRN_MARKER.exists() and _CAIRN_MARKER.read_text() == digest:
        return Setup(True, "")
    done = _pip("install", "--editable", str(REPO))
    if done.returncode != 0 or not CAIRN.exists():
        return Setup(False, f"pip install -e {REPO} failed: {done.stderr.strip()[-800:]}")
    _CAIRN_MARKER.write_text(digest)
    return Setup(True, "")


def _output(cmd: list[str]) -> str:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unavailable ({exc})"
    return (done.stdout or done.stderr).strip()


def machine() -> dict[str, str]:
    """What the figures were measured on, and with which versions."""
    mem_kib = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kib = int(line.split()[1])
    cpu = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    cairn_version = _output(
        [str(PYTHON), "-c", "import importlib.metadata as m; print(m.version('cairn-review'))"]
    )
    commit = _output(["git", "-C", str(REPO), "log", "-1", "--format=%h %s"])
    dirty = _output(
        [
            "git",
            "-C",
            str(REPO),
            "status",
            "--porcelain",
            "--",
            "app",
            "checks",
            "analyzers",
            "migrations",
            "pyproject.toml",
        ]
    )
    if dirty:
        commit += "; the working tree had uncommitted changes to Cairn, measured with them"
    return {
        "nproc": _output(["nproc"]),
        "cpu": cpu,
        "memory": f"{mem_kib / 1024 / 1024:.1f} GiB",
        "os": platform.platform(),
        "python": _output([str(PYTHON), "--version"]),
        "jscpd": _output([str(JSCPD), "--version"]),
        "cairn": f"{cairn_version} (checkout {commit})",
        "tree-sitter": _output(
            [str(PYTHON), "-c", "import importlib.metadata as m; print(m.version('tree-sitter'))"]
        ),
    }


def main() -> None:
    setup = ensure()
    print(json.dumps({"setup": setup.__dict__, "machine": machine()}, indent=2))
    if not setup.cairn_ok:
        print(setup.cairn_error, file=sys.stderr)


if __name__ == "__main__":
    main()
