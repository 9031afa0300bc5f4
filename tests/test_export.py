"""Export: JSON round-trips, valid HAR 1.2, curl commands, and redaction everywhere."""

import base64
import json
import shlex
import subprocess
import sys

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labkit import Capture, Exchange, Simulator, VirtualClock, attribute, to_curl, to_har
from labkit.inspector import from_json, redact_exchange, to_json

SECRET = "s3cret-Pa55"
BASIC = "Basic " + base64.b64encode(f"alice:{SECRET}".encode()).decode()

# The parts of HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/) that
# browsers need to import a file: required members and their types.
_NV = {"type": "array", "items": {"type": "object", "required": ["name", "value"],
                                  "properties": {"name": {"type": "string"}, "value": {"type": "string"}}}}
HAR_SCHEMA = {
    "type": "object",
    "required": ["log"],
    "properties": {"log": {
        "type": "object",
        "required": ["version", "creator", "entries"],
        "properties": {
            "version": {"const": "1.2"},
            "creator": {"type": "object", "required": ["name", "version"]},
            "entries": {"type": "array", "items": {
                "type": "object",
                "required": ["startedDateTime", "time", "request", "response", "cache", "timings"],
                "properties": {
                    "startedDateTime": {"type": "string",
                                        "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$"},
                    "time": {"type": "number", "minimum": 0},
                    "request": {"type": "object", "required": [
                        "method", "url", "httpVersion", "cookies", "headers", "queryString",
                        "headersSize", "bodySize"],
                        "properties": {"headers": _NV, "cookies": _NV, "queryString": _NV,
                                       "postData": {"type": "object", "required": ["mimeType", "text"]}}},
                    "response": {"type": "object", "required": [
                        "status", "statusText", "httpVersion", "cookies", "headers", "content",
                        "redirectURL", "headersSize", "bodySize"],
                        "properties": {"status": {"type": "integer"}, "headers": _NV, "cookies": _NV,
                                       "content": {"type": "object", "required": ["size", "mimeType"]}}},
                    "cache": {"type": "object"},
                    "timings": {"type": "object", "required": ["send", "wait", "receive"],
                                "properties": {k: {"type": "number", "minimum": -1} for k in
                                               ("blocked", "dns", "connect", "send", "wait", "receive", "ssl")}},
                },
            }},
        },
    }},
}


@pytest.fixture
def capture():
    sim = Simulator(clock=VirtualClock(), name="test-export")
    sim.gateway.mode = "redirect"
    cap = Capture(clock=sim.clock)
    client = sim.client(gateway=True, device="127.0.0.7", follow_redirects=True, capture=cap)
    client.get("/status/200", headers={"cookie": f"session={SECRET}"})  # 302 -> portal login page
    client.post("http://portal.labkit.test/login",
                data={"user": "guest", "password": "letmein", "next": "http://origin.test/"})
    client.get("/basic-auth/alice/" + SECRET, headers={"authorization": BASIC})
    client.get("/status/200?token=" + SECRET)
    token = client.post("/bearer/token").json()
    client.get("/bearer", headers={"authorization": f"Bearer {token['access_token']}"})
    return cap


def test_json_round_trip_is_identical(capture):
    text = capture.to_json(redact=False)
    again = Capture.from_json(text)
    assert again == capture and again.exchanges == capture.exchanges
    assert again[0] is not capture[0]


def test_json_round_trip_of_redacted_capture(capture):
    again = from_json(to_json(capture))
    assert again == [redact_exchange(ex) for ex in capture]


def test_binary_bodies_survive_json():
    ex = Exchange.build(200, [("content-type", "application/octet-stream")], bytes(range(256)))
    assert from_json(to_json([ex], redact=False)) == [ex]
    assert "base64" in to_json([ex])


@settings(max_examples=50, deadline=None)
@given(
    status=st.integers(200, 599),
    headers=st.lists(st.tuples(st.from_regex(r"[a-z][a-z0-9-]{0,15}", fullmatch=True),
                               st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=30)),
                     max_size=6),
    body=st.binary(max_size=64),
    started=st.floats(0, 2e9),
)
def test_json_round_trip_property(status, headers, body, started):
    ex = Exchange.build(status, headers, body, started=started, timings={"wait": 1.5, "receive": 0.0, "total": 1.5})
    assert from_json(to_json([ex], redact=False)) == [ex]


@pytest.mark.parametrize("bad", ["", "[]", '{"format": "other"}', "{not json"])
def test_from_json_rejects_other_documents(bad):
    with pytest.raises(ValueError, match="not a labkit capture"):
        from_json(bad)


def test_from_json_rejects_unknown_keys():
    with pytest.raises(ValueError, match="unknown keys"):
        from_json(json.dumps({"format": "labkit-capture/1", "exchanges": [{"method": "GET", "bogus": 1}]}))


