"""The gateway as a real HTTP proxy on loopback: curl, httpx, CONNECT, the CLI."""

import os
import shutil
import subprocess
import sys

import httpx
import pytest

from labkit import Simulator, VirtualClock

pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")

URL = "http://news.test/status/200"


@pytest.fixture
def sim():
    s = Simulator(clock=VirtualClock(), name="test-gateway-loopback").serve()
    yield s
    s.stop()


def curl(sim, *args, interface="127.0.0.2"):
    cmd = ["curl", "-sS", "-i", "--max-time", "5", "--interface", interface, "-x", sim.gateway_url, *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=10)


def status_of(out: str) -> int:
    return int(out.split(" ", 2)[1])


def test_gateway_is_served_beside_the_origin(sim):
    assert sim.gateway_url.startswith("http://127.0.0.1:")
    assert sim.gateway_url != sim.origin_url
    # The origin itself is not behind the gateway.
    assert httpx.get(sim.origin_url + "/status/200").status_code == 200


def test_curl_before_and_after_sign_in(sim):
    before = curl(sim, URL)
    assert before.returncode == 0, before.stderr
    assert status_of(before.stdout) == 511
    head = before.stdout.split("\r\n\r\n", 1)[0].lower()
    assert "via: 1.1 labkit-gateway" in head and "cache-control: no-store" in head
    assert 'href="http://portal.labkit.test/login"' in before.stdout

    # Sign in through the form with curl, as a person's browser would post it.
    login = curl(sim, "-d", "user=guest", "-d", "password=letmein", "http://portal.labkit.test/login")
    assert status_of(login.stdout) == 200 and "You are online" in login.stdout

    after = curl(sim, URL)
    assert status_of(after.stdout) == 200
    head = after.stdout.split("\r\n\r\n", 1)[0].lower()
    assert "server: labkit-origin" in head and "via: 1.1 labkit-gateway" in head
    # Another loopback address is another device: still captive.
    assert status_of(curl(sim, URL, interface="127.0.0.3").stdout) == 511


def test_curl_wrong_password_then_sign_out(sim):
    bad = curl(sim, "-d", "user=guest", "-d", "password=nope", "http://portal.labkit.test/login")
    assert status_of(bad.stdout) == 403 and "wrong password" in bad.stdout
    assert status_of(curl(sim, URL).stdout) == 511
    sim.gateway.portal.sign_in("127.0.0.2", "guest", "letmein")
    assert status_of(curl(sim, URL).stdout) == 200
    assert status_of(curl(sim, "-X", "POST", "http://portal.labkit.test/logout").stdout) == 200
    assert status_of(curl(sim, URL).stdout) == 511


def test_curl_https_tunnel_fails_with_511_before_sign_in(sim):
    r = subprocess.run(
        ["curl", "-sS", "-v", "--max-time", "5", "--interface", "127.0.0.2", "-x", sim.gateway_url,
         "https://news.test/"],
        capture_output=True, text=True, timeout=10)
    assert r.returncode == 56, r.stderr  # CURLE_RECV_ERROR: the tunnel was refused
    assert "CONNECT tunnel failed, response 511" in r.stderr
    assert r.stdout == ""  # no page is shown
    sim.gateway.portal.sign_in("127.0.0.2", "guest", "letmein")
    r = subprocess.run(
        ["curl", "-sS", "-v", "--max-time", "5", "--interface", "127.0.0.2", "-x", sim.gateway_url,
         "https://news.test/"],
        capture_output=True, text=True, timeout=10)
    assert "CONNECT tunnel failed, response 502" in r.stderr


def test_httpx_through_the_proxy(sim):
    with sim.proxy_client(device="127.0.0.4") as client:
        r = client.get(URL, headers={"accept": "application/json"})
        assert r.status_code == 511 and r.json()["login_url"] == "http://portal.labkit.test/login"
        api = client.get("http://portal.labkit.test/api/captive").json()
        assert api["captive"] is True
        sim.gateway.portal.sign_in("127.0.0.4", "guest", "letmein")
        assert client.get(URL).status_code == 200
        assert client.get("http://portal.labkit.test/api/captive").json()["captive"] is False
        with pytest.raises(httpx.ProxyError, match="502"):
            client.get("https://news.test/")
    with sim.proxy_client(device="127.0.0.5") as other:
        assert other.get(URL).status_code == 511, "a second address is a second device"


