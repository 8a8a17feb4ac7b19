"""Mining and judging conventions as pure functions: styles, suffixes, traits, components,
what is never judged (the wrapper itself, tests, moved code), configured rules replacing
mined ones, and graphs that are huge, cyclic or unresolvable."""

from __future__ import annotations

import time
from collections.abc import Sequence

import pytest

from analyzers.diff import FileDiff
from analyzers.imports import Resolved
from analyzers.parse import parse_file
from analyzers.units import CodeUnit
from checks.config import CairnConfig, parse_config
from checks.context import Change, ChangedUnit, CheckContext, Codebase, Declaration
from checks.conventions import (
    component,
    is_test,
    mine,
    source_root,
)
from checks.names import name_suffix, styles_of
from checks.patterns import PatternsCheck
from checks.patterns_config import ConventionSettings


@pytest.mark.parametrize(
    ("name", "language", "styles"),
    [
        ("parse_date", "python", {"snake_case"}),
        ("parse", "python", {"snake_case", "camelCase", "kebab-case"}),
        ("_private_helper", "python", {"snake_case"}),
        ("parseDate", "typescript", {"camelCase"}),
        ("parseHTML", "typescript", {"camelCase"}),
        ("DateParser", "java", {"PascalCase"}),
        ("HTTPClient", "java", {"PascalCase"}),
        ("HTTP", "java", {"PascalCase", "SCREAMING_SNAKE_CASE"}),
        ("MAX_SIZE", "python", {"SCREAMING_SNAKE_CASE"}),
        ("user-card", "typescript", {"kebab-case"}),
        ("Parse_Date", "python", set()),
        ("ParseDate", "go", {"MixedCaps"}),
        ("parseDate", "go", {"MixedCaps"}),
        ("parse_date", "go", {"snake_case"}),
        ("__init__", "python", None),
        ("$", "javascript", None),
    ],
)
def test_styles(name: str, language: str, styles: set[str] | None) -> None:
    found = styles_of(name, language)
    assert (None if found is None else set(found)) == styles


@pytest.mark.parametrize(
    ("name", "suffix"),
    [
        ("UserHandler", "Handler"),
        ("ItemAHandler", "Handler"),
        ("HTTPHandler", "Handler"),
        ("user_view", "_view"),
        ("Handler", ""),
        ("parse", ""),
    ],
)
def test_name_suffix(name: str, suffix: str) -> None:
    assert name_suffix(name) == suffix


def test_components_below_the_main_source_root() -> None:
    files = [f"django/{d}/m{i}.py" for d in ("db", "http", "core") for i in range(40)]
    files += ["scripts/manage.py", "setup.py"]
    root = source_root(files)
    assert root == "django"
    assert component("django/db/models/base.py", root) == "django/db"
    assert component("django/shortcuts.py", root) is None
    assert component("scripts/manage.py", root) == "scripts"  # outside the root: its top
    assert component("internal/store/db.go", "") == "internal/store"
    assert component("src/web/app.ts", "") == "src/web"
    assert source_root([f"shop/api/v{i}.py" for i in range(5)] + ["shop/domain/o.py"]) == "shop"


@pytest.mark.parametrize(
    ("path", "test"),
    [
        ("tests/test_views.py", True),
        ("shop/tests/helpers.py", True),
        ("pkg/store_test.go", True),
        ("web/app.spec.ts", True),
        ("src/test/java/com/shop/OrderTest.java", True),
        ("shop/contest.py", False),
        ("shop/latest_views.py", False),
        ("web/testing-library.ts", False),
    ],
)
def test_test_paths(path: str, test: bool) -> None:
    assert is_test(path) == test


def test_traits_of_each_language() -> None:
    samples = {
        "a.py": b"@app.route('/x')\ndef f(): pass\nclass A(base.Handler, metaclass=M):\n    pass\n",
        "a.ts": b"@Component({})\nexport class A extends B implements C<D> {}\n",
        "A.java": (
            b"@Service\npublic class A extends B<C> implements D {\n  @Override\n  void m() {}\n}\n"
        ),
        "a.cs": b"[Api]\npublic class A : B, IC {}\n",
        "a.rb": b"class A < B::C\nend\n",
        "a.go": b"package a\ntype H struct { Base\n x int }\n",
    }
    traits = {
        (path, u.qualname): u.traits
        for path, source in samples.items()
        for u in parse_file(path, source).units  # type: ignore[union-attr]
    }
    assert traits[("a.py", "f")] == ("decorator:app.route",)
    assert traits[("a.py", "A")] == ("base:base.Handler",)
    assert traits[("a.ts", "A")] == ("decorator:Component", "base:B", "base:C")
    assert traits[("A.java", "A")] == ("decorator:Service", "base:B", "base:D")
    assert traits[("A.java", "A.m")] == ("decorator:Override",)
    assert traits[("a.cs", "A")] == ("decorator:Api", "base:B", "base:IC")
    assert traits[("a.rb", "A")] == ("base:B::C",)
    assert traits[("a.go", "H")] == ("base:Base",)


