"""/status/{code}: every final code, every bad input (in-process)."""

from http import HTTPStatus

import httpx
import pytest

from labkit import Simulator, VirtualClock
from labkit.core import REDACTED

FINAL_CODES = range(200, 600)
NO_BODY = {204, 205, 304}  # 205: RFC 9110 section 15.3.6


@pytest.fixture(scope="module")
def client():
    with Simulator(clock=VirtualClock()).client() as c:
        yield c


@pytest.mark.parametrize("code", FINAL_CODES)
def test_every_final_code(client, code):
    r = client.get(f"/status/{code}")
    assert r.status_code == code
    try:
        phrase = HTTPStatus(code).phrase
    except ValueError:
        phrase = ""  # unregistered: no phrase on the wire either
    assert r.reason_phrase == phrase
    assert r.headers["x-request-id"]
    if code in NO_BODY:
        assert r.content == b""
        assert "content-type" not in r.headers
        return
    assert r.headers["content-type"] == "application/json"
    assert int(r.headers["content-length"]) == len(r.content)
    doc = r.json()
    assert doc["status"] == code
    assert doc["reason"] == phrase
    assert doc["meaning"].endswith(".")
    assert doc["request_id"] == r.headers["x-request-id"]
    if code >= 400:
        assert r.headers["cache-control"] == "no-store"
    else:
        assert "cache-control" not in r.headers


def test_unregistered_code_explains_class_fallback(client):
    doc = client.get("/status/299").json()
    assert doc["reason"] == ""
    assert "200 OK" in doc["meaning"] and "RFC 9110 section 15" in doc["meaning"]


def test_511_from_origin_carries_the_rfc_note(client):
    doc = client.get("/status/511").json()
    assert doc["reason"] == "Network Authentication Required"
    assert "RFC 6585 section 6" in doc["note"]


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"])
def test_any_method(client, method):
    r = client.request(method, "/status/418?x=1&y=", content=b"payload")
    assert r.status_code == 418
    assert r.json()["request"] == {
        "method": method,
        "path": "/status/418",
        "query": {"x": "1", "y": ""},
        "headers": r.json()["request"]["headers"],
    }


def test_head_has_headers_but_no_body(client):
    get = client.get("/status/503")
    head = client.head("/status/503")
    assert head.status_code == 503 and head.content == b""
    # Same representation metadata as GET (RFC 9110 section 9.3.2); ids differ.
    assert head.headers["content-type"] == get.headers["content-type"]
    assert abs(int(head.headers["content-length"]) - len(get.content)) <= 2  # "HEAD" vs "GET"


def test_credentials_are_redacted(client):
    r = client.get(
        "/status/200",
        headers={"Authorization": "Bearer s3cret", "Cookie": "session=cookie-secret-xyz", "Proxy-Authorization": "Basic eHg="},
    )
    headers = r.json()["request"]["headers"]
    assert headers["authorization"] == f"Bearer {REDACTED}"
    assert headers["proxy-authorization"] == f"Basic {REDACTED}"
    assert headers["cookie"] == REDACTED
    assert "s3cret" not in r.text and "cookie-secret-xyz" not in r.text


def test_client_request_id_is_kept_and_bounded(client):
    assert client.get("/status/200", headers={"X-Request-Id": "trace-42"}).headers["x-request-id"] == "trace-42"
    long = client.get("/status/200", headers={"X-Request-Id": "x" * 200}).headers["x-request-id"]
    assert len(long) == 16


def test_date_comes_from_the_injected_clock():
    clock = VirtualClock()
    with Simulator(clock=clock).client() as c:
        assert c.get("/status/200").headers["date"] == "Thu, 01 Jan 2026 00:00:00 GMT"
        clock.advance(86400)
        assert c.get("/status/200").headers["date"] == "Fri, 02 Jan 2026 00:00:00 GMT"


@pytest.mark.parametrize(
    "path, needle",
    [
        ("/status/abc", "three-digit integer"),
        ("/status/99", "three-digit integer"),
        ("/status/600", "outside the range"),
        ("/status/999", "outside the range"),
        ("/status/-50", "three-digit integer"),
        ("/status/", "three-digit integer"),
        ("/status/5111", "three-digit integer"),
        ("/status/%C2%B9%C2%B9%C2%B9", "three-digit integer"),  # superscript digits
        ("/status/100", "interim response"),
        ("/status/101", "interim response"),
        ("/status/103", "interim response"),
    ],
)
def test_bad_codes_get_problem_json(client, path, needle):
    r = client.get(path)
    assert r.status_code == 400
    assert r.headers["content-type"] == "application/problem+json"
    doc = r.json()
    assert doc["status"] == 400 and doc["title"] == "Invalid status code"
    assert needle in doc["detail"]
    assert doc["rfc"].startswith("RFC 9110 section 15")


def test_unknown_path_is_404_problem(client):
    r = client.get("/no/such/thing")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
    assert "/status" in r.json()["detail"]


def test_index_lists_routes(client):
    doc = client.get("/").json()
    assert "/status" in doc["routes"]


def test_oversized_headers_get_431(client):
    r = client.get("/status/200", headers={"X-Big": "a" * 20_000})
    assert r.status_code == 431
    assert "RFC 6585 section 5" in r.json()["detail"]


