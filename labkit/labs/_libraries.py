"""What real retry libraries do against the lab (notebook 03): run, not described.

Five libraries, each with its defaults and with one configuration its own
documentation recommends (:data:`LIBRARY_CONFIGS` quotes the setup and says
where it comes from), are pointed at the lab's failing endpoints
(:data:`LIBRARY_CASES`) over real loopback sockets (``Simulator.serve()``).
Every wait is taken on the lab's virtual clock through the library's own
hook, so nothing really sleeps and every wait is recorded:

- urllib3: ``Retry.sleep`` overridden in a subclass, calling the same public
  methods ``Retry.sleep`` calls (``get_retry_after``, ``get_backoff_time``);
- tenacity: its ``sleep=`` argument;
- stamina, httpx-retries and backoff: none of them takes a sleep function.
  stamina's sync path sleeps through tenacity's default ``tenacity.nap.sleep``;
  its testing mode (``stamina.set_testing``) makes every backoff 0, which would
  hide the waits being measured. httpx-retries' ``Retry.sleep`` computes the
  wait in a private method and calls ``time.sleep``; backoff's sync decorators
  call ``time.sleep`` (backoff's own tests replace it). So for these three,
  ``time.sleep`` is replaced for the duration of one call, on the calling
  thread only (other threads, such as the lab's servers, sleep for real). For
  stamina the computed waits are also read from its instrumentation hook
  (``stamina.instrumentation.set_on_retry_hooks``, ``RetryDetails.wait_for``),
  and :func:`retry_libraries` checks the two agree.

Jittered libraries draw from the global ``random`` module (stamina,
httpx-retries, backoff's ``full_jitter``, tenacity's ``wait_random_exponential``);
each case seeds it and restores its state afterwards, so runs repeat exactly.

An HTTP-date in ``Retry-After`` is measured by urllib3 against ``time.time()``
and by httpx-retries against ``datetime.now(timezone.utc)``: the wall clock.
So that the lab's clock and the wall clock agree, each case's virtual clock
starts at the next whole second of the wall clock; the library then computes
the advertised wait plus that fraction of a second. A case during which the
wall clock passed the lab's start is run again. :func:`retry_library_table`
shows waits of 10 s or more in whole seconds (rounded down) for that reason.
"""

from __future__ import annotations

import contextlib
import functools
import math
import random
import re
import ssl
import threading
import time
from dataclasses import asdict, dataclass

import httpx

from .._simulator import Simulator
from ..core import Clock, parse_retry_after

__all__ = [
    "LIBRARIES",
    "LIBRARY_CASES",
    "LIBRARY_CONFIGS",
    "LibraryCase",
    "LibraryConfig",
    "LibraryRow",
    "retry_libraries",
    "retry_library_table",
]

LIBRARIES = ("urllib3", "tenacity", "stamina", "httpx-retries", "backoff")
CONFIGS = ("defaults", "recommended")
# A library configured to retry without end is stopped by the lab after this many attempts.
MAX_ATTEMPTS = 25
ORDER = {"sku": "lamp"}


@dataclass(frozen=True)
class LibraryCase:
    """One way the lab fails; ``path`` has a ``{key}`` for the case's own client key."""

    name: str
    method: str
    path: str
    description: str
    retry_after: bool = False
    idempotency_key: bool = False
    gateway: bool = False
    drain: bool = False  # take the rate limiter's only token first, so the library meets a 429


LIBRARY_CASES = (
    LibraryCase("flaky", "GET", "/flaky?fail=2&key={key}", "503, 503, then 200; no Retry-After"),
    LibraryCase("ratelimit", "GET", "/ratelimit?rate=0.1&burst=1&key={key}",
                "429 with Retry-After: 10 (delay-seconds)", retry_after=True, drain=True),
    LibraryCase("unavailable-seconds", "GET", "/unavailable?retry_after=45&form=seconds&key={key}",
                "503 with Retry-After: 45 (delay-seconds), then 200", retry_after=True),
    LibraryCase("unavailable-date", "GET", "/unavailable?retry_after=45&form=date&key={key}",
                "503 with Retry-After as an HTTP-date 45 s ahead, then 200", retry_after=True),
    LibraryCase("post", "POST", "/orders?lose=1&key={key}",
                "POST an order; the reply to the first is lost (the connection drops)"),
    LibraryCase("post-idempotency-key", "POST", "/orders?lose=1&key={key}",
                "the same, with an Idempotency-Key header", idempotency_key=True),
    LibraryCase("511", "GET", "/flaky?fail=0&key={key}",
                "through the captive portal's gateway, not signed in: 511", gateway=True),
)
_CASES = {case.name: case for case in LIBRARY_CASES}