# --- judging ---------------------------------------------------------------------------------


class Head:
    """The HeadFiles port over a dict: the changed files' imports at head."""

    def __init__(self, imports: dict[str, list[Resolved]]) -> None:
        self.imports = imports

    def source_of(self, path: str) -> bytes | None:
        return None

    def imports_of(self, path: str) -> Sequence[Resolved]:
        return self.imports.get(path, [])


class NoIndex:
    def candidates(self, unit: CodeUnit) -> Sequence[object]:
        return ()


def _wrapped_codebase() -> Codebase:
    imports = [Resolved("shop/http.py", 1, "requests", None, "requests")]
    imports += [Resolved(f"shop/u{i}/m.py", 1, "shop.http", "shop/http.py", None) for i in range(5)]
    files = ["shop/http.py", *(f"shop/u{i}/m.py" for i in range(5))]
    return Codebase(files=tuple(files), imports=tuple(imports))


def _run(
    codebase: Codebase,
    diffs: list[FileDiff],
    head: dict[str, list[Resolved]],
    config: CairnConfig | None = None,
    units: tuple[ChangedUnit, ...] = (),
) -> list[tuple[str, str, int]]:
    ctx = CheckContext(
        index=NoIndex(),  # type: ignore[arg-type]
        config=config or CairnConfig(),
        head=Head(head),
        codebase=codebase,
    )
    change = Change(base_sha="a", head_sha="b", files=tuple(diffs), units=units)
    return [(f.rule, f.path, f.start_line) for f in PatternsCheck().run(change, ctx)]


def _added(path: str, lines: int = 1) -> FileDiff:
    return FileDiff(old_path=None, new_path=path, status="added", added=((1, lines),))


REQUESTS = "requests"


def test_a_new_direct_import_is_flagged_but_not_in_the_wrapper_tests_or_moved_code() -> None:
    codebase = _wrapped_codebase()
    imp = lambda path: [Resolved(path, 1, REQUESTS, None, REQUESTS)]  # noqa: E731
    assert _run(
        codebase, [_added("shop/orders.py")], {"shop/orders.py": imp("shop/orders.py")}
    ) == [("wrapped-dependency", "shop/orders.py", 1)]
    wrapper = FileDiff("shop/http.py", "shop/http.py", "modified", added=((1, 1),))
    assert _run(codebase, [wrapper], {"shop/http.py": imp("shop/http.py")}) == []
    assert (
        _run(codebase, [_added("tests/test_x.py")], {"tests/test_x.py": imp("tests/test_x.py")})
        == []
    )
    # The wrapper's import moves to a new module (the old file is deleted): not new code.
    moved = FileDiff("shop/http.py", None, "deleted", removed=((1, 1),))
    assert _run(codebase, [moved, _added("shop/net.py")], {"shop/net.py": imp("shop/net.py")}) == []
    excluded = parse_config("patterns: {conventions: {exclude: ['shop/legacy/*']}}\n")
    path = "shop/legacy/old.py"
    assert _run(codebase, [_added(path)], {path: imp(path)}, excluded) == []
    off = parse_config("patterns: {conventions: false}\n")
    assert _run(codebase, [_added("shop/o.py")], {"shop/o.py": imp("shop/o.py")}, off) == []


def test_a_module_that_only_tries_a_package_does_not_wrap_it() -> None:
    """``try: import simplejson except ImportError: import json`` in a compat module that many
    import: the module works without simplejson; "import compat instead" is wrong advice."""
    users = [
        Resolved(f"shop/u{i}/m.py", 1, "shop.compat", "shop/compat.py", None) for i in range(5)
    ]
    files = ("shop/compat.py", *(f"shop/u{i}/m.py" for i in range(5)))
    optional = Resolved("shop/compat.py", 2, "simplejson", None, "simplejson", optional=True)
    required = Resolved("shop/compat.py", 9, "simplejson", None, "simplejson")
    settings = ConventionSettings()
    tried = Codebase(files=files, imports=(optional, *users))
    assert [r.id for r in mine(tried, settings)] == []
    # the same module importing it unguarded as well does wrap it
    both = Codebase(files=files, imports=(optional, required, *users))
    assert [r.id for r in mine(both, settings)] == ["wrapped-simplejson"]


def test_a_configured_rule_replaces_the_mined_one() -> None:
    codebase = _wrapped_codebase()
    config = parse_config(
        "patterns:\n  prefer:\n    - {id: http, use: shop.http, instead_of: [requests]}\n"
    )
    assert mine(codebase, ConventionSettings())  # mined, but stated by the team already
    path = "shop/orders.py"
    found = _run(
        codebase, [_added(path)], {path: [Resolved(path, 1, REQUESTS, None, REQUESTS)]}, config
    )
    assert found == [("http", path, 1)]


