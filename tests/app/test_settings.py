from __future__ import annotations

from pathlib import Path

import pytest

from app.settings import Settings, redacted
from checks.config import ConfigError

PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----"


def test_app_settings_from_the_environment(tmp_path: Path) -> None:
    key = tmp_path / "app.pem"
    key.write_text(PEM)
    env = {
        "CAIRN_HOME": str(tmp_path),
        "GITHUB_APP_ID": "42",
        "GITHUB_PRIVATE_KEY_PATH": str(key),
        "GITHUB_WEBHOOK_SECRET": "s3cret",
        "GITHUB_API_URL": "https://ghe.example.com/api/v3/",
    }
    app = Settings.from_env(env).app()
    assert (app.app_id, app.api_url, app.redis_url) == (
        42,
        "https://ghe.example.com/api/v3",
        "redis://127.0.0.1:6379",
    )
    assert app.web_url == "https://ghe.example.com"
    assert app.private_key.reveal() == PEM
    assert "s3cret" not in repr(app) and "PRIVATE KEY" not in repr(app)


def test_every_missing_or_invalid_setting_is_named(tmp_path: Path) -> None:
    env = {
        "CAIRN_HOME": str(tmp_path),
        "GITHUB_APP_ID": "my-app",
        "GITHUB_PRIVATE_KEY_PATH": str(tmp_path / "missing.pem"),
        "REDIS_URL": "localhost:6379",
    }
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(env).app()
    problems = " | ".join(caught.value.problems)
    assert "GITHUB_APP_ID must be a number" in problems
    assert "GITHUB_PRIVATE_KEY_PATH: cannot read" in problems
    assert "GITHUB_WEBHOOK_SECRET is not set" in problems
    assert "REDIS_URL must be a redis:// URL" in problems


def test_a_key_that_is_not_pem_is_refused(tmp_path: Path) -> None:
    env = {"GITHUB_APP_ID": "1", "GITHUB_PRIVATE_KEY": "hunter2", "GITHUB_WEBHOOK_SECRET": "x"}
    with pytest.raises(ConfigError, match="not a PEM private key"):
        Settings.from_env(env).app()


def test_home_defaults_to_the_runners_temp_dir_in_github_actions(tmp_path: Path) -> None:
    assert Settings.from_env({"RUNNER_TEMP": str(tmp_path)}).home == tmp_path / "cairn"
    explicit = Settings.from_env({"RUNNER_TEMP": str(tmp_path), "CAIRN_HOME": str(tmp_path / "x")})
    assert explicit.home == tmp_path / "x"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        pytest.param(
            "redis://:s3cret@cache:6379/0", "redis://:***@cache:6379/0", id="redis-password-only"
        ),
        pytest.param(
            "postgresql://cairn:s3cret@db.internal:5432/cairn?sslmode=require",
            "postgresql://cairn:***@db.internal:5432/cairn?sslmode=require",
            id="postgres",
        ),
        pytest.param("postgresql://p%40ss:x@y@h/db", "postgresql://p%40ss:***@h/db", id="at-in-pw"),
        pytest.param("redis://127.0.0.1:6379", "redis://127.0.0.1:6379", id="no-user"),
        pytest.param(
            "postgresql://cairn@db/cairn", "postgresql://cairn@db/cairn", id="no-password"
        ),
        pytest.param("unix:///run/redis.sock", "unix:///run/redis.sock", id="socket"),
    ],
)
def test_redacted_hides_the_password_of_a_url(url: str, shown: str) -> None:
    assert redacted(url) == shown
    assert "s3cret" not in redacted(url)


def test_the_security_bounds_are_read_and_checked(tmp_path: Path) -> None:
    base = {
        "CAIRN_HOME": str(tmp_path),
        "GITHUB_APP_ID": "42",
        "GITHUB_PRIVATE_KEY": PEM,
        "GITHUB_WEBHOOK_SECRET": "s3cret",
    }
    app = Settings.from_env(
        base
        | {
            "CAIRN_ANALYSIS_TIMEOUT": "30",
            "CAIRN_ANALYSIS_MEMORY_MB": "1024",
            "CAIRN_METRICS_TOKEN": "scrape-me",
            "CAIRN_RECHECK_INTERVAL": "0",
        }
    ).app()
    assert (app.analysis_timeout, app.analysis_memory_mb, app.recheck_interval) == (30, 1024, 0)
    assert app.metrics_token is not None and app.metrics_token.reveal() == "scrape-me"
    assert "scrape-me" not in repr(app)
    assert Settings.from_env(base).app().metrics_token is None

    bad = {
        "CAIRN_ANALYSIS_TIMEOUT": "0",
        "CAIRN_ANALYSIS_MEMORY_MB": "64",
        "CAIRN_MAX_REQUESTS": "0",
    }
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(base | bad).app()
    problems = " | ".join(caught.value.problems)
    assert "CAIRN_ANALYSIS_TIMEOUT and CAIRN_BODY_TIMEOUT must be more than 0" in problems
    assert "CAIRN_ANALYSIS_MEMORY_MB must be at least 256" in problems
    assert "CAIRN_MAX_REQUESTS must be at least 1" in problems