@dataclass(frozen=True)
class LibraryConfig:
    """A library set up one way: the code as a user writes it, and where it comes from."""

    library: str
    config: str
    setup: str
    source: str


LIBRARY_CONFIGS = {
    ("urllib3", "defaults"): LibraryConfig(
        "urllib3", "defaults", "urllib3.PoolManager().request(...)  # retries=Retry.DEFAULT, i.e. Retry(3)",
        "urllib3/util/retry.py: Retry.DEFAULT = Retry(3); PoolManager uses it when retries is not given"),
    ("urllib3", "recommended"): LibraryConfig(
        "urllib3", "recommended",
        "requests.Session().mount('http://', HTTPAdapter(max_retries=Retry(total=5, backoff_factor=0.5)))",
        "httpx-retries README, 'Features': the typical urllib3 Retry set-up with requests"),
    ("tenacity", "defaults"): LibraryConfig(
        "tenacity", "defaults", "@tenacity.retry  # around a call that raise_for_status()es",
        "tenacity docs, 'Basic Retry': retry forever without waiting when an exception is raised"),
    ("tenacity", "recommended"): LibraryConfig(
        "tenacity", "recommended",
        "@retry(stop=stop_after_attempt(7), wait=wait_random_exponential(multiplier=1, max=60))",
        "tenacity docs, 'Stopping' (stop_after_attempt(7)) and 'Waiting before retrying' "
        "(wait_random_exponential(multiplier=1, max=60), exponential backoff with jitter)"),
    ("stamina", "defaults"): LibraryConfig(
        "stamina", "defaults", "@stamina.retry(on=httpx.HTTPError)  # on= has no default",
        "stamina API: retry(*, on, attempts=10, timeout=45.0, wait_initial=0.1, wait_max=5.0, "
        "wait_jitter=1.0, wait_exp_base=2)"),
    ("stamina", "recommended"): LibraryConfig(
        "stamina", "recommended", "@stamina.retry(on=httpx.HTTPError, attempts=3)",
        "stamina README, its first example (httpx, raise_for_status)"),
    ("httpx-retries", "defaults"): LibraryConfig(
        "httpx-retries", "defaults", "httpx.Client(transport=RetryTransport())",
        "httpx_retries/retry.py: Retry(total=10, backoff_factor=0, backoff_jitter=1.0, "
        "status_forcelist 429, 502, 503, 504)"),
    ("httpx-retries", "recommended"): LibraryConfig(
        "httpx-retries", "recommended",
        "httpx.Client(transport=RetryTransport(retry=Retry(total=5, backoff_factor=0.5)))",
        "httpx-retries README, 'Usage'"),
    ("backoff", "defaults"): LibraryConfig(
        "backoff", "defaults", "@backoff.on_exception(backoff.expo, requests.exceptions.RequestException)",
        "backoff README, '@backoff.on_exception', its first example (no max_tries: no limit; "
        "full jitter by default)"),
    ("backoff", "recommended"): LibraryConfig(
        "backoff", "recommended",
        "@backoff.on_exception(backoff.expo, requests.exceptions.RequestException, max_tries=8, jitter=None)",
        "backoff README, 'Give Up Conditions' (max_tries)"),
}


@dataclass(frozen=True)
class LibraryRow:
    """What one library, set up one way, did in one case."""

    library: str
    config: str
    case: str
    attempts: int
    waits: list[float]
    retry_after_honoured: bool | None
    post_retried: bool | None
    duplicate_orders: int | None
    final_status: int | None
    error: str | None
    on_511: str | None
    setup: str

    def to_dict(self) -> dict:
        return asdict(self)


class _LabStopped(BaseException):
    """Raised into a library that would retry without end. A BaseException, so that
    no library's retry condition (Exception subclasses) catches it."""


class _Trace:
    """One case's record: each attempt's advertised wait, each wait taken on the lab's clock."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.attempts = 0
        self.advertised: list[float | None] = []
        self.waits: list[float] = []
        self.hook_waits: list[float] = []  # stamina's instrumentation, to check against

    def begin(self) -> None:
        if self.attempts >= MAX_ATTEMPTS:
            raise _LabStopped(f"still retrying after {MAX_ATTEMPTS} attempts: the lab stopped it")
        self.attempts += 1

    def answered(self, retry_after: str | None) -> None:
        """The attempt's reply (``retry_after`` None for none, or no reply at all)."""
        self.advertised.append(parse_retry_after(retry_after, now=self.clock.time()) if retry_after else None)

    def sleep(self, seconds: float) -> None:
        seconds = max(0.0, float(seconds))
        self.waits.append(seconds)
        self.clock.sleep(seconds)


