"""The user portal's per-device state machine (RFC 8952 sections 2.4 and 4).

Each device is identified by its IP address (RFC 8952 section 3.4.2). That is
a stand-in: real gateways key a device on its MAC address *and* its IP
address. openNDS and nodogsplash look the MAC up from the client's IP and
keep clients by both (``client_list_find(mac, ip)`` in ``src/client_list.c``);
pfSense finds the MAC for the client's IP before signing it in
(``pfSense_ip_to_mac`` in ``src/usr/local/captiveportal/index.php``); OPNsense
drops a session whose address now answers with another MAC
(``cp-background-process.py``: "mac address changed"). Phones that
randomise their MAC (per network, or anew from time to time) look like new
devices and must sign in again. On one machine every loopback address has
the same (no) MAC, so the lab tells devices apart by address alone.

Each device is in one of two states::

    CAPTIVE --sign_in(valid credentials)--> ONLINE
    ONLINE  --sign_out() | session expiry--> CAPTIVE
    CAPTIVE --sign_in(wrong credentials)--> CAPTIVE   (attempt counted;
                                                      the max_failures-th locks sign-in)
    ONLINE  --extend()--> ONLINE                    (new full session)

Wrong passwords are counted per device. The ``max_failures``-th one in a row
locks the device's sign-in for ``lockout_seconds``: every sign-in meanwhile
raises :class:`TooManyAttempts` without looking at the password (so a
lockout cannot be used to test guesses), and the web form answers
``429 Too Many Requests`` with ``Retry-After`` (RFC 6585 section 4). When the
lockout ends the count starts again from zero; a successful sign-in also
clears it. This throttles guessing the venue's password from one device, as
the OWASP Authentication Cheat Sheet ("Protect Against Automated Attacks",
account lockout) advises, without a lockout ever being permanent. Counting
per device rather than per user name is deliberate: a venue has one shared
password, and locking the user ``guest`` would let one device lock out the
whole café.

Expiry (of sessions and of lockouts) is read from the injected clock on every
question, so advancing a :class:`~labkit.core.VirtualClock` past the end of a
session makes the device captive again without any timer thread (RFC 8908
section 5: the state a client reads is the state the portal would enforce).
"""

from __future__ import annotations

import hmac
import math
import threading
from dataclasses import dataclass

from ..core import Clock, RealClock

__all__ = [
    "DEFAULT_USERS",
    "DeviceState",
    "InvalidCredentials",
    "Portal",
    "Session",
    "TooManyAttempts",
]

# Test credentials of the simulated venue (documented in labkit.gateway too).
DEFAULT_USERS = {"guest": "letmein"}


class InvalidCredentials(ValueError):
    """A sign-in with an unknown user or a wrong password; the device stays captive."""


class TooManyAttempts(Exception):
    """Sign-in is locked for this device after too many wrong passwords.

    ``retry_after`` is the whole number of seconds until it may try again
    (what the form's 429 sends as ``Retry-After``, RFC 6585 section 4).
    """

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


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
    failed_attempts: int  # wrong passwords in a row (since the last sign-in or lockout)
    locked_seconds_remaining: int | None = None  # None unless sign-in is locked