def test_har_is_valid_har_1_2(capture):
    har = capture.to_har()
    jsonschema.validate(har, HAR_SCHEMA)
    json.dumps(har)  # serialisable as is
    entries = har["log"]["entries"]
    assert len(entries) == len(capture)
    first = entries[0]
    assert first["response"]["status"] == 302
    assert first["response"]["redirectURL"].startswith("http://portal.labkit.test/login")
    assert first["_labkit"]["answered_by"] == "gateway"
    assert first["startedDateTime"] == "2026-01-01T00:00:00.000Z"  # the VirtualClock's start
    post = next(e for e in entries if e["request"]["method"] == "POST")
    assert post["request"]["postData"]["mimeType"] == "application/x-www-form-urlencoded"
    query = next(e for e in entries if "token=" in e["request"]["url"])
    assert query["request"]["queryString"] == [{"name": "token", "value": "[redacted]"}]


def test_har_cookies_and_binary_content():
    ex = Exchange.build(200, [("content-type", "image/png"), ("set-cookie", "sid=abc; Path=/")], b"\x89PNG\x00",
                        request_headers=[("cookie", "a=1; b=2")])
    entry = to_har([ex], redact=False)["log"]["entries"][0]
    jsonschema.validate({"log": {"version": "1.2", "creator": {"name": "x", "version": "1"}, "entries": [entry]}},
                        HAR_SCHEMA)
    assert entry["request"]["cookies"] == [{"name": "a", "value": "1"}, {"name": "b", "value": "2"}]
    assert entry["response"]["cookies"] == [{"name": "sid", "value": "abc"}]
    assert entry["response"]["content"]["encoding"] == "base64"


# -- redaction ------------------------------------------------------------------
def _all_exports(capture):
    yield "json", capture.to_json()
    yield "har", json.dumps(capture.to_har())
    yield "dataframe", capture.to_dataframe().to_string()
    yield "dataframe-json", capture.to_dataframe().to_json()
    for ex in capture:
        yield f"curl-{ex.id}", to_curl(ex)


def test_credentials_are_redacted_in_every_export(capture):
    leaks = {
        "password": "letmein",
        "basic": BASIC.split()[1],
        "cookie": f"session={SECRET}",
        "query": f"token={SECRET}",
        "access-token": '"access_token": "access-',
    }
    for name, text in _all_exports(capture):
        for what, secret in leaks.items():
            assert secret not in text, f"{what} leaked in {name}"
        assert "[redacted]" in text or name.startswith("curl"), name


def test_redaction_keeps_the_scheme_and_the_rest(capture):
    ex = redact_exchange(capture[-1])  # GET /bearer with a Bearer token
    assert ex.request_header("authorization") == "Bearer [redacted]"
    form = redact_exchange(next(e for e in capture if e.method == "POST" and "login" in e.url))
    assert b"user=guest" in form.request_body and b"password=%5Bredacted%5D" in form.request_body


def test_unredacted_export_is_opt_in(capture):
    assert "letmein" in capture.to_json(redact=False)
    assert BASIC in json.dumps(capture.to_har(redact=False))


def test_url_userinfo_is_redacted():
    ex = Exchange.build(200, [], "", url=f"http://alice:{SECRET}@origin.test/x")
    assert SECRET not in redact_exchange(ex).url and "alice" in redact_exchange(ex).url


# -- curl ---------------------------------------------------------------------------
def test_curl_command_shape(capture):
    post = next(e for e in capture if e.method == "POST" and "login" in e.url)
    cmd = to_curl(post)
    argv = shlex.split(cmd)
    assert argv[:2] == ["curl", "-i"] and argv[-1] == "http://portal.labkit.test/login"
    assert "--data-binary" in argv and "-X" not in argv  # curl infers POST from the data
    assert "letmein" not in cmd
    assert "user=guest" in argv[argv.index("--data-binary") + 1]
    put = Exchange.build(200, [], "", method="PUT", request_headers=[("x-a", "it's")])
    argv = shlex.split(to_curl(put, proxy="http://127.0.0.1:9"))
    assert argv[argv.index("-X") + 1] == "PUT" and "x-a: it's" in argv
    assert argv[argv.index("--proxy") + 1] == "http://127.0.0.1:9"
    assert "--head" in shlex.split(to_curl(Exchange.build(200, [], "", method="HEAD")))


def test_curl_command_replays_against_loopback():
    import shutil

    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    sim = Simulator(name="test-export-curl").serve()
    try:
        import httpx

        cap = Capture()
        httpx.Client(base_url=sim.origin_url, transport=cap.transport()).post(
            "/status/418", content=b"tea", headers={"content-type": "text/plain"})
        out = subprocess.run(shlex.split(to_curl(cap[0])), capture_output=True, text=True, timeout=10)
        assert out.stdout.startswith("HTTP/1.1 418")
        assert '"method": "POST"' in out.stdout or '"method":"POST"' in out.stdout
    finally:
        sim.stop()