# One matrix at a time: time.sleep is replaced process-wide while a case runs.
_LOCK = threading.Lock()


@contextlib.contextmanager
def _sleep_on(trace: _Trace):
    """``time.sleep`` on this thread waits on the lab's clock; other threads sleep for real."""
    real = time.sleep
    owner = threading.get_ident()

    def sleep(seconds: float) -> None:
        if threading.get_ident() == owner:
            trace.sleep(seconds)
        else:
            real(seconds)

    time.sleep = sleep
    try:
        yield
    finally:
        time.sleep = real


@contextlib.contextmanager
def _seeded(seed: int):
    state = random.getstate()
    random.seed(seed)
    try:
        yield
    finally:
        random.setstate(state)


@functools.lru_cache(maxsize=1)
def _tls() -> ssl.SSLContext:
    # Every httpx client loads the CA bundle again unless given a context; the lab is plain HTTP,
    # and loading it 70 times would take most of the run.
    return ssl.create_default_context()


# -- the libraries ------------------------------------------------------------------------------
# Each runner sends ``case`` to ``url`` (through ``proxy`` when given) and returns the final status;
# an exception that escapes the library escapes the runner.

def _headers(case: LibraryCase, key: str) -> dict[str, str]:
    # A Structured Field String, as the Idempotency-Key draft writes it.
    return {"Idempotency-Key": f'"order-{key}"'} if case.idempotency_key else {}


def _urllib3(config: str, case: LibraryCase, url: str, proxy: str | None, trace: _Trace, key: str) -> int:
    import json

    import requests
    import urllib3
    from requests.adapters import HTTPAdapter
    from urllib3.util import Retry

    class LabRetry(Retry):
        # Retry.new() builds each successor with type(self)(...): they all wait on the lab's clock.
        def sleep(self, response=None) -> None:
            # Retry.sleep's own steps through its public methods: Retry-After first, else the backoff.
            if self.respect_retry_after_header and response:
                wait = self.get_retry_after(response)
                if wait:
                    trace.sleep(wait)
                    return
            trace.sleep(max(0.0, self.get_backoff_time()))

        def increment(self, *args, **kwargs):
            response = kwargs.get("response")
            trace.answered(response.headers.get("retry-after") if response is not None else None)
            return super().increment(*args, **kwargs)

    headers = _headers(case, key)
    body = json.dumps(ORDER).encode() if case.method == "POST" else None
    if body is not None:
        headers["Content-Type"] = "application/json"
    if config == "defaults":
        manager = urllib3.ProxyManager(proxy) if proxy else urllib3.PoolManager()
        try:
            return manager.request(case.method, url, body=body, headers=headers, retries=LabRetry(3)).status
        finally:
            manager.clear()
    with requests.Session() as session:
        session.trust_env = False
        session.mount("http://", HTTPAdapter(max_retries=LabRetry(total=5, backoff_factor=0.5)))
        proxies = {"http": proxy} if proxy else None
        return session.request(case.method, url, data=body, headers=headers, proxies=proxies, timeout=10).status_code


def _httpx_call(client: httpx.Client, case: LibraryCase, url: str, trace: _Trace, key: str) -> httpx.Response:
    trace.begin()
    try:
        response = client.request(case.method, url, headers=_headers(case, key),
                                  json=ORDER if case.method == "POST" else None)
    except httpx.HTTPError:
        trace.answered(None)
        raise
    trace.answered(response.headers.get("retry-after"))
    response.raise_for_status()
    return response


def _tenacity(config: str, case: LibraryCase, url: str, proxy: str | None, trace: _Trace, key: str) -> int:
    import tenacity

    kwargs = {} if config == "defaults" else {
        "stop": tenacity.stop_after_attempt(7),
        "wait": tenacity.wait_random_exponential(multiplier=1, max=60),
    }
    with httpx.Client(proxy=proxy, trust_env=False, verify=_tls()) as client:
        retrying = tenacity.Retrying(sleep=trace.sleep, **kwargs)
        return retrying(_httpx_call, client, case, url, trace, key).status_code


def _stamina(config: str, case: LibraryCase, url: str, proxy: str | None, trace: _Trace, key: str) -> int:
    import stamina
    from stamina.instrumentation import get_on_retry_hooks, set_on_retry_hooks

    kwargs = {} if config == "defaults" else {"attempts": 3}
    call = stamina.retry(on=httpx.HTTPError, **kwargs)(_httpx_call)
    hooks = get_on_retry_hooks()
    set_on_retry_hooks([lambda details: trace.hook_waits.append(details.wait_for)])
    try:
        with httpx.Client(proxy=proxy, trust_env=False, verify=_tls()) as client, _sleep_on(trace):
            return call(client, case, url, trace, key).status_code
    finally:
        set_on_retry_hooks(hooks)