# A long-running gateway fed fresh addresses forgets its oldest ones.
MAX_SEEN = 10_000


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
        max_failures: int = 5,
        lockout_seconds: float = 300.0,
    ) -> None:
        if session_seconds <= 0:
            raise ValueError(f"session_seconds must be positive, not {session_seconds!r}")
        if int(max_failures) != max_failures or max_failures < 1:
            raise ValueError(f"max_failures must be a whole number >= 1, not {max_failures!r}")
        if lockout_seconds <= 0:
            raise ValueError(f"lockout_seconds must be positive, not {lockout_seconds!r}")
        self.clock: Clock = clock or RealClock()
        self.users = dict(DEFAULT_USERS if users is None else users)
        self.session_seconds = float(session_seconds)
        self.can_extend = can_extend
        self.max_failures = int(max_failures)
        self.lockout_seconds = float(lockout_seconds)
        self._sessions: dict[str, Session] = {}
        self._failures: dict[str, int] = {}
        self._locked_until: dict[str, float] = {}
        # Devices the gateway has answered, so the device list shows one that only
        # met the 511 and never tried to sign in. Insertion-ordered, bounded.
        self._seen: dict[str, None] = {}
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
            locked = self._locked_for(device)
            failures = self._failures.get(device, 0)
        if session is None:
            return DeviceState(device, True, None, None, failures, locked)
        # Rounded to the millisecond first, so float noise never turns 200 into 199.
        remaining = max(0, int(round(session.expires - self.clock.time(), 3)))
        return DeviceState(device, False, session.user, remaining, failures, locked)

    def locked_for(self, device: str) -> int | None:
        """Seconds until ``device`` may try to sign in again, or None if it may now."""
        with self._lock:
            return self._locked_for(device)

    def saw(self, device: str) -> None:
        """Note that the gateway answered ``device`` (it then appears in :meth:`devices`)."""
        if device in self._seen:
            return
        with self._lock:
            self._seen[device] = None
            while len(self._seen) > MAX_SEEN:
                del self._seen[next(iter(self._seen))]

    def devices(self) -> list[DeviceState]:
        """Every device the gateway has answered or that tried to sign in, sorted by address.

        ``failed_attempts`` counts wrong passwords in a row: a successful
        sign-in or the end of a lockout starts it again at zero.
        """
        with self._lock:
            seen = sorted(set(self._seen) | set(self._sessions) | set(self._failures))
        return [self.state(d) for d in seen]

    # -- transitions -----------------------------------------------------
    def sign_in(self, device: str, user: str, password: str) -> Session:
        """CAPTIVE -> ONLINE for ``device`` only.

        Raises :class:`InvalidCredentials` for a wrong user or password, and
        :class:`TooManyAttempts` when that was the ``max_failures``-th in a row
        or while the device is locked out. Signing in again while online
        starts a fresh session.
        """
        # compare_digest: the check takes the same time however much matches.
        ok = self.check(user, password)
        with self._lock:
            locked = self._locked_for(device)
            if locked is not None:
                # The same answer for a right and a wrong password: a locked-out
                # device learns nothing from guessing.
                raise TooManyAttempts(_locked_message(locked), locked)
            if not ok:
                failures = self._failures.get(device, 0) + 1
                self._failures[device] = failures
                if failures >= self.max_failures:
                    self._locked_until[device] = self.clock.time() + self.lockout_seconds
                    wait = math.ceil(self.lockout_seconds)
                    raise TooManyAttempts(
                        f"{failures} wrong passwords in a row. " + _locked_message(wait), wait)
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
        """Every device captive again, no attempts counted, no lockouts."""
        with self._lock:
            self._sessions.clear()
            self._failures.clear()
            self._locked_until.clear()

    def _live(self, device: str) -> Session | None:
        session = self._sessions.get(device)
        if session is not None and self.clock.time() >= session.expires:
            del self._sessions[device]  # ONLINE -> CAPTIVE by expiry
            return None
        return session

    def _locked_for(self, device: str) -> int | None:
        until = self._locked_until.get(device)
        if until is None:
            return None
        left = until - self.clock.time()
        if left <= 0:  # the lockout is over: the count starts again
            del self._locked_until[device]
            self._failures.pop(device, None)
            return None
        # Whole seconds, rounded up (Retry-After is delay-seconds, RFC 9110
        # section 10.2.3); rounded to the millisecond first against float noise.
        return max(1, math.ceil(round(left, 3)))

    def __repr__(self) -> str:
        online = sum(1 for d in list(self._sessions) if self.is_online(d))
        return f"<Portal {online} online, session {self.session_seconds:g} s>"


def _locked_message(seconds: int) -> str:
    return (f"Too many failed sign-ins from this device: try again in {seconds} s "
            "(and check the password first).")