def test_proxy_auth_mode_over_loopback(sim):
    sim.gateway.mode = "proxy-auth"
    r = curl(sim, URL)
    assert status_of(r.stdout) == 407
    assert 'proxy-authenticate: Basic realm="labkit-gateway", charset="UTF-8"' in r.stdout
    ok = curl(sim, "--proxy-user", "guest:letmein", URL)
    assert status_of(ok.stdout) == 200
    proxy = sim.gateway_url.replace("http://", "http://guest:letmein@")
    with httpx.Client(proxy=proxy) as client:
        assert client.get(URL).status_code == 200


@pytest.mark.allow_sleep  # Popen.wait(timeout=) polls with short sleeps while the CLI exits
def test_cli_prints_the_gateway_line_right_after_origin():
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "labkit", "serve"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        origin = proc.stdout.readline().strip()
        gateway = proc.stdout.readline().strip()
        assert origin.startswith("origin: http://127.0.0.1:")
        assert gateway.startswith("gateway: http://127.0.0.1:")
        r = httpx.get(URL, headers={"accept": "application/json"}, proxy=gateway.split(": ", 1)[1])
        assert r.status_code == 511
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_spoof_mode_connect_accepts_then_tls_fails(sim):
    # A spoofing portal hijacks the tunnel: "200", then no TLS server behind it.
    sim.gateway.mode = "spoof"
    r = subprocess.run(
        ["curl", "-sS", "-v", "--max-time", "5", "--interface", "127.0.0.2", "-x", sim.gateway_url,
         "https://news.test/"],
        capture_output=True, text=True, timeout=10)
    assert r.returncode == 35, r.stderr  # CURLE_SSL_CONNECT_ERROR
    assert "CONNECT tunnel established, response 200" in r.stderr


def test_plain_requests_keep_working_after_a_refused_connect(sim):
    with sim.proxy_client(device="127.0.0.6") as client:
        for _ in range(3):
            with pytest.raises(httpx.ProxyError, match="511"):
                client.get("https://news.test/")
            assert client.get(URL).status_code == 511
        sim.gateway.portal.sign_in("127.0.0.6", "guest", "letmein")
        assert client.get(URL).status_code == 200


@pytest.mark.allow_sleep  # Popen.wait(timeout=) polls with short sleeps while the CLI exits
def test_cli_gateway_port_option():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "labkit", "serve", "--gateway-port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        proc.stdout.readline()
        assert proc.stdout.readline().strip() == f"gateway: http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_https_drop_over_loopback_holds_the_connect_then_gives_up(sim):
    # pfSense and OPNsense drop port 443 (a pf block): the client times out.
    import time

    sim.gateway.https = "drop"
    sim.gateway.drop_seconds = 0.5
    with sim.proxy_client(device="127.0.0.8", timeout=0.2) as impatient:
        started = time.monotonic()
        with pytest.raises(httpx.ReadTimeout):
            impatient.get("https://news.test/")
        assert time.monotonic() - started < 0.45  # the client's timeout, not the hold, ended it
        assert impatient.get(URL).status_code == 511  # plain HTTP still meets the portal
    with sim.proxy_client(device="127.0.0.8", timeout=5) as patient:
        started = time.monotonic()
        with pytest.raises(httpx.ProxyError, match="504"):  # no page, ever: the proxy gave up
            patient.get("https://news.test/")
        assert time.monotonic() - started < 2.5  # bounded by drop_seconds, not the client's 5 s


def test_probes_through_the_proxy_partial_connectivity_and_firefox(sim):
    from labkit.gateway import run_probes

    with sim.proxy_client(device="127.0.0.9") as laptop:
        before = {p.probe: p for p in run_probes(laptop, proxied=True)}
        assert before["android"].verdict == "no internet" and before["chromium"].verdict == "portal"
        assert before["firefox"].verdict == "online"  # Firefox's check never reports a portal via a proxy
        sim.gateway.portal.sign_in("127.0.0.9", "guest", "letmein")
        after = {p.probe: p for p in run_probes(laptop, proxied=True)}
        # HTTP 204, but CONNECT gets 502 here: a real phone reports partial connectivity.
        assert after["android"].status == 204 and after["android"].verdict == "partial connectivity"
        assert after["chromium"].verdict == "online"
