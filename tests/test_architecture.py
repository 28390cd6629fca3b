"""The package's shape: no import cycle, no module-level mutable state in the optimizer, and
`apply` independent of the reports. Read from the source with ast, imports inside functions
included."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

PACKAGE = ROOT / "advisor"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports(name: str) -> set[str]:
    """The advisor modules `name` imports, and the packages Python runs on the way to them."""
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            targets = [node.module]
            targets += [f"{node.module}.{alias.name}" for alias in node.names]
        for target in targets:
            if target not in MODULES:
                continue
            found.add(target)
            parts = target.split(".")
            found.update(".".join(parts[:i]) for i in range(2, len(parts)))
    own = {".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)}
    return found - own - {name, "advisor"}


def cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of `graph` (its nodes in order, the first repeated last), or None."""
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> list[str] | None:
        if name in path:
            return [*path[path.index(name) :], name]
        if name in done:
            return None
        for other in sorted(graph.get(name, ())):
            found = visit(other, [*path, name])
            if found:
                return found
        done.add(name)
        return None

    return next((found for name in sorted(graph) if (found := visit(name, []))), None)


def test_no_import_cycle_inside_advisor() -> None:
    found = cycle({name: imports(name) for name in MODULES})
    assert found is None, "import cycle: " + " -> ".join(found or [])


def test_no_import_cycle_between_the_packages_and_modules_of_advisor() -> None:
    """The same at the grain of advisor's top-level packages and modules (advisor.market,
    advisor.exposures, ...), as tools that draw package graphs see it."""

    def top(name: str) -> str:
        return ".".join(name.split(".")[:2])

    graph: dict[str, set[str]] = {}
    for name in MODULES:
        graph.setdefault(top(name), set()).update(top(m) for m in imports(name))
    found = cycle({name: targets - {name} for name, targets in graph.items()})
    assert found is None, "import cycle: " + " -> ".join(found or [])


def test_the_cycle_check_finds_cycles_and_the_imports_it_reads() -> None:
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None
    # A function-level import counts, and so does the package run on the way to a module.
    assert "advisor.market" in imports("advisor.scoring")
    assert {"advisor.optimize", "advisor.rebalance"} <= imports("advisor.batch")


IMMUTABLE_CALLS = {"frozenset", "tuple", "MappingProxyType", "TypeVar", "field"}
MUTABLE = (ast.Dict, ast.List, ast.Set, ast.DictComp, ast.ListComp, ast.SetComp)
CACHES = {"cache", "lru_cache", "cached_property"}


def shared_state(tree: ast.Module) -> list[int]:
    """Lines that keep state beyond one call at module or class level: a mutable literal, a
    call that may build a mutable object, a caching decorator on a module-level function, or
    a `global` statement. `field(default_factory=...)` makes one object per instance: allowed."""

    def kept(value: ast.expr | None) -> bool:
        if isinstance(value, MUTABLE):
            return True
        if isinstance(value, ast.Call):
            name = getattr(value.func, "id", None) or getattr(value.func, "attr", "")
            return name not in IMMUTABLE_CALLS
        return False

    found = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Global)]
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign) and "__all__" not in ast.unparse(node):
            found += [node.lineno] * kept(node.value)
        elif isinstance(node, ast.FunctionDef):
            names = {ast.unparse(d).split("(")[0].split(".")[-1] for d in node.decorator_list}
            found += [node.lineno] * bool(names & CACHES)
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.Assign | ast.AnnAssign):
                    found += [item.lineno] * kept(item.value)
    return found


def test_no_module_level_mutable_state_in_the_optimizer() -> None:
    for name, path in MODULES.items():
        if name.startswith("advisor.optimize"):
            lines = shared_state(ast.parse(path.read_text(encoding="utf-8")))
            assert not lines, f"{name} keeps state at module or class level, lines {lines}"


def test_the_state_check_finds_caches_of_every_kind() -> None:
    for source in (
        "_CACHE = {}",
        "_SOLVER = Solver()",
        "BUFFER = np.zeros(3)",
        "import functools\n@functools.lru_cache\ndef f(): pass",
        "class A:\n    seen: list[int] = []",
        "def f():\n    global X",
    ):
        assert shared_state(ast.parse(source)), source
    fine = "A = (1, 2)\nB = frozenset()\n__all__ = ['A']\nclass C:\n    n = 1"
    assert not shared_state(ast.parse(fine))


def test_apply_does_not_depend_on_the_reports() -> None:
    assert not {m for m in imports("advisor.fills") if m.startswith("advisor.report")}
