"""The client edge through the loopback gateway: one device per source address."""

import errno
import socket
import sys

import httpx
import pytest

from labkit import LoopbackAddressUnavailable, Simulator, VirtualClock
from labkit.transport import ProxyTransport, proxy_transport

URL = "http://news.test/status/200"


@pytest.fixture(scope="module")
def sim():
    with Simulator(clock=VirtualClock(), name="test-proxy-transport") as s:
        yield s


@pytest.fixture(autouse=True)
def captive(sim):
    sim.gateway.mode = "rfc6585"
    for state in sim.gateway.portal.devices():
        sim.gateway.portal.sign_out(state.device)
    yield


def test_each_source_address_is_a_device(sim):
    with sim.proxy_client(device="127.0.0.7") as seven, sim.proxy_client(device="127.0.0.8") as eight:
        r = seven.post("http://portal.labkit.test/login", data={"user": "guest", "password": "letmein"})
        assert r.status_code == 200 and "You are online" in r.text
        assert not sim.gateway.portal.state("127.0.0.7").captive
        assert seven.get(URL).status_code == 200
        assert eight.get(URL).status_code == 511


def test_credentials_in_the_proxy_url_become_proxy_authorization(sim):
    sim.gateway.mode = "proxy-auth"
    authed = sim.gateway_url.replace("http://", "http://guest:letmein@")
    with httpx.Client(transport=proxy_transport(authed, device="127.0.0.9")) as client:
        r = client.get(URL)
        assert r.status_code == 200
        assert "proxy-authorization" not in r.json()["request"]["headers"]
    with httpx.Client(transport=proxy_transport(sim.gateway_url, device="127.0.0.9")) as client:
        assert client.get(URL).status_code == 407


def test_streamed_bodies_and_refused_tunnels(sim):
    with sim.proxy_client(device="127.0.0.10") as client:
        with client.stream("GET", URL) as r:
            assert r.status_code == 511 and b"portal.labkit.test" in r.read()
        with pytest.raises(httpx.ProxyError, match="511"):
            client.get("https://news.test/")


def test_errors_are_httpx_errors():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens once the socket is closed
    with httpx.Client(transport=ProxyTransport(f"http://127.0.0.1:{port}", device="127.0.0.11")) as client:
        with pytest.raises(httpx.ConnectError):
            client.get(URL)
    with pytest.raises(ValueError, match="http://host:port"):
        ProxyTransport("socks5://127.0.0.1:1080")


@pytest.fixture
def no_second_loopback_address(monkeypatch):
    """This machine as macOS is out of the box: 127.0.0.2 cannot be bound."""
    real_bind = socket.socket.bind

    def bind(self, address):
        if isinstance(address, tuple) and address[0] == "127.0.0.2":
            raise OSError(errno.EADDRNOTAVAIL, "Can't assign requested address")
        return real_bind(self, address)

    monkeypatch.setattr(socket.socket, "bind", bind)
    monkeypatch.setattr(sys, "platform", "darwin")


def test_a_missing_loopback_address_says_how_to_add_it(sim, no_second_loopback_address):
    with sim.proxy_client(device="127.0.0.2") as laptop:
        with pytest.raises(LoopbackAddressUnavailable) as caught:
            laptop.get(URL)
    message = str(caught.value)
    assert message == (
        "cannot connect from 127.0.0.2: macOS configures only 127.0.0.1 on loopback. Add it with "
        "`sudo ifconfig lo0 alias 127.0.0.2 up`, or keep the device in-process: "
        "sim.client(device='127.0.0.2', gateway=True)"
    )
    assert "\n" not in message
    # A set-up problem, not a network failure that a retry loop should retry.
    assert isinstance(caught.value, OSError) and caught.value.errno == errno.EADDRNOTAVAIL
    assert not isinstance(caught.value, httpx.HTTPError)
    assert caught.value.__suppress_context__  # no chain of httpcore frames after it
    # Other devices are unaffected.
    with sim.proxy_client(device="127.0.0.12") as other:
        assert other.get(URL).status_code == 511


def test_other_connect_errors_stay_httpx_errors(monkeypatch):
    # EADDRNOTAVAIL from connect() (no free ephemeral port) while the address binds fine.
    def create_connection(*args, **kwargs):
        raise OSError(errno.EADDRNOTAVAIL, "Cannot assign requested address")

    monkeypatch.setattr(socket, "create_connection", create_connection)
    with httpx.Client(transport=ProxyTransport("http://127.0.0.1:9", device="127.0.0.13")) as client:
        with pytest.raises(httpx.ConnectError):
            client.get(URL)
