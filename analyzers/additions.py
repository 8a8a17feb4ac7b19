"""What a change adds, read from its added lines: imports, calls, dependencies and commands.

Line-based on purpose (a first cut; the import graph lives elsewhere): an added line is read
on its own, comments and strings are not imports, so mentioning ``requests`` in a comment
adds nothing.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Sequence
from dataclasses import dataclass

from analyzers.catalog import Catalog, image_variant
from analyzers.lang.language import JSON_STRING_KEY
from analyzers.languages import ECOSYSTEMS, Language, language_for_path


@dataclass(frozen=True, slots=True)
class Added:
    """One thing an added line brings in."""

    kind: str  # "import" | "dependency" | "command" | "file" | "image" | "service"
    name: str  # module, package, command, path, image or service, as written
    path: str
    line: int
    where: str  # "import" | the manifest's file name | "script" | "file" | "image" | "service"
    ecosystem: str = ""  # of a dependency: npm, pypi, gem, go, maven, cargo, nuget
    detail: str = ""  # a command's subcommand ("docker compose"), an image's tag


_CI = re.compile(
    r"(^|/)(\.github/workflows/[^/]+\.ya?ml|\.gitlab-ci\.yml|\.circleci/(?:[^/]+/)*[^/]+\.ya?ml|"
    r"\.travis\.yml|azure-pipelines\.ya?ml|bitbucket-pipelines\.yml|\.drone\.yml|"
    r"\.buildkite/[^/]+\.ya?ml|buildspec\.ya?ml|cloudbuild\.ya?ml|\.?appveyor\.yml|"
    r"\.woodpecker\.yml|\.github/actions/[^/]+/action\.ya?ml|Taskfile\.ya?ml)$"
)
_SCRIPT_NAMES = ("Makefile", "GNUmakefile", "Dockerfile", "Justfile", "justfile", "Taskfile.yml")
_COMMENT = ("#", "//", "--", "/*", "*")


def additions(
    path: str, lines: Sequence[tuple[int, str]], text: str = "", *, new: bool = False
) -> list[Added]:
    """Imports, dependencies, commands, container images and compose services the added
    ``lines`` of ``path`` bring in (and the file itself when the change adds it: ``new``).

    ``text`` is the whole file at head, for a manifest whose lines need their context
    (which keys of ``package.json`` are dependencies, which are scripts; a compose file's
    services).
    """
    out: list[Added] = []
    name = posixpath.basename(path)
    language = language_for_path(path)
    package = _package_json(text) if name == "package.json" else None
    ecosystem = manifest_ecosystem(path)
    if new:
        out.append(Added("file", path, path, 1, "file"))
    services = _compose_services(text) if _is_compose(path) and text else {}
    for number, line in lines:
        if language is not None:
            found = imports(language, line)
            out += [Added("import", m, path, number, "import") for m in found]
        if package is not None:
            deps, commands = _package_line(package, line)
            out += [Added("dependency", d, path, number, name, "npm") for d in deps]
            out += _command_additions(path, number, commands, line)
            continue
        out += [
            Added("dependency", d, path, number, name, ecosystem) for d in _dependencies(path, line)
        ]
        out += _command_additions(path, number, _commands(path, line), line)
        out += [Added("image", i, path, number, "image") for i in _images(path, line)]
        if number in services:
            out.append(Added("service", services[number], path, number, "service"))
    return out


def _command_additions(path: str, number: int, commands: Sequence[str], line: str) -> list[Added]:
    out = []
    for c in commands:
        m = re.search(rf"(?<![\w-]){re.escape(c)}\s+(?:-\S+\s+)*([a-z][\w-]*)", line)
        out.append(Added("command", c, path, number, "script", detail=m.group(1) if m else ""))
    for eco, dep in _installs(line) if is_script(path) or path.endswith("package.json") else ():
        out.append(Added("dependency", dep, path, number, "script", eco))
    return out


def manifest_ecosystem(path: str) -> str:
    """The package ecosystem of a manifest file ("" when it is none)."""
    for ecosystem in ECOSYSTEMS:
        if ecosystem.manifest(path):
            return ecosystem.name
    return ""


def is_manifest(path: str) -> bool:
    return bool(manifest_ecosystem(path))


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
    m = JSON_STRING_KEY.match(line)
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


def imports(language: Language, line: str) -> list[str]:
    """Modules an import statement on ``line`` names (nothing for a comment)."""
    if line.lstrip().startswith(_COMMENT):
        return []
    return language.line_imports(line)


def _dependencies(path: str, line: str) -> list[str]:
    """The packages an added line of a manifest names (its ecosystem's reader)."""
    stripped = line.strip()
    if not stripped or stripped.startswith(("#", "//")):
        return []
    for ecosystem in ECOSYSTEMS:
        found = ecosystem.dependencies(path, line)
        if found is not None:
            return found
    return []


def is_script(path: str) -> bool:
    """A shell script, a make/docker file, a Procfile, a Jenkinsfile or a CI workflow: its
    lines run commands."""
    name = posixpath.basename(path)
    return (
        path.endswith((".sh", ".bash", ".mk"))
        or name in _SCRIPT_NAMES
        or name.startswith(("Dockerfile", "Procfile", "Jenkinsfile"))
        or name.endswith((".Dockerfile", ".dockerfile"))
        or bool(_CI.search(path))
    )


def _is_compose(path: str) -> bool:
    name = posixpath.basename(path).lower()
    return name.endswith((".yml", ".yaml")) and ("compose" in name)


def _compose_services(text: str) -> dict[int, str]:
    """Line number → service name of a compose file's ``services:`` block."""
    out: dict[int, str] = {}
    inside = False
    indent = None
    for n, line in enumerate(text.split("\n"), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        lead = len(line) - len(line.lstrip())
        if lead == 0:
            inside = line.rstrip().startswith("services:")
            indent = None
            continue
        if not inside:
            continue
        m = re.match(r"^(\s+)([\w.-]+):\s*$", line)
        if indent is None and m:
            indent = len(m.group(1))
        if m and len(m.group(1)) == indent:
            out[n] = m.group(2)
    return out


_FROM = re.compile(r"^\s*FROM\s+(?:--platform=\S+\s+)?(\S+)", re.IGNORECASE)
_IMAGE_KEY = re.compile(r"""^\s*(?:-\s+)?(?:image|container)\s*:\s*["']?([\w./:@${}-]+)""")


def _images(path: str, line: str) -> list[str]:
    """Container images a line of a Dockerfile or a YAML file names."""
    name = posixpath.basename(path)
    if name.startswith("Dockerfile") or name.endswith((".Dockerfile", ".dockerfile")):
        m = _FROM.match(line)
        if m and not m.group(1).startswith("$") and m.group(1).lower() != "scratch":
            return [m.group(1)]
        return []
    if path.endswith((".yml", ".yaml")):
        m = _IMAGE_KEY.match(line.split(" #", 1)[0])
        if m and "$" not in m.group(1) and "{" not in m.group(1):
            return [m.group(1)]
    return []


_INSTALLERS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), eco)
    for p, eco in (
        (r"\b(?:pip3?|pipx|python3?\s+-m\s+pip|uv\s+pip)\s+install\s+(.+)", "pypi"),
        (r"\b(?:uv|poetry|pdm)\s+add\s+(.+)", "pypi"),
        (r"\bnpm\s+(?:install|i|add)\s+(.+)", "npm"),
        (r"\b(?:yarn|pnpm|bun)\s+(?:global\s+)?add\s+(.+)", "npm"),
        (r"\bgem\s+install\s+(.+)", "gem"),
        (r"\bbundle\s+add\s+(.+)", "gem"),
        (r"\bgo\s+(?:install|get)\s+(.+)", "go"),
        (r"\bcargo\s+(?:install|add)\s+(.+)", "cargo"),
        (r"\bdotnet\s+add\s+(?:\S+\s+)?package\s+(.+)", "nuget"),
    )
)


