"""Notebooks 02-04 as a learner lives them.

- Run All, then every cell again in the same kernel: no error, nothing on stderr, the same outputs, and no
  thread or file descriptor left behind by the first pass.
- Every exercise arrives unanswered and says so; a wrong answer gets a one-line hint; the solution hidden
  in its "Show a solution" block, run in place of the exercise cell, is right.
- Each notebook opens with time, prerequisites and objectives, closes with key points and what's next, and
  describes every plot in words.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = ["02-511-vs-401.ipynb", "03-retry-and-backoff.ipynb", "04-thundering-herd.ipynb"]
MEASURE = "import threading, os; print(threading.active_count(), len(os.listdir('/proc/self/fd')))"
SOLUTION = re.compile(r"<details>\s*<summary>Show a solution</summary>(.*?)</details>", re.S)
FENCE = re.compile(r"```python\n(.*?)```", re.S)


def _read(name: str):
    return nbformat.read(NOTEBOOK_DIR / name, as_version=4)


def _sanitizers() -> list[tuple[re.Pattern, str]]:
    """tests/nbval-sanitize.cfg, the patterns nbval applies: what truly varies between runs."""
    lines = (Path(__file__).parent / "nbval-sanitize.cfg").read_text(encoding="utf-8").splitlines()
    regexes = [line[len("regex: "):] for line in lines if line.startswith("regex: ")]
    replaces = [line[len("replace: "):] for line in lines if line.startswith("replace: ")]
    return [(re.compile(r), s) for r, s in zip(regexes, replaces)]


def _text(cell) -> str:
    """What a cell showed, as text: streams, plain-text reprs, errors (widget views and images aside)."""
    parts = []
    for out in cell.get("outputs", []):
        kind = out["output_type"]
        if kind == "stream":
            # One print may arrive as one output or several: join a stream's pieces.
            if parts and parts[-1].startswith(f"[{out['name']}] "):
                parts[-1] += out["text"]
            else:
                parts.append(f"[{out['name']}] {out['text']}")
        elif kind == "error":
            parts.append(f"[error] {out['ename']}: {out['evalue']}")
        else:
            parts.append(out.get("data", {}).get("text/plain", ""))
    text = "\n".join(parts)
    for pattern, replacement in _sanitizers():
        text = pattern.sub(replacement, text)
    return text


def _problems(cells) -> list[str]:
    """Error outputs and stderr text, which a learner reads as breakage."""
    return [f"cell {i}: {_text(c)[:300]}" for i, c in enumerate(cells)
            if any(o["output_type"] == "error" or o.get("name") == "stderr" for o in c.get("outputs", []))]


@contextlib.contextmanager
def _kernel(nb):
    """One kernel for ``nb``, started in notebooks/ with this checkout's labkit importable."""
    client = NotebookClient(nb, kernel_name="python3", timeout=300, allow_errors=True,
                            resources={"metadata": {"path": str(NOTEBOOK_DIR)}})
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    with client.setup_kernel(env=dict(os.environ, PYTHONPATH=path, MPLBACKEND="agg")):
        yield client


def _execute(client, nb, index: int, source: str | None = None):
    """Run cell ``index`` (with ``source`` in place of its own, if given); returns the cell run."""
    cell = nb.cells[index]
    if source is not None:
        cell = nbformat.v4.new_code_cell(source)
        nb.cells[index], original = cell, nb.cells[index]
    try:
        return client.execute_cell(cell, index)
    finally:
        if source is not None:
            nb.cells[index] = original


def _run_all(client, nb) -> list[str]:
    return [_text(_execute(client, nb, i)) if c.cell_type == "code" else "" for i, c in enumerate(nb.cells)]


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts open files through /proc")
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_run_all_twice_in_one_kernel(name):
    nb = _read(name)
    nb.cells.append(nbformat.v4.new_code_cell(MEASURE))
    with _kernel(nb) as client:
        first = _run_all(client, nb)
        problems = _problems(nb.cells)
        second = _run_all(client, nb)
        problems += _problems(nb.cells)
    assert not problems, f"{name}: errors or stderr after Run All: {problems}"
    (threads1, fds1), (threads2, fds2) = (map(int, p.split()[-2:]) for p in (first[-1], second[-1]))
    print(f"{name}: threads {threads1} -> {threads2}, open fds {fds1} -> {fds2}")
    assert (threads2, fds2) == (threads1, fds1), (
        f"{name}: a second Run All left threads or files behind: threads {threads1} -> {threads2}, "
        f"fds {fds1} -> {fds2}")
    changed = [i for i, (a, b) in enumerate(zip(first[:-1], second[:-1])) if a != b]
    assert not changed, f"{name}: cells {changed} show something else the second time: {second[changed[0]]!r}"


