"""`labkit inspect URL [--proxy URL]`: prints the exchange and findings; exit 1 on an error finding."""

import io
import json
import subprocess
import sys

import pytest

from labkit import Simulator
from labkit.cli import main
from labkit.inspector._command import run_inspect


@pytest.fixture(scope="module")
def sim():
    s = Simulator(name="test-inspect-cli").serve()
    yield s
    s.stop()


def run(*argv):
    out = io.StringIO()
    from contextlib import redirect_stdout

    with redirect_stdout(out):
        code = main(["inspect", *argv])
    return code, out.getvalue()


def test_bare_401_is_an_error(sim):
    code, text = run(sim.origin_url + "/status/401")
    assert code == 1
    assert "< HTTP/1.1 401 Unauthorized" in text
    assert "ERROR 401-without-www-authenticate" in text and "[RFC 9110 section 15.5.2]" in text


def test_basic_auth_401_is_clean(sim):
    code, text = run(sim.origin_url + "/basic-auth/u/p")
    assert code == 0, text
    assert 'www-authenticate: Basic realm="labkit"' in text


def test_gateway_511_through_proxy_is_clean(sim):
    sim.gateway.mode = "rfc6585"
    code, text = run("--proxy", sim.gateway_url, sim.origin_url + "/status/200")
    assert code == 0, text
    assert "-> 511 Network Authentication Required; answered by gateway" in text


def test_cacheable_gateway_511_is_an_error(sim):
    sim.gateway.mode = "cacheable"
    try:
        code, text = run("--proxy", sim.gateway_url, sim.origin_url + "/status/200")
    finally:
        sim.gateway.mode = "rfc6585"
    assert code == 1 and "ERROR 511-storable" in text


def test_407_with_and_without_credentials(sim):
    sim.gateway.mode = "proxy-auth"
    try:
        code, text = run("--proxy", sim.gateway_url, sim.origin_url + "/status/200")
        assert code == 0 and "< HTTP/1.1 407" in text and "proxy-authenticate: Basic" in text
        user = sim.gateway_url.replace("http://", "http://guest:letmein@")
        code, text = run("--proxy", user, sim.origin_url + "/status/200")
        assert "< HTTP/1.1 200 OK" in text and "letmein" not in text
        assert "proxy-authorization: Basic [redacted]" in text
    finally:
        sim.gateway.mode = "rfc6585"


def test_options_headers_data_follow_har_explain(sim, tmp_path):
    har = tmp_path / "x.har"
    code, text = run("-X", "POST", "-H", "Authorization: Bearer abc", "-d", "x=1", "--explain",
                     "--har", str(har), sim.origin_url + "/status/503")
    assert code == 0  # retry-after-missing is info: sending Retry-After is a MAY
    assert "> POST /status/503" in text and "authorization: Bearer [redacted]" in text
    assert "info  retry-after-missing" in text and "The server MAY send a Retry-After" in text
    doc = json.loads(har.read_text())
    assert doc["log"]["version"] == "1.2" and doc["log"]["entries"][0]["response"]["status"] == 503


def test_follow_redirects_prints_every_hop(sim):
    sim.gateway.mode = "redirect"
    try:
        code, text = run("-L", "--proxy", sim.gateway_url, sim.origin_url + "/status/200")
    finally:
        sim.gateway.mode = "rfc6585"
    assert text.count("answered by gateway") == 2
    assert "-> 302 Found" in text and "-> 200 OK" in text


@pytest.mark.parametrize("argv, message", [
    (["not-a-url"], "absolute http"),
    (["-H", "no-colon", "http://127.0.0.1:9/"], "Name: value"),
])
def test_bad_input_is_a_clear_error(argv, message, capsys):
    assert main(["inspect", *argv]) == 2
    assert message in capsys.readouterr().err


def test_no_response_exits_2(capsys):
    code = run_inspect("http://127.0.0.1:1/", timeout=2, out=io.StringIO())
    assert code == 2
    assert "ConnectError" in capsys.readouterr().err


def test_console_entry_point(sim):
    out = subprocess.run([sys.executable, "-m", "labkit", "inspect", sim.origin_url + "/status/407"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 1
    assert "407-without-proxy-authenticate" in out.stdout


def test_https_through_a_captive_proxy_explains_the_refused_tunnel(sim, capsys):
    sim.gateway.mode = "rfc6585"
    code, text = run("--proxy", sim.gateway_url, "https://example.test/")
    assert code == 2
    assert "ERROR tunnel-refused" in text and "511" in text
    assert "ProxyError" in capsys.readouterr().err
