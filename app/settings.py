"""Settings, read once per entry point from the environment and passed down explicitly.

This is the only module that reads ``os.environ``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path


class Secret:
    """A value that never prints: ``repr`` and ``str`` hide it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


GITHUB_API = "https://api.github.com"


def web_url(api_url: str) -> str:
    """Where people browse for an API URL: github.com, or a GitHub Enterprise Server's host."""
    if api_url.rstrip("/") == GITHUB_API:
        return "https://github.com"
    return api_url.rstrip("/").removesuffix("/api/v3")


def redacted(url: str) -> str:
    """``url`` with the password of its user part (``scheme://user:password@host``) hidden."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    netloc, slash, path = rest.partition("/")
    user, at, host = netloc.rpartition("@")
    if not at or ":" not in user:
        return url
    return f"{scheme}://{user.split(':', 1)[0]}:***@{host}{slash}{path}"


@dataclass(frozen=True, slots=True)
class AppSettings:
    """What the GitHub App's processes (``cairn serve``, ``cairn worker``) need besides storage."""

    app_id: int
    private_key: Secret
    webhook_secret: Secret
    api_url: str
    redis_url: str
    review_drafts: bool
    # Reliability (README, "Reliability"): how long a job may run; how long after that a job
    # whose worker died runs again; how many review/index jobs of one installation run at once.
    job_timeout: float = 900.0
    rerun_after: float = 10.0
    installation_concurrency: int = 2
    concurrency_retry: float = 5.0
    redelivery_interval: int = 10  # minutes between asking GitHub for failed deliveries; 0: off
    # Security (SECURITY.md): at most one `/cairn recheck` of a pull request this often; the
    # bounds of one analysis in a child process (wall clock, address space); the child
    # processes one worker keeps; a bearer token for GET /metrics; `cairn serve`'s limits.
    recheck_interval: float = 60.0
    analysis_timeout: float = 120.0
    analysis_memory_mb: int = 2048
    analysis_processes: int = 0  # 0: one per core
    metrics_token: Secret | None = None
    body_timeout: float = 10.0
    max_requests: int = 64

    @property
    def web_url(self) -> str:
        """Where people browse: github.com, or a GitHub Enterprise Server's host."""
        return web_url(self.api_url)


