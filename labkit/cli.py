"""``labkit`` command line: each subcommand lives in its own small function."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from .retry import HERD_SCENARIOS, RETRY_AFTER_FORMS, SCHEDULES, Backoff

__all__ = ["main"]


def _serve(args: argparse.Namespace) -> int:
    from ._simulator import Simulator
    from .transport import NotLoopbackError

    try:
        sim = Simulator().serve(port=args.port, host=args.host, gateway_port=args.gateway_port,
                                allow_non_loopback=args.allow_non_loopback)
    except NotLoopbackError:
        # The library's message names its keyword; a terminal user needs the flag.
        raise ValueError(
            f"refusing to bind {args.host!r}: it is not a loopback address, so other machines "
            "could reach the lab (and its public test password). Pass --allow-non-loopback "
            "if you really mean to expose it."
        ) from None
    if args.allow_non_loopback and not _loopback(args.host):
        print(f"labkit: warning: serving on {args.host}: other machines can reach the origin and "
              "the gateway", file=sys.stderr, flush=True)
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


def _loopback(host: str) -> bool:
    import ipaddress

    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _inspect(args: argparse.Namespace) -> int:
    from .inspector._command import run_inspect

    return run_inspect(
        args.url, proxy=args.proxy, method=args.request, headers=args.header, data=args.data,
        follow=args.location, timeout=args.timeout, output="json" if args.json else "text",
        har=args.har, explain=args.explain,
    )


# Flags that set a field of a herd scenario (labkit.retry.Contention / Outage).
_SCENARIO_FLAGS = ("latency", "duration", "capacity", "first_exponent", "retry_after",
                   "retry_after_jitter")


def _herd_scenario(args: argparse.Namespace):
    """The scenario the flags describe; the dataclasses' fields say which flag belongs where."""
    from dataclasses import fields

    given = {flag: getattr(args, flag) for flag in _SCENARIO_FLAGS if getattr(args, flag) is not None}
    # The outage is the herd an instructor shows from a terminal, and it stays
    # fast at 10,000 clients for every schedule; contention without jitter
    # costs O(clients^2) calls. --latency implies contention.
    name = args.scenario or ("contention" if "latency" in given else "outage")
    accepts = {n: {f.name for f in fields(kind)} for n, kind in HERD_SCENARIOS.items()}
    for flag in given:
        if flag not in accepts[name]:
            owner = next(n for n, names in accepts.items() if flag in names)
            raise ValueError(f"--{flag.replace('_', '-')} belongs to --scenario {owner}")
    return HERD_SCENARIOS[name](**given)


def _herd(args: argparse.Namespace) -> int:
    import json

    from .retry import simulate_herd

    scenario = _herd_scenario(args)
    outage = scenario.name == "outage"
    # The outage keeps every request's time: the busiest 10 ms after recovery tells
    # a second's requests arriving at one instant from the same number spread out.
    result = simulate_herd(scenario, clients=args.clients, schedule=args.schedule, seed=args.seed,
                           base=args.base, cap=args.cap, times=outage)
    doc = result.to_dict()
    if outage:
        doc["recovery_peak_rps"] = result.peak(after=scenario.duration)
        doc["recovery_peak_10ms"] = result.peak(after=scenario.duration, bin_s=0.01)
    if args.json:
        print(json.dumps(doc))
        return 0
    params = result.params
    print(f"schedule: {args.schedule} (base {args.base:g} s, cap {args.cap:g} s, "
          f"first_exponent {params['first_exponent']}, seed {args.seed})")
    if outage:
        print(f"clients: {result.clients}  outage: {params['duration']:g} s  "
              f"capacity: {params['capacity']} requests/s")
        if scenario.retry_after != "none":
            jitter = scenario.retry_after_jitter
            print(f"retry-after: {scenario.retry_after} on every 503, waited instead of the backoff"
                  + (f" and up to {jitter:.0%} longer" if jitter else ""))
    else:
        print(f"clients: {result.clients}  contention: one record, optimistic writes, "
              f"latency {params['latency'] * 1000:g} ms")
    print(f"calls: {result.calls} ({result.calls_per_client:.2f} per client)")
    print(f"completion_s: {result.completion_s:.1f}  peak_rps: {result.peak_rps}")
    if outage:
        print(f"after recovery: peak_rps {doc['recovery_peak_rps']}, "
              f"busiest 10 ms {doc['recovery_peak_10ms']}")
    if result.unfinished:
        print(f"unfinished: {result.unfinished} clients still waiting (call limit reached)")
    return 0


def _retry_libraries(args: argparse.Namespace) -> int:
    import json

    from .labs import retry_libraries, retry_library_table

    rows = retry_libraries(libraries=args.library, cases=args.case, configs=args.config)
    if args.json:
        print(json.dumps({"rows": [row.to_dict() for row in rows]}))
    else:
        print(retry_library_table(rows).to_string())
    return 0


