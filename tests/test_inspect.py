"""The Inspector end to end: capture, findings, attribution, against origin and gateway."""

import asyncio
import base64

import httpx
import pytest

import labkit
from labkit import Capture, Exchange, Simulator, VirtualClock, attribute, inspect
from labkit.core import Response

# RFC 6585 section 6, the example 511 response, exactly as printed.
RFC6585_EXAMPLE = b"""\
<html>
   <head>
      <title>Network Authentication Required</title>
      <meta http-equiv="refresh"
            content="0; url=https://login.example.net/">
   </head>
   <body>
      <p>You need to <a href="https://login.example.net/">
      authenticate with the local network</a> in order to gain
      access.</p>
   </body>
</html>
"""


def serious(findings):
    return [f.id for f in findings if f.level in ("error", "warning")]


@pytest.fixture
def sim():
    s = Simulator(clock=VirtualClock(), name="test-inspect")
    yield s
    s.stop()


def test_rfc6585_example_passes_clean():
    ex = Exchange.build(511, [("content-type", "text/html")], RFC6585_EXAMPLE, url="http://example.com/")
    findings = inspect(ex)
    assert serious(findings) == []
    # httplint did run over it (it always reports on storability and the status).
    assert any(f.source == "httplint" for f in findings)
    # A 511 is itself the evidence: RFC 6585 section 6.1, the network answered.
    assert (attribute(ex).answered_by, attribute(ex).generated_by) == ("gateway", "gateway")


def test_inspect_accepts_core_and_httpx_responses():
    core = Response(401, [("content-type", "text/plain")], b"no")
    assert "401-without-www-authenticate" in [f.id for f in inspect(core)]
    request = httpx.Request("GET", "http://x.test/")
    hx = httpx.Response(407, headers={"content-type": "text/plain"}, content=b"no", request=request)
    assert "407-without-proxy-authenticate" in [f.id for f in inspect(hx)]
    with pytest.raises(TypeError, match="inspect"):
        inspect("HTTP/1.1 200 OK")


def test_finding_shape():
    f = inspect(Exchange.build(401, [], ""))[0]
    assert (f.id, f.level, f.source) == ("401-without-www-authenticate", "error", "labkit")
    assert f.rfc == "RFC 9110 section 15.5.2"
    assert set(f.to_dict()) == {"id", "level", "summary", "explanation", "rfc", "source", "subject"}
    with pytest.raises(ValueError, match="level"):
        labkit.Finding("x", "fatal", "s", "e", "RFC 1")


def test_httplint_findings_are_converted():
    ex = Exchange.build(200, [("content-type", "text/html"), ("content-length", "9"), ("cache-control", "max-age=abc")], "<p>hi</p>")
    hl = [f for f in inspect(ex) if f.source == "httplint"]
    assert hl and all(f.id.startswith("httplint:") for f in hl)
    assert all(f.level in ("error", "warning", "info") for f in hl)
    assert all(f.rfc.startswith("RFC ") for f in hl)
    assert all("<" not in f.explanation.replace("<p>hi", "") for f in hl)  # HTML stripped
    assert any(f.level == "good" for f in inspect(ex, include_good=True))


# -- against the origin -------------------------------------------------------
@pytest.mark.parametrize(
    "path, expected, absent",
    [
        ("/status/401", "401-without-www-authenticate", None),
        ("/status/407", "407-without-proxy-authenticate", None),
        ("/status/511", "511-from-origin", None),
        ("/status/511", "511-without-link", None),
        ("/status/503", "retry-after-missing", None),
        ("/status/429", "retry-after-missing", None),
        ("/basic-auth/u/p", None, "401-without-www-authenticate"),
        ("/bearer", None, "401-without-www-authenticate"),
    ],
)
def test_origin_routes(sim, path, expected, absent):
    cap = Capture(clock=sim.clock)
    with sim.client(capture=cap) as client:
        client.get(path)
    ids = [f.id for f in inspect(cap[-1])]
    if expected:
        assert expected in ids
    if absent:
        assert absent not in ids
    assert attribute(cap[-1]).answered_by == "origin"


def test_auth_endpoints_pass_without_errors(sim):
    cap = Capture(clock=sim.clock)
    client = sim.client(capture=cap)
    client.get("/basic-auth/u/p")
    client.get("/basic-auth/u/p", auth=("u", "p"))
    client.get("/bearer", headers={"authorization": "Bearer expired"})
    for ex in cap:
        assert [f.id for f in inspect(ex) if f.level == "error"] == [], ex


