"""Fixes that rewrite a line: an import moved to the preferred module, a new unit renamed.

* ``prefer_fix``: the import a ``prefer`` rule flags, rewritten to the rule's ``use`` when that
  is a module of the repository (read at base) that defines every name the import brings in,
  so the call sites stay as they are (Python ``from M import a, b`` and ``import M as m`` with
  only ``m.attr`` uses; JavaScript/TypeScript named and namespace imports).
* ``rename_fix``: a new function, method or class whose name breaks a naming convention,
  renamed to the convention's style, when the change refers to it nowhere else.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterator

import tree_sitter

from analyzers.shapes import read_tree
from checks.context import Change, CheckContext
from checks.conventions import Convention
from checks.finding import Finding
from checks.fix import Edit, Fix
from checks.names import CAMEL, MIXED_CAPS, PASCAL, SCREAMING, SNAKE, styles_of
from checks.patterns_config import PreferRule

_JS = {"javascript", "typescript", "tsx"}
_JS_EXTS = (".ts", ".tsx", ".js", ".jsx", ".mjs", "/index.ts", "/index.js")


def _text(node: tree_sitter.Node | None, source: bytes) -> str:
    if node is None:
        return ""
    return source[node.start_byte : node.end_byte].decode("utf-8", "replace")


def _statement_at(
    root: tree_sitter.Node, line: int, kinds: tuple[str, ...]
) -> tree_sitter.Node | None:
    for child in root.named_children:
        if child.type in kinds and child.start_point[0] + 1 <= line <= child.end_point[0] + 1:
            return child
    return None


def _new_module(name: str, rule: PreferRule, sep: str) -> str | None:
    for pattern in rule.instead_of:
        if name == pattern:
            return rule.use
        if name.startswith(pattern + sep):
            return rule.use + name[len(pattern) :]
    return None


def prefer_fix(finding: Finding, rule: PreferRule, ctx: CheckContext) -> Fix | None:
    """The flagged import rewritten to ``rule.use``, when the call sites can stay."""
    head = ctx.head.source_of(finding.path)
    read = read_tree(finding.path, head) if head is not None else None
    if head is None or read is None:
        return None
    language, tree = read
    if language == "python":
        return _python_prefer(finding, rule, ctx, head, tree.root_node)
    if language in _JS:
        return _js_prefer(finding, rule, ctx, head, tree.root_node)
    return None


def _line_edit(
    path: str, source: bytes, node: tree_sitter.Node, old: tree_sitter.Node, new_text: str
) -> Edit:
    """An edit of ``node``'s whole lines with ``old`` replaced by ``new_text``."""
    lines = source.split(b"\n")
    first, last = node.start_point[0], node.end_point[0]
    block = b"\n".join(lines[first : last + 1])
    line_start = sum(len(x) + 1 for x in lines[:first])
    lo, hi = old.start_byte - line_start, old.end_byte - line_start
    replaced = block[:lo] + new_text.encode() + block[hi:]
    return Edit(path, first + 1, last + 1, replaced.decode("utf-8", "replace"))


def _python_defines(source: bytes, names: set[str]) -> bool:
    """Whether a Python module binds every one of ``names`` at top level."""
    read = read_tree("m.py", source)
    if read is None:
        return False
    found: set[str] = set()
    for child in read[1].root_node.named_children:
        node = child
        if node.type == "decorated_definition":
            node = node.child_by_field_name("definition") or node
        if node.type in ("function_definition", "class_definition"):
            found.add(_text(node.child_by_field_name("name"), source))
        elif node.type == "expression_statement" and node.named_children:
            left = node.named_children[0].child_by_field_name("left")
            if left is not None and left.type == "identifier":
                found.add(_text(left, source))
        elif node.type in ("import_from_statement", "import_statement"):
            for name in node.children_by_field_name("name"):
                alias = name.child_by_field_name("alias")
                bound = alias if alias is not None else name
                found.add(_text(bound, source).split(".")[0])
    return names <= found


def _python_file(module: str, ctx: CheckContext) -> bytes | None:
    stem = module.replace(".", "/")
    for root in ("", "src/", "lib/"):
        for candidate in (f"{root}{stem}.py", f"{root}{stem}/__init__.py"):
            found = ctx.fixes.base_sources.get(candidate)
            if found is not None:
                return found
    return None


def _python_prefer(
    finding: Finding, rule: PreferRule, ctx: CheckContext, head: bytes, root: tree_sitter.Node
) -> Fix | None:
    node = _statement_at(root, finding.start_line, ("import_from_statement", "import_statement"))
    if node is None:
        return None
    if node.type == "import_from_statement":
        module = node.child_by_field_name("module_name")
        if module is None or module.type != "dotted_name":
            return None  # a relative import names no module a rule can
        target = _new_module(_text(module, head), rule, ".")
        names = {
            _text(n.child_by_field_name("name") if n.type == "aliased_import" else n, head)
            for n in node.children_by_field_name("name")
        }
        source = _python_file(target, ctx) if target else None
        if target is None or source is None or not names or not _python_defines(source, names):
            return None
        edit = _line_edit(finding.path, head, node, module, target)
    else:
        imported = node.children_by_field_name("name")
        if len(imported) != 1 or imported[0].type != "aliased_import":
            return None  # `import M` binds M: its call sites would have to change
        dotted = imported[0].child_by_field_name("name")
        alias = _text(imported[0].child_by_field_name("alias"), head)
        target = _new_module(_text(dotted, head), rule, ".")
        source = _python_file(target, ctx) if target else None
        used = set(
            re.findall(rf"(?<![\w.]){re.escape(alias)}\.(\w+)", head.decode("utf-8", "replace"))
        )
        if target is None or source is None or dotted is None or not _python_defines(source, used):
            return None
        edit = _line_edit(finding.path, head, node, dotted, target)
    return Fix(f"Import from `{target}` instead, as {rule.id} asks.", (edit,))