def _exercises(nb) -> list[tuple[int, int, str]]:
    """``(exercise cell, check cell, solution code)`` for each "Show a solution" block.

    The exercise cell is the code cell holding ``ANSWER_ME`` just before the check cell,
    which calls ``check(`` and comes right before the block.
    """
    found = []
    for i, cell in enumerate(nb.cells):
        block = SOLUTION.search(cell.source) if cell.cell_type == "markdown" else None
        if not block:
            continue
        code = [j for j in range(i) if nb.cells[j].cell_type == "code"]
        check_cell, exercise = code[-1], code[-2]
        assert "check(" in nb.cells[check_cell].source, (i, nb.cells[check_cell].source)
        assert re.search(r"\bANSWER_ME\b", nb.cells[exercise].source), nb.cells[exercise].source
        fences = FENCE.findall(block.group(1))
        assert len(fences) == 1, f"one code block per solution (cell {i})"
        found.append((exercise, check_cell, fences[0]))
    return found


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_exercises_arrive_unanswered_and_say_so(name):
    nb = _read(name)
    exercises = _exercises(nb)
    assert exercises, f"{name} has no exercise with a hidden solution"
    for _, check_cell, _ in exercises:
        assert _text(nb.cells[check_cell]).startswith("Waiting for your answer"), _text(nb.cells[check_cell])
    for i, cell in enumerate(nb.cells):
        assert "raises-exception" not in cell.metadata.get("tags", []), f"{name} cell {i} expects an error"
        # A solution is never run in plain sight: no code cell after a solution block solves the exercise.
        if cell.cell_type == "markdown" and SOLUTION.search(cell.source) and i + 1 < len(nb.cells):
            following = nb.cells[i + 1]
            assert following.cell_type == "markdown" or "solution" not in following.source


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_a_wrong_answer_gets_a_hint_and_the_solution_is_right(name):
    nb = _read(name)
    exercises = {exercise: (check_cell, code) for exercise, check_cell, code in _exercises(nb)}
    checks = {check_cell for check_cell, _ in exercises.values()}
    last = max(checks)
    ran, verdicts = [], []
    with _kernel(nb) as client:
        for i in range(last + 1):
            if nb.cells[i].cell_type != "code" or i in checks:
                continue
            if i not in exercises:
                ran.append(_execute(client, nb, i))
                continue
            check_cell, solution = exercises[i]
            # A wrong answer: every ANSWER_ME replaced by None.
            ran.append(_execute(client, nb, i, re.sub(r"\bANSWER_ME\b", "None", nb.cells[i].source)))
            hint = _text(_execute(client, nb, check_cell))
            # The hidden solution, in place of the exercise cell.
            ran.append(_execute(client, nb, i, solution))
            right = _text(_execute(client, nb, check_cell))
            verdicts.append((i, hint, right))
    assert not _problems(ran), _problems(ran)
    assert len(verdicts) == len(exercises)
    for i, hint, right in verdicts:
        assert hint.startswith("Not yet: ") and "\n" not in hint.strip() and len(hint) < 250, (i, hint)
        assert right.startswith("Right: "), (i, right)


def _markdown(nb) -> list[str]:
    return [c.source for c in nb.cells if c.cell_type == "markdown"]


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_each_notebook_has_the_shape_of_a_lesson(name):
    nb = _read(name)
    first, last = _markdown(nb)[0], _markdown(nb)[-1]
    for heading in ("**Time to learn:**", "**Prerequisites**", "**Objectives.**"):
        assert heading in first, f"{name} does not open with {heading}"
    assert "## Key points" in last and "## What's next" in last, f"{name} does not end with key points"
    assert any(s.lstrip().startswith("**Predict:**") or "\n**Predict:**" in s for s in _markdown(nb))
    prose = "\n".join(_markdown(nb))
    for word in ("benchmark", "nbval", "pytest", " CI ", "a test checks"):
        assert word not in prose, f"{name} talks to developers: {word!r}"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_every_plot_is_described_in_words(name):
    nb = _read(name)
    for i, cell in enumerate(nb.cells):
        images = [o for o in cell.get("outputs", []) if "image/png" in o.get("data", {})]
        if images:
            after = nb.cells[i + 1]
            assert after.cell_type == "markdown" and after.source.startswith("The plot shows"), (
                f"{name}: the plot of cell {i} is not followed by a sentence saying what it shows")


def test_the_notebooks_are_valid_json_with_cell_ids():
    for name in NOTEBOOKS:
        nb = json.loads((NOTEBOOK_DIR / name).read_text(encoding="utf-8"))
        nbformat.validate(nbformat.from_dict(nb))
