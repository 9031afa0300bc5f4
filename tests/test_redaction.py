"""One redaction policy, applied by every display and export and by the origin's echo.

A secret is placed in every shape a credential takes (URL userinfo, each
sensitive query parameter, each sensitive header, form bodies in any charset,
multipart parts, JSON at any depth, the ``/basic-auth/{user}/{password}`` path)
and must never come out of any output, which must never raise.
"""

import io
import json
import string
import subprocess
import sys
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labkit import Capture, Exchange, Simulator, format_exchange, to_curl, to_har
from labkit.core import DEFAULT_REDACTION, REDACTED, RedactionPolicy, redact_body, redact_headers, redact_url
from labkit.inspector import findings_frame, from_har, from_json, inspect, redact_exchange, report, to_json
from labkit.inspector._command import run_inspect
from labkit.inspector._report import format_record, summarize

# "Sekret" has letters no hex digit uses: a secret can never collide with a
# random request id or a base64 blob by chance, so "not in" is a real check.
SECRETS = st.text(alphabet=string.ascii_letters + string.digits, min_size=8, max_size=24).map(
    lambda s: "Sekret" + s)

QUERY_FIELDS = ["password", "passwd", "pass", "token", "access_token", "api_key", "apikey", "api-key", "key",
                "session", "sessionid", "auth", "sig", "signature", "jwt", "secret", "client_secret", "code",
                "X-Amz-Signature", "accessToken"]
HEADERS = ["authorization", "proxy-authorization", "cookie", "x-api-key", "x-auth-token", "x-csrf-token",
           "x-client-secret", "x-session-id", "api-key"]
SHAPES = (["userinfo", "userinfo-user-only", "basic-auth-path", "form-ascii", "form-latin1", "form-utf8",
           "form-latin1-secret", "multipart", "multipart-no-boundary-param", "json-nested", "json-list",
           "json-top-list", "json-invalid", "response-json", "set-cookie", "location", "fragment"]
          + [f"query:{q}" for q in QUERY_FIELDS] + [f"header:{h}" for h in HEADERS])


def _exchange(shape: str, secret: str) -> Exchange:
    """An exchange whose only credential is ``secret``, in ``shape``."""
    url, req_headers, body, res_headers, res_body = "http://origin.test/x", [], b"", [], b"{}"
    res_headers = [("content-type", "application/json")]
    form = "application/x-www-form-urlencoded"
    if shape == "userinfo":
        url = f"http://alice:{secret}@origin.test/x"
    elif shape == "userinfo-user-only":
        url = f"https://{secret}@origin.test/x"
    elif shape == "basic-auth-path":
        url = f"http://origin.test/basic-auth/u/{secret}"
    elif shape.startswith("query:"):
        url = f"http://origin.test/x?a=1&{shape[6:]}={secret}&b=2"
    elif shape.startswith("header:"):
        name = shape[7:]
        req_headers = [(name, f"Bearer {secret}" if name.endswith("authorization") else
                        f"sid={secret}" if name == "cookie" else secret)]
    elif shape == "form-ascii":
        req_headers, body = [("content-type", form)], f"user=guest&password={secret}".encode()
    elif shape == "form-latin1":
        req_headers = [("content-type", form + "; charset=iso-8859-1")]
        body = f"user=Jos\xe9&password={secret}&city=K\xf6ln".encode("latin-1")
    elif shape == "form-utf8":
        req_headers = [("content-type", form + "; charset=utf-8")]
        body = f"user=Jos\xe9&password={secret}&city=K\xf6ln".encode("utf-8")
    elif shape == "form-latin1-secret":  # the value itself has raw non-ASCII bytes
        req_headers, body = [("content-type", form)], f"password={secret}\xe9\xff&next=/".encode("latin-1")
    elif shape == "multipart":
        req_headers = [("content-type", 'multipart/form-data; boundary="b0undary"')]
        body = (b'--b0undary\r\nContent-Disposition: form-data; name="user"\r\n\r\nJos\xc3\xa9\r\n'
                b'--b0undary\r\nContent-Disposition: form-data; name="password"\r\n\r\n' + secret.encode()
                + b"\r\n--b0undary--\r\n")
    elif shape == "multipart-no-boundary-param":
        req_headers = [("content-type", "multipart/form-data")]
        body = (b"--xyz\r\nContent-Disposition: form-data; filename=\"a.txt\"; name=\"api_key\"\r\n"
                b"Content-Type: text/plain\r\n\r\n" + secret.encode() + b"\r\n--xyz--\r\n")
    elif shape == "json-nested":
        req_headers = [("content-type", "application/json")]
        body = json.dumps({"user": {"name": "a", "login": {"password": secret, "remember": True}}}).encode()
    elif shape == "json-list":
        req_headers = [("content-type", "application/vnd.api+json")]
        body = json.dumps({"items": [{"id": 1}, {"deep": [{"api_key": secret}]}]}).encode()
    elif shape == "json-top-list":
        req_headers = [("content-type", "application/json")]
        body = json.dumps([{"refreshToken": secret}]).encode()
    elif shape == "json-invalid":  # cut short: scrubbed member by member
        req_headers = [("content-type", "application/json")]
        body = b'{"user": "a", "client_secret": "' + secret.encode() + b'", "more": [1, '
    elif shape == "response-json":
        res_body = json.dumps({"access_token": secret, "token_type": "Bearer", "expires_in": 60}).encode()
    elif shape == "set-cookie":
        res_headers.append(("set-cookie", f"sid={secret}; Path=/; HttpOnly"))
    elif shape == "location":
        res_headers.append(("location", f"http://portal.test/callback?state=s&code={secret}"))
    elif shape == "fragment":
        url = f"http://origin.test/cb#access_token={secret}&token_type=bearer"
    else:
        raise AssertionError(shape)
    return Exchange.build(302 if shape == "location" else 200, res_headers, res_body, method="POST" if body else "GET",
                          url=url, request_headers=req_headers, request_body=body)


