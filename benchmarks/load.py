"""Load on the loopback servers (on demand: `make load`, never in `make test`).

Starts a Simulator in a separate process, signs DEVICES loopback addresses in
at its portal, then holds CONNECTIONS keep-alive connections for SECONDS, half
to the origin (`GET /status/200`) and half through the gateway as signed-in
devices (`GET http://news.test/status/200`, absolute-form), each connection
sending its next request as soon as the last is answered. Prints requests per
second, latency, errors (anything but 200, or a dropped connection) and lost
sign-ins (a 511 from the gateway for a signed-in device), then checks every
device is still signed in.

    .venv/bin/python benchmarks/load.py                       # 500 connections, 20 s
    .venv/bin/python benchmarks/load.py --connections 32 --seconds 3

The load generator is Python on the same machine, so it competes with the
servers for CPU: the figures are indicative, and comparable only run to run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SERVER = """
import json, sys
from labkit import Simulator
devices = json.loads(sys.argv[1])
sim = Simulator(name="load").serve()
for device in devices:
    sim.gateway.portal.sign_in(device, "guest", "letmein")
print(json.dumps({"origin": sim.origin_url, "gateway": sim.gateway_url}), flush=True)
sys.stdin.read()  # serve until the parent closes our stdin
sim.stop()
"""


def start_server(devices: list[str]) -> tuple[subprocess.Popen, dict]:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER, json.dumps(devices)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
    )
    return proc, json.loads(proc.stdout.readline())


def hostport(url: str) -> tuple[str, int]:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    return host, int(port)


async def read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if length:
        await reader.readexactly(length)
    return status


async def connection(target: tuple[str, int], request: bytes, device: str, deadline: float,
                     stats: dict) -> None:
    try:
        reader, writer = await asyncio.open_connection(*target, local_addr=(device, 0))
    except OSError as exc:
        stats["errors"][f"connect: {exc.strerror}"] += 1
        return
    latencies = stats["latencies"]
    try:
        while time.monotonic() < deadline:
            t0 = time.perf_counter()
            writer.write(request)
            status = await read_response(reader)
            latencies.append(time.perf_counter() - t0)
            stats["statuses"][status] += 1
    except (OSError, asyncio.IncompleteReadError) as exc:
        stats["errors"][type(exc).__name__] += 1
    finally:
        writer.close()


async def drive(targets: dict, connections: int, seconds: float, devices: list[str]) -> dict:
    deadline = time.monotonic() + seconds
    origin = (hostport(targets["origin"]), b"GET /status/200 HTTP/1.1\r\nHost: origin.test\r\n\r\n")
    gateway = (hostport(targets["gateway"]),
               b"GET http://news.test/status/200 HTTP/1.1\r\nHost: news.test\r\n\r\n")
    results = {name: {"statuses": Counter(), "errors": Counter(), "latencies": []}
               for name in ("origin", "gateway")}
    tasks = []
    for i in range(connections):
        name, (target, request) = ("origin", origin) if i % 2 == 0 else ("gateway", gateway)
        device = devices[i % len(devices)]
        tasks.append(connection(target, request, device, deadline, results[name]))
    started = time.monotonic()
    await asyncio.gather(*tasks)
    elapsed = time.monotonic() - started
    for stats in results.values():
        stats["elapsed"] = elapsed
    return results


def still_signed_in(targets: dict, devices: list[str]) -> int:
    sys.path.insert(0, str(ROOT))
    from labkit.transport import proxy_transport
    import httpx

    lost = 0
    for device in devices:
        with httpx.Client(transport=proxy_transport(targets["gateway"], device=device)) as client:
            if client.get("http://news.test/status/200").status_code != 200:
                lost += 1
    return lost


def report(name: str, stats: dict) -> None:
    total = sum(stats["statuses"].values())
    lat = sorted(stats["latencies"])
    p50 = lat[len(lat) // 2] * 1000 if lat else float("nan")
    p99 = lat[int(len(lat) * 0.99)] * 1000 if lat else float("nan")
    errors = total - stats["statuses"][200] + sum(stats["errors"].values())
    line = (f"{name:8} {total / stats['elapsed']:9,.0f} req/s  {total:8,} answered  "
            f"p50 {p50:6.1f} ms  p99 {p99:7.1f} ms  errors {errors}")
    if name == "gateway":
        line += f"  lost sign-ins (511) {stats['statuses'][511]}"
    print(line)
    odd = {k: v for k, v in stats["statuses"].items() if k != 200}
    if odd or stats["errors"]:
        print(f"{'':8} other statuses {odd}  connection errors {dict(stats['errors'])}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--devices", type=int, default=100, help="signed-in loopback addresses")
    args = parser.parse_args()
    if not (1 <= args.connections <= 2000 and 0 < args.seconds <= 120 and 1 <= args.devices <= 250):
        parser.error("keep it bounded: 1-2000 connections, at most 120 s, 1-250 devices")
    devices = [f"127.0.1.{i}" for i in range(1, args.devices + 1)]
    try:
        import uvloop
        uvloop.install()
    except ImportError:
        pass
    proc, targets = start_server(devices)
    try:
        print(f"{args.connections} connections for {args.seconds:g} s, half to the origin, half "
              f"through the gateway from {len(devices)} signed-in devices (server pid {proc.pid})")
        results = asyncio.run(drive(targets, args.connections, args.seconds, devices))
        for name, stats in results.items():
            report(name, stats)
        lost = still_signed_in(targets, devices)
        print(f"devices still signed in afterwards: {len(devices) - lost}/{len(devices)}")
    finally:
        proc.stdin.close()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
