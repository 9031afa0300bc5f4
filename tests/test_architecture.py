"""The shape of the house, checked from the source with ``ast``.

- No import cycle anywhere in ``labkit/``, imports inside functions included.
- The engine (core, origin, gateway, transport, the Inspector, retry) never
  imports the Simulator, the lessons, the widgets, the CLI or the package root.
- No private attribute of httpx, httpcore, httplint or uvicorn is read or
  written, and none of their private modules imported, outside the one module
  that isolates the CONNECT hook uvicorn offers no public way to make.
- Every package's ``__all__`` is sorted and complete, as httpx's
  ``test_exported_members`` checks its own.
"""

from __future__ import annotations

import ast
import importlib
import inspect as pyinspect
import pkgutil
import types
from pathlib import Path

import pytest

import labkit

ROOT = Path(labkit.__file__).parent
ENGINE = ("core", "origin", "gateway", "transport", "inspector", "retry")
ABOVE_ENGINE = ("labkit._simulator", "labkit.labs", "labkit.widgets", "labkit.cli", "labkit.__main__")
LIBRARIES = ("httpx", "httpcore", "httplint", "uvicorn")
# uvicorn serves no CONNECT and offers no public hook for it; this one module
# adapts its HTTP protocol, and a test beside it fails loudly if that no longer fits.
ISOLATED = {"labkit.transport._connect"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def _resolve(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module if _is_package(module) else module.rpartition(".")[0]
    for _ in range(node.level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{node.module}" if node.module else package


def _imports(module: str) -> set[str]:
    """Every labkit module ``module`` imports, at any depth of its code."""
    tree = ast.parse(MODULES[module].read_text(), filename=str(MODULES[module]))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(module, node)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in MODULES else base)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
            "import_module", "__import__"
        ):
            # A dynamic import hides an arrow from this test: name it plainly instead.
            found.add("<dynamic import>")
    return {name for name in found if name in MODULES or name == "<dynamic import>"}


GRAPH = {name: _imports(name) - {name} for name in MODULES}


def test_no_dynamic_imports():
    assert [m for m, deps in GRAPH.items() if "<dynamic import>" in deps] == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    # Tarjan's strongly connected components; any with two or more modules is a cycle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in graph:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_anywhere_lazy_imports_included():
    assert _cycles({m: d - {"<dynamic import>"} for m, d in GRAPH.items()}) == []


def _engine_modules():
    return [m for m in MODULES if m.split(".")[1:2] and m.split(".")[1] in ENGINE]


def test_the_engine_packages_exist():
    present = {m.split(".")[1] for m in _engine_modules()}
    assert present == set(ENGINE)


@pytest.mark.parametrize("module", _engine_modules())
def test_engine_never_imports_what_stands_above_it(module):
    above = sorted(d for d in GRAPH[module]
                   if d == "labkit" or any(d == a or d.startswith(a + ".") for a in ABOVE_ENGINE))
    assert above == [], f"{module} imports {above}: the engine must not depend on the lessons layer"


@pytest.mark.parametrize("module", [m for m in MODULES if m.startswith("labkit.core")])
def test_core_stands_on_nothing_else_of_labkit(module):
    assert sorted(d for d in GRAPH[module] if not d.startswith("labkit.core")) == []


def _private_names_defined_in(tree: ast.AST) -> set[str]:
    """Private names a module defines itself: reaching into those is its own business."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) \
                and getattr(node.value, "id", "") in ("self", "cls"):
            names.add(node.attr)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return {n for n in names if n.startswith("_")}


def _private_reach_ins(module: str) -> list[str]:
    source = MODULES[module].read_text()
    tree = ast.parse(source)
    own = _private_names_defined_in(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                root, *rest = alias.name.split(".")
                if root in LIBRARIES and (any(p.startswith("_") for p in rest)
                                          or (root == "uvicorn" and rest)):
                    found.append(f"line {node.lineno}: import {alias.name}")
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            root, *rest = node.module.split(".")
            # uvicorn's public surface is its top level (Config, Server, run);
            # uvicorn.protocols and the like are its internals.
            if root in LIBRARIES and (any(p.startswith("_") for p in rest)
                                      or any(a.name.startswith("_") for a in node.names)
                                      or (root == "uvicorn" and rest)):
                found.append(f"line {node.lineno}: from {node.module} import ...")
        elif isinstance(node, ast.Attribute):
            name = node.attr
            if name.startswith("_") and not name.startswith("__") and name not in own:
                found.append(f"line {node.lineno}: .{name}")
            if name == "__class__" and isinstance(node.ctx, ast.Store):
                found.append(f"line {node.lineno}: assigns __class__")
        elif isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("setattr", "getattr"):
            if len(node.args) >= 2 and isinstance(node.args[1], ast.Constant) \
                    and str(node.args[1].value).startswith("_") \
                    and not str(node.args[1].value).startswith("__"):
                found.append(f"line {node.lineno}: {node.func.id}(..., {node.args[1].value!r})")
    return found


@pytest.mark.parametrize("module", sorted(set(MODULES) - ISOLATED))
def test_no_private_reach_into_the_libraries(module):
    assert _private_reach_ins(module) == []


def test_the_reach_in_detector_sees_one():
    probe = "labkit._probe_for_test"
    MODULES[probe] = Path(__file__)  # this file reads client._transport below, on purpose
    try:
        assert any("._transport" in f for f in _private_reach_ins(probe))
    finally:
        del MODULES[probe]
    if False:  # pragma: no cover - only parsed, never run
        client = None
        client._transport


def _packages():
    return sorted(m for m in MODULES if _is_package(m))


@pytest.mark.parametrize("name", _packages())
def test_all_is_sorted_and_complete(name):
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{name} has no __all__"
    assert list(exported) == sorted(exported), f"{name}.__all__ is not sorted"
    public = {
        key for key, value in vars(module).items()
        if not key.startswith("_")
        and not isinstance(value, types.ModuleType)
        and not (key == "annotations" and getattr(value, "__class__", type).__name__ == "_Feature")
    }
    assert set(exported) == public, f"{name}.__all__ differs from its public names"
    for key in exported:
        assert hasattr(module, key), f"{name}.__all__ names {key}, which it lacks"


def test_every_package_is_seen():
    found = {m.name for m in pkgutil.walk_packages(labkit.__path__, "labkit.") if m.ispkg}
    assert found | {"labkit"} == set(_packages())


def test_labkit_inspect_is_a_plain_function():
    assert pyinspect.isfunction(labkit.inspect)
