"""``labkit inspect URL``: one request over a real socket, printed with its findings."""

from __future__ import annotations

import json
import sys

import httpx

from ._capture import Capture
from ._export import to_har, to_json
from ._findings import Finding
from ._lint import inspect
from ._report import format_findings, format_record, summarize

__all__ = ["exit_status", "run_inspect"]


def _parse_header(text: str) -> tuple[str, str]:
    name, sep, value = text.partition(":")
    if not sep or not name.strip():
        raise ValueError(f"a header is 'Name: value', not {text!r}")
    return name.strip(), value.strip()


def exit_status(findings_per_exchange) -> int:
    """1 if any finding is an error (a MUST broken), else 0: warnings (SHOULD) and
    info (MAY) never fail the command."""
    return 1 if any(f.level == "error" for fs in findings_per_exchange for f in fs) else 0


def run_inspect(
    url: str,
    *,
    proxy: str | None = None,
    method: str = "GET",
    headers: list[str] = (),
    data: str | None = None,
    follow: bool = False,
    timeout: float = 10.0,
    output: str = "text",
    har: str | None = None,
    explain: bool = False,
    redact: bool = True,
    out=None,
) -> int:
    """Send one request, print every hop and its findings; 1 if any finding is an error.

    Exit status: 0 clean (warnings allowed), 1 at least one error finding,
    2 no response at all (the error is printed).
    """
    out = out or sys.stdout
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"inspect needs an absolute http:// or https:// URL, not {url!r}")
    pairs = [_parse_header(h) for h in headers]
    cap = Capture()
    client = httpx.Client(transport=cap.transport(proxy=proxy), follow_redirects=follow, timeout=timeout)
    failure = None
    try:
        with client:
            client.request(method.upper(), url, headers=pairs,
                           content=data.encode() if data is not None else None)
    except httpx.HTTPError as exc:  # still inspect what was captured
        failure = f"{type(exc).__name__}: {exc}"
    results: list[tuple[object, list[Finding]]] = [(ex, inspect(ex)) for ex in cap]
    if har:
        with open(har, "w", encoding="utf-8") as fh:
            json.dump(to_har(cap, redact=redact), fh, indent=1)
    if output == "json":
        print(to_json(cap, redact=redact), file=out)
    else:
        for ex, findings in results:
            print(format_record(ex, redact=redact), file=out)
            print("", file=out)
            print(summarize(ex, findings, redact=redact), file=out)
            print(format_findings(findings, explain=explain), file=out)
            print("", file=out)
    if failure and not any(ex.status for ex in cap):
        print(f"labkit: error: {failure}", file=sys.stderr)
        return 2
    return exit_status(fs for _, fs in results)