def _js_exports(source: bytes, path: str) -> set[str]:
    read = read_tree(path, source)
    found: set[str] = set()
    if read is None:
        return found
    for child in read[1].root_node.named_children:
        if child.type != "export_statement":
            continue
        declaration = child.child_by_field_name("declaration")
        if declaration is not None:
            name = declaration.child_by_field_name("name")
            if name is not None:
                found.add(_text(name, source))
            for declarator in declaration.named_children:
                if declarator.type == "variable_declarator":
                    found.add(_text(declarator.child_by_field_name("name"), source))
        for clause in child.named_children:
            if clause.type == "export_clause":
                for spec in clause.named_children:
                    alias = spec.child_by_field_name("alias") or spec.child_by_field_name("name")
                    found.add(_text(alias, source))
    return found


def _js_prefer(
    finding: Finding, rule: PreferRule, ctx: CheckContext, head: bytes, root: tree_sitter.Node
) -> Fix | None:
    node = _statement_at(root, finding.start_line, ("import_statement",))
    source_node = node.child_by_field_name("source") if node is not None else None
    if node is None or source_node is None:
        return None
    target = _new_module(_text(source_node, head).strip("'\""), rule, "/")
    if target is None:
        return None
    found = next(
        (
            (p, s)
            for ext in _JS_EXTS
            if (s := ctx.fixes.base_sources.get(target + ext)) is not None
            for p in [target + ext]
        ),
        None,
    )
    if found is None:
        return None
    target_path, target_source = found
    names = set(_js_imported(node, head))
    if not names or not names <= _js_exports(target_source, target_path):
        return None
    rel = posixpath.relpath(target, posixpath.dirname(finding.path) or ".")
    spec = rel if rel.startswith(".") else "./" + rel
    quote = _text(source_node, head)[:1]
    edit = _line_edit(finding.path, head, node, source_node, f"{quote}{spec}{quote}")
    return Fix(f"Import from `{spec}` instead, as {rule.id} asks.", (edit,))


def _js_imported(node: tree_sitter.Node, source: bytes) -> Iterator[str]:
    """The names an import brings in, as the module exports them (`*` uses are left out)."""
    for clause in node.named_children:
        if clause.type != "import_clause":
            continue
        for part in clause.named_children:
            if part.type == "named_imports":
                for spec in part.named_children:
                    yield _text(spec.child_by_field_name("name"), source)
            elif part.type == "identifier":
                yield "default"
            else:
                yield "*"  # a namespace import: every use would need checking


# --- renames ---------------------------------------------------------------------------------


def _words(name: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    spaced = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", spaced)
    return [w.lower() for w in re.split(r"[\s_\-]+", spaced) if w]


def restyle(name: str, style: str, language: str = "") -> str | None:
    """``name`` written in ``style``; None for a style no identifier can take."""
    lead = name[: len(name) - len(name.lstrip("_"))]
    words = _words(name.strip("_"))
    if not words:
        return None
    if style == SNAKE:
        out = "_".join(words)
    elif style == SCREAMING:
        out = "_".join(words).upper()
    elif style == CAMEL:
        out = words[0] + "".join(w.capitalize() for w in words[1:])
    elif style == PASCAL:
        out = "".join(w.capitalize() for w in words)
    elif style == MIXED_CAPS:
        out = words[0] + "".join(w.capitalize() for w in words[1:])
        if name.lstrip("_")[:1].isupper():
            out = out[:1].upper() + out[1:]
    else:
        return None
    return lead + out


def rename_fix(
    finding: Finding, change: Change, ctx: CheckContext, naming: Callable[[], list[Convention]]
) -> Fix | None:
    """A new unit renamed to the naming convention it breaks, when nothing else names it."""
    unit = next(
        (
            cu
            for cu in change.units
            if cu.path == finding.path and cu.unit.start_line == finding.start_line
        ),
        None,
    )
    if unit is None or unit.previous is not None or f"`{unit.unit.name}`" not in finding.message:
        return None
    name = unit.unit.name
    directory = posixpath.dirname(finding.path)
    language = (read_tree(finding.path, b"") or ("", None))[0]
    rules = [
        r
        for r in naming()
        if r.directory == directory
        and (r.id == finding.rule or (not r.configured and finding.rule == r.kind))
    ]
    found = styles_of(name, language) or frozenset()
    rule = next((r for r in rules if r.style not in found), None)
    if rule is None:
        return None
    new = restyle(name, rule.style, language)
    if new is None or new == name or rule.style not in (styles_of(new, language) or ()):
        return None
    word = re.compile(rf"(?<![\w$]){re.escape(name)}(?![\w$])")
    new_word = re.compile(rf"(?<![\w$]){re.escape(new)}(?![\w$])")
    uses = 0
    for diff in change.files:
        if diff.new_path is None:
            continue
        text = (ctx.head.source_of(diff.new_path) or b"").decode("utf-8", "replace")
        uses += len(word.findall(text))
        if diff.new_path == finding.path and new_word.search(text):
            return None  # the new name is taken in the file
    if uses != 1:
        return None  # referred to elsewhere in the change (or not found): not a one-line fix
    head = (ctx.head.source_of(finding.path) or b"").decode("utf-8", "replace")
    lines = head.split("\n")
    line = lines[finding.start_line - 1] if finding.start_line <= len(lines) else ""
    if not word.search(line):
        return None
    replaced = word.sub(new, line, count=1)
    return Fix(
        f"Rename `{name}` to `{new}` ({rule.style}).",
        (Edit(finding.path, finding.start_line, finding.start_line, replaced),),
    )
