"""``cairn setup``: the GitHub App manifest flow against the simulator, the test playing the
browser; the ``.env`` it writes, and who reads it."""

from __future__ import annotations

import html
import json
import re
import stat
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.github import GitHubApp
from app.settings import Settings, read_env_file
from app.setup import PERMISSIONS, Registration, SetupOptions, check_env_file, write_env_file
from checks.config import ConfigError
from tests.conftest import GitRepoBuilder
from tests.github_sim import State, serve, transport
from tests.github_sim.manifests import manifests
from tests.servers import free_port

CAIRN = Path(sys.executable).parent / "cairn"
PUBLIC = "https://cairn.example.test"


def _form(page: str) -> tuple[str, dict[str, Any]]:
    """The form's action and the manifest it posts, as a browser reads them."""
    action = re.search(r'<form method="post" action="([^"]+)"', page)
    value = re.search(r'<input type="hidden" name="manifest" value="([^"]+)"', page)
    assert action and value, page
    return html.unescape(action[1]), json.loads(html.unescape(value[1]))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("api_suffix", "org", "action_path"),
    [
        pytest.param("", None, "/settings/apps/new", id="account"),
        pytest.param("/api/v3", "acme", "/organizations/acme/settings/apps/new", id="ghes-org"),
    ],
)
async def test_setup_registers_the_app_and_writes_what_serve_and_worker_read(
    cairn_env: dict[str, str],
    tmp_path: Path,
    api_suffix: str,
    org: str | None,
    action_path: str,
) -> None:
    state = State()
    env_file = tmp_path / "deploy" / ".env"
    env_file.parent.mkdir()
    env_file.write_text("REDIS_URL=redis://cache:6379/0\n")  # kept
    port = free_port()
    with serve(state) as web:
        api_url = web + api_suffix
        args = ["setup", "--url", PUBLIC, "--port", str(port), "--env-file", str(env_file)]
        proc = subprocess.Popen(
            [str(CAIRN), *args, *(["--org", org] if org else [])],
            env=dict(cairn_env, GITHUB_API_URL=api_url),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert proc.stderr is not None
            said = proc.stderr.readline()
            assert f"open http://127.0.0.1:{port}/ in a browser" in said, said
            async with httpx.AsyncClient() as browser:
                page = await browser.get(f"http://127.0.0.1:{port}/")
                assert page.status_code == 200
                action, posted = _form(page.text)
                assert action.startswith(f"{web}{action_path}?state=")
                github = await browser.post(
                    action, data={"manifest": json.dumps(posted)}, follow_redirects=False
                )
                assert github.status_code == 302, github.text
                back = await browser.get(github.headers["location"])
            assert back.status_code == 200, back.text
            assert "install it on repositories" in back.text
            out, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == 0, err

        # the manifest: app.yml's permissions and events, the webhook at the public URL
        assert posted["hook_attributes"] == {"url": f"{PUBLIC}/webhooks", "active": True}
        assert posted["redirect_url"] == f"http://127.0.0.1:{port}/callback"
        assert posted["default_permissions"] == PERMISSIONS
        [app] = manifests(state).registered
        assert (app.owner, app.owner_type) == (
            (org, "Organization") if org else ("octocat", "User")
        )

        # the credentials are in the env file, readable by its owner only, and nowhere else
        written = read_env_file(env_file)
        assert written["GITHUB_APP_ID"] == str(app.id)
        assert written["GITHUB_PRIVATE_KEY"] == app.private_key
        assert written["GITHUB_WEBHOOK_SECRET"] == app.webhook_secret
        assert written["GITHUB_API_URL"] == api_url
        assert written["REDIS_URL"] == "redis://cache:6379/0"
        assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
        for secret in (app.webhook_secret, app.private_key.splitlines()[1], app.client_secret):
            assert secret not in out + err + said
        assert f"{web}/apps/{app.slug}/installations/new" in err

        # what `cairn serve` and `cairn worker` read: the App authenticates as itself
        settings = Settings.from_env({}, env_file=env_file).app()
        assert settings.app_id == app.id and settings.api_url == api_url
        async with GitHubApp(settings.app_id, settings.private_key, settings.api_url) as gh:
            assert await gh.hook_deliveries(since=datetime(2020, 1, 1, tzinfo=UTC)) == []
    assert state.unknown_routes == []


@pytest.fixture
async def registration(tmp_path: Path) -> Registration:
    options = SetupOptions(public_url=PUBLIC, env_file=tmp_path / ".env", api_url="http://sim")
    return Registration(options, port=8123, transport=transport(State()))


async def _get(registration: Registration, url: str, host: str = "127.0.0.1:8123") -> Any:
    asgi = httpx.ASGITransport(app=registration.app())
    async with httpx.AsyncClient(transport=asgi, base_url=f"http://{host}") as client:
        return await client.get(url)


async def test_a_callback_not_of_this_registration_is_refused_and_writes_nothing(
    registration: Registration,
) -> None:
    state = registration.state
    for query in (
        "code=abc&state=guessed",  # a forged redirect
        f"code=../../user&state={state}",  # not a code GitHub makes
        f"state={state}",
    ):
        answer = await _get(registration, f"/callback?{query}")
        assert answer.status_code == 400, query
    assert not registration.done.done()
    assert not registration.options.env_file.exists()


async def test_a_code_github_does_not_know_fails_the_registration(
    registration: Registration,
) -> None:
    answer = await _get(registration, f"/callback?code=deadbeef&state={registration.state}")
    assert answer.status_code == 502
    assert "the registration failed" in answer.text
    with pytest.raises(Exception, match="the registration failed"):
        registration.done.result()
    assert not registration.options.env_file.exists()


async def test_the_page_is_only_served_at_the_addresses_cairn_printed(
    registration: Registration,
) -> None:
    assert "Register the GitHub App" in (await _get(registration, "/")).text
    public = await _get(registration, "/", host="cairn.example.test")
    _, posted = _form(public.text)
    assert posted["redirect_url"] == f"{PUBLIC}/callback"  # back through the public URL
    assert "<form" not in (await _get(registration, "/", host="evil.example")).text


def test_an_env_file_naming_an_app_is_replaced_only_with_force(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text('GITHUB_APP_ID=7\nGITHUB_WEBHOOK_SECRET="x"\n')
    options = SetupOptions(public_url=PUBLIC, env_file=env_file)
    with pytest.raises(Exception, match="already holds the GitHub App 7; pass --force"):
        check_env_file(options)
    check_env_file(SetupOptions(public_url=PUBLIC, env_file=env_file, force=True))


def test_write_env_file_replaces_the_apps_lines_and_keeps_the_others(tmp_path: Path) -> None:
    from app.github import RegisteredApp
    from app.settings import Secret

    env_file = tmp_path / ".env"
    env_file.write_text("# ours\nexport GITHUB_APP_ID=7\nDATABASE_URL=postgresql://db/cairn\n")
    pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----"
    app = RegisteredApp(
        app_id=8,
        slug="cairn-acme",
        name="Cairn (acme)",
        html_url="https://github.com/apps/cairn-acme",
        private_key=Secret(pem),
        webhook_secret=Secret('we"ird$secret'),
        client_id="Iv1.x",
        client_secret=Secret("y"),
    )
    write_env_file(env_file, app, "https://api.github.com")
    text = env_file.read_text()
    assert text.startswith("# ours\nDATABASE_URL=postgresql://db/cairn\n")
    assert "GITHUB_APP_ID=7" not in text and "GITHUB_API_URL" not in text
    assert read_env_file(env_file) == {
        "DATABASE_URL": "postgresql://db/cairn",
        "GITHUB_APP_ID": "8",
        "GITHUB_PRIVATE_KEY": pem,
        "GITHUB_WEBHOOK_SECRET": 'we"ird$secret',
    }


@pytest.mark.parametrize(
    ("line", "value"),
    [
        pytest.param("K=plain", "plain", id="bare"),
        pytest.param("export K=plain # why", "plain", id="export-and-comment"),
        pytest.param("K='a \\n b'", "a \\n b", id="single-quotes-are-literal"),
        pytest.param('K="a\\nb \\"c\\""', 'a\nb "c"', id="double-quotes-escape"),
        pytest.param("K=", "", id="empty"),
    ],
)
def test_read_env_file(tmp_path: Path, line: str, value: str) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(f"# comment\n\n{line}\n")
    assert read_env_file(env_file) == {"K": value}


def test_a_malformed_env_file_lists_every_bad_line(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("GOOD=1\nno equals sign\nK=\"unclosed\nK2='x' y\n")
    with pytest.raises(ConfigError) as caught:
        read_env_file(env_file)
    assert caught.value.problems == [
        "line 2: expected KEY=value",
        "line 3: expected KEY=value",
        "line 4: expected KEY=value",
    ]


def test_the_environment_wins_over_the_env_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("GITHUB_APP_ID=1\nREDIS_URL=redis://file:6379\n")
    settings = Settings.from_env({"GITHUB_APP_ID": "2"}, env_file=env_file)
    assert settings.env["GITHUB_APP_ID"] == "2"
    assert settings.env["REDIS_URL"] == "redis://file:6379"


@pytest.mark.slow
def test_only_the_apps_commands_read_the_env_file(
    cairn_env: dict[str, str], repo: GitRepoBuilder
) -> None:
    """A checkout's own .env (anyone's, in a pull request) configures nothing of a review."""
    dotenv = "DATABASE_URL=not-a-url\nGITHUB_APP_ID=from-the-file\n"
    repo.write({"a.py": "def f(x):\n    return x\n", ".env": dotenv})
    repo.commit("a .env in the repository")
    proc = subprocess.run(
        [str(CAIRN), "index"], cwd=repo.root, env=cairn_env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    serve = subprocess.run(
        [str(CAIRN), "serve", "--port", str(free_port())],
        cwd=repo.root,
        env=cairn_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert serve.returncode == 2
    assert "GITHUB_APP_ID must be a number, not 'from-the-file'" in serve.stderr