def _httpx_retries(config: str, case: LibraryCase, url: str, proxy: str | None, trace: _Trace,
                   key: str) -> int:
    from httpx_retries import Retry, RetryTransport

    class Counting(httpx.BaseTransport):
        """Below the retry transport: sees every attempt."""

        def __init__(self) -> None:
            self.inner = httpx.HTTPTransport(proxy=proxy, verify=_tls())

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            trace.begin()
            try:
                response = self.inner.handle_request(request)
            except httpx.HTTPError:
                trace.answered(None)
                raise
            trace.answered(response.headers.get("retry-after"))
            return response

        def close(self) -> None:
            self.inner.close()

    retry = Retry() if config == "defaults" else Retry(total=5, backoff_factor=0.5)
    transport = RetryTransport(transport=Counting(), retry=retry)
    with httpx.Client(transport=transport, trust_env=False, verify=_tls()) as client, _sleep_on(trace):
        return client.request(case.method, url, headers=_headers(case, key),
                              json=ORDER if case.method == "POST" else None).status_code


def _backoff(config: str, case: LibraryCase, url: str, proxy: str | None, trace: _Trace, key: str) -> int:
    import backoff
    import requests

    def call(session: requests.Session):
        trace.begin()
        try:
            response = session.request(case.method, url, headers=_headers(case, key), timeout=10,
                                       json=ORDER if case.method == "POST" else None)
        except requests.exceptions.RequestException:
            trace.answered(None)
            raise
        trace.answered(response.headers.get("retry-after"))
        response.raise_for_status()
        return response

    kwargs = {} if config == "defaults" else {"max_tries": 8, "jitter": None}
    decorated = backoff.on_exception(backoff.expo, requests.exceptions.RequestException, **kwargs)(call)
    with requests.Session() as session, _sleep_on(trace):
        session.trust_env = False
        if proxy:
            session.proxies = {"http": proxy}
        return decorated(session).status_code


_RUNNERS = {
    "urllib3": _urllib3,
    "tenacity": _tenacity,
    "stamina": _stamina,
    "httpx-retries": _httpx_retries,
    "backoff": _backoff,
}


# -- one case -------------------------------------------------------------------------------------

