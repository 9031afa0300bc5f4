"""The user portal's per-device state machine (RFC 8952 sections 2.4 and 4).

Each device (identified by its address, as real enforcement devices do:
RFC 8952 section 3.4.2) is in one of two states::

    CAPTIVE --sign_in(valid credentials)--> ONLINE
    ONLINE  --sign_out() | session expiry--> CAPTIVE
    CAPTIVE --sign_in(wrong credentials)--> CAPTIVE   (attempt counted)
    ONLINE  --extend()--> ONLINE                    (new full session)

Expiry is read from the injected clock on every question, so advancing a
:class:`~labkit.core.VirtualClock` past the end of a session makes the device
captive again without any timer thread (RFC 8908 section 5: the state a client
reads is the state the portal would enforce).
"""

from __future__ import annotations

import hmac
import threading
from dataclasses import dataclass

from ..core import Clock, RealClock

__all__ = ["DEFAULT_USERS", "DeviceState", "InvalidCredentials", "Portal", "Session"]

# Test credentials of the simulated venue (documented in labkit.gateway too).
DEFAULT_USERS = {"guest": "letmein"}


class InvalidCredentials(ValueError):
    """A sign-in with an unknown user or a wrong password; the device stays captive."""


@dataclass(frozen=True, slots=True)
class Session:
    device: str
    user: str
    started: float
    expires: float


@dataclass(frozen=True, slots=True)
class DeviceState:
    """What the portal knows about one device right now (plain data)."""

    device: str
    captive: bool
    user: str | None
    seconds_remaining: int | None  # None while captive
    failed_attempts: int


class Portal:
    """Sessions per device address, with expiry on the injected clock.

    Thread-safe: the kernel's in-process clients and the loopback server's
    thread may sign devices in and out at the same time.
    """

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        users: dict[str, str] | None = None,
        session_seconds: float = 3600.0,
        can_extend: bool = True,
    ) -> None:
        if session_seconds <= 0:
            raise ValueError(f"session_seconds must be positive, not {session_seconds!r}")
        self.clock: Clock = clock or RealClock()
        self.users = dict(DEFAULT_USERS if users is None else users)
        self.session_seconds = float(session_seconds)
        self.can_extend = can_extend
        self._sessions: dict[str, Session] = {}
        self._failures: dict[str, int] = {}
        self._lock = threading.Lock()

    # -- questions -------------------------------------------------------
    def session(self, device: str) -> Session | None:
        """The device's live session, or None (expired sessions are dropped here)."""
        with self._lock:
            return self._live(device)

    def is_online(self, device: str) -> bool:
        # Hot path (every forwarded request): one dict lookup and a clock read.
        session = self._sessions.get(device)
        return session is not None and self.clock.time() < session.expires

    def state(self, device: str) -> DeviceState:
        with self._lock:
            session = self._live(device)
            failures = self._failures.get(device, 0)
        if session is None:
            return DeviceState(device, True, None, None, failures)
        # Rounded to the millisecond first, so float noise never turns 200 into 199.
        remaining = max(0, int(round(session.expires - self.clock.time(), 3)))
        return DeviceState(device, False, session.user, remaining, failures)

    def devices(self) -> list[DeviceState]:
        """Every device the portal has seen, sorted by address."""
        with self._lock:
            seen = sorted(set(self._sessions) | set(self._failures))
        return [self.state(d) for d in seen]

    # -- transitions -----------------------------------------------------
    def sign_in(self, device: str, user: str, password: str) -> Session:
        """CAPTIVE -> ONLINE for ``device`` only; raises :class:`InvalidCredentials`.

        Signing in again while online starts a fresh session.
        """
        expected = self.users.get(user)
        # compare_digest: the check takes the same time however much matches.
        ok = expected is not None and hmac.compare_digest(
            expected.encode(), password.encode()
        )
        with self._lock:
            if not ok:
                self._failures[device] = self._failures.get(device, 0) + 1
                raise InvalidCredentials(
                    "Unknown user or wrong password; the device stays captive."
                )
            now = self.clock.time()
            session = Session(device, user, now, now + self.session_seconds)
            self._sessions[device] = session
            self._failures.pop(device, None)
            return session

    def check(self, user: str, password: str) -> bool:
        """Whether ``user``/``password`` are valid (for per-request proxy auth)."""
        expected = self.users.get(user)
        return expected is not None and hmac.compare_digest(
            expected.encode(), password.encode()
        )

    def sign_out(self, device: str) -> bool:
        """ONLINE -> CAPTIVE; returns whether there was a session to end."""
        with self._lock:
            return self._sessions.pop(device, None) is not None

    def extend(self, device: str) -> Session:
        """Restart an online device's session (RFC 8908 ``can-extend-session``)."""
        with self._lock:
            session = self._live(device)
            if session is None:
                raise LookupError(f"{device} has no session to extend; sign in first")
            if not self.can_extend:
                raise PermissionError("this venue does not allow extending a session")
            now = self.clock.time()
            session = Session(device, session.user, now, now + self.session_seconds)
            self._sessions[device] = session
            return session

    def reset(self) -> None:
        """Every device captive again, no attempts counted."""
        with self._lock:
            self._sessions.clear()
            self._failures.clear()

    def _live(self, device: str) -> Session | None:
        session = self._sessions.get(device)
        if session is not None and self.clock.time() >= session.expires:
            del self._sessions[device]  # ONLINE -> CAPTIVE by expiry
            return None
        return session

    def __repr__(self) -> str:
        online = sum(1 for d in list(self._sessions) if self.is_online(d))
        return f"<Portal {online} online, session {self.session_seconds:g} s>"