def _response(ex: Exchange) -> httpx.Response:
    request = httpx.Request(ex.method, ex.url, headers=ex.request_headers, content=ex.request_body)
    return httpx.Response(ex.status, headers=ex.response_headers, content=ex.response_body, request=request)


def _outputs(ex: Exchange):
    cap = Capture()
    cap.add(ex)
    yield "to_json", to_json([ex])
    yield "to_har", json.dumps(to_har([ex]), ensure_ascii=False)
    yield "to_curl", to_curl(ex)
    yield "dataframe", cap.to_dataframe().to_string()
    yield "dataframe-json", cap.to_dataframe().to_json()
    yield "findings_frame", findings_frame(inspect(ex)).to_string()
    yield "report", report(ex, explain=True)
    yield "format_record", format_record(ex)
    yield "summarize", summarize(ex, inspect(ex))
    yield "repr", repr(ex) + repr(cap)
    yield "format_exchange", format_exchange(_response(ex))
    # What was exported loads back, and exporting it again still hides nothing.
    yield "json-again", to_json(from_json(to_json([ex])))
    yield "har-again", json.dumps(to_har(from_har(to_har([ex]))))


def _forms(secret: str) -> list[str]:
    return [secret, quote(secret, safe="")]


@settings(max_examples=100, deadline=None)
@given(secret=SECRETS, shape=st.sampled_from(SHAPES))
def test_no_display_or_export_shows_a_secret(secret, shape):
    ex = _exchange(shape, secret)
    assert secret in to_json([ex], redact=False) or shape in ("form-latin1", "form-latin1-secret")  # really there
    for name, text in _outputs(ex):
        for form in _forms(secret):
            assert form not in text, f"{shape}: the secret leaked in {name}"
    # Bodies are bytes: no encoding of the secret survives either.
    clean = redact_exchange(ex)
    blob = clean.request_body + clean.response_body + repr(clean.to_dict()).encode()
    assert secret.encode() not in blob


@pytest.mark.parametrize("shape", SHAPES)
def test_every_shape_is_redacted_and_still_parses(shape):
    ex = _exchange(shape, "SekretABCDEFGH")
    clean = redact_exchange(ex)
    assert "SekretABCDEFGH" not in repr(clean.to_dict())
    httpx.URL(clean.url)  # the host stays the host: parseable, no "[...]" in the authority
    assert clean.host == ex.host
    assert redact_exchange(clean) == clean  # redacting twice changes nothing


