"""Every benchmark, each figure beside its peer (run on demand: `make bench`).

Run it on a quiet machine: nothing else running, not even a test suite.
This script measures, in one run:

1. Loopback: `wrk -t2 -c32 -d{S}s --latency URL/status/511` against `labkit serve`
   and, in the same run and interleaved, against httpbin 0.10 under `gunicorn -w 2`
   (installed on demand into benchmarks/.peers, never into the project's venv) and
   a 20-line raw ASGI app on the same uvicorn (the ceiling for a Python app here),
   and labkit's own /status/511 response from a trivial handler on labkit's server
   (benchmarks/shape_server.py: the response's shape and the server's protections
   without the origin's work).
2. In-process: exchanges per second through `httpx.Client` with labkit's transport,
   against the ceiling of httpx's own MockTransport with a trivial handler.
3. Start-up: `import labkit` plus ready loopback servers, in a fresh interpreter;
   and re-serving: a new `Simulator().serve()` in a kernel where one already runs
   (what re-running a notebook cell does).

then runs, each as its own process: benchmarks/gateway.py (pass-through after
sign-in against the origin alone), benchmarks/herd.py (10,000 clients, every
scenario and schedule) and benchmarks/notebooks.py (the course in one kernel).
Prints every figure with its aim, and writes benchmarks/results/foundation.json
and benchmarks/results/summary.json (the others write their own files there).

Aims (issue 11): loopback >= 6x httpbin and >= 0.82 of the raw ASGI app;
gateway pass-through >= 0.9 of the origin; in-process >= 80% of the
MockTransport ceiling; herd of 10,000 < 2 s for every case; start-up and
re-serving < 0.25 s; notebooks 00-04 in one kernel < 6 s.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
PEERS = HERE / ".peers"
RESULTS = HERE / "results"


def wrk(url: str, seconds: int) -> dict:
    out = subprocess.run(
        ["wrk", "-t2", "-c32", f"-d{seconds}s", "--latency", url],
        capture_output=True, text=True, check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.M))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50": lat.get("50"), "p99": lat.get("99"), "non_2xx": int(errors.group(1)) if errors else 0}


def wait_ready(url: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not come up")


def start_labkit() -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "labkit", "serve"], stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline().strip()
    assert line.startswith("origin: "), line
    return proc, line.split(": ", 1)[1]


def ensure_httpbin() -> Path | None:
    python = PEERS / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEERS)], check=True)
        done = subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "httpbin==0.10.4", "gunicorn"],
            capture_output=True, text=True,
        )
        if done.returncode:
            print("could not install httpbin for comparison:", done.stderr[-500:])
            return None
    return PEERS / "bin" / "gunicorn"


def start_httpbin(gunicorn: Path, port: int = 18511) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [str(gunicorn), "-w", "2", "-b", f"127.0.0.1:{port}", "httpbin:app"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    wait_ready(url + "/status/200")
    return proc, url


RAW_ASGI = """
import json, os
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    body = json.dumps({"status": 511, "request_id": os.urandom(8).hex()}).encode()
    await send({"type": "http.response.start", "status": 511, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
"""


def start_raw_asgi(port: int = 18512) -> tuple[subprocess.Popen, str]:
    """The ceiling for any Python app on this server: a 20-line raw ASGI app on uvicorn."""
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "raw_asgi.py").write_text(RAW_ASGI)
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "raw_asgi:app", "--port", str(port), "--no-access-log",
         "--log-level", "warning", "--app-dir", str(RESULTS)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    wait_ready(url + "/")
    return proc, url


def start_shape() -> tuple[subprocess.Popen, str]:
    """labkit's /status/511 response from a trivial handler on labkit's server (benchmarks/shape_server.py)."""
    proc = subprocess.Popen([sys.executable, str(HERE / "shape_server.py")], stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline().strip()
    assert line.startswith("origin: "), line
    return proc, line.split(": ", 1)[1]


def loopback(seconds: int, rounds: int) -> dict:
    if not shutil.which("wrk"):
        return {"skipped": "wrk is not installed (apt-get install wrk)"}
    gunicorn = ensure_httpbin()
    results: dict[str, list] = {"labkit": [], "shape": [], "raw_asgi": [], "httpbin": []}
    for _ in range(rounds):  # interleaved, so drift hits all alike
        for name, start in (("labkit", start_labkit), ("shape", start_shape), ("raw_asgi", start_raw_asgi)):
            proc, url = start()
            try:
                wrk(url + "/status/511", 2)  # warm-up
                results[name].append(wrk(url + "/status/511", seconds))
            finally:
                proc.terminate(); proc.wait()
        if gunicorn:
            proc, url = start_httpbin(gunicorn)
            try:
                wrk(url + "/status/511", 2)
                results["httpbin"].append(wrk(url + "/status/511", seconds))
            finally:
                proc.terminate(); proc.wait()
    out = {name: {"rps_median": statistics.median(r["rps"] for r in runs), "runs": runs}
           for name, runs in results.items() if runs}
    if "httpbin" in out:
        out["ratio"] = out["labkit"]["rps_median"] / out["httpbin"]["rps_median"]
        out["raw_ratio"] = out["raw_asgi"]["rps_median"] / out["httpbin"]["rps_median"]
    out["of_raw"] = out["labkit"]["rps_median"] / out["raw_asgi"]["rps_median"]
    out["shape_of_raw"] = out["shape"]["rps_median"] / out["raw_asgi"]["rps_median"]
    return out


def exchanges_per_second(client: httpx.Client, path: str, seconds: float) -> float:
    for _ in range(200):
        client.get(path)
    n, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(100):
            client.get(path)
        n += 100
    return n / elapsed


def in_process(seconds: float, rounds: int) -> dict:
    from labkit import Simulator

    trivial = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(511, content=b"{}")),
                           base_url="http://origin.test")
    ours = Simulator().client()
    ceiling, labkit_rates = [], []
    for _ in range(rounds):  # short interleaved rounds; the best of each, as timeit does
        ceiling.append(exchanges_per_second(trivial, "/status/511", seconds))
        labkit_rates.append(exchanges_per_second(ours, "/status/511", seconds))
    c, l = max(ceiling), max(labkit_rates)
    return {"mock_ceiling": c, "labkit": l, "fraction": l / c,
            "rounds": {"mock": ceiling, "labkit": labkit_rates}}


STARTUP = (
    "import time; t = time.perf_counter(); import labkit; "
    "s = labkit.Simulator().serve(); import httpx; ready = time.perf_counter() - t; "
    "assert httpx.get(s.origin_url + '/status/200').status_code == 200; print(ready)"
)


def startup(rounds: int) -> dict:
    times = [float(subprocess.run([sys.executable, "-c", STARTUP], capture_output=True, text=True,
                                  check=True).stdout) for _ in range(rounds)]
    return {"median_s": statistics.median(times), "max_s": max(times)}


# A re-run notebook cell: a new simulator of the same name, served while the old one runs.
RESERVE = (
    "import json, time, httpx, labkit; labkit.Simulator().serve(); times = []\n"
    "for _ in range(ROUNDS):\n"
    "    t = time.perf_counter(); s = labkit.Simulator().serve(); times.append(time.perf_counter() - t)\n"
    "    assert httpx.get(s.origin_url + '/status/200').status_code == 200\n"
    "print(json.dumps(times))"
)


def reserve(rounds: int) -> dict:
    done = subprocess.run([sys.executable, "-c", RESERVE.replace("ROUNDS", str(rounds))],
                          capture_output=True, text=True, check=True)
    times = json.loads(done.stdout)
    return {"median_s": statistics.median(times), "max_s": max(times)}


def run_script(name: str, *args: str) -> dict | None:
    """Run benchmarks/NAME.py in its own process (it prints its table); read back its results file."""
    print(f"\n== benchmarks/{name}.py {' '.join(args)}", flush=True)
    done = subprocess.run([sys.executable, str(HERE / f"{name}.py"), *args])
    path = RESULTS / f"{name}.json"
    if not path.exists():
        print(f"benchmarks/{name}.py wrote no results (exit code {done.returncode})")
        return None
    return json.loads(path.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration per round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--skip-loopback", action="store_true")
    parser.add_argument("--only-foundation", action="store_true",
                        help="skip the gateway, herd and notebook benchmarks")
    args = parser.parse_args()
    # Start-up is measured as a learner's second kernel meets it, with labkit's
    # bytecode compiled (benchmarks/notebooks.py does the same).
    compileall.compile_dir(str(HERE.parent / "labkit"), quiet=1)

    report = {"command": " ".join(["python", *sys.argv]),
              "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0],
                          "platform": platform.platform()}}
    summary: list[tuple[str, str, str, bool | None]] = []  # figure, value, aim, met
    report["startup"] = st = startup(5)
    print(f"import labkit + ready servers: median {st['median_s']*1000:.0f} ms (max {st['max_s']*1000:.0f} ms; aim < 250 ms)")
    summary.append(("start-up (import + ready servers)", f"{st['median_s']*1000:.0f} ms", "< 250 ms", st["median_s"] < 0.25))
    report["reserve"] = rs = reserve(7)
    print(f"re-serving a running simulator: median {rs['median_s']*1000:.1f} ms (max {rs['max_s']*1000:.1f} ms; aim < 250 ms)")
    summary.append(("re-serving a running simulator", f"{rs['median_s']*1000:.1f} ms", "< 250 ms", rs["median_s"] < 0.25))
    report["in_process"] = ip = in_process(0.5, 12)
    print(f"in-process (best of 12 rounds): labkit {ip['labkit']:,.0f}/s vs MockTransport ceiling {ip['mock_ceiling']:,.0f}/s "
          f"= {ip['fraction']:.0%} (aim >= 80%)")
    summary.append(("in-process vs MockTransport", f"{ip['labkit']:,.0f} vs {ip['mock_ceiling']:,.0f}/s = {ip['fraction']:.2f}",
                    ">= 0.80", ip["fraction"] >= 0.8))
    if not args.skip_loopback:
        report["loopback"] = lb = loopback(args.seconds, args.rounds)
        if "skipped" in lb:
            print("loopback:", lb["skipped"])
        else:
            line = f"loopback GET /status/511, wrk -t2 -c32: labkit {lb['labkit']['rps_median']:,.0f} req/s"
            if "httpbin" in lb:
                line += (f" vs httpbin+gunicorn -w 2 {lb['httpbin']['rps_median']:,.0f} req/s "
                         f"= {lb['ratio']:.2f}x (aim >= 6x)")
                summary.append(("loopback vs httpbin (gunicorn -w 2)",
                                f"{lb['labkit']['rps_median']:,.0f} vs {lb['httpbin']['rps_median']:,.0f} req/s = {lb['ratio']:.2f}x",
                                ">= 6x", lb["ratio"] >= 6))
            print(line)
            print(f"  raw ASGI app on uvicorn (the ceiling): {lb['raw_asgi']['rps_median']:,.0f} req/s"
                  + (f" = {lb['raw_ratio']:.2f}x httpbin" if "raw_ratio" in lb else "")
                  + f"; labkit reaches {lb['of_raw']:.0%} of it (aim >= 82%)")
            summary.append(("loopback vs raw ASGI app", f"{lb['labkit']['rps_median']:,.0f} vs "
                            f"{lb['raw_asgi']['rps_median']:,.0f} req/s = {lb['of_raw']:.2f}", ">= 0.82", lb["of_raw"] >= 0.82))
            print(f"  labkit's response from a trivial handler, same server: {lb['shape']['rps_median']:,.0f} req/s "
                  f"= {lb['shape_of_raw']:.0%} of the raw app (what is left for the origin's own work)")
            print("  p50/p99 labkit:", [(r["p50"], r["p99"]) for r in lb["labkit"]["runs"]])
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "foundation.json").write_text(json.dumps(report, indent=2))
    if not args.only_foundation:
        gw = run_script("gateway", "--seconds", str(max(3, args.seconds // 2)), "--rounds", str(args.rounds))
        if gw and "wrk" in gw:
            o, g = gw["wrk"]["origin c32"]["rps"], gw["wrk"]["gateway c32"]["rps"]
            summary.append(("gateway pass-through vs origin alone", f"{g:,.0f} vs {o:,.0f} req/s = {g / o:.2f}",
                            ">= 0.90", g / o >= 0.9))
        hd = run_script("herd", "--repeat", "3")
        if hd:
            big = [r for r in hd["herd"] if r["clients"] == 10_000]
            worst = max(big, key=lambda r: r["wall_s"])
            summary.append((f"herd of 10,000, slowest of {len(big)} cases", f"{worst['wall_s']:.2f} s "
                            f"({worst['scenario']}, {worst['schedule']})", "< 2 s", worst["wall_s"] < 2))
        nb = run_script("notebooks", "--rounds", "3")
        if nb:
            summary.append((f"the course in one kernel ({len(nb['notebooks'])} notebooks)",
                            f"{nb['median_total_s']:.2f} s", "< 6 s", nb["median_total_s"] < 6))
    print("\n== summary (one run; ratios are to the peer measured in the same run)")
    width = max(len(f) for f, *_ in summary)
    for figure, value, aim, met in summary:
        print(f"  {figure:{width}}  {value:42}  aim {aim:9}  {'met' if met else 'MISSED'}")
    (RESULTS / "summary.json").write_text(json.dumps(
        {"command": report["command"], "machine": report["machine"],
         "figures": [{"figure": f, "value": v, "aim": a, "met": m} for f, v, a, m in summary]}, indent=2) + "\n")


if __name__ == "__main__":
    main()