@dataclass(frozen=True, slots=True)
class Settings:
    """Process-wide settings; per-repository ones live in ``.cairn.yml``."""

    home: Path  # CAIRN_HOME: the embedded database lives in home/"pg"
    database_url: Secret | None = None  # DATABASE_URL: an external Postgres with pgvector
    log_level: str = "WARNING"
    env: Mapping[str, str] = field(default_factory=dict, repr=False)

    @property
    def embedded_pgdata(self) -> Path:
        return self.home / "pg"

    @property
    def database_shown(self) -> str:
        """The database, as a start-up line names it: never its password."""
        if self.database_url is not None:
            return redacted(self.database_url.reveal())
        return f"embedded Postgres in {self.embedded_pgdata}"

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, *, env_file: Path | None = None
    ) -> Settings:
        """From ``env`` (default: the process environment) and, for what it leaves unset,
        ``env_file`` when it exists (``cairn serve``/``worker``: the ``.env`` of ``cairn
        setup``; never for commands that may run in a checkout someone else controls)."""
        env = dict(os.environ if env is None else env)
        if env_file is not None:
            env = read_env_file(env_file) | env
        # On a GitHub Actions runner, the embedded database lives under the runner's temp dir
        # (outside the workspace, and what an actions/cache step saves between jobs).
        runner_temp = env.get("RUNNER_TEMP")
        fallback = Path(runner_temp) / "cairn" if runner_temp else _default_home(env)
        home = env.get("CAIRN_HOME") or str(fallback)
        url = env.get("DATABASE_URL") or None
        return cls(
            home=Path(home).expanduser().resolve(),
            database_url=Secret(url) if url else None,
            log_level=env.get("CAIRN_LOG_LEVEL", "WARNING").upper(),
            env={k: v for k, v in env.items() if k.startswith(_APP_PREFIXES)},
        )

    def analysis_bounds(self) -> tuple[float, int]:
        """CAIRN_ANALYSIS_TIMEOUT (seconds) and CAIRN_ANALYSIS_MEMORY_MB, for every command
        that analyses a repository (the App checks them with its other settings)."""
        problems: list[str] = []
        timeout = _number(self.env, "CAIRN_ANALYSIS_TIMEOUT", 120.0, problems) or 120.0
        memory = _number(self.env, "CAIRN_ANALYSIS_MEMORY_MB", 2048.0, problems)
        return timeout, max(256, int(memory))

    def app(self) -> AppSettings:
        """The App's settings; ConfigError naming every missing or invalid one."""
        env, problems = self.env, []
        raw_id = env.get("GITHUB_APP_ID", "").strip()
        if not raw_id:
            problems.append("GITHUB_APP_ID is not set")
        elif not raw_id.isdigit():
            problems.append(f"GITHUB_APP_ID must be a number, not {raw_id!r}")
        key = env.get("GITHUB_PRIVATE_KEY", "").strip()
        if "\n" not in key and "\\n" in key:  # written on one line, as an env file may hold it
            key = key.replace("\\n", "\n")
        key_path = env.get("GITHUB_PRIVATE_KEY_PATH", "").strip()
        if not key and key_path:
            try:
                key = Path(key_path).expanduser().read_text(encoding="utf-8").strip()
            except OSError as exc:
                problems.append(f"GITHUB_PRIVATE_KEY_PATH: cannot read {key_path}: {exc.strerror}")
        if not key and not key_path:
            problems.append("GITHUB_PRIVATE_KEY or GITHUB_PRIVATE_KEY_PATH is not set")
        elif key and "PRIVATE KEY-----" not in key:
            problems.append("the GitHub App private key is not a PEM private key")
        secret = env.get("GITHUB_WEBHOOK_SECRET", "")
        if not secret:
            problems.append("GITHUB_WEBHOOK_SECRET is not set")
        api_url = env.get("GITHUB_API_URL", GITHUB_API).strip() or GITHUB_API
        if not api_url.startswith(("http://", "https://")):
            problems.append(f"GITHUB_API_URL must be an http(s) URL, not {api_url!r}")
        redis_url = env.get("REDIS_URL", "redis://127.0.0.1:6379").strip()
        if not redis_url.startswith(("redis://", "rediss://", "unix://")):
            problems.append(f"REDIS_URL must be a redis:// URL, not {redis_url!r}")
        numbers = {
            name: _number(env, name, default, problems)
            for name, default in (
                ("CAIRN_JOB_TIMEOUT", 900.0),
                ("CAIRN_JOB_RERUN_AFTER", 10.0),
                ("CAIRN_INSTALLATION_CONCURRENCY", 2.0),
                ("CAIRN_CONCURRENCY_RETRY", 5.0),
                ("CAIRN_REDELIVERY_INTERVAL", 10.0),
                ("CAIRN_RECHECK_INTERVAL", 60.0),
                ("CAIRN_ANALYSIS_TIMEOUT", 120.0),
                ("CAIRN_ANALYSIS_MEMORY_MB", 2048.0),
                ("CAIRN_ANALYSIS_PROCESSES", 0.0),
                ("CAIRN_BODY_TIMEOUT", 10.0),
                ("CAIRN_MAX_REQUESTS", 64.0),
            )
        }
        if numbers["CAIRN_ANALYSIS_TIMEOUT"] <= 0 or numbers["CAIRN_BODY_TIMEOUT"] <= 0:
            problems.append("CAIRN_ANALYSIS_TIMEOUT and CAIRN_BODY_TIMEOUT must be more than 0")
        if numbers["CAIRN_ANALYSIS_MEMORY_MB"] < 256:
            problems.append("CAIRN_ANALYSIS_MEMORY_MB must be at least 256")
        if numbers["CAIRN_MAX_REQUESTS"] < 1:
            problems.append("CAIRN_MAX_REQUESTS must be at least 1")
        if numbers["CAIRN_INSTALLATION_CONCURRENCY"] < 1:
            problems.append("CAIRN_INSTALLATION_CONCURRENCY must be at least 1")
        if numbers["CAIRN_JOB_TIMEOUT"] <= 0:
            problems.append("CAIRN_JOB_TIMEOUT must be more than 0 seconds")
        if problems:
            from checks.config import ConfigError

            raise ConfigError(problems, "the environment")
        return AppSettings(
            app_id=int(raw_id),
            private_key=Secret(key),
            webhook_secret=Secret(secret),
            api_url=api_url.rstrip("/"),
            redis_url=redis_url,
            review_drafts=env.get("CAIRN_REVIEW_DRAFTS", "").lower() in ("1", "true", "yes"),
            job_timeout=numbers["CAIRN_JOB_TIMEOUT"],
            rerun_after=numbers["CAIRN_JOB_RERUN_AFTER"],
            installation_concurrency=int(numbers["CAIRN_INSTALLATION_CONCURRENCY"]),
            concurrency_retry=numbers["CAIRN_CONCURRENCY_RETRY"],
            redelivery_interval=int(numbers["CAIRN_REDELIVERY_INTERVAL"]),
            recheck_interval=numbers["CAIRN_RECHECK_INTERVAL"],
            analysis_timeout=numbers["CAIRN_ANALYSIS_TIMEOUT"],
            analysis_memory_mb=int(numbers["CAIRN_ANALYSIS_MEMORY_MB"]),
            analysis_processes=int(numbers["CAIRN_ANALYSIS_PROCESSES"]),
            metrics_token=Secret(token) if (token := env.get("CAIRN_METRICS_TOKEN", "")) else None,
            body_timeout=numbers["CAIRN_BODY_TIMEOUT"],
            max_requests=int(numbers["CAIRN_MAX_REQUESTS"]),
        )


