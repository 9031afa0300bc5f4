"""``labkit`` command line: each subcommand lives in its own small function."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

__all__ = ["main"]


def _serve(args: argparse.Namespace) -> int:
    from ._simulator import Simulator

    sim = Simulator().serve(port=args.port, host=args.host)
    # Scripts wait for these lines; keep their form ("name: URL").
    print(f"origin: {sim.origin_url}", flush=True)
    print(f"gateway: {sim.gateway_url}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
    return 0


def _inspect(args: argparse.Namespace) -> int:
    from .inspect._command import run_inspect

    return run_inspect(
        args.url, proxy=args.proxy, method=args.request, headers=args.header, data=args.data,
        follow=args.location, timeout=args.timeout, output="json" if args.json else "text",
        har=args.har, explain=args.explain,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="labkit", description="An offline HTTP 511 / captive-portal lab."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the simulator on loopback until interrupted")
    serve.add_argument("--port", type=int, default=0, help="origin port (default: a free one)")
    serve.add_argument("--host", default="127.0.0.1", help="loopback address to bind")
    serve.set_defaults(func=_serve)

    insp = commands.add_parser("inspect", help="send one request; print the exchange and its findings "
                               "(exit 1 if a finding is an error)")
    insp.add_argument("url", help="absolute URL, e.g. http://127.0.0.1:PORT/status/511")
    insp.add_argument("--proxy", help="send through this HTTP proxy (e.g. the gateway's URL)")
    insp.add_argument("-X", "--request", default="GET", help="method (default GET)")
    insp.add_argument("-H", "--header", action="append", default=[], help="'Name: value' (repeatable)")
    insp.add_argument("-d", "--data", help="request content")
    insp.add_argument("-L", "--location", action="store_true", help="follow redirects")
    insp.add_argument("--timeout", type=float, default=10.0, help="seconds (default 10)")
    insp.add_argument("--json", action="store_true", help="print the capture as labkit JSON")
    insp.add_argument("--har", metavar="FILE", help="also write a HAR 1.2 file")
    insp.add_argument("--explain", action="store_true", help="print each finding's explanation")
    insp.set_defaults(func=_inspect)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (OSError, ValueError) as exc:
        print(f"labkit: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
