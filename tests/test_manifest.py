"""app.yml is a GitHub App manifest with exactly the permissions and events Cairn needs."""

from __future__ import annotations

from pathlib import Path

import yaml

MANIFEST = Path(__file__).parent.parent / "app.yml"


def test_manifest_permissions_and_events() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text())
    assert manifest["default_permissions"] == {
        "checks": "write",
        "pull_requests": "write",
        "contents": "read",
        "metadata": "read",
        "issues": "read",
    }
    assert set(manifest["default_events"]) == {
        "pull_request",
        "pull_request_review_comment",
        "issue_comment",
        "check_suite",
        "check_run",
        "push",
    }
    assert manifest["hook_attributes"]["url"].endswith("/webhooks")
    assert {"name", "url", "description", "public"} <= manifest.keys()


def test_cairn_setup_registers_what_app_yml_shows() -> None:
    from app.setup import SetupOptions, manifest

    shown = yaml.safe_load(MANIFEST.read_text())
    options = SetupOptions(public_url="https://cairn.example.com", env_file=Path(".env"))
    built = manifest(options, redirect_url="http://127.0.0.1:8000/callback")
    assert {k: v for k, v in built.items() if k != "redirect_url"} == {
        k: v for k, v in shown.items() if k != "redirect_url"
    }
