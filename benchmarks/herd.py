"""Retry benchmarks (run on demand: `.venv/bin/python benchmarks/herd.py`).

1. Thundering herd: `simulate_herd` wall time for 1,000 and 10,000 clients, each
   retrying until success, for every schedule and both scenarios (best of --repeat
   runs). Aim: 10,000 clients in under 2 s on a 2-core machine, every case. Under
   contention the no-jitter schedules are quadratic (a few writes win each
   synchronised wave: 3.1 million writes for 10,000 clients with constant or
   exponential, 15.8 million with none); `simulate_herd` runs them a wave at a
   time (method="auto"; see labkit/retry/_herd.py). --quick skips those three at
   10,000 clients. The outage has no "none" (requests there take no time).
2. Runner overhead per attempt: `labkit.retry.run` (and `run_tenacity`) over an
   in-process client against /flaky, minus the same number of plain
   `client.get` calls; the runners with a stub client that answers instantly
   (their own cost, without HTTP); and `RetryPolicy.decide` alone.

Prints a table and writes benchmarks/results/herd.json.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

import argparse
import itertools
import json
import platform
import time

import httpx

from labkit import Simulator, VirtualClock  # noqa: E402
from labkit.retry import (  # noqa: E402
    HERD_SCENARIOS,
    SCHEDULES,
    Backoff,
    RetryPolicy,
    run,
    run_tenacity,
    simulate_herd,
)
from labkit.retry import _herd

NO_JITTER = ("none", "constant", "exponential")


def best_of(repeat, fn):
    times = []
    for _ in range(repeat):
        # simulate_herd answers a run it has made before from its memo: empty it,
        # so every repeat times the simulation itself.
        _herd._RUNS.clear()
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def herd(repeat: int, quick: bool = False) -> list[dict]:
    rows = []
    for scenario in HERD_SCENARIOS:
        for clients in (1_000, 10_000):
            for schedule in HERD_SCENARIOS[scenario].schedules:  # the outage has no "none"
                slow = scenario == "contention" and clients == 10_000 and schedule in NO_JITTER
                if slow and quick:
                    continue
                seconds, result = best_of(repeat, lambda: simulate_herd(
                    HERD_SCENARIOS[scenario](), clients=clients, schedule=schedule))
                rows.append({"scenario": scenario, "clients": clients, "schedule": schedule,
                             "wall_s": round(seconds, 4), "calls": result.calls,
                             "calls_per_client": round(result.calls_per_client, 2),
                             "us_per_call": round(seconds / result.calls * 1e6, 3),
                             "completion_s": round(result.completion_s, 1),
                             "peak_rps": result.peak_rps, "unfinished": result.unfinished})
                print(f"{scenario:>10} {clients:>8} {schedule:>13} {seconds:>8.3f} {result.calls:>8} "
                      f"{result.calls_per_client:>8.2f} {rows[-1]['us_per_call']:>8.2f} "
                      f"{result.completion_s:>10.1f} {result.peak_rps:>9}", flush=True)
    return rows


def runner_overhead(calls: int, repeat: int) -> dict:
    clock = VirtualClock()
    sim = Simulator(clock=clock, name="bench-retry")
    client = sim.client()
    # Five attempts per call: four 503s, then 200 (the key is per call, so each starts fresh).
    policy = RetryPolicy(backoff=Backoff(kind="full", base=1.0, cap=30.0, attempts=5))
    attempts = calls * 5
    fresh = itertools.count()  # a new key for every call of every repeat

    def plain():
        for i in range(calls):
            key = next(fresh)
            for _ in range(5):
                client.get(f"/flaky?fail=4&key=k{key}")

    def ours():
        for i in range(calls):
            result = run(client, "GET", f"/flaky?fail=4&key=k{next(fresh)}", policy=policy,
                         clock=clock, seed=i)
            assert len(result.attempts) == 5 and result.ok

    def theirs():
        for i in range(calls):
            result = run_tenacity(client, "GET", f"/flaky?fail=4&key=k{next(fresh)}", policy=policy,
                                  clock=clock, seed=i)
            assert len(result.attempts) == 5 and result.ok

    class Stub:
        """A client that answers instantly (503 x4, then 200): the runner's own cost alone."""

        def __init__(self):
            self.n = 0
            self.replies = (httpx.Response(503), httpx.Response(200))

        def request(self, method, url, **kwargs):
            self.n += 1
            return self.replies[self.n % 5 == 0]

    def stub_runner():
        stub = Stub()
        for i in range(calls):
            run(stub, "GET", "/x", policy=policy, clock=clock, seed=i)

    def stub_tenacity():
        stub = Stub()
        for i in range(calls):
            run_tenacity(stub, "GET", "/x", policy=policy, clock=clock, seed=i)

    def decide_only():
        response = client.get("/status/503")
        for i in range(attempts):
            policy.decide(response, attempt=1 + i % 4, method="GET", now=0.0)

    out = {"attempts": attempts}
    cases = (("plain_httpx", plain), ("runner", ours), ("tenacity_runner", theirs),
             ("runner_stub_client", stub_runner), ("tenacity_stub_client", stub_tenacity),
             ("decide_only", decide_only))
    best = {name: float("inf") for name, _ in cases}
    for _ in range(repeat):  # interleaved, so background load hits every case alike
        for name, fn in cases:
            t = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - t)
    for name, seconds in best.items():
        out[f"{name}_us_per_attempt"] = round(seconds / attempts * 1e6, 2)
    out["runner_overhead_us_per_attempt"] = round(
        out["runner_us_per_attempt"] - out["plain_httpx_us_per_attempt"], 2)
    out["tenacity_overhead_us_per_attempt"] = round(
        out["tenacity_runner_us_per_attempt"] - out["plain_httpx_us_per_attempt"], 2)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--calls", type=int, default=400, help="retried calls for the runner benchmark")
    parser.add_argument("--quick", action="store_true",
                        help="skip the quadratic no-jitter contention runs at 10,000 clients")
    args = parser.parse_args()

    print(f"{'scenario':>10} {'clients':>8} {'schedule':>13} {'wall s':>8} {'calls':>8} {'calls/cl':>8} "
          f"{'us/call':>8} {'done at s':>10} {'peak rps':>9}")
    rows = herd(args.repeat, args.quick)
    worst = 0.0
    for scenario in HERD_SCENARIOS:
        for label, names in (("no jitter", NO_JITTER),
                             ("jittered", tuple(s for s in SCHEDULES if s not in NO_JITTER))):
            times = [r["wall_s"] for r in rows if r["clients"] == 10_000
                     and r["scenario"] == scenario and r["schedule"] in names]
            if not times:
                continue
            worst = max(worst, max(times))
            print(f"10,000 clients, {scenario}, {label}: slowest {max(times):.3f} s (aim < 2 s): "
                  f"{'OK' if max(times) < 2 else 'MISSED'}")

    overhead = runner_overhead(args.calls, args.repeat)
    print()
    for k, v in overhead.items():
        print(f"{k:>36}: {v}")

    results = HERE / "results"
    results.mkdir(exist_ok=True)
    (results / "herd.json").write_text(json.dumps({
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "herd": rows, "runner": overhead}, indent=1) + "\n")
    return 0 if worst < 2 else 1


if __name__ == "__main__":
    sys.exit(main())
