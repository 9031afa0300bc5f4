"""Named retry experiments: one endpoint each, on a fresh simulator and a virtual clock.

The retry lab widget calls :func:`run_experiment`; so can a learner.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from .._simulator import Simulator
from ..core import VirtualClock
from ..gateway import PORTAL_HOST
from ..retry import RetryResult, run

__all__ = ["EXPERIMENTS", "Experiment", "run_experiment"]

GUEST = ("guest", "letmein")  # the gateway portal's documented test credentials
DEVICE = "127.0.0.9"
PORTAL_LOGIN = f"http://{PORTAL_HOST}/login"
MISTYPED = {"user": "guest", "password": "letmein!"}  # one character too many


@dataclass(frozen=True, slots=True)
class Experiment:
    url: str
    about: str
    method: str | None = None  # fixed method, or None: the caller's
    gateway: bool = False
    setup: Callable[[Any, Any], dict] | None = None  # (simulator, client) -> run() keywords
    json: Any = None
    data: Any = None  # a form, sent as application/x-www-form-urlencoded


def fresh_lab(name: str, *, gateway: bool = False):
    """A simulator on a VirtualClock, a client from :data:`DEVICE` (through the
    gateway if asked), and the sign-in a 511 calls for: ``(sim, client, sign_in)``."""
    sim = Simulator(clock=VirtualClock(), name=name)
    client = sim.client(device=DEVICE, gateway=gateway)
    return sim, client, lambda: sim.gateway.portal.sign_in(DEVICE, *GUEST)


def take_the_only_token(url: str) -> Callable[[Any, Any], dict]:
    """A setup that empties the one-token bucket at ``url`` (``burst=1``) before the run."""
    def setup(sim, client) -> dict:
        client.get(url)
        return {}
    return setup


def expired_token(sim, client) -> dict:
    """A setup: a Bearer token that has just expired, and a refresh that gets a new one."""
    pair = client.post("/bearer/token?expires_in=60").json()
    sim.clock.advance(61)

    def refresh():
        new = client.post("/bearer/refresh", json={"refresh_token": pair["refresh_token"]})
        return {"Authorization": f"Bearer {new.json()['access_token']}"}

    return {"headers": {"Authorization": f"Bearer {pair['access_token']}"}, "refresh": refresh}


def locked_out(sim, client) -> dict:
    """A setup: the mistyped password sent until the portal locks the device's sign-in.

    The lockout (RFC 6585 section 4's 429, ``Retry-After: 300``) is meant for
    the person at the keyboard: sending the same form again, however patiently,
    still sends the wrong password.
    """
    for _ in range(sim.gateway.portal.max_failures):
        client.post(PORTAL_LOGIN, data=MISTYPED)
    return {}


EXPERIMENTS: dict[str, Experiment] = {
    "flaky 503": Experiment("/flaky?fail=3&key=lab", "503 three times, then 200"),
    "dropped connection": Experiment("/flaky?fail=2&mode=disconnect&key=lab",
                                     "the connection drops twice, then 200"),
    "timeout": Experiment("/flaky?fail=2&mode=timeout&key=lab", "no answer twice, then 200"),
    "Retry-After seconds": Experiment("/unavailable?retry_after=20&form=seconds&key=lab",
                                      "503 + Retry-After: 20"),
    "Retry-After date": Experiment("/unavailable?retry_after=20&form=date&key=lab",
                                   "503 + Retry-After: <an HTTP-date 20 s ahead>"),
    "rate limit 429": Experiment("/ratelimit?rate=0.2&burst=1&key=lab",
                                 "token bucket already empty: 429 + Retry-After",
                                 setup=take_the_only_token("/ratelimit?rate=0.2&burst=1&key=lab")),
    "outage": Experiment("/outage?duration=30&capacity=10&key=lab", "down for 30 s, then healthy"),
    "lost order reply": Experiment("/orders?lose=1&key=lab", "POST: the order is placed, the reply lost",
                                   method="POST", json={"sku": "lamp"}),
    "511 captive portal": Experiment("http://news.test/flaky?fail=0&key=lab",
                                     "through the gateway, not signed in yet", gateway=True),
    "511 from the origin": Experiment("/status/511", "POST: the origin itself answers 511 (Server "
                                      "and X-Request-Id name it), which RFC 6585 section 6 says "
                                      "origin servers SHOULD NOT do", method="POST",
                                      json={"sku": "lamp"}),
    "order still processing": Experiment("/orders?processing=2&key=lab",
                                         "POST: the order takes 2 s, the reply times out, and a "
                                         "retry with the same key meanwhile gets 409",
                                         method="POST", json={"sku": "lamp"}),
    "401 expired token": Experiment("/bearer", "Bearer token expired; a refresh token is at hand",
                                    method="GET", setup=expired_token),
    "portal lockout": Experiment(PORTAL_LOGIN, "the portal's sign-in form, after 5 wrong passwords: "
                                 "locked for 5 minutes (429 + Retry-After: 300), and the form still "
                                 "holds the wrong password", method="POST", gateway=True,
                                 setup=locked_out, data=MISTYPED),
}


def run_experiment(name: str, *, policy=None, method: str = "GET", seed: int = 0,
                   idempotency_key: bool = False, sign_in: bool = True) -> tuple[RetryResult, Any]:
    """Run experiment ``name`` once on a fresh simulator; returns (result, simulator).

    With ``sign_in`` the runner may sign in to the portal when it meets a 511.
    """
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}: use one of {', '.join(EXPERIMENTS)}")
    exp = EXPERIMENTS[name]
    sim, client, sign_in_now = fresh_lab("retry-lab", gateway=exp.gateway)
    kwargs: dict[str, Any] = exp.setup(sim, client) if exp.setup else {}
    if exp.json is not None:
        kwargs["json"] = exp.json
    if exp.data is not None:
        kwargs["data"] = exp.data
    if exp.gateway and sign_in:
        kwargs["sign_in"] = sign_in_now
    result = run(client, exp.method or method, exp.url, policy=policy, clock=sim.clock, seed=seed,
                 idempotency_key=idempotency_key, **kwargs)
    return result, sim
