"""What a change adds, read from its added lines: imports, calls, dependencies and commands.

Line-based on purpose (a first cut; the import graph lives elsewhere): an added line is read
on its own, comments and strings are not imports, so mentioning ``requests`` in a comment
adds nothing.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from analyzers.languages import language_for_path


@dataclass(frozen=True, slots=True)
class Added:
    """One thing an added line brings in."""

    kind: str  # "import" | "dependency" | "command"
    name: str  # module, package or command, as written
    path: str
    line: int
    where: str  # "import" | the manifest's file name | "script"


MANIFESTS = (
    "package.json",
    "pyproject.toml",
    "go.mod",
    "Cargo.toml",
    "pom.xml",
    "build.gradle",
    "build.gradle.kts",
    "Gemfile",
)

_PY_IMPORT = re.compile(r"^\s*import\s+([\w.]+(?:\s*,\s*[\w.]+)*)")
_PY_FROM = re.compile(r"^\s*from\s+([\w.]+)\s+import\b")
_JS = re.compile(
    r"""(?:^\s*import\s+(?:[^'"]*?\s+from\s+)?|\brequire\s*\(\s*|\bimport\s*\(\s*)['"]([^'"]+)['"]"""
)
_GO_IMPORT = re.compile(r"""^\s*(?:import\s+)?(?:[\w.]+\s+)?"([^"]+)"\s*$""")
_JAVA = re.compile(r"^\s*import\s+(?:static\s+)?([\w.]+)")
_RUST = re.compile(r"^\s*(?:pub\s+)?(?:use|extern\s+crate)\s+([\w]+)")
_RUBY = re.compile(r"""^\s*require(?:_relative)?\s*\(?\s*['"]([^'"]+)['"]""")

_REQ = re.compile(r"^\s*([A-Za-z0-9][\w.-]*)(?:\[[^\]]*\])?\s*(?:[<>=!~;@]|$)")
_QUOTED_REQ = re.compile(r"""["']([A-Za-z0-9][\w.-]*)(?:\[[^\]]*\])?\s*(?:[<>=!~;@][^"']*)?["']""")
_REQ_LIST = re.compile(r"""^\s*(["']|[\w-]*(dependencies|requires)\s*=)""")
_NOT_DEPS = ("name", "version", "python", "requires-python", "rust-version", "edition")
_TOML_DEP = re.compile(r"""^\s*([A-Za-z0-9][\w.-]*)\s*=\s*(?:["'][\^~<>=*\d]|\{)""")
_JSON_KEY = re.compile(r'^\s*"([^"]+)"\s*:\s*"([^"]*)"')
_GO_REQ = re.compile(r"^\s*(?:require\s+)?([\w.-]+\.[\w.-]+/[^\s]+)\s+v[\d.]")
_POM = re.compile(r"<artifactId>\s*([^<\s]+)\s*</artifactId>")
_GRADLE = re.compile(r"""^\s*\w+\s*\(?\s*['"]([\w.-]+):([\w.-]+)(?::[^'"]*)?['"]""")
_GEM = re.compile(r"""^\s*gem\s+['"]([^'"]+)['"]""")

_CI = re.compile(r"(^|/)(\.github/workflows/[^/]+\.ya?ml|\.gitlab-ci\.yml|\.circleci/config\.yml)$")
_SCRIPT_NAMES = ("Makefile", "Dockerfile", "Justfile", "Taskfile.yml")
_COMMENT = ("#", "//", "--", "/*", "*")


def additions(path: str, lines: Sequence[tuple[int, str]], text: str = "") -> list[Added]:
    """Imports, dependencies and commands the added ``lines`` of ``path`` bring in.

    ``text`` is the whole file at head, for a manifest whose lines need their context
    (which keys of ``package.json`` are dependencies, which are scripts).
    """
    out: list[Added] = []
    name = posixpath.basename(path)
    language = language_for_path(path)
    package = _package_json(text) if name == "package.json" else None
    for number, line in lines:
        if language is not None:
            found = imports(language.name, line)
            out += [Added("import", m, path, number, "import") for m in found]
        if package is not None:
            deps, commands = _package_line(package, line)
            out += [Added("dependency", d, path, number, name) for d in deps]
            out += [Added("command", c, path, number, "script") for c in commands]
            continue
        out += [Added("dependency", d, path, number, name) for d in _dependencies(name, line)]
        out += [Added("command", c, path, number, "script") for c in _commands(path, line)]
    return out


_DEP_KEYS = ("dependencies", "devDependencies", "peerDependencies", "optionalDependencies")


def _package_json(text: str) -> tuple[set[str], set[tuple[str, str]], str] | None:
    """package.json at head: dependency names, (script, command) pairs, package manager."""
    try:
        data = json.loads(text) if text else None
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    deps: set[str] = set()
    for key in _DEP_KEYS:
        section = data.get(key)
        if isinstance(section, dict):
            deps.update(str(k) for k in section)
    scripts = data.get("scripts")
    pairs = {(str(k), str(v)) for k, v in scripts.items()} if isinstance(scripts, dict) else set()
    manager = data.get("packageManager")
    return deps, pairs, manager if isinstance(manager, str) else ""


def _package_line(
    package: tuple[set[str], set[tuple[str, str]], str], line: str
) -> tuple[list[str], list[str]]:
    deps, scripts, manager = package
    m = _JSON_KEY.match(line)
    if not m:
        return [], []
    key, value = m.groups()
    if key == "packageManager" and value == manager:
        return [value.split("@", 1)[0]], []
    if (key, value) in scripts:
        return [], shell_commands(value)
    if key in deps:
        return [key], []
    return [], []


def imports(language: str, line: str) -> list[str]:
    """Modules an import statement on ``line`` names (nothing for a comment)."""
    if line.lstrip().startswith(_COMMENT):
        return []
    if language == "python":
        m = _PY_FROM.match(line)
        if m:
            return [m.group(1)] if not m.group(1).startswith(".") else []
        m = _PY_IMPORT.match(line)
        return [s.strip() for s in m.group(1).split(",")] if m else []
    if language in ("javascript", "typescript", "tsx"):
        return _JS.findall(line)
    if language == "go":
        m = _GO_IMPORT.match(line)
        return [m.group(1)] if m else []
    if language in ("java", "kotlin", "scala", "c_sharp"):
        m = _JAVA.match(line)
        return [m.group(1)] if m else []
    if language == "rust":
        m = _RUST.match(line)
        return [m.group(1)] if m and m.group(1) not in ("crate", "self", "super") else []
    if language == "ruby":
        m = _RUBY.match(line)
        return [m.group(1)] if m else []
    return []


def _dependencies(name: str, line: str) -> Iterable[str]:
    stripped = line.strip()
    if not stripped or stripped.startswith(("#", "//")):
        return []
    if name == "package.json":
        m = _JSON_KEY.match(line)
        if not m:
            return []
        key, value = m.groups()
        if key == "packageManager":
            return [value.split("@", 1)[0]]
        if value and (value[0] in "^~*<>=" or value[0].isdigit() or ":" in value):
            return [key]  # "name": "^1.2" — a dependency, not a script or a field
        return []
    if re.fullmatch(r"requirements[\w.-]*\.(txt|in)", name):
        if stripped.startswith("-"):
            return []
        m = _REQ.match(stripped)
        return [m.group(1)] if m else []
    if name in ("pyproject.toml", "Cargo.toml"):
        m = _TOML_DEP.match(line)
        if m and not m.group(1).startswith(_NOT_DEPS):
            return [m.group(1)]  # name = "^1.2" / name = { version = ... } (poetry, cargo)
        if name == "pyproject.toml" and re.match(
            r"^\s*([\"']|[\w-]*(dependencies|requires)\s*=)", line
        ):
            return _QUOTED_REQ.findall(line)
        return []
    if name == "go.mod":
        m = _GO_REQ.match(line)
        return [m.group(1)] if m else []
    if name == "pom.xml":
        return _POM.findall(line)
    if name.startswith("build.gradle"):
        m = _GRADLE.match(line)
        return [f"{m.group(1)}:{m.group(2)}", m.group(2)] if m else []
    if name == "Gemfile":
        m = _GEM.match(line)
        return [m.group(1)] if m else []
    return []


def is_script(path: str) -> bool:
    """A shell script, a make/docker file or a CI workflow: its lines run commands."""
    name = posixpath.basename(path)
    return (
        path.endswith((".sh", ".bash"))
        or name in _SCRIPT_NAMES
        or name.startswith("Dockerfile")
        or bool(_CI.search(path))
    )


_NAME = re.compile(r"[A-Za-z][\w.+-]*")
_SEPARATORS = re.compile(r"&&|\|\||[;|&()`]|\$\(")
# Words before a command that are not it: shell keywords, Dockerfile instructions, and the
# wrappers, which are commands too ("never use sudo") but run the one named after them.
_KEYWORDS = frozenset(
    {"if", "then", "else", "elif", "do", "while", "until", "!", "RUN", "CMD", "ENTRYPOINT"}
)
_WRAPPERS = frozenset({"time", "sudo", "env", "exec", "nohup", "command", "xargs"})
_RUNNERS = frozenset({"npx", "pnpx", "bunx", "uvx", "pipx"})  # run the tool named next
_MANAGERS = frozenset(
    {"npm", "pnpm", "yarn", "bun", "uv", "poetry", "pdm", "pipenv", "hatch", "bundle", "rye"}
)  # `<manager> run|exec|x|dlx <tool>` runs the tool
_RUN_VERBS = frozenset({"run", "exec", "x", "dlx"})
# Keys of CI files whose values are shell; any other key's value is configuration.
_RUN_KEYS = frozenset(
    {"run", "script", "before_script", "after_script", "command", "commands", "cmds", "cmd",
     "entrypoint", "steps"}
)  # fmt: skip
_YAML_ITEM = re.compile(r"^\s*(?:-\s+)?(?:([\w-]+)\s*:(?=\s|$))?\s*(.*)$")


def _commands(path: str, line: str) -> list[str]:
    """The commands a line of a script, CI file or package.json script runs: the first word
    of each shell command (after ``sudo``, ``env``, ``VAR=value`` …), the tool a runner
    (``npx``, ``uv run``, ``python -m``) starts; never an argument (``yarn global add``)."""
    name = posixpath.basename(path)
    text = line.split(" #", 1)[0]
    if text.lstrip().startswith("#"):
        return []
    if name == "package.json":
        m = _JSON_KEY.match(line)
        if not m or not m.group(2) or m.group(2)[0] in "^~*<>=0123456789":
            return []
        text = m.group(2)
    elif not is_script(path):
        return []
    elif name == "Makefile" or name == "Justfile":
        if not text.startswith(("\t", " ")):
            return []  # a target or a variable, not a recipe line
        text = text.strip().lstrip("@-")
    elif path.endswith((".yml", ".yaml")):
        m = _YAML_ITEM.match(text)
        if m is None or (m.group(1) is not None and m.group(1) not in _RUN_KEYS):
            return []
        text = m.group(2)
        if text in ("|", ">", "|-", ">-", "") or text.startswith(("[", "{")):
            return []
    elif name.startswith("Dockerfile"):
        text = text.replace("[", " ").replace("]", " ").replace('"', " ").replace(",", " ")
    return shell_commands(text)


def shell_commands(text: str) -> list[str]:
    """The commands a shell line runs (see :func:`_commands`)."""
    out: list[str] = []
    for segment in _SEPARATORS.split(text):
        out += _segment_commands(segment.split())
    return out


def _segment_commands(words: list[str]) -> list[str]:
    if not words or words[0] in ("for", "case", "function", "fi", "done", "esac", "{", "}"):
        return []  # a loop's or a case's head, or the end of a block: no command here
    i = 0
    found: list[str] = []
    while i < len(words) and (
        words[i] in _KEYWORDS
        or words[i] in _WRAPPERS
        or "=" in words[i]
        or (i and words[i].startswith("-"))
    ):
        found += [words[i]] if words[i] in _WRAPPERS else []
        i += 1
    if i >= len(words) or not _NAME.fullmatch(words[i]):
        return found
    command = words[i]
    found.append(command)
    rest = [w for w in words[i + 1 :] if not w.startswith("-")]
    if command in _RUNNERS and rest:
        found.append(rest[0])
    elif command in _MANAGERS and len(rest) > 1 and rest[0] in _RUN_VERBS:
        found.append(rest[1])
    elif command.startswith("python") and "-m" in words[i + 1 :]:
        module = words[words.index("-m", i + 1) + 1 :][:1]
        found += module
    return [w for w in found if _NAME.fullmatch(w)]
