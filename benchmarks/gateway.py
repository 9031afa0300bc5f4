"""Gateway benchmarks (run on demand: `.venv/bin/python benchmarks/gateway.py`).

Starts `labkit serve` (origin + gateway), signs device 127.0.0.1 in through the
portal's form, then measures with wrk, interleaving the two targets per round:

- origin alone:   wrk ... http://127.0.0.1:ORIGIN/status/200
- via gateway:    wrk ... -s absolute-form.lua http://127.0.0.1:GATEWAY
  (the script sends `GET http://news.test/status/200 HTTP/1.1`, the
  absolute-form request a client sends to a proxy, RFC 9112 section 3.2.2)

Latency is measured with one connection (`-t1 -c1`), so p50 is the time of one
exchange, not queueing; throughput with `-t2 -c32`, like benchmarks/run.py.
Also the in-process cost of the gateway handler itself (core calls per second), given
the loopback gateway's address and the absolute-form request's authority.
Prints a table and writes benchmarks/results/gateway.json.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
TARGET = "http://news.test/status/200"

LUA = f"""
wrk.method = "GET"
wrk.path = "{TARGET}"
wrk.headers["Host"] = "news.test"
"""


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(args: list[str]) -> dict:
    done = subprocess.run(["wrk", "--latency", *args], capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"wrk {' '.join(args)} failed: {done.stdout[-500:]} {done.stderr[-500:]}")
    out = done.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.M))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50_ms": _ms(lat["50"]), "p99_ms": _ms(lat["99"]), "non_2xx": int(bad.group(1)) if bad else 0}


def start() -> tuple[subprocess.Popen, str, str]:
    proc = subprocess.Popen([sys.executable, "-m", "labkit", "serve"], stdout=subprocess.PIPE, text=True)
    origin = proc.stdout.readline().strip()
    gateway = proc.stdout.readline().strip()
    assert origin.startswith("origin: ") and gateway.startswith("gateway: "), (origin, gateway)
    return proc, origin.split(": ", 1)[1], gateway.split(": ", 1)[1]


def in_process(n: int = 200_000) -> dict:
    """Core calls per second: the origin alone, and the gateway as it runs on loopback.

    The gateway gets what ``labkit serve`` gives it and what the wrk script sends:
    a listening address (so every request meets the direct-visit check) and the
    absolute-form request's authority (RFC 9112 section 3.2.2). The origin gets
    an origin-form request, as from wrk's origin URL.
    """
    from labkit.core import Request, RealClock
    from labkit.gateway import Gateway
    from labkit.origin import Origin

    origin = Origin(clock=RealClock())
    gateway = Gateway(upstream=origin, clock=origin.clock, address="127.0.0.1:2050")
    gateway.portal.sign_in("127.0.0.1", "guest", "letmein")

    def rate(handler, host: str, authority: str | None) -> float:
        t0 = time.perf_counter()
        for _ in range(n):
            handler(Request("GET", "/status/200", "", [("host", host)], b"", ("127.0.0.1", 1), "http", authority))
        return n / (time.perf_counter() - t0)

    rates = {"origin": [], "gateway": []}
    for _ in range(3):
        rates["origin"].append(rate(origin, "127.0.0.1:8000", None))
        rates["gateway"].append(rate(gateway, "news.test", "news.test"))
    return {k: statistics.median(v) for k, v in rates.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="wrk duration per run")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk); only the in-process figures follow.")

    results: dict[str, object] = {"command": " ".join([sys.executable, *sys.argv])}
    if shutil.which("wrk"):
        proc, origin, gateway = start()
        try:
            with httpx.Client(proxy=gateway) as c:
                assert c.get(TARGET).status_code == 511
                r = c.post("http://portal.labkit.test/login", data={"user": "guest", "password": "letmein"})
                assert r.status_code == 200, r.status_code
                assert c.get(TARGET).status_code == 200
            with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
                f.write(LUA)
                script = f.name
            runs: dict[str, list[dict]] = {k: [] for k in (
                "origin c1", "gateway c1", "origin c32", "gateway c32")}
            for _ in range(args.rounds):
                d = f"-d{args.seconds}s"
                runs["origin c1"].append(wrk(["-t1", "-c1", d, origin + "/status/200"]))
                runs["gateway c1"].append(wrk(["-t1", "-c1", d, "-s", script, gateway]))
                runs["origin c32"].append(wrk(["-t2", "-c32", d, origin + "/status/200"]))
                runs["gateway c32"].append(wrk(["-t2", "-c32", d, "-s", script, gateway]))
        finally:
            proc.terminate()
            proc.wait(timeout=10)
        med = {k: {m: statistics.median(r[m] for r in v) for m in ("rps", "p50_ms", "p99_ms")}
               for k, v in runs.items()}
        assert all(r["non_2xx"] == 0 for v in runs.values() for r in v), "some responses were not 2xx"
        results["wrk"] = med
        results["added_p50_ms"] = med["gateway c1"]["p50_ms"] - med["origin c1"]["p50_ms"]
        print(f"{'target':14}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}")
        for name, m in med.items():
            print(f"{name:14}{m['rps']:>10.0f}{m['p50_ms']:>9.3f}{m['p99_ms']:>9.3f}")
        print(f"added p50 latency of the gateway (one connection): {results['added_p50_ms']:.3f} ms")
        print(f"gateway pass-through after sign-in (32 connections): {med['gateway c32']['rps']:.0f} req/s "
              f"({med['gateway c32']['rps'] / med['origin c32']['rps']:.2f} of the origin alone)")

    core = in_process()
    results["in_process_calls_per_s"] = core
    print(f"in-process handler calls/s: origin {core['origin']:.0f}, gateway+origin {core['gateway']:.0f}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "gateway.json").write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
