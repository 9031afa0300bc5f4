"""The Inspector's shape, read from its source: no import cycle (imports inside
functions included), no private attribute of httpx, httpcore or httplint, and
httpx messages converted in one module."""

import ast
from pathlib import Path

import labkit

ROOT = Path(labkit.__file__).parent
PACKAGE = ROOT / "inspector"
# Capture and caching are chosen when a client is built, in these modules too.
ALSO = [ROOT / "_simulator.py", ROOT / "_show.py"]


def _name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    name = _name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            base = f"{base}.{node.module}" if node.module else base
            found.update(f"{base}.{a.name}" for a in node.names)
            found.add(base)
    return found


def test_no_import_cycle_in_the_inspector():
    modules = {_name(p): p for p in PACKAGE.glob("*.py")}
    graph = {m: _imports(p) & set(modules) - {m} for m, p in modules.items()}

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in graph[start]:
            if nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})):
                return True
        return False

    assert [m for m in graph if reaches(m, m, {m})] == []


def test_no_private_attribute_of_the_http_libraries():
    private = []
    for path in [*PACKAGE.glob("*.py"), *ALSO]:
        tree = ast.parse(path.read_text())
        own = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Store)
               and getattr(n.value, "id", "") == "self"}
        own |= {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        private += [f"{path.name}:{n.lineno} .{n.attr}" for n in ast.walk(tree)
                    if isinstance(n, ast.Attribute) and n.attr.startswith("_")
                    and not n.attr.startswith("__") and n.attr not in own]
        private += [f"{path.name}:{n.lineno} _{n.arg}" for n in ast.walk(tree)
                    if isinstance(n, ast.keyword) and (n.arg or "").startswith("_")]
    assert private == []


def test_httpx_messages_are_read_in_the_adapter_only():
    # The capture's recorder and the cache are transports (they handle httpx
    # messages); taking a message apart into headers and bodies is the adapter's job.
    readers = sorted(p.name for p in PACKAGE.glob("*.py") if ".headers.raw" in p.read_text())
    assert readers == ["_httpx.py"]