def _installs(line: str) -> list[tuple[str, str]]:
    """(ecosystem, package) a line installs: ``pip install x``, ``npm i -g x`` …"""
    text = line.split(" #", 1)[0]
    out: list[tuple[str, str]] = []
    for pattern, eco in _INSTALLERS:
        for m in pattern.finditer(text):
            for word in re.split(r"\s+|&&|;|\|", m.group(1))[:8]:
                word = word.strip("\"'")
                if (
                    not word
                    or word.startswith(("-", "$", ".", "/"))
                    or "=" in word.split("@")[0][:1]
                ):
                    if word.startswith("-"):
                        continue
                    break
                if word in ("&&", "||"):
                    break
                pkg = re.split(r"[<>=!~@\[]" if eco != "npm" else r"(?<!^)@", word, maxsplit=1)[0]
                if eco == "go":
                    pkg = word.split("@", 1)[0]
                if re.fullmatch(r"@?[\w.][\w./:-]*", pkg) and pkg not in (
                    "install",
                    "add",
                    "global",
                ):
                    out.append((eco, pkg))
    return out


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
     "entrypoint", "steps", "install", "before_install", "after_success", "before_deploy",
     "build", "test", "pre", "post"}
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
        m = JSON_STRING_KEY.match(line)
        if not m or not m.group(2) or m.group(2)[0] in "^~*<>=0123456789":
            return []
        text = m.group(2)
    elif not is_script(path):
        return []
    elif name.startswith("Procfile"):
        m = re.match(r"^\s*[\w.-]+\s*:\s*(.+)$", text)
        if not m:
            return []
        text = m.group(1)
    elif name.startswith("Jenkinsfile"):
        m = re.search(
            r"""\b(?:sh|bat|powershell)\s*\(?\s*(?:script\s*:\s*)?(["']{1,3})(.+?)\1""", text
        )
        if not m:
            return []
        text = m.group(2)
    elif name in ("Makefile", "GNUmakefile", "Justfile", "justfile") or path.endswith(".mk"):
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
    elif name.startswith("Dockerfile") or name.endswith((".Dockerfile", ".dockerfile")):
        first = text.split(None, 1)[0] if text.split() else ""
        if first.isupper() and first not in ("RUN", "CMD", "ENTRYPOINT", "SHELL"):
            return []  # FROM, COPY, ENV …: instructions, not commands
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
    if i < len(words) and "/" in words[i] and not words[i].startswith(("$", "/dev")):
        words = [*words[:i], posixpath.basename(words[i]), *words[i + 1 :]]  # bin/rails, ./gradlew
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


def owners(a: Added, cat: Catalog) -> set[str]:
    """The catalog's technologies that ``a`` adds."""
    if a.kind == "dependency":
        eco = a.ecosystem or _ecosystem_of(a.where)
        return cat.package_owners(eco, a.name) if eco else set()
    if a.kind == "import":
        language = language_for_path(a.path)
        return cat.import_owners(language.name, a.name) if language else set()
    if a.kind == "command":
        found = cat.command_owners(a.name)
        if a.detail:
            found |= cat.command_owners(f"{a.name}-{a.detail}")
        return found
    if a.kind == "file":
        return cat.file_owners(a.path)
    if a.kind == "image":
        found = cat.image_owners(a.name)
        variant = image_variant(a.name)
        return found | (cat.image_owners(variant) if variant else set())
    if a.kind == "service":
        return cat.service_owners(a.name)
    return set()


def _ecosystem_of(where: str) -> str:
    return manifest_ecosystem(where)