# -- capture ------------------------------------------------------------------
def test_capture_records_request_response_and_timings(sim):
    cap = Capture(clock=sim.clock)
    client = sim.client(capture=cap)
    client.post("/status/201", content=b"hello", headers={"content-type": "text/plain"})
    ex = cap[0]
    assert (ex.method, ex.url, ex.status, ex.reason) == ("POST", "http://origin.test/status/201", 201, "Created")
    assert ex.request_body == b"hello" and ex.request_header("content-type") == "text/plain"
    assert ex.header("server") == "labkit-origin" and b'"status":201' in ex.response_body.replace(b" ", b"")
    assert ex.started == sim.clock.time()
    assert set(ex.timings) == {"wait", "receive", "total"} and ex.timings["total"] >= 0
    assert ex.transport == "in-process" and ex.http_version == "HTTP/1.1"
    assert ex.id == 1 and ex.step == 0


def test_capture_records_redirect_chain_as_one_flow(sim):
    sim.gateway.mode = "redirect"
    cap = Capture()
    client = sim.client(gateway=True, follow_redirects=True, capture=cap)
    r = client.get("/status/200")
    client.get("/status/204")
    flows = cap.flows()
    assert len(flows) == 2
    first = list(flows.values())[0]
    assert [(e.step, e.status) for e in first] == [(0, 302), (1, 200)]
    assert first[1].url == first[0].header("location") == str(r.url)
    assert all(attribute(e).answered_by == "gateway" for e in first)


def test_capture_is_chosen_when_the_client_is_built(sim):
    cap = Capture()
    plain = sim.client()
    plain.get("/status/200")
    assert len(cap) == 0  # a client built without the capture is not recorded
    recorded = sim.client(capture=cap)
    recorded.get("/status/200")
    # A learner's own transport, wrapped: the capture records it, and which proxy it uses.
    inner = labkit.InProcessTransport(sim.origin)
    own = httpx.Client(transport=cap.transport(inner, proxy="http://user:pw@proxy.test:3128"))
    own.get("http://origin.test/status/204")
    assert [(e.status, e.transport) for e in cap] == [(200, "in-process"), (204, "in-process")]
    assert cap[1].proxy == "http://proxy.test:3128"  # the credentials go in a header, not the URL
    assert cap[1].request_header("proxy-authorization") == "Basic " + base64.b64encode(b"user:pw").decode()
    assert isinstance(cap.transport(), labkit.inspector.RecordingTransport)


def test_each_send_is_one_flow_even_on_a_shared_transport(sim):
    sim.gateway.mode = "redirect"
    cap = Capture()
    transport = cap.transport(labkit.InProcessTransport(sim.gateway, client=("127.0.0.8", 50000)))
    following = httpx.Client(transport=transport, follow_redirects=True)
    not_following = httpx.Client(transport=transport)
    following.get("http://origin.test/status/200")
    not_following.get("http://origin.test/status/200")
    following.get("http://origin.test/status/200")
    assert [len(hops) for hops in cap.flows().values()] == [2, 1, 2]
    assert [(e.step, e.status) for e in cap] == [(0, 302), (1, 200), (0, 302), (0, 302), (1, 200)]


def test_capture_records_failures(sim):
    def broken(request):
        raise labkit.Disconnect

    cap = Capture()
    client = httpx.Client(transport=cap.transport(labkit.InProcessTransport(broken)))
    with pytest.raises(httpx.RemoteProtocolError):
        client.get("http://x.test/")
    assert cap[0].status == 0 and "RemoteProtocolError" in cap[0].error
    assert inspect(cap[0])[0].id == "no-response"


def test_capture_async_in_process_and_loopback(sim):
    sim.serve()
    cap = Capture()

    async def run():
        async with sim.async_client(capture=cap) as a, httpx.AsyncClient(
            base_url=sim.origin_url, transport=cap.transport()
        ) as b:
            await asyncio.gather(a.get("/status/401"), b.get("/status/401"), a.get("/bearer"))

    asyncio.run(run())
    assert sorted(e.transport for e in cap) == ["in-process", "in-process", "socket"]
    assert len({e.flow for e in cap}) == 3  # concurrent sends stay apart
    assert all(e.status == 401 for e in cap)


def test_capture_loopback_through_gateway_proxy(sim):
    sim.serve()
    cap = Capture()
    client = httpx.Client(transport=cap.transport(proxy=sim.gateway_url))
    client.get(sim.origin_url + "/status/200")
    ex = cap[-1]
    assert ex.status == 511 and ex.proxy == sim.gateway_url and ex.transport == "socket"
    who = attribute(ex)
    assert who.answered_by == "gateway" and any("Via" in e for e in who.evidence)
    assert serious(inspect(ex)) == []  # the gateway's 511 is a correct one


