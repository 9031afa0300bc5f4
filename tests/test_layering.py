"""The gateway is sans-IO, and the edges use httpx, httpcore and uvicorn through public API only.

The one exception is the CONNECT hook in ``labkit/transport/_connect.py``,
guarded by ``tests/test_connect_hook.py``.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HOOK = ROOT / "labkit" / "transport" / "_connect.py"
EDGE_AND_GATEWAY = sorted((ROOT / "labkit" / "gateway").glob("*.py")) + sorted(
    (ROOT / "labkit" / "transport").glob("*.py")
)


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module)
    return names


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("path", sorted((ROOT / "labkit" / "gateway").glob("*.py")), ids=rel)
def test_the_gateway_does_not_import_a_server(path):
    servers = {m for m in imported_modules(path) if m.split(".")[0] in ("uvicorn", "httptools")}
    assert not servers, f"{rel(path)} imports {sorted(servers)}: serving belongs in labkit/transport"


def test_only_the_connect_hook_imports_uvicorn_internals():
    for path in sorted((ROOT / "labkit").rglob("*.py")):
        inner = {m for m in imported_modules(path) if m.startswith("uvicorn.")}
        if path != HOOK:
            assert not inner, f"{rel(path)} imports {sorted(inner)}; keep uvicorn internals in {rel(HOOK)}"


@pytest.mark.parametrize("path", EDGE_AND_GATEWAY, ids=rel)
def test_no_private_module_or_attribute_of_a_library(path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 0:
            assert not any(p.startswith("_") for p in node.module.split(".") if p != "__future__"), (
                f"{rel(path)}:{node.lineno} imports the private module {node.module}"
            )
        if not isinstance(node, ast.Attribute):
            continue
        name = node.attr
        if not name.startswith("_") or name.startswith("__"):
            continue
        owner = node.value
        own = isinstance(owner, ast.Name) and owner.id in ("self", "cls")
        inherited = path == HOOK and isinstance(owner, ast.Call) and ast.unparse(owner.func) == "super"
        assert own or inherited, (
            f"{rel(path)}:{node.lineno} reads {ast.unparse(node)}, a private attribute of another "
            "object; use the library's public API"
        )
