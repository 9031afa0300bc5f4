"""Malformed requests against both loopback servers (on demand: `make fuzz`, never in `make test`).

Starts a Simulator in a separate process (request_timeout=1 s), then sends
REQUESTS malformed or hostile requests to the origin and as many to the
gateway, CONCURRENCY connections at a time, one request per connection:
mutated requests (bytes flipped, inserted, cut), framing RFC 9112 forbids
(no Host, two Hosts, no version, odd Transfer-Encoding and Content-Length),
random bytes, oversized heads, and requests left unfinished (some
half-closed, some left waiting for the server's 408). Then one 128 MiB header
line is streamed at each server. Prints, per server: what came back, the
server process's RSS, descriptors and threads before and after, its CPU time,
and how many lines it logged; then checks that a normal request is answered.

    .venv/bin/python benchmarks/fuzz.py                    # 10,000 per server
    .venv/bin/python benchmarks/fuzz.py --requests 2000 --seed 7
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import select
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 1.0  # the servers' request_timeout during the run

SERVER = f"""
import json, logging, sys
from labkit import Simulator
logging.basicConfig(level=logging.WARNING, format="%(name)s %(levelname)s %(message)s")
sim = Simulator(name="fuzz", request_timeout={TIMEOUT}).serve()
print(json.dumps({{"origin": sim.origin_url, "gateway": sim.gateway_url}}), flush=True)
sys.stdin.read()  # serve until the parent closes our stdin
sim.stop()
"""

VALID = {
    "origin": [
        b"GET /status/511 HTTP/1.1\r\nHost: origin.test\r\nAccept: */*\r\n\r\n",
        b"POST /status/200 HTTP/1.1\r\nHost: origin.test\r\nContent-Length: 5\r\n\r\nhello",
        b"PUT /orders HTTP/1.1\r\nHost: origin.test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        b"GET /basic-auth/a/b HTTP/1.1\r\nHost: origin.test\r\nAuthorization: Basic YTpi\r\n\r\n",
    ],
    "gateway": [
        b"GET http://news.test/status/200 HTTP/1.1\r\nHost: news.test\r\nAccept: */*\r\n\r\n",
        b"CONNECT news.test:443 HTTP/1.1\r\nHost: news.test:443\r\n\r\n",
        b"POST http://portal.labkit.test/login HTTP/1.1\r\nHost: portal.labkit.test\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 28\r\n\r\nuser=guest&password=letmein",
        b"GET http://portal.labkit.test/ HTTP/1.1\r\nHost: portal.labkit.test\r\n\r\n",
    ],
}

ODD_FIELDS = [
    b"Host: other.test", b"Host:", b"Host: a b", b"Transfer-Encoding: gzip",
    b"Transfer-Encoding: chunked, gzip", b"Transfer-Encoding: gzip, chunked", b"Content-Length: -1",
    b"Content-Length: 99999999999999999999", b"Content-Length: 5, 6", b"Expect: 100-continue",
    b"Connection: Upgrade\r\nUpgrade: h2c", b"X-Forwarded-For: 127.0.0.9", b"X: a\r\n b",
    b"Bad Header", b"\x00: \x00", b"X-Big: " + b"a" * 70_000,
]
ODD_LINES = [b"GET /status/200", b"GET /status/200 HTTP/2.0", b"GET /status/200 HTTP/1.2",
             b"GET  /status/200 HTTP/1.1", b"G\x00T / HTTP/1.1", b"GET http://[::1 HTTP/1.1", b"* * *"]


def malformed(rng: random.Random, which: str) -> tuple[bytes, str]:
    """A request and how to end it: "close" (half-close after it) or "wait"."""
    base = bytearray(rng.choice(VALID[which]))
    kind = rng.random()
    if kind < 0.25:  # bytes flipped, inserted or cut
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(len(base))
            op = rng.random()
            if op < 0.4:
                base[i] = rng.randrange(256)
            elif op < 0.7:
                base[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 3)))
            else:
                del base[i:i + rng.randint(1, 4)]
    elif kind < 0.55:  # a field RFC 9112 makes fatal, or one no parser should take
        head, _, body = bytes(base).partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        if rng.random() < 0.3:
            lines = [line for line in lines if not line.lower().startswith(b"host:")]
        lines.insert(rng.randint(1, len(lines)), rng.choice(ODD_FIELDS))
        base = bytearray(b"\r\n".join(lines) + b"\r\n\r\n" + body)
    elif kind < 0.65:  # an odd request line
        _, _, rest = bytes(base).partition(b"\r\n")
        base = bytearray(rng.choice(ODD_LINES) + b"\r\n" + rest)
    elif kind < 0.75:
        base = bytearray(rng.randbytes(rng.randint(1, 300)))
    elif kind < 0.85:  # pipelined, one of them broken
        base = bytearray(bytes(base) + rng.choice(ODD_LINES) + b"\r\n\r\n")
    else:  # unfinished
        base = base[: rng.randrange(1, len(base))]
        return bytes(base), "wait" if rng.random() < 0.1 else "close"
    return bytes(base), "close"


def hostport(url: str) -> tuple[str, int]:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    return host, int(port)


def proc_stats(pid: int) -> dict:
    status = Path(f"/proc/{pid}/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return {
        "rss_mb": int(fields["VmRSS"].split()[0]) / 1024,
        "fds": len(os.listdir(f"/proc/{pid}/fd")),
        "threads": int(fields["Threads"]),
        "cpu_s": (int(stat[11]) + int(stat[12])) / ticks,
    }


async def one(target, payload: bytes, end: str, outcomes: Counter) -> None:
    try:
        reader, writer = await asyncio.open_connection(*target)
    except OSError as exc:
        outcomes[f"connect failed ({exc.strerror})"] += 1
        return
    try:
        writer.write(payload)
        await writer.drain()
        if end == "close":
            writer.write_eof()
        answer = await asyncio.wait_for(reader.read(), TIMEOUT * 5)
        outcomes[answer[9:12].decode("latin-1") if answer.startswith(b"HTTP/1.1 ") else
                 ("closed, no answer" if not answer else "not HTTP")] += 1
    except (ConnectionResetError, BrokenPipeError):
        outcomes["reset"] += 1
    except asyncio.TimeoutError:
        outcomes["never closed"] += 1
    finally:
        writer.close()


async def storm(target, which: str, n: int, concurrency: int, rng: random.Random) -> Counter:
    outcomes: Counter = Counter()
    gate = asyncio.Semaphore(concurrency)

    async def guarded(payload, end):
        async with gate:
            await one(target, payload, end, outcomes)

    await asyncio.gather(*(guarded(*malformed(rng, which)) for _ in range(n)))
    return outcomes


def huge_header(target) -> tuple[int, float, bytes]:
    """Stream one 128 MiB header line in 64 KiB writes, looking for an answer
    after each; returns (bytes sent, seconds, answer)."""
    sent, started = 0, time.monotonic()
    piece = b"a" * 65536
    answer = b""
    with socket.create_connection(target, timeout=5) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: ")
        while sent < 128 * 1024 * 1024:
            try:
                s.sendall(piece)
            except OSError:
                break
            sent += len(piece)
            ready, _, _ = select.select([s], [], [], 0.01)
            if ready:
                answer = s.recv(65536)
                break
    return sent, time.monotonic() - started, answer[:60]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=10_000, help="per server")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if not (1 <= args.requests <= 100_000 and 1 <= args.concurrency <= 500):
        parser.error("keep it bounded: 1-100,000 requests, 1-500 connections at a time")
    rng = random.Random(args.seed)
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-c", SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    logged: list[str] = []
    threading.Thread(target=lambda: logged.extend(proc.stderr), daemon=True).start()
    urls = json.loads(proc.stdout.readline())
    import httpx

    try:
        print(f"{args.requests:,} malformed requests per server, {args.concurrency} at a time, "
              f"seed {args.seed}, request_timeout {TIMEOUT:g} s (server pid {proc.pid})")
        for which in ("origin", "gateway"):
            target = hostport(urls[which])
            lines_before = len(logged)
            before = proc_stats(proc.pid)
            started = time.monotonic()
            outcomes = asyncio.run(storm(target, which, args.requests, args.concurrency, rng))
            elapsed = time.monotonic() - started
            mid = proc_stats(proc.pid)
            sent, took, answer = huge_header(target)
            cpu_huge = proc_stats(proc.pid)["cpu_s"] - mid["cpu_s"]
            time.sleep(TIMEOUT + 0.6)  # let lingering refusals and deadlines run out
            after = proc_stats(proc.pid)
            if which == "origin":
                ok = httpx.get(urls["origin"] + "/status/200").status_code == 200
            else:
                ok = httpx.get("http://news.test/status/200", proxy=urls["gateway"]).status_code == 511
            print(f"\n{which}: {args.requests:,} requests in {elapsed:.1f} s "
                  f"({args.requests / elapsed:,.0f}/s)")
            print("  outcomes: " + ", ".join(f"{k} {v:,}" for k, v in sorted(outcomes.items())))
            print(f"  one 128 MiB header line: answered {answer[9:12].decode() or '(nothing)'} after "
                  f"{sent / 1024:,.0f} KiB sent, in {took * 1000:.0f} ms, server CPU {cpu_huge * 1000:.0f} ms")
            print(f"  server RSS {before['rss_mb']:.1f} -> {after['rss_mb']:.1f} MB, "
                  f"fds {before['fds']} -> {after['fds']}, threads {before['threads']} -> {after['threads']}, "
                  f"CPU {after['cpu_s'] - before['cpu_s']:.1f} s")
            print(f"  server log lines during the run: {len(logged) - lines_before}")
            print(f"  a normal request afterwards: {'answered' if ok else 'FAILED'}")
    finally:
        proc.stdin.close()
        proc.wait(timeout=15)
    print("\nserver log (at stop included):")
    for line in logged:
        print("  " + line.rstrip()[:160])


if __name__ == "__main__":
    main()