def _clients(args: argparse.Namespace) -> int:
    import json

    from .labs import after_sign_in_table, client_matrix, client_table, collect_rows, cors_table, run_cors

    # The programs, then a web page's fetch() calls (client names with "fetch").
    rows = collect_rows(client_matrix)
    cors = run_cors()
    if args.json:
        print(json.dumps({"rows": rows + [row.as_dict() for row in cors]}, indent=1))
        return 0
    print(client_table(rows))
    print()
    print("The same request again, once the device has signed in:")
    print(after_sign_in_table(rows))
    for title, table in (
        ("A web page's fetch() to another origin, through the gateway (the device is captive):",
         cors_table(cors)),
        ("The same calls once the device has signed in:", cors_table(cors, signed_in=True)),
        ("Over https://, through a CONNECT:", cors_table(cors, https=True)),
    ):
        print()
        print(title)
        print(table.to_string())
    return 0


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, not {value}")
    return value


def _schedule(text: str) -> str:
    try:
        Backoff(kind=text)  # the schedules' one list, and their alias ("fixed")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="labkit", description="An offline HTTP 511 / captive-portal lab."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the simulator on loopback until interrupted")
    serve.add_argument("--port", type=int, default=0, help="origin port (default: a free one)")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to bind (default 127.0.0.1; a loopback one unless "
                       "--allow-non-loopback)")
    serve.add_argument("--allow-non-loopback", action="store_true",
                       help="allow a --host other machines can reach (the lab has no "
                       "authentication worth the name: use only on a network you trust)")
    serve.add_argument("--gateway-port", type=int, default=0,
                       help="captive-portal gateway (HTTP proxy) port (default: a free one)")
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

    herd = commands.add_parser("herd", help="simulate N clients retrying until they succeed "
                               "(the thundering herd); prints calls, completion time, peak load")
    herd.add_argument("--clients", type=_positive_int, default=1000, help="how many (default 1000)")
    herd.add_argument("--schedule", default="full", type=_schedule, metavar="{%s}" % ",".join(SCHEDULES),
                      help="backoff: none (no wait), constant (a fixed wait of base), exponential "
                      "(no jitter), or a jitter variant")
    herd.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    herd.add_argument("--base", type=float, default=1.0, help="backoff base in seconds (default 1)")
    herd.add_argument("--cap", type=float, default=60.0, help="backoff cap in seconds (default 60)")
    herd.add_argument("--scenario", choices=list(HERD_SCENARIOS), default=None,
                      help="outage (default): a server down, then rate-limited; contention: "
                      "one record, optimistic writes, as in the AWS article (implied by --latency)")
    herd.add_argument("--latency", type=float, default=None,
                      help="contention: mean one-way network delay in seconds (default 0.010)")
    herd.add_argument("--first-exponent", type=int, default=None, metavar="N",
                      help="retry numbering: t = min(cap, base * 2**(n + N)) before retry n (0 first); "
                      "contention defaults to 1, the article's (first wait 2 * base), outage to 0")
    herd.add_argument("--duration", type=float, default=None, help="outage seconds (default 10)")
    herd.add_argument("--capacity", type=_positive_int, default=None,
                      help="requests/s served after recovery (default clients/10)")
    herd.add_argument("--retry-after", choices=RETRY_AFTER_FORMS, default=None,
                      help="outage: what every 503 carries: none (default), seconds (time left, "
                      "rounded up) or date (the moment, whole seconds)")
    herd.add_argument("--retry-after-jitter", type=float, default=None, metavar="J",
                      help="outage: each client waits Retry-After x (1 + uniform(0, J)) (default 0)")
    herd.add_argument("--json", action="store_true",
                      help="print one JSON object (calls, completion_s, peak_rps, ...)")
    herd.set_defaults(func=_herd)

    from .labs import LIBRARIES, LIBRARY_CASES

    libs = commands.add_parser("retry-libraries", help="run real retry libraries (urllib3, tenacity, stamina, "
                               "httpx-retries, backoff) against the lab's failing endpoints, on its virtual clock")
    libs.add_argument("--library", action="append", choices=LIBRARIES, help="only this library (repeatable)")
    libs.add_argument("--case", action="append", choices=[c.name for c in LIBRARY_CASES],
                      help="only this case (repeatable)")
    libs.add_argument("--config", action="append", choices=("defaults", "recommended"),
                      help="only this set-up (repeatable)")
    libs.add_argument("--json", action="store_true", help='print {"rows": [...]}, one object per run')
    libs.set_defaults(func=_retry_libraries)

    clients = commands.add_parser("clients", help="run curl, wget, Chromium, httpx, requests, urllib3, "
                                  "aiohttp and urllib.request behind the gateway in every portal mode, "
                                  "over http and https; print what each did")
    clients.add_argument("--json", action="store_true", help='print {"rows": [...]}, one object per row')
    clients.set_defaults(func=_clients)
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
