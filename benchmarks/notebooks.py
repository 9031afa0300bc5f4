"""The course in one kernel (run on demand: `.venv/bin/python benchmarks/notebooks.py`).

Starts one Python kernel in notebooks/, then runs the code cells of each
notebook in turn in that same kernel, as a learner who works through the
course top to bottom without restarting would. Prints the wall time of each
notebook and of the whole, and writes benchmarks/results/notebooks.json.
The kernel's own start-up is reported apart (it is the same for any course).

Aim (issue 11): notebooks 00-04 in one kernel in under 6 s.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import nbformat
from jupyter_client.manager import start_new_kernel

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
COURSE = ("00-start-here", "01-reproduce-511", "01b-portal-modes", "02-511-vs-401",
          "03-retry-and-backoff", "04-thundering-herd")


def run_cells(client, source: str, timeout: float = 120) -> None:
    reply = client.execute_interactive(source, timeout=timeout, output_hook=lambda msg: None)
    content = reply["content"]
    # A cell that raises on purpose is marked as the notebooks mark it.
    if content["status"] == "error" and "NBVAL_RAISES_EXCEPTION" not in source and "raises-exception" not in source:
        raise RuntimeError(f"cell failed: {content['ename']}: {content['evalue']}\n{source[:200]}")


def one_pass(names: list[str]) -> dict:
    started = time.perf_counter()
    # The kernel's stderr is its own start-up chatter (a loopback TCP warning); cells' errors come back in replies.
    manager, client = start_new_kernel(kernel_name="python3", cwd=str(ROOT / "notebooks"),
                                       env={**os.environ, "PYTHONPATH": str(ROOT)}, stderr=subprocess.DEVNULL)
    kernel_s = time.perf_counter() - started
    try:
        times = {}
        for name in names:
            nb = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
            t = time.perf_counter()
            for cell in nb.cells:
                if cell.cell_type == "code":
                    tags = cell.get("metadata", {}).get("tags", [])
                    run_cells(client, cell.source + ("\n# raises-exception" if "raises-exception" in tags else ""))
            times[name] = time.perf_counter() - t
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    return {"kernel_start_s": kernel_s, "notebooks_s": times, "total_s": sum(times.values())}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="fresh kernels, one pass each; the median is reported")
    parser.add_argument("--notebooks", nargs="*", default=list(COURSE))
    args = parser.parse_args()
    # What a learner's kernel imports after the first time: labkit's bytecode
    # (pip compiles every other package's when it installs it). Without this, an
    # environment with PYTHONDONTWRITEBYTECODE set recompiles labkit in every kernel.
    compileall.compile_dir(str(ROOT / "labkit"), quiet=1)
    passes = [one_pass(args.notebooks) for _ in range(args.rounds)]
    report = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "notebooks": args.notebooks,
        "median_total_s": statistics.median(p["total_s"] for p in passes),
        "median_s": {n: statistics.median(p["notebooks_s"][n] for p in passes) for n in args.notebooks},
        "median_kernel_start_s": statistics.median(p["kernel_start_s"] for p in passes),
        "passes": passes,
    }
    for name, seconds in report["median_s"].items():
        print(f"  {name:24} {seconds:6.2f} s")
    print(f"course in one kernel ({len(args.notebooks)} notebooks, median of {args.rounds}): "
          f"{report['median_total_s']:.2f} s (aim < 6 s); kernel start {report['median_kernel_start_s']:.2f} s")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "notebooks.json").write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
