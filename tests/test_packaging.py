"""The two ways to install (pip and conda/Binder) cannot drift apart."""

import json
import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
# conda-forge names that differ from PyPI's, and conda-only tooling.
CONDA_TO_PYPI = {"matplotlib-base": "matplotlib"}
CONDA_ONLY = {"python", "pip"}


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def spec_name(spec: str) -> str:
    return norm(re.split(r"[\s<>=!~;\[]", spec.strip(), maxsplit=1)[0])


def pyproject_names() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = project["dependencies"] + [s for group in project["optional-dependencies"].values() for s in group]
    return {spec_name(s) for s in specs}


def environment_names() -> set[str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["channels"] == ["conda-forge"]
    names = set()
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            names |= {spec_name(s) for s in dep["pip"] if not s.startswith("-e")}
            assert "-e ." in dep["pip"], "Binder must install labkit itself"
        else:
            name = spec_name(dep)
            names.add(norm(CONDA_TO_PYPI.get(name, name)))
    return names - CONDA_ONLY


def test_environment_yml_and_pyproject_name_the_same_packages():
    assert environment_names() == pyproject_names()


def test_widgets_stack_is_in_one_environment():
    names = environment_names()
    assert {"jupyterlab", "ipywidgets", "jupyterlab-widgets"} <= names


def test_lock_pins_every_dependency_exactly():
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"unpinned line in requirements.lock: {line!r}"
            pins[norm(name)] = version
    missing = pyproject_names() - set(pins)
    assert not missing, f"requirements.lock lacks {sorted(missing)}"


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    assert "make test" in readme and "make lab" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_every_install_turns_off_jupyterlabs_news_pop_up():
    # pip, make and Binder all run `pip install -e .`, which installs this file where
    # JupyterLab reads its settings overrides; the browser tests use the same file.
    hatch = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["hatch"]["build"]["targets"]["wheel"]
    assert hatch["shared-data"] == {
        "jupyterlab-settings/overrides.json": "share/jupyter/lab/settings/overrides.json",
    }
    overrides = json.loads((ROOT / "jupyterlab-settings" / "overrides.json").read_text())
    assert overrides["@jupyterlab/apputils-extension:notification"] == {"fetchNews": "false", "checkForUpdates": False}
