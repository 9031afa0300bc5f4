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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="labkit", description="An offline HTTP 511 / captive-portal lab."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the simulator on loopback until interrupted")
    serve.add_argument("--port", type=int, default=0, help="origin port (default: a free one)")
    serve.add_argument("--host", default="127.0.0.1", help="loopback address to bind")
    serve.set_defaults(func=_serve)
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