_APP_PREFIXES = ("GITHUB_", "REDIS_", "CAIRN_")


def _number(env: Mapping[str, str], name: str, default: float, problems: list[str]) -> float:
    """A non-negative number of the environment (``default`` when unset); a problem if not."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value >= 0 or value == float("inf"):
        problems.append(f"{name} must be a non-negative number, not {raw!r}")
        return default
    return value


def _default_home(env: Mapping[str, str]) -> Path:
    data = env.get("XDG_DATA_HOME")
    base = Path(data) if data else Path.home() / ".local" / "share"
    return base / "cairn"


_ENV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\", "$": "$"}


def read_env_file(path: Path) -> dict[str, str]:
    """``KEY=value`` lines of an env file (``.env``); {} when there is none.

    Blank lines and ``#`` comments are skipped, ``export`` is allowed; a value may be bare
    (up to a `` #`` comment), in single quotes (literal) or in double quotes (``\\n``,
    ``\\"``, ``\\\\`` escapes). Every malformed line is reported at once (ConfigError).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        from checks.config import ConfigError

        raise ConfigError([f"cannot read it: {exc}"], str(path)) from exc
    values: dict[str, str] = {}
    problems = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _ENV_LINE.match(line)
        value = _env_value(match.group(2)) if match else None
        if match is None or value is None:
            problems.append(f"line {number}: expected KEY=value")
            continue
        values[match.group(1)] = value
    if problems:
        from checks.config import ConfigError

        raise ConfigError(problems, str(path))
    return values


def _env_value(raw: str) -> str | None:
    """A value as written after ``=``; None when its quotes do not close."""
    if raw[:1] == "'":
        end = raw.find("'", 1)
        rest = raw[end + 1 :].strip(" \t") if end > 0 else "unclosed"
        return raw[1:end] if not rest or rest.startswith("#") else None
    if raw[:1] == '"':
        out, i = [], 1
        while i < len(raw):
            char = raw[i]
            if char == "\\" and i + 1 < len(raw):
                out.append(_ESCAPES.get(raw[i + 1], "\\" + raw[i + 1]))
                i += 2
                continue
            if char == '"':
                rest = raw[i + 1 :].strip(" \t")
                return "".join(out) if not rest or rest.startswith("#") else None
            out.append(char)
            i += 1
        return None
    return raw.split(" #", 1)[0].strip()


def env_line(key: str, value: str) -> str:
    """``KEY="value"`` as ``read_env_file`` (and python-dotenv) read it back; one line."""
    escaped = (
        value.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("$", "\\$")
        .replace("\r", "")
        .replace("\n", "\\n")
    )
    return f'{key}="{escaped}"'


def child_env(extra: Mapping[str, str]) -> dict[str, str]:
    """The environment for a child process (``git``): this process's, with ``extra``."""
    return {**os.environ, **extra}
