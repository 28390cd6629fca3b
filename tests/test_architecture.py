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


def test_the_cycle_check_finds_cycles_and_the_imports_it_reads() -> None:
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None
    # A function-level import counts, and so does the package run on the way to a module.
    assert "advisor.market" in imports("advisor.scoring")
    assert {"advisor.optimize", "advisor.rebalance"} <= imports("advisor.batch")


def test_no_module_level_mutable_state_in_the_optimizer() -> None:
    mutable = (ast.Dict, ast.List, ast.Set, ast.DictComp, ast.ListComp, ast.SetComp)
    factories = {"dict", "list", "set", "defaultdict", "OrderedDict", "WeakValueDictionary"}
    for name, path in MODULES.items():
        if not name.startswith("advisor.optimize"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        assert not [n for n in ast.walk(tree) if isinstance(n, ast.Global)], name
        for node in tree.body:
            value = getattr(node, "value", None)
            if not isinstance(node, ast.Assign | ast.AnnAssign) or value is None:
                continue
            if "__all__" in ast.unparse(node).split("=")[0]:  # the export list, read-only
                continue
            called = isinstance(value, ast.Call) and getattr(value.func, "id", "") in factories
            assert not isinstance(value, mutable) and not called, (
                f"{name}:{node.lineno} keeps mutable state at module level"
            )


def test_apply_does_not_depend_on_the_reports() -> None:
    assert not {m for m in imports("advisor.fills") if m.startswith("advisor.report")}