# -- the crash: userinfo used to become "[redacted]@", read as an IPv6 literal ------
def test_userinfo_keeps_the_url_parseable_everywhere():
    ex = Exchange.build(200, [("server", "labkit-origin")], "", url="http://alice:wonderland@origin.test/a?b=1")
    clean = redact_exchange(ex)
    assert clean.url == "http://alice:%5Bredacted%5D@origin.test/a?b=1"
    assert clean.host == "origin.test"
    to_har([ex]), report(ex), Capture.from_json(to_json([ex])).to_har()
    assert redact_exchange(from_json(to_json([ex]))[0]) == clean
    # A capture saved before the fix (a literal "[redacted]" in the userinfo) loads and redacts.
    old = ex.replace(url="http://alice:[redacted]@origin.test/a")
    assert redact_exchange(old).url == "http://alice:%5Bredacted%5D@origin.test/a"
    assert redact_url("http://tok3n@github.test/") == "http://%5Bredacted%5D@github.test/"


def test_proxy_credentials_are_redacted():
    ex = Exchange.build(200, [], "", proxy="http://gw:Sekret99@127.0.0.1:8080")
    assert "Sekret99" not in to_curl(ex) + to_json([ex]) + json.dumps(to_har([ex]))
    assert "Sekret99" not in to_curl(Exchange.build(200, [], ""), proxy="http://gw:Sekret99@127.0.0.1:8080")


def test_malformed_urls_never_raise():
    for url in ["http://[::1", "http://a@b@c/", "", "?password=x&", "&&=&", "mailto:a@b.test", "http://h/#",
                "http://h/%zz?token=%zz"]:
        assert isinstance(redact_url(url), str)
    assert redact_url("//u:p@h?password=x") == "//u:%5Bredacted%5D@h?password=%5Bredacted%5D"


# -- the policy: what matches, what does not ---------------------------------------
@pytest.mark.parametrize("name", ["password", "Passwd", "new_password", "client_secret", "access_token",
                                  "X-Auth-Token", "accessToken", "api_key", "apiKey", "APIKey", "X-Api-Key",
                                  "key", "secret_key", "session", "PHPSESSID", "sessionId", "auth", "sig",
                                  "X-Amz-Signature", "jwt", "credentials", "authorization", "set-cookie"])
def test_credential_names(name):
    assert DEFAULT_REDACTION.is_sensitive_field(name)
    assert DEFAULT_REDACTION.is_sensitive_header(name)


@pytest.mark.parametrize("name", ["user", "token_type", "expires_in", "keyword", "monkey", "author",
                                  "authenticated", "status_code", "www-authenticate", "content-type",
                                  "x-request-id", "idempotency-key", "Idempotency-Key", "keep-alive", "bypass"])
def test_names_that_are_not_credentials(name):
    assert not DEFAULT_REDACTION.is_sensitive_field(name)
    assert not DEFAULT_REDACTION.is_sensitive_header(name)


def test_values_keep_what_teaches_and_lose_what_is_secret():
    assert redact_headers([("Authorization", "Bearer abc"), ("Idempotency-Key", "k-1"), ("x-api-key", "k")]) == [
        ("Authorization", f"Bearer {REDACTED}"), ("Idempotency-Key", "k-1"), ("x-api-key", REDACTED)]
    assert redact_body(b'{"token_type": "Bearer", "access_token": "a", "token": null, "ok": true}',
                       "application/json") == (
        b'{\n "token_type": "Bearer",\n "access_token": "[redacted]",\n "token": null,\n "ok": true\n}\n')
    latin = "user=Jos\xe9&password=p\xe9&x=1".encode("latin-1")
    assert redact_body(latin, "application/x-www-form-urlencoded") == b"user=Jos\xe9&password=%5Bredacted%5D&x=1"
    assert redact_body(b"password=x", "text/plain") == b"password=x"  # unknown types are untouched
    assert redact_url("/basic-auth/alice/wonderland") == "/basic-auth/alice/%5Bredacted%5D"
    # A URL inside a parameter loses its own token.
    assert "t0k" not in redact_url("http://p.test/login?next=" + quote("http://a.test/?token=t0k", safe=""))