def _unit(kind: str, name: str, line: int, traits: tuple[str, ...] = ()) -> CodeUnit:
    return CodeUnit(kind, name, name, line, line, (), 0, 0, traits)


def test_configured_naming_and_structure_rules_judge_new_units_only() -> None:
    config = parse_config(
        """
patterns:
  conventions: false
  naming: [{id: view-names, directory: shop/views, kind: function, style: snake_case}]
  structure: [{id: handlers, directory: shop/handlers, kind: class, suffix: Handler}]
"""
    )
    diffs = [_added("shop/views/a.py", 9), _added("shop/handlers/b.py", 9)]
    units = (
        ChangedUnit("shop/views/a.py", _unit("function", "renderPage", 1)),
        ChangedUnit("shop/views/a.py", _unit("function", "render_list", 3)),
        ChangedUnit(
            "shop/views/a.py", _unit("function", "oldName", 5), _unit("function", "oldName", 5)
        ),
        ChangedUnit("shop/handlers/b.py", _unit("class", "Export", 1)),
        ChangedUnit("shop/handlers/b.py", _unit("class", "ImportHandler", 5)),
    )
    found = _run(Codebase(), diffs, {}, config, units)
    assert found == [("view-names", "shop/views/a.py", 1), ("handlers", "shop/handlers/b.py", 1)]


def test_a_unit_the_change_moves_is_not_new() -> None:
    declarations = (
        *(
            Declaration(f"shop/util/m{i}.py", "function", f"load_item_{i}", f"load_item_{i}", 1)
            for i in range(5)
        ),
        Declaration("shop/legacy/old.py", "function", "oldStyle", "oldStyle", 3),
    )
    codebase = Codebase(files=tuple(d.path for d in declarations), declarations=declarations)
    moved_from = FileDiff("shop/legacy/old.py", "shop/legacy/old.py", "modified", removed=((3, 4),))
    into = FileDiff("shop/util/m0.py", "shop/util/m0.py", "modified", added=((9, 10),))
    units = (ChangedUnit("shop/util/m0.py", _unit("function", "oldStyle", 9)),)
    assert _run(codebase, [moved_from, into], {}, None, units) == []
    fresh = (ChangedUnit("shop/util/m0.py", _unit("function", "newStyle", 9)),)
    assert _run(codebase, [into], {}, None, fresh) == [("naming", "shop/util/m0.py", 9)]


def test_functions_keyed_by_data_are_not_named_by_the_code_style() -> None:
    # zod's json-schema processors: a table of functions looked up by check name.
    table = b"""const contributors = {
  greater_than: (c) => c.value,
  less_than: (c) => c.value,
  mime_type: function (c) { return c.mime; },
};
exports.on_change = function (e) { return e; };
export function parse_value(x) { return x; }
"""
    units = parse_file("src/core/processors.ts", table).units  # type: ignore[union-attr]
    keyed = {u.name: "bound:property" in u.traits for u in units}
    assert keyed == {
        "greater_than": True,
        "less_than": True,
        "mime_type": True,
        "on_change": True,
        "parse_value": False,
    }
    declarations = tuple(
        Declaration(f"src/core/m{i}.ts", "function", f"loadItem{i}x", f"loadItem{i}x", 1)
        for i in range(6)
    )
    codebase = Codebase(files=tuple(d.path for d in declarations), declarations=declarations)
    diff = _added("src/core/processors.ts", 8)
    changed = tuple(ChangedUnit("src/core/processors.ts", u) for u in units)
    # Only the declared function breaks the directory's camelCase; the keyed ones do not.
    assert _run(codebase, [diff], {}, None, changed) == [("naming", "src/core/processors.ts", 7)]


def test_huge_cyclic_and_unresolvable_graphs_never_crash() -> None:
    files = [f"pkg/c{c}/m{i}.py" for c in range(50) for i in range(60)]
    imports = []
    for n, path in enumerate(files):
        c, i = divmod(n, 60)
        for k in range(1, 8):  # every component imports its neighbours, which import it back
            there = files[((c + k) % 50) * 60 + i]
            back = files[((c - k) % 50) * 60 + (i * 7) % 60]
            imports.append(Resolved(path, k, "x", there, None))
            imports.append(Resolved(path, 20 + k, "y", back, None))
        imports.append(Resolved(path, 9, "..missing", None, "..missing"))
        imports.append(Resolved(path, 10, "", None, ""))
        imports.append(Resolved(path, 11, "self", path, None))
    declarations = [Declaration(p, "class", "", "", 1) for p in files[:10]]
    codebase = Codebase(
        files=tuple(files), imports=tuple(imports), declarations=tuple(declarations)
    )
    started = time.monotonic()
    rules = mine(codebase, ConventionSettings())
    assert time.monotonic() - started < 10
    assert [r for r in rules if r.kind == "dependency-direction"] == []  # every pair cycles
    assert [r for r in rules if r.kind == "wrapped-dependency"] == []
