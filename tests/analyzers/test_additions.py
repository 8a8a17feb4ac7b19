from __future__ import annotations

import pytest

from analyzers.additions import additions

CI, SH = ".github/workflows/ci.yml", "scripts/a.sh"
PACKAGE = '{"scripts": {"test": "npx jest --ci", "build": "tsc && yarn run esbuild src"}}'


@pytest.mark.parametrize(
    ("path", "line", "commands"),
    [
        pytest.param(CI, "      - run: yarn global add x", ["yarn"], id="ci-args"),
        pytest.param(CI, "          yarn install --frozen-lockfile", ["yarn"], id="ci-block"),
        pytest.param(CI, "name: ci", [], id="ci-key"),
        pytest.param(
            ".circleci/build-and-test/jobs.yml",
            "          command: cd web; npx snyk test",
            ["cd", "npx", "snyk"],
            id="circleci-split-config",
        ),
        pytest.param(CI, "    runs-on: ubuntu-latest", [], id="ci-runs-on"),
        pytest.param(CI, "      - uses: actions/setup-node@v4", [], id="ci-uses"),
        pytest.param(CI, "      - run: make test", ["make"], id="make-target"),
        pytest.param(
            ".gitlab-ci.yml", "  - poetry run pytest -q", ["poetry", "pytest"], id="runner-verb"
        ),
        pytest.param(
            SH, "uv run pytest && echo ok | tee log", ["uv", "pytest", "echo", "tee"], id="pipeline"
        ),
        pytest.param(
            SH, "FOO=1 sudo -E apt-get install -y yarn", ["sudo", "apt-get"], id="wrapper"
        ),
        pytest.param(SH, "if test -f x; then python deploy.py; fi", ["test", "python"], id="if"),
        pytest.param(SH, "for f in *.py; do black $f; done", ["black"], id="loop"),
        pytest.param(SH, "python3 -m pytest tests", ["python3", "pytest"], id="python-m"),
        pytest.param(SH, "# yarn install", [], id="comment"),
        pytest.param("Makefile", "test: build", [], id="make-rule"),
        pytest.param("Makefile", "\t@docker compose up -d", ["docker"], id="make-recipe"),
        pytest.param("Dockerfile", "RUN sudo make install", ["sudo", "make"], id="dockerfile"),
        pytest.param(
            "Dockerfile", 'CMD ["gunicorn", "app:app"]', ["gunicorn"], id="dockerfile-exec"
        ),
        pytest.param("package.json", '    "test": "npx jest --ci"', ["npx", "jest"], id="npx"),
        pytest.param(
            "package.json",
            '    "build": "tsc && yarn run esbuild src"',
            ["tsc", "yarn", "esbuild"],
            id="script",
        ),
        pytest.param("README.md", "yarn install", [], id="not-a-script"),
    ],
)
def test_commands_are_what_a_line_runs_never_its_arguments(
    path: str, line: str, commands: list[str]
) -> None:
    text = PACKAGE if path == "package.json" else ""
    found = [a for a in additions(path, [(3, line)], text) if a.kind == "command"]
    assert [a.name for a in found] == commands
    assert all(a.line == 3 for a in found)


@pytest.mark.parametrize(
    ("line", "imported"),
    [
        pytest.param("using Newtonsoft.Json;", ["Newtonsoft.Json"], id="using"),
        pytest.param("global using RestSharp;", ["RestSharp"], id="global-using"),
        pytest.param("using static System.Math;", ["System.Math"], id="using-static"),
        pytest.param("using Json = Newtonsoft.Json;", ["Newtonsoft.Json"], id="using-alias"),
        pytest.param("    using (var client = new RestClient()) {", [], id="using-statement"),
        pytest.param("    using var client = new RestClient();", [], id="using-declaration"),
        pytest.param("// using RestSharp;", [], id="comment"),
    ],
)
def test_csharp_usings_are_imports(line: str, imported: list[str]) -> None:
    added = additions("Shop/Client.cs", [(3, line)])
    assert [a.name for a in added if a.kind == "import"] == imported