def test_a_policy_of_your_own_and_keep():
    ex = Exchange.build(200, [], "", url="http://origin.test/flaky?key=me&tenant=acme",
                        request_headers=[("x-tenant", "acme")])
    assert redact_exchange(ex).url == "http://origin.test/flaky?key=%5Bredacted%5D&tenant=acme"  # by default
    mine = DEFAULT_REDACTION.copy().extend(headers=["X-Tenant"], fields="tenant", keep=["key"])
    doc = json.loads(to_json([ex], policy=mine))["exchanges"][0]
    assert doc["url"] == "http://origin.test/flaky?key=me&tenant=%5Bredacted%5D"
    assert doc["request_headers"] == [["x-tenant", REDACTED]]
    assert "acme" not in to_curl(ex, policy=mine) + json.dumps(to_har([ex], policy=mine))
    assert not DEFAULT_REDACTION.is_sensitive_header("x-tenant")  # the copy did not touch the default
    assert mine == RedactionPolicy(mine.headers, mine.fields, mine.paths, mine.keep)
    assert RedactionPolicy(paths=[r"/reset/([^/]+)"]).redact_url("/reset/abc") == "/reset/%5Bredacted%5D"


def test_extending_the_default_changes_every_export_and_the_origin():
    # In a fresh interpreter: the default is process-wide.
    code = """
import json, labkit
from labkit.core import DEFAULT_REDACTION
from labkit.inspector import to_json
DEFAULT_REDACTION.extend(headers=["x-tenant"], fields=["pin"])
sim = labkit.Simulator()
cap = labkit.Capture()
r = sim.client(capture=cap).get("/status/200?pin=4711", headers={"x-tenant": "acme"})
assert "4711" not in r.text and "acme" not in r.text, r.text
assert "4711" not in to_json(cap) and "acme" not in to_json(cap)
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "ok", out.stderr


# -- the origin's diagnostic echo ---------------------------------------------------
_ORIGIN = Simulator(name="test-redaction")


@settings(max_examples=100, deadline=None)
@given(secret=SECRETS, field=st.sampled_from(QUERY_FIELDS), name=st.sampled_from(HEADERS[1:]))
def test_status_echo_never_repeats_a_secret(secret, field, name):
    client = _ORIGIN.client()
    r = client.get(f"/status/418?{field}={secret}&x=1", headers={name: secret, "authorization": f"Bearer {secret}"})
    assert secret not in r.text
    echoed = r.json()["request"]
    assert echoed["query"]["x"] == "1" and echoed["query"][field] == REDACTED
    assert echoed["headers"]["authorization"] == f"Bearer {REDACTED}"


def test_status_echo_keeps_what_is_not_a_credential():
    r = _ORIGIN.client().get("/status/200", params={"api_key": "k", "sku": "lamp"})
    assert r.json()["request"]["query"] == {"api_key": REDACTED, "sku": "lamp"}


# -- labkit inspect: printed text, --json and --har ------------------------------------
@pytest.fixture(scope="module")
def served():
    sim = Simulator(name="test-redaction-cli").serve()
    yield sim
    sim.stop()


CLI_SHAPES = ["userinfo", "basic-auth-path", "query:api_key", "query:key", "query:sig", "header:x-api-key",
              "header:x-auth-token", "header:authorization", "header:cookie", "form-ascii", "json-nested"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(secret=SECRETS, shape=st.sampled_from(CLI_SHAPES))
def test_labkit_inspect_never_prints_a_secret(served, tmp_path, secret, shape):
    ex = _exchange(shape, secret)
    path = ex.url.split("origin.test", 1)[1]
    path = "/status/200" + path[2:] if path.startswith("/x") else path
    scheme, _, rest = served.origin_url.partition("://")
    url = (f"{scheme}://alice:{secret}@{rest}" if shape == "userinfo" else served.origin_url) + path
    headers = [f"{k}: {v}" for k, v in ex.request_headers]
    data = ex.request_body.decode() if ex.request_body else None
    har = tmp_path / "out.har"
    for output in ("text", "json"):
        out = io.StringIO()
        run_inspect(url, headers=headers, data=data, method=ex.method, output=output, har=str(har), out=out)
        for text in (out.getvalue(), har.read_text(encoding="utf-8")):
            assert secret not in text, f"{shape} leaked by labkit inspect ({output})"
