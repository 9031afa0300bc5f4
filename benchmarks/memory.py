"""Memory of a whole course in one kernel (run on demand: `make memory`, or
`.venv/bin/python benchmarks/memory.py`).

A learner who works through the notebooks, then goes back and runs them
again, keeps one kernel per notebook open in JupyterLab; the worst case for
memory is the one kernel that runs everything. This starts one IPython kernel,
runs every code cell of every notebook in order (as Run All would), twice, and
reads the kernel's resident memory (psutil, else /proc/PID/status) after each
notebook. Aim: under 250 MB after the second pass, which would show that
re-running the course does not pile up simulators, threads or captures.

Prints a table and writes benchmarks/results/memory.json. Exit status 1 when
the aim is missed or a cell fails that is not meant to.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from jupyter_client.manager import KernelManager

HERE = Path(__file__).resolve().parent
NOTEBOOKS = HERE.parent / "notebooks"
RESULTS = HERE / "results"
MB = 1024 * 1024


def rss_bytes(pid: int) -> tuple[int, int | None]:
    """Resident memory of ``pid`` now, and its peak where the system says (Linux)."""
    peak = None
    status = Path(f"/proc/{pid}/status")
    if status.exists():
        fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        peak = int(fields["VmHWM"].split()[0]) * 1024
        now = int(fields["VmRSS"].split()[0]) * 1024
    try:
        import psutil

        now = psutil.Process(pid).memory_info().rss
    except ImportError:
        if not status.exists():
            raise SystemExit("needs psutil (pip install psutil) or a /proc file system") from None
    return now, peak


def may_raise(cell) -> bool:
    # The notebooks' own markers for a cell whose error is part of the lesson.
    return "raises-exception" in cell.metadata.get("tags", []) or "NBVAL_RAISES_EXCEPTION" in cell.source


def run_notebook(kc, path: Path, timeout: float) -> list[str]:
    """Run every code cell of ``path`` in the kernel; return the unexpected errors."""
    errors = []
    for index, cell in enumerate(nbformat.read(path, as_version=4).cells):
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        reply = kc.execute_interactive(cell.source, timeout=timeout, output_hook=lambda msg: None,
                                       stop_on_error=False)
        content = reply["content"]
        if content["status"] == "error" and not may_raise(cell):
            errors.append(f"{path.name} cell {index}: {content['ename']}: {content['evalue']}")
    return errors


def kernel_pid(kc) -> int:
    reply = kc.execute_interactive("import os as _os", user_expressions={"pid": "_os.getpid()"},
                                   output_hook=lambda msg: None, timeout=30)
    return int(reply["content"]["user_expressions"]["pid"]["data"]["text/plain"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=2)
    parser.add_argument("--target-mb", type=float, default=250)
    parser.add_argument("--cell-timeout", type=float, default=300)
    args = parser.parse_args()

    notebooks = sorted(NOTEBOOKS.glob("[0-9][0-9]*.ipynb"))  # 00, 01, 01b, 02, ...
    # The kernel imports the labkit that this interpreter would, checkout included.
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(HERE.parent), os.environ.get("PYTHONPATH")])))
    # IPC sockets where there are any (the kernel talks to this process only),
    # at an absolute path: the kernel runs in notebooks/, this process elsewhere.
    sockets = tempfile.TemporaryDirectory()
    if os.name == "posix":
        km = KernelManager(kernel_name="python3", transport="ipc", ip=os.path.join(sockets.name, "kernel"))
    else:
        km = KernelManager(kernel_name="python3")
    km.start_kernel(cwd=str(NOTEBOOKS), env=env)
    kc = km.client()
    kc.start_channels()
    rows, errors = [], []
    try:
        kc.wait_for_ready(timeout=120)
        pid = kernel_pid(kc)
        start, _ = rss_bytes(pid)
        print(f"kernel pid {pid}: {start / MB:.0f} MB resident after start-up ({sys.executable})")
        print(f"{'pass':>4}  {'notebook':<30} {'seconds':>8} {'RSS MB':>7}")
        for n in range(1, args.passes + 1):
            for path in notebooks:
                t0 = time.perf_counter()
                errors += [f"pass {n}: {e}" for e in run_notebook(kc, path, args.cell_timeout)]
                seconds = time.perf_counter() - t0
                rss, peak = rss_bytes(pid)
                rows.append({"pass": n, "notebook": path.name, "seconds": round(seconds, 2),
                             "rss_mb": round(rss / MB, 1), "peak_mb": peak and round(peak / MB, 1)})
                print(f"{n:>4}  {path.name:<30} {seconds:8.1f} {rss / MB:7.0f}", flush=True)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
        sockets.cleanup()

    by_pass = {n: rows[n * len(notebooks) - 1]["rss_mb"] for n in range(1, args.passes + 1)}
    peak = rows[-1]["peak_mb"]
    for n, mb in by_pass.items():
        seconds = sum(r["seconds"] for r in rows if r["pass"] == n)
        print(f"after pass {n}: {mb:.0f} MB resident ({seconds:.0f} s for the {len(notebooks)} notebooks)")
    if peak is not None:
        print(f"peak: {peak:.0f} MB resident")
    worst = max(by_pass.values())
    ok = worst < args.target_mb and not errors
    print(f"aim: under {args.target_mb:.0f} MB: {'met' if worst < args.target_mb else 'MISSED'}")
    for error in errors:
        print("error:", error)

    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "memory.json").write_text(json.dumps(
        {"start_mb": round(start / MB, 1), "rows": rows, "after_pass_mb": by_pass, "peak_mb": peak,
         "target_mb": args.target_mb, "errors": errors}, indent=2) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