def _describe(exc: BaseException, ports: list[int]) -> str:
    """``Class: first line of the message``, with the servers' ports (which vary) taken out."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    for port in ports:
        text = re.sub(rf"(?<=[:=]){port}\b", "PORT", text)
    text = re.sub(r"\b0x[0-9a-f]+\b", "0x...", text)  # an object's address (tenacity's RetryError)
    name = type(exc).__name__.lstrip("_")
    return f"{name}: {text}" if text else name


def _on_511(attempts: int, status: int | None, error: str | None) -> str:
    if status == 511:
        return "not retried: returned the 511" if attempts == 1 else \
            f"retried {attempts - 1} times, then returned the 511"
    name = (error or "").split(":")[0]
    if name == "LabStopped":
        return f"retried without end: the lab stopped it after {attempts} attempts"
    if attempts == 1:
        return f"not retried: raised {name}"
    return f"retried {attempts - 1} times, then raised {name}"


def _honoured(trace: _Trace) -> bool:
    """True when the library came back, and never sooner than a ``Retry-After`` it was given."""
    told = False
    for advertised, wait in zip(trace.advertised, trace.waits):
        if advertised is not None:
            told = True
            if wait < advertised - 1e-6:
                return False
    return told


class _CaseClock:
    """The lab's virtual clock, restarted at the wall clock for each case (see the module's docstring).

    Restarting may move it back; each case has its own client key, so no
    endpoint's state (per key) ever sees time run backwards.
    """

    def __init__(self) -> None:
        self.now = 0.0

    def restart(self) -> float:
        self.now = float(math.ceil(time.time()))
        return self.now

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)


def _run_case(sim: Simulator, library: str, config: str, case: LibraryCase, *, seed: int) -> LibraryRow:
    key = f"{library}-{config}-{case.name}"
    url = sim.origin_url + case.path.format(key=key)
    with httpx.Client(trust_env=False, verify=_tls()) as plain:
        for _ in range(3):
            start = sim.clock.restart()
            trace = _Trace(sim.clock)
            if case.drain:
                plain.get(url)
            status = error = None
            with _seeded(seed):
                try:
                    status = _RUNNERS[library](config, case, url, sim.gateway_url if case.gateway else None,
                                               trace, key)
                except (Exception, _LabStopped) as exc:  # noqa: BLE001 - what escaped the library is the result
                    error = _describe(exc, [_port(sim.origin_url), _port(sim.gateway_url)])
            if time.time() < start:
                break
            # The wall clock passed the lab's: forget the key's state and run the case again.
            plain.delete(url.split("?")[0] + f"?key={key}")
        orders = plain.get(sim.origin_url + f"/orders?key={key}").json()["count"] if case.method == "POST" else None
    # stamina reports each wait as a difference of running totals: equal to float precision.
    if library == "stamina" and not (len(trace.hook_waits) == len(trace.waits) and all(
            math.isclose(a, b, abs_tol=1e-9) for a, b in zip(trace.hook_waits, trace.waits))):
        raise RuntimeError(f"stamina's instrumentation saw waits {trace.hook_waits}, the lab {trace.waits}")
    attempts = trace.attempts or 1 + len(trace.waits)  # urllib3 is counted by its waits
    return LibraryRow(
        library=library, config=config, case=case.name, attempts=attempts,
        waits=[round(w, 3) for w in trace.waits],
        retry_after_honoured=_honoured(trace) if case.retry_after else None,
        post_retried=attempts > 1 if case.method == "POST" else None,
        duplicate_orders=max(0, orders - 1) if orders is not None else None,
        final_status=status, error=error,
        on_511=_on_511(attempts, status, error) if case.gateway else None,
        setup=LIBRARY_CONFIGS[library, config].setup,
    )


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/")[0])


def retry_libraries(*, libraries=None, cases=None, configs=None, seed: int = 0) -> list[LibraryRow]:
    """Run each library (:data:`LIBRARIES`), set up each way, in each case (:data:`LIBRARY_CASES`).

    ``libraries``, ``cases`` and ``configs`` narrow the matrix (names; None: all).
    One simulator, served on loopback, runs them all; each case has its own
    client key, restarts the lab's clock at the wall clock and seeds ``random``
    with ``seed``. Nothing really sleeps.
    """
    libraries = _pick("library", libraries, LIBRARIES)
    configs = _pick("config", configs, CONFIGS)
    names = _pick("case", cases, tuple(_CASES))
    with _LOCK, Simulator(clock=_CaseClock(), name="retry-libraries") as sim:
        return [_run_case(sim, library, config, _CASES[name], seed=seed)
                for library in libraries for config in configs for name in names]


def _pick(what: str, chosen, known: tuple[str, ...]) -> tuple[str, ...]:
    if chosen is None:
        return known
    if isinstance(chosen, str):
        chosen = (chosen,)
    unknown = [name for name in chosen if name not in known]
    if unknown or not chosen:
        raise ValueError(f"unknown {what} {', '.join(map(repr, unknown)) or '(none given)'}: "
                         f"choose from {', '.join(known)}")
    return tuple(name for name in known if name in chosen)


def _waits(waits: list[float]) -> str:
    """Each wait in seconds, a run of equal ones as ``value xN``; 10 s or more in whole seconds;
    after eight, only how many there were."""
    shown = [str(math.floor(w)) if w >= 10 else f"{w:.2f}".rstrip("0").rstrip(".") for w in waits]
    parts: list[str] = []
    for text in shown:
        if parts and parts[-1].split(" x")[0] == text:
            head, _, count = parts[-1].partition(" x")
            parts[-1] = f"{head} x{int(count or 1) + 1}"
        else:
            parts.append(text)
    if len(parts) > 8:
        parts = [*parts[:7], f"... ({len(waits)} waits)"]
    return ", ".join(parts)


def retry_library_table(rows):
    """``rows`` (from :func:`retry_libraries`) as a table to read: one line per library, set-up and case."""
    import pandas as pd

    def flag(value):
        return "" if value is None else ("yes" if value else "no")

    records = []
    for row in rows:
        row = row if isinstance(row, dict) else row.to_dict()
        records.append({
            "library": row["library"], "config": row["config"], "case": row["case"],
            "attempts": row["attempts"], "waits (s)": _waits(row["waits"]),
            "Retry-After honoured": flag(row["retry_after_honoured"]),
            "POST retried": flag(row["post_retried"]),
            "duplicate orders": "" if row["duplicate_orders"] is None else row["duplicate_orders"],
            "outcome": row["final_status"] if row["error"] is None else row["error"].split(":")[0],
        })
    return pd.DataFrame(records).set_index("library")