def test_oversized_body_gets_413(client):
    r = client.post("/status/200", content=b"x" * (1024 * 1024 + 1))
    assert r.status_code == 413


@pytest.mark.anyio
async def test_async_client():
    sim = Simulator(clock=VirtualClock())
    async with sim.async_client() as c:
        r = await c.get("/status/511")
    assert r.status_code == 511 and r.json()["status"] == 511


def test_transport_error_maps_disconnect():
    from labkit import Disconnect, InProcessTransport

    def drop(request):
        raise Disconnect

    with httpx.Client(transport=InProcessTransport(drop)) as c, pytest.raises(httpx.RemoteProtocolError):
        c.get("http://x.test/")


def test_205_reset_content_carries_no_content():
    # "a server MUST NOT generate content in a 205 response" (RFC 9110 section 15.3.6)
    import labkit

    r = labkit.Simulator(name="reset-content").client().get("/status/205")
    assert r.status_code == 205 and r.content == b"" and r.headers["content-length"] == "0"
    assert "content-type" not in r.headers


def test_403_meaning_follows_rfc_9110_not_rfc_2616():
    from labkit import status_info

    meaning = status_info(403).meaning
    assert "will not help" not in meaning and "RFC 9110 section 15.5.4" in meaning


def test_the_echo_follows_the_redaction_policy_as_it_changes(client):
    # The echo is memoised per request shape; extending the one policy must
    # still change the very next echo of the same request.
    from labkit.core import DEFAULT_REDACTION

    request = ("/status/200?tenant_pin=1234", {"X-Lab-Echo-Probe": "visible-value"})
    before = client.get(request[0], headers=request[1]).json()["request"]
    assert before["headers"]["x-lab-echo-probe"] == "visible-value"
    assert before["query"]["tenant_pin"] == "1234"
    saved = DEFAULT_REDACTION.copy()
    try:
        DEFAULT_REDACTION.extend(headers=["x-lab-echo-probe"], fields=["tenant_pin"])
        after = client.get(request[0], headers=request[1]).json()["request"]
    finally:
        DEFAULT_REDACTION.headers, DEFAULT_REDACTION.fields = saved.headers, saved.fields
        DEFAULT_REDACTION.extend()  # recompile the restored patterns
    assert "visible-value" not in after["headers"]["x-lab-echo-probe"]
    assert after["query"]["tenant_pin"] == REDACTED
    restored = client.get(request[0], headers=request[1]).json()["request"]
    assert restored == before


def test_request_ids_are_unique_and_sixteen_hex_digits(client):
    ids = {client.get("/status/200").headers["x-request-id"] for _ in range(500)}
    assert len(ids) == 500
    assert all(len(i) == 16 and int(i, 16) >= 0 for i in ids)


def test_the_same_headers_again_keep_the_callers_id_and_make_new_ones(client):
    # The origin memoises what a header block says (its size, the caller's id):
    # a repeated block with an id keeps it, one without gets a new id each time.
    given = {"X-Request-Id": "trace-7"}
    assert [client.get("/status/204", headers=given).headers["x-request-id"] for _ in range(3)] == ["trace-7"] * 3
    fresh = [client.get("/status/204").headers["x-request-id"] for _ in range(3)]
    assert len(set(fresh)) == 3 and "trace-7" not in fresh


@pytest.mark.parametrize("bad", ["", "x" * 65, b"caf\xe9", "a\tb"])
def test_an_unusable_callers_id_is_replaced_every_time(client, bad):
    ids = [client.get("/status/200", headers={"X-Request-Id": bad}).headers["x-request-id"] for _ in range(2)]
    assert ids[0] != ids[1] and all(len(i) == 16 for i in ids)


def test_the_origins_memos_stay_bounded_and_skip_oversized_heads():
    from labkit.origin import _app, _status

    with Simulator().client() as c:
        for n in range(_app._MAX_FACTS + 50):
            assert c.get(f"/status/{200 + n % 3}", headers={"x-n": str(n)}).status_code in (200, 201, 202)
        assert len(_app._FACTS) <= _app._MAX_FACTS
        assert len(_status._SHAPES) <= _status._MAX_SHAPES
        big = {f"x-big-{i}": "v" * 1000 for i in range(17)}
        before = len(_app._FACTS)
        r = c.get("/status/200", headers=big)
        assert r.status_code == 431 and "RFC 6585 section 5" in r.text
        assert len(_app._FACTS) == before and all(
            sum(len(k) + len(v) + 4 for k, v in key) <= 16 * 1024 for key in _app._FACTS)
        # Refused twice the same way: the size is measured again, never remembered wrong.
        assert c.get("/status/200", headers=big).status_code == 431


def test_header_pairs_given_as_lists_are_answered_alike():
    from labkit.core import Request
    from labkit.origin import Origin

    origin = Origin()
    as_lists = origin(Request("GET", "/status/418", headers=[["host", "x.test"], ["x-request-id", "abc"]]))
    as_tuples = origin(Request("GET", "/status/418", headers=[("host", "x.test"), ("x-request-id", "abc")]))
    assert as_lists.status == as_tuples.status == 418
    assert as_lists.body == as_tuples.body and as_lists.header("x-request-id") == "abc"
    too_big = origin(Request("GET", "/status/200", headers=[["x-big", "v" * 17_000]]))
    assert too_big.status == 431