def test_407_from_the_proxy_auth_gateway(sim):
    sim.serve()
    sim.gateway.mode = "proxy-auth"
    cap = Capture()
    bare = httpx.Client(transport=cap.transport(proxy=sim.gateway_url))
    authed = httpx.Client(transport=cap.transport(proxy=httpx.Proxy(sim.gateway_url, auth=("guest", "letmein"))))
    assert bare.get(sim.origin_url + "/status/200").status_code == 407
    assert authed.get(sim.origin_url + "/status/200").status_code == 200
    challenge, ok = cap[0], cap[1]
    assert challenge.header("proxy-authenticate").startswith("Basic realm=")
    assert "407-without-proxy-authenticate" not in [f.id for f in inspect(challenge)]
    assert attribute(challenge).answered_by == "gateway"
    # httpcore adds Proxy-Authorization itself; the capture still records it.
    assert ok.request_header("proxy-authorization") == "Basic " + base64.b64encode(b"guest:letmein").decode()
    assert attribute(ok).answered_by == "origin" and "1.1 labkit-gateway" in attribute(ok).via


def test_attribution_through_gateway(sim):
    cap = Capture()
    client = sim.client(gateway=True, device="127.0.0.5", capture=cap)
    client.get("/status/200")  # captive: the gateway's 511
    sim.gateway.portal.sign_in("127.0.0.5", "guest", "letmein")
    client.get("/status/200")  # forwarded: the origin's 200
    client.get("/status/511")  # forwarded: the origin's (misused) 511
    gw, fwd, bad = (attribute(e) for e in cap)
    assert (gw.answered_by, fwd.answered_by, bad.answered_by) == ("gateway", "origin", "origin")
    assert fwd.via == ("1.1 labkit-gateway",)
    assert "511-from-origin" not in [f.id for f in inspect(cap[0])]
    assert "511-from-origin" in [f.id for f in inspect(cap[2])]


def test_captures_become_a_dataframe(sim):
    cap = Capture()
    client = sim.client(capture=cap)
    client.get("/status/511")
    client.get("/basic-auth/a/b", auth=("a", "b"))
    df = cap.to_dataframe()
    assert list(df["status"]) == [511, 200]
    assert list(df["answered_by"]) == ["origin", "origin"]
    assert df.loc[1, "request_headers"]["authorization"] == "Basic [redacted]"
    assert cap.to_dataframe(redact=False).loc[1, "request_headers"]["authorization"].startswith("Basic YT")


def test_capture_is_thread_safe(sim):
    import threading

    cap = Capture()
    clients = [sim.client(capture=cap) for _ in range(4)]

    def work(c):
        for _ in range(25):
            c.get("/status/204")

    threads = [threading.Thread(target=work, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(cap) == 100
    assert sorted(e.id for e in cap) == list(range(1, 101))


def test_labkit_inspect_is_the_function_of_the_inspector_package():
    import importlib
    import inspect as pyinspect

    module = importlib.import_module("labkit.inspector")
    assert pyinspect.isfunction(labkit.inspect) and labkit.inspect is module.inspect
    ex = Exchange.build(401, [], "")
    assert labkit.inspect(ex) == module.inspect(ex) == inspect(ex)
    assert "Capture" in module.__all__


@pytest.mark.parametrize("transport", ["in-process", "socket"])
def test_capture_keeps_encoded_bodies_intact_for_the_client(transport):
    import gzip

    from labkit.transport import InProcessTransport, LoopbackServer

    page = b"<p>" + b"captive " * 200 + b"</p>"

    def gzipped(request):
        return Response(200, [("content-type", "text/html"), ("content-encoding", "gzip")], gzip.compress(page))

    cap = Capture()
    if transport == "socket":
        server = LoopbackServer(gzipped, name="test-inspect-gzip").start()
        client, url = httpx.Client(transport=cap.transport()), server.url + "/"
    else:
        server, url = None, "http://x.test/"
        client = httpx.Client(transport=cap.transport(InProcessTransport(gzipped)))
    try:
        with client:
            r = client.get(url)
        assert r.content == page  # decoded once, by the client, as without a capture
        assert cap[0].response_body == page and cap[0].header("content-encoding") == "gzip"
        if transport == "socket":
            assert r.elapsed.total_seconds() >= 0  # httpx's own timing still works
    finally:
        if server:
            server.stop()


def test_findings_become_a_dataframe():
    from labkit.inspector import findings_frame

    df = findings_frame(inspect(Exchange.build(401, [], "x")))
    assert list(df.columns[:3]) == ["level", "id", "summary"]
    assert df.loc[0, "id"] == "401-without-www-authenticate" and df.loc[0, "level"] == "error"
