"""labkit's public surface is curated: sorted, complete, importable."""

import importlib
import pkgutil
import subprocess
import sys

import pytest

import labkit

PACKAGES = ["labkit"] + [
    f"labkit.{m.name}" for m in pkgutil.iter_modules(labkit.__path__) if m.ispkg
]


@pytest.mark.parametrize("name", PACKAGES)
def test_all_is_sorted_and_importable(name):
    module = importlib.import_module(name)
    exported = list(module.__all__)
    assert exported == sorted(exported), (
        f"{name}.__all__ is not sorted"
    )
    assert len(exported) == len(set(exported))
    for attr in exported:
        assert hasattr(module, attr), f"{name}.__all__ names missing {attr!r}"


def test_public_names_do_not_leak_private_modules():
    for attr in labkit.__all__:
        obj = getattr(labkit, attr)
        assert not attr.startswith("_"), attr
        module = getattr(obj, "__module__", "labkit") or "labkit"
        assert module.startswith("labkit"), (attr, module)


def test_import_is_light():
    # Notebook-only libraries load on first use, so `import labkit` stays fast.
    code = "import sys, labkit; print(sorted(m for m in ('pandas', 'ipywidgets', 'matplotlib') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
