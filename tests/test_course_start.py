"""Notebooks 00, 01 and 01b as a learner lives them.

- Run All, then every cell again in order, each exercise with a wrong answer, and
  Run All once more, in one kernel: no error output anywhere, and the kernel holds
  no more threads or file descriptors after the third pass than after the second.
- A kernel restart half-way, then Run All: no error.
- Each exercise arrives unanswered and its check waits; each hidden solution, run
  in place of its exercise cell, makes the check say Right.
- Each notebook has a lesson's shape (objectives, prerequisites, time, key points,
  what's next) and no clickable link to a name that exists only in the lab.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import re
from pathlib import Path

import nbformat
import pytest
from jupyter_core.utils import run_sync
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NB_DIR = ROOT / "notebooks"
NOTEBOOKS = ["00-start-here.ipynb", "01-reproduce-511.ipynb", "01b-portal-modes.ipynb"]
# What the kernel holds, measured from inside it.
MEASURE = "import threading, os; print(threading.active_count(), len(os.listdir('/proc/self/fd')))"
SOLUTION = "<details><summary>Show a solution</summary>"

# A wrong answer per exercise, in order: each must get a hint, never a traceback.
WRONG = {
    "00-start-here.ipynb": ["answer = 200"],
    "01-reproduce-511.ipynb": ['login = guest.get("http://portal.labkit.test/login")', "seconds = 60"],
    "01b-portal-modes.ipynb": ['android_status, android_verdict = 511, "no internet"', 'fooled = {"spoof"}'],
}


def _read(name: str) -> nbformat.NotebookNode:
    return nbformat.read(NB_DIR / name, as_version=4)


def _text(outputs) -> str:
    parts = []
    for o in outputs:
        if o.output_type == "stream":
            parts.append(o.text)
        elif "data" in o:
            parts.append(o.data.get("text/plain", ""))
    return "".join(parts)


def _problems(outputs) -> list[str]:
    """Error output a learner would see: a traceback, or anything on stderr."""
    return [f"{o.ename}: {o.evalue}" if o.output_type == "error" else o.text
            for o in outputs if o.output_type == "error" or (o.output_type == "stream" and o.name == "stderr")]


def _exercises(nb) -> list[int]:
    return [i for i, c in enumerate(nb.cells) if "exercise" in c.metadata.get("tags", [])]


def _solutions(nb) -> dict[int, str]:
    """Each <details> solution's code, keyed by the exercise cell it answers (the nearest before it)."""
    out: dict[int, str] = {}
    exercises = _exercises(nb)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown" or SOLUTION not in cell.source:
            continue
        block = cell.source.split(SOLUTION, 1)[1].split("</details>", 1)[0]
        code = "\n".join(re.findall(r"```python\n(.*?)```", block, re.S))
        target = max(e for e in exercises if e < i)
        assert target not in out, f"two solutions for the exercise in cell {target}"
        out[target] = code
    return out


class Kernel:
    """One kernel for one notebook; runs its cells, or any code, and keeps what went wrong."""

    def __init__(self, nb) -> None:
        self.nb = nb
        # A copy: nbclient stores each executed cell into its notebook, which would
        # replace the sources this test runs again.
        self.client = NotebookClient(copy.deepcopy(nb), timeout=120, kernel_name="python3", allow_errors=True,
                                     resources={"metadata": {"path": str(NB_DIR)}})
        self.problems: list[str] = []

    def run(self, source: str, index: int = 0):
        cell = nbformat.v4.new_code_cell(source)
        self.client.execute_cell(cell, index)
        self.problems += [f"cell {index}: {p}" for p in _problems(cell.outputs)]
        return cell.outputs

    def run_all(self) -> dict[int, list]:
        return {i: self.run(c.source, i) for i, c in enumerate(self.nb.cells) if c.cell_type == "code"}

    def measure(self) -> tuple[int, int]:
        threads, fds = _text(self.run(MEASURE)).split()
        return int(threads), int(fds)

    def restart(self) -> None:
        run_sync(self.client.km.restart_kernel)(now=True)
        run_sync(self.client.kc.wait_for_ready)(timeout=60)


@contextlib.contextmanager
def kernel(nb):
    k = Kernel(nb)
    # The kernel imports this checkout's labkit, whatever the environment says.
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    with k.client.setup_kernel(env=dict(os.environ, PYTHONPATH=path)):
        yield k


