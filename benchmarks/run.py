"""Foundation benchmarks (run on demand: `make bench`, or `.venv/bin/python benchmarks/run.py`).

1. Loopback: `wrk -t2 -c32 -d{S}s --latency URL/status/511` against `labkit serve`
   and, in the same run and interleaved, against httpbin 0.10 under `gunicorn -w 2`
   (installed on demand into benchmarks/.peers, never into the project's venv).
2. In-process: exchanges per second through `httpx.Client` with labkit's transport,
   against the ceiling of httpx's own MockTransport with a trivial handler.
3. Start-up: `import labkit` plus a ready loopback server, in a fresh interpreter.

Prints a table and writes benchmarks/results/foundation.json. Aims (issue 2):
loopback >= 6x httpbin; in-process >= 80% of the MockTransport ceiling; start-up < 0.5 s.
"""

from __future__ import annotations

import argparse
import json
import os
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


def loopback(seconds: int, rounds: int) -> dict:
    if not shutil.which("wrk"):
        return {"skipped": "wrk is not installed (apt-get install wrk)"}
    gunicorn = ensure_httpbin()
    results: dict[str, list] = {"labkit": [], "raw_asgi": [], "httpbin": []}
    for _ in range(rounds):  # interleaved, so drift hits all alike
        for name, start in (("labkit", start_labkit), ("raw_asgi", start_raw_asgi)):
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration per round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--skip-loopback", action="store_true")
    args = parser.parse_args()

    report = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]}}
    report["startup"] = startup(5)
    print(f"import labkit + ready server: median {report['startup']['median_s']*1000:.0f} ms "
          f"(max {report['startup']['max_s']*1000:.0f} ms; aim < 500 ms)")
    report["in_process"] = ip = in_process(0.5, 12)
    print(f"in-process (best of 12 rounds): labkit {ip['labkit']:,.0f}/s vs MockTransport ceiling {ip['mock_ceiling']:,.0f}/s "
          f"= {ip['fraction']:.0%} (aim >= 80%)")
    if not args.skip_loopback:
        report["loopback"] = lb = loopback(args.seconds, args.rounds)
        if "skipped" in lb:
            print("loopback:", lb["skipped"])
        else:
            line = f"loopback GET /status/511, wrk -t2 -c32: labkit {lb['labkit']['rps_median']:,.0f} req/s"
            if "httpbin" in lb:
                line += (f" vs httpbin+gunicorn -w 2 {lb['httpbin']['rps_median']:,.0f} req/s "
                         f"= {lb['ratio']:.2f}x (aim >= 6x)")
            print(line)
            print(f"  raw ASGI app on uvicorn (the ceiling): {lb['raw_asgi']['rps_median']:,.0f} req/s"
                  + (f" = {lb['raw_ratio']:.2f}x httpbin" if "raw_ratio" in lb else "")
                  + f"; labkit reaches {lb['of_raw']:.0%} of it")
            print("  p50/p99 labkit:", [(r["p50"], r["p99"]) for r in lb["labkit"]["runs"]])
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "foundation.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
