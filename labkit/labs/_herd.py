"""The herd simulation checked against real HTTP: every request an httpx request to the lab's endpoint."""

from __future__ import annotations

import dataclasses

import httpx

from .._simulator import Simulator
from ..retry import Contention, HerdResult, Outage, simulate_herd

__all__ = ["herd_over_http"]

TRANSPORTS = ("inprocess", "loopback")


class _EventClock:
    """A clock set to each event's exact time (``VirtualClock.advance`` would add float error)."""

    def __init__(self) -> None:
        self.now = 0.0

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)


class _RecordOverHTTP:
    """The contention scenario's record, reached through ``/contention`` (RFC 9110 section 13.1.1)."""

    def __init__(self, client: httpx.Client, clock: _EventClock, key: str) -> None:
        self.client, self.clock, self.url = client, clock, f"/contention?key={key}"

    def read(self, now: float) -> int:
        self.clock.now = now
        response = self.client.get(self.url)
        response.raise_for_status()
        return int(response.headers["etag"].strip('"'))

    def write(self, now: float, version: int) -> bool:
        self.clock.now = now
        response = self.client.put(self.url, headers={"if-match": f'"{version}"'})
        if response.status_code == 412:
            return False
        response.raise_for_status()
        return True


def herd_over_http(scenario: Contention | Outage | None = None, *, transport: str = "inprocess",
                   clients: int = 25, **kwargs) -> HerdResult:
    """:func:`~labkit.retry.simulate_herd`, but every request is a real httpx request
    to the scenario's endpoint (``/contention``: a GET, then a PUT with ``If-Match``;
    or ``/outage``, whose 503s carry the scenario's ``Retry-After`` form, which the
    clients read from the header), on a fresh simulator.

    ``transport`` is ``inprocess`` or ``loopback``; ``kwargs`` go to ``simulate_herd``.
    Slow (an httpx round trip per request): for small herds, to check that the
    simulation agrees with HTTP. It always runs event by event (the server answers
    one request at a time): ``simulate_herd(..., method="events")`` gives the same
    result for the same seed, and its default (``"auto"``) the same in distribution
    (it draws its random numbers in bulk, in another order).
    """
    if scenario is None:
        scenario = Contention()
    if transport not in TRANSPORTS:
        raise ValueError(f"transport must be {' or '.join(TRANSPORTS)}, not {transport!r}")
    if not isinstance(scenario, (Contention, Outage)):
        raise TypeError(f"scenario must be Contention(...) or Outage(...), not {scenario!r}")
    if getattr(scenario, "server", None) is not None or getattr(scenario, "call", None) is not None:
        raise ValueError("herd_over_http supplies the server itself: leave server/call unset")
    clock = _EventClock()
    sim = Simulator(clock=clock, name="herd-over-http")
    try:
        if transport == "inprocess":
            client = sim.client()
        else:
            client = httpx.Client(base_url=sim.serve().origin_url, timeout=5)
        with client:
            if isinstance(scenario, Contention):
                client.delete("/contention?key=herd").raise_for_status()
                client.get("/contention?key=herd").raise_for_status()  # the record starts at t=0
                record = _RecordOverHTTP(client, clock, "herd")
                scenario = dataclasses.replace(scenario, server=record)
            else:
                capacity = scenario.capacity_for(clients)
                client.put(f"/outage?key=herd&duration={scenario.duration}&capacity={capacity}"
                           f"&retry_after={scenario.retry_after}").raise_for_status()

                def call(t: float) -> bool | str:
                    # True when served; else the 503's Retry-After, if any, for the
                    # simulated client to read as RetryPolicy does.
                    clock.now = t
                    response = client.get("/outage?key=herd")
                    if response.status_code == 200:
                        return True
                    return response.headers.get("retry-after") or False

                scenario = dataclasses.replace(scenario, capacity=capacity, call=call)
            return simulate_herd(scenario, clients=clients, **kwargs)
    finally:
        sim.stop()