def test_cli_inspect_json_output_is_redacted_capture():
    # The CLI's --json is the same export; it round-trips into the Inspector.
    sim = Simulator(name="test-export-cli").serve()
    try:
        out = subprocess.run(
            [sys.executable, "-m", "labkit", "inspect", "--json", sim.origin_url + "/basic-auth/a/b",
             "-H", "authorization: " + BASIC],
            capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, out.stderr
        exchanges = from_json(out.stdout)
        assert exchanges[0].status == 401
        assert exchanges[0].request_header("authorization") == "Basic [redacted]"
    finally:
        sim.stop()


# -- HAR round trip ---------------------------------------------------------------
def test_har_round_trip(capture):
    from labkit.inspector import from_har

    again = from_har(json.dumps(capture.to_har(redact=False)))
    assert len(again) == len(capture)
    for before, after in zip(capture, again):
        # Everything HAR carries comes back exactly...
        assert after.replace(started=before.started, timings=before.timings) == before
        # ...and time at HAR's millisecond precision.
        assert abs(after.started - before.started) < 0.001
        assert after.timings["wait"] == before.timings["wait"]


def test_har_from_a_browser_is_inspectable():
    from labkit import inspect
    from labkit.inspector import from_har

    browser_har = {"log": {"version": "1.2", "creator": {"name": "WebInspector", "version": "537.36"}, "entries": [{
        "startedDateTime": "2026-01-01T00:00:00.123Z", "time": 12.5,
        "request": {"method": "GET", "url": "http://example.com/", "httpVersion": "HTTP/2",
                    "headers": [{"name": ":authority", "value": "example.com"},
                                {"name": "Authorization", "value": "Bearer abc"}],
                    "cookies": [], "queryString": [], "headersSize": -1, "bodySize": 0},
        "response": {"status": 401, "statusText": "", "httpVersion": "HTTP/2",
                     "headers": [{"name": ":status", "value": "401"}, {"name": "Content-Type", "value": "text/plain"}],
                     "cookies": [], "content": {"size": 2, "mimeType": "text/plain", "text": "bm8=",
                                                "encoding": "base64"},
                     "redirectURL": "", "headersSize": -1, "bodySize": 2},
        "cache": {}, "timings": {"send": 0.1, "wait": 10, "receive": 2.4}}]}}
    (ex,) = from_har(browser_har)
    assert ex.request_headers == [("authorization", "Bearer abc")]
    assert ex.response_body == b"no" and ex.transport == "har"
    assert "401-without-www-authenticate" in [f.id for f in inspect(ex)]


@pytest.mark.parametrize("bad", ["{}", "[1]", "nope", {"log": {}}])
def test_from_har_rejects_other_documents(bad):
    from labkit.inspector import from_har

    with pytest.raises(ValueError, match="not a HAR document"):
        from_har(bad)


def test_repr_and_attribution_never_show_userinfo():
    ex = Exchange.build(200, [("server", "labkit-origin")], "", url=f"http://alice:{SECRET}@origin.test/")
    who = attribute(ex)
    assert SECRET not in repr(ex) and SECRET not in str(who) and who.answered_by == "origin"


@settings(max_examples=60, deadline=None)
@given(secret=st.from_regex(r"[A-Za-z0-9]{12,30}", fullmatch=True),
       where=st.sampled_from(["authorization", "proxy-authorization", "cookie", "form", "json", "query"]))
def test_no_export_or_display_shows_a_secret(secret, where):
    from labkit.inspector import report

    headers, body, url = [("content-type", "application/json")], b"", "http://origin.test/x"
    if where in ("authorization", "proxy-authorization"):
        headers.append((where, f"Bearer {secret}"))
    elif where == "cookie":
        headers.append(("cookie", f"sid={secret}"))
    elif where == "form":
        headers = [("content-type", "application/x-www-form-urlencoded")]
        body = f"user=guest&password={secret}".encode()
    elif where == "json":
        body = json.dumps({"refresh_token": secret}).encode()
    else:
        url += f"?token={secret}"
    ex = Exchange.build(200, [("content-type", "application/json"), ("set-cookie", f"sid={secret}")],
                        json.dumps({"access_token": secret}), method="POST", url=url,
                        request_headers=headers, request_body=body)
    cap = Capture()
    cap.add(ex)
    outputs = [to_json([ex]), json.dumps(to_har([ex])), to_curl(ex), report(ex), repr(ex),
               cap.to_dataframe().to_json(), cap.to_json(), json.dumps(cap.to_har())]
    assert secret in to_json([ex], redact=False)  # the secret was really there to leak
    for text in outputs:
        assert secret not in text