# -- re-runnable -------------------------------------------------------------------------
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_run_all_again_and_again_in_one_kernel(name, record_property):
    nb = _read(name)
    exercises = _exercises(nb)
    with kernel(nb) as k:
        first = k.run_all()  # Run All
        after_one = k.measure()
        k.run_all()  # every cell again, in order
        for i, wrong in zip(exercises, WRONG[name], strict=True):
            # A learner answers wrong after Run All: the check gives a hint (never a traceback) ...
            k.run(wrong, i)
            hint = _text(k.run(nb.cells[i + 1].source, i + 1))
            assert hint.startswith("Not yet:"), (name, wrong, hint)
            # ... and running the exercise and its check once more waits again.
            k.run(nb.cells[i].source, i)
            assert _text(k.run(nb.cells[i + 1].source, i + 1)).startswith("Waiting for your answer")
        after_two = k.measure()
        k.run_all()  # Run All once more
        after_three = k.measure()
    record_property("threads_fds", [after_one, after_two, after_three])
    print(f"{name}: threads, open fds after passes 1, 2, 3: {after_one} {after_two} {after_three}")
    assert k.problems == []
    for i in exercises:  # Run All leaves every exercise waiting
        assert _text(first[i + 1]).startswith("Waiting for your answer"), (name, i + 1)
    assert after_three[0] <= after_two[0], "a full pass left threads behind"
    assert after_three[1] <= after_two[1], "a full pass left file descriptors (sockets, files) open"
    assert after_two[0] <= after_one[0] and after_two[1] <= after_one[1]


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_a_restart_half_way_then_run_all(name):
    nb = _read(name)
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    with kernel(nb) as k:
        for i in code[: len(code) // 2]:
            k.run(nb.cells[i].source, i)
        k.restart()
        k.run_all()
    assert k.problems == []


# -- one exercise convention ---------------------------------------------------------------
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_every_exercise_arrives_unanswered_with_a_check(name):
    nb = _read(name)
    exercises = _exercises(nb)
    assert exercises, f"{name} has no exercise"
    assert len(WRONG[name]) == len(exercises)
    for i in exercises:
        assert "ANSWER_ME" in nb.cells[i].source, (name, i)
        assert "check(" in nb.cells[i + 1].source, f"{name}: cell {i + 1} should check the exercise above"
    assert sorted(_solutions(nb)) == exercises, f"{name}: every exercise has one hidden solution"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert "ANSWER_ME" not in cell.source or cell.metadata.get("tags") == ["exercise"] or \
                "check(" not in cell.source


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_each_hidden_solution_makes_its_check_say_right(name):
    nb = _read(name)
    solutions = _solutions(nb)
    verdicts = {}
    with kernel(nb) as k:
        for i, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                outputs = k.run(solutions.get(i, cell.source), i)
                if i - 1 in solutions:
                    verdicts[i] = _text(outputs)
    assert k.problems == []
    assert len(verdicts) == len(solutions)
    for i, text in verdicts.items():
        assert text.startswith("Right:"), f"{name}, check in cell {i}: {text}"


# -- a lesson's shape ----------------------------------------------------------------------
def _markdown(nb) -> list[str]:
    return [c.source for c in nb.cells if c.cell_type == "markdown"]


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_lesson_shape(name):
    nb = _read(name)
    md = _markdown(nb)
    opening, closing = md[0], md[-1]
    assert re.search(r"## Overview\n\n.*\n\n1\. ", opening), f"{name} opens with objectives a learner can check"
    assert "## Prerequisites" in opening and "**Time to learn:**" in opening
    assert "## Key points" in closing and "## What's next" in closing
    assert "Predict:" in "\n".join(md), f"{name} asks the learner to predict before an output that teaches"
    everything = "\n".join(c.source for c in nb.cells)
    assert not re.search(r"\bCI\b|continuous integration|nbval|pytest|compared in", everything), \
        f"{name} talks about its tests; a learner does not need that"
    # No clean-up cell closes what a cell run later would need.
    assert not re.search(r"\.close\(\)|sim\.stop\(\)", everything)


def _prose(markdown: str) -> str:
    """Markdown without fenced blocks and code spans: the text JupyterLab may turn into links."""
    markdown = re.sub(r"```.*?```", "", markdown, flags=re.S)
    return re.sub(r"`[^`\n]*`", "", markdown)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_no_clickable_link_to_a_name_only_the_lab_knows(name):
    for source in _markdown(_read(name)):
        prose = _prose(source)
        urls = re.findall(r"https?://[^\s)\"'<>]+", prose)
        lab_only = [u for u in urls if re.match(r"https?://[^/:]+\.test\b", u)]
        assert not lab_only, f"{name}: write {lab_only} as code: the browser cannot open it"


def test_the_course_table_and_readme_name_every_notebook():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = "\n".join(_markdown(_read("00-start-here.ipynb")))
    for path in sorted(NB_DIR.glob("*.ipynb")):
        stem = path.stem
        assert f"`{stem}`" in readme, f"README's course table lacks {stem}"
        number, _, _ = stem.partition("-")
        assert f"**{number} · " in start, f"notebook 00's course table lacks {stem}"
    nb = json.loads((NB_DIR / "01b-portal-modes.ipynb").read_text(encoding="utf-8"))
    assert nb["cells"][0]["source"][0].startswith("# 01b · ")
