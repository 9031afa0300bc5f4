"""Inspector benchmarks (run on demand: `.venv/bin/python benchmarks/inspector.py`).

1. Capture overhead per exchange, in-process: the same GET /status/204 through
   `sim.client()` and `sim.client(capture=Capture())` (sync and async),
   interleaved rounds, median per-exchange time; overhead = difference, in µs.
2. The same over loopback (httpx.Client against `sim.origin_url`).
3. Inspect throughput: `inspect(exchange)` over a mix of captured exchanges
   (origin 401/407/511/503, auth endpoints, gateway 511/302/spoof), in
   exchanges per second, with httplint and with labkit's rules alone.
"""

from __future__ import annotations

import os
import sys

# This file is named like the stdlib module `inspect`; drop its directory from
# the path before anything (dataclasses, for one) imports the real one.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import httpx  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from labkit import Capture, InProcessTransport, Simulator, inspect  # noqa: E402


def per_exchange(fn, n: int) -> float:
    t = time.perf_counter()
    fn(n)
    return (time.perf_counter() - t) / n * 1e6  # µs


def sync_loop(client):
    def run(n):
        for _ in range(n):
            client.get("/status/204")
    return run


def async_loop(client):
    def run(n):
        async def go():
            for _ in range(n):
                await client.get("/status/204")
        asyncio.run(go())
    return run


def overhead(make_plain, make_captured, n: int, rounds: int) -> dict:
    plain, captured = [], []
    for _ in range(rounds):  # interleaved so drift hits both alike
        plain.append(per_exchange(make_plain(), n))
        captured.append(per_exchange(make_captured(), n))
    # The minimum over rounds: on a shared 2-core machine other processes only
    # ever add time, so the fastest round is the best estimate of the cost.
    p, c = min(plain), min(captured)
    return {"plain_us": round(p, 1), "captured_us": round(c, 1), "overhead_us": round(c - p, 1),
            "overhead_pct": round((c - p) / p * 100, 1),
            "median_plain_us": round(statistics.median(plain), 1),
            "median_captured_us": round(statistics.median(captured), 1)}


def recorder_only(sim, n: int, rounds: int) -> dict:
    """The recorder alone: the same prepared request through the bare transport and through
    the recording wrapper, so httpx's client machinery is not in the measurement."""
    inner = InProcessTransport(sim.origin)
    recorder = Capture().transport(inner)
    request = httpx.Request("GET", "http://origin.test/status/204")

    def loop(transport):
        def run(k):
            for _ in range(k):
                transport.handle_request(request)
        return run

    return overhead(lambda: loop(inner), lambda: loop(recorder), n, rounds)


def sample_exchanges(sim: Simulator) -> list:
    cap = Capture()
    c = sim.client(capture=cap)
    for path in ("/status/401", "/status/407", "/status/511", "/status/503", "/status/200",
                 "/basic-auth/u/p", "/bearer"):
        c.get(path)
    c.get("/basic-auth/u/p", auth=("u", "p"))
    g = sim.client(gateway=True, device="127.0.0.99", capture=cap)
    for mode in ("rfc6585", "redirect", "spoof", "cacheable"):
        sim.gateway.mode = mode
        g.get("/status/200")
    sim.gateway.mode = "rfc6585"
    return list(cap)


def throughput(exchanges, seconds: float, **kwargs) -> float:
    done, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        for ex in exchanges:
            inspect(ex, **kwargs)
        done += len(exchanges)
    return done / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=2000, help="exchanges per round (default 2000)")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--seconds", type=float, default=2.0, help="per throughput measurement")
    ap.add_argument("--json", metavar="FILE", help="also write the numbers as JSON")
    args = ap.parse_args()

    sim = Simulator(name="bench-inspect").serve()
    results: dict = {}
    try:
        results["recorder only"] = recorder_only(sim, args.n, args.rounds)
        results["in-process sync"] = overhead(
            lambda: sync_loop(sim.client()), lambda: sync_loop(sim.client(capture=Capture())),
            args.n, args.rounds)
        results["in-process async"] = overhead(
            lambda: async_loop(sim.async_client()),
            lambda: async_loop(sim.async_client(capture=Capture())), args.n, args.rounds)
        loop_n = max(200, args.n // 4)
        results["loopback sync"] = overhead(
            lambda: sync_loop(httpx.Client(base_url=sim.origin_url)),
            lambda: sync_loop(httpx.Client(base_url=sim.origin_url, transport=Capture().transport())),
            loop_n, args.rounds)
        exchanges = sample_exchanges(sim)
        results["inspect"] = {
            "mix": len(exchanges),
            "with_httplint_per_s": round(throughput(exchanges, args.seconds)),
            "labkit_rules_only_per_s": round(throughput(exchanges, args.seconds, httplint=False)),
        }
    finally:
        sim.stop()

    print("per exchange, fastest of the interleaved rounds:")
    print(f"{'capture':<18} {'plain µs':>10} {'captured µs':>12} {'overhead µs':>12} {'overhead':>9}")
    for name in ("recorder only", "in-process sync", "in-process async", "loopback sync"):
        r = results[name]
        print(f"{name:<18} {r['plain_us']:>10} {r['captured_us']:>12} {r['overhead_us']:>12} "
              f"{r['overhead_pct']:>8}%")
    r = results["inspect"]
    print(f"\ninspect throughput over a mix of {r['mix']} exchanges: "
          f"{r['with_httplint_per_s']} exchanges/s with httplint, "
          f"{r['labkit_rules_only_per_s']} exchanges/s with labkit's rules only")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
