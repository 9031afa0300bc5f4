"""Table-driven tests for every labkit rule: examples that pass and examples that fire."""

import pytest

from labkit.inspector import RULES, Exchange, attribute, inspect
from labkit.inspector._command import exit_status

GATEWAY = [("server", "labkit-gateway"), ("via", "1.1 labkit-gateway")]
ORIGIN = [("server", "labkit-origin"), ("x-request-id", "0123456789abcdef")]
HTML = [("content-type", "text/html; charset=utf-8")]
NO_STORE = [("cache-control", "no-store")]
PROBLEM = [("content-type", "application/problem+json")]
LINK_PAGE = '<p>Please <a href="http://portal.labkit.test/login">sign in</a>.</p>'
FORM_PAGE = '<form method="post"><input name="user"><input type="password" name="password"></form>'
# Forms that ask for no credential: not a login interface (RFC 6585 section 6).
BUTTON_FORMS = ('<form method="post" action="http://portal.labkit.test/accept">'
                '<input type="hidden" name="next" value="/"><button>Accept the terms</button></form>'
                '<form method="post" action="/logout"><input type="submit" value="Sign out"></form>')
DATE = [("date", "Thu, 01 Jan 2026 00:00:00 GMT")]
LATER = "Thu, 01 Jan 2026 00:05:00 GMT"
EARLIER = "Wed, 31 Dec 2025 23:55:00 GMT"

# RFC 6585 section 6, the example 511 response, exactly as printed.
RFC6585_EXAMPLE = """\
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
RFC6585_HEADERS = [("content-type", "text/html")]

# A portal elsewhere on the internet, with no labkit name in sight.
ASKED = "http://news.example/today"
SPOOF = ('<form method="post" action="https://portal.example.net/login">'
         '<input name="email"><input type="password" name="pw"></form>')
SPOOF_HEADERS = [("server", "nginx"), ("content-type", "text/html"),
                 ("last-modified", "Wed, 31 Dec 2025 00:00:00 GMT")] + DATE
TO_PORTAL = [("location", "https://portal.example.net/login?url=http%3A%2F%2Fnews.example%2Ftoday")]
HIT = {"from_cache": True, "revalidated": False, "stored": False}

# rule id -> (examples that must NOT fire it, examples that MUST fire it).
# Each example: (status, headers, body) or a dict of Exchange.build keywords.
CASES = {
    "511-from-origin": (
        [(511, GATEWAY + HTML + NO_STORE, LINK_PAGE),
         (511, RFC6585_HEADERS, RFC6585_EXAMPLE),  # RFC 6585's own example, fetched directly
         (511, [("server", "nginx")] + RFC6585_HEADERS, RFC6585_EXAMPLE),  # the same page from nginx
         (511, [("server", "uvicorn"), ("via", "1.1 varnish")] + HTML, LINK_PAGE),
         (500, ORIGIN, "")],
        # Positive evidence of the origin: the lab's origin names itself.
        [(511, ORIGIN + HTML, LINK_PAGE),
         (511, ORIGIN + GATEWAY[1:] + HTML, LINK_PAGE)],  # forwarded by the gateway, still the origin's
    ),
    "511-storable": (
        [(511, HTML, LINK_PAGE),
         (511, HTML + NO_STORE, LINK_PAGE),
         (511, HTML + [("cache-control", "no-store, max-age=60")], LINK_PAGE),
         (511, HTML + [("cache-control", "max-age=0")], LINK_PAGE),  # stale at once
         (511, HTML + [("cache-control", "private, max-age=0")], LINK_PAGE),
         (511, HTML + [("cache-control", "no-cache")], LINK_PAGE),  # validated before every reuse
         (511, HTML + [("expires", "0")], LINK_PAGE),  # invalid date: already expired (RFC 9111 5.3)
         (511, HTML + DATE + [("expires", EARLIER)], LINK_PAGE),
         (200, [("cache-control", "max-age=60")], "")],
        [(511, HTML + [("cache-control", "max-age=300")], LINK_PAGE),
         (511, HTML + [("cache-control", "s-maxage=60")], LINK_PAGE),
         (511, HTML + [("cache-control", "public")], LINK_PAGE),
         (511, HTML + [("cache-control", "private")], LINK_PAGE),
         (511, HTML + [("expires", LATER)], LINK_PAGE),
         (511, HTML + DATE + [("expires", LATER)], LINK_PAGE)],
    ),
    "rfc6585-storable": (
        [(429, NO_STORE + [("retry-after", "5")], ""), (429, [], ""),
         (429, [("cache-control", "max-age=0")], ""), (431, [("expires", "0")], ""),
         (428, DATE + [("expires", EARLIER)], ""),
         (404, [("cache-control", "max-age=60")], ""),
         (511, HTML + [("cache-control", "max-age=60")], LINK_PAGE)],  # 511-storable's job
        [(429, [("cache-control", "max-age=60")], ""),
         (429, [("cache-control", "private")], ""),
         (428, [("cache-control", "public")], ""),
         (431, DATE + [("expires", LATER)], "")],
    ),
    "511-from-cache": (
        [dict(status=511, headers=GATEWAY + HTML, body=LINK_PAGE,
              cache={"from_cache": False, "revalidated": False, "stored": False}),
         dict(status=511, headers=GATEWAY + HTML + [("age", "0")], body=LINK_PAGE),  # a miss
         dict(status=200, headers=[("age", "5")], body="")],
        [dict(status=511, headers=GATEWAY + HTML, body=LINK_PAGE, cache=HIT),
         dict(status=511, headers=GATEWAY + HTML + [("age", "12")], body=LINK_PAGE),
         dict(status=511, headers=RFC6585_HEADERS + [("age", "12")], body=RFC6585_EXAMPLE)],
    ),
    "511-with-challenge": (
        [(511, HTML, LINK_PAGE), (401, [("www-authenticate", 'Basic realm="x"')], "")],
        [(511, HTML + [("www-authenticate", 'Basic realm="wifi"')], LINK_PAGE),
         (511, HTML + [("proxy-authenticate", 'Basic realm="wifi"')], LINK_PAGE)],
    ),
    "511-with-login-form": (
        [(511, HTML, LINK_PAGE), (200, HTML, FORM_PAGE),
         (511, HTML, LINK_PAGE + BUTTON_FORMS),
         (511, HTML, LINK_PAGE + '<form action="/search"><input name="q"></form>')],
        [(511, HTML, FORM_PAGE + LINK_PAGE),
         (511, HTML, '<input type="password" name="p">'),
         (511, HTML, LINK_PAGE + '<form method="post"><input type="email" name="email"></form>'),
         (511, HTML, '<form><label>Voucher <input name="voucher"></label><button>Go</button></form>')],
    ),
    "511-without-link": (
        [(511, HTML, LINK_PAGE),
         (511, RFC6585_HEADERS, RFC6585_EXAMPLE),
         (511, HTML, '<meta http-equiv="refresh" content="0; url=http://portal.test/">'),
         (511, [("link", '<http://portal.test/>; rel="captive-portal"')], ""),
         (511, PROBLEM, '{"detail": "sign in at http://portal.labkit.test/login"}'),
         (511, PROBLEM, '{"type": "https://example.net/probs/login", "title": "Sign in", '
                        '"login_url": "http://portal.labkit.test/login"}'),
         (511, HTML, "<p>Sign in at http://portal.labkit.test/login</p>"),
         dict(status=511, headers=HTML, body="", method="HEAD"),  # HEAD: no content to link from
         (401, [], "")],
        [(511, [("content-type", "application/json")], '{"error": "Network Authentication Required"}'),
         (511, [], ""),
         (511, HTML, "<p>Sign in at the front desk.</p>"),
         # An image, a stylesheet or a problem type is not a link to a login page.
         (511, HTML, '<img src="http://portal.labkit.test/logo.png" alt="Sign in at the desk">'),
         (511, HTML + [("link", '<http://portal.test/site.css>; rel="stylesheet"')], "<p>Sign in.</p>"),
         (511, PROBLEM, '{"type": "https://example.net/probs/network-login", '
                        '"title": "Network Authentication Required", "status": 511}'),
         (511, [("content-type", "text/plain")], "Sign in at the desk.")],
    ),
    "401-without-www-authenticate": (
        [(401, [("www-authenticate", 'Bearer realm="labkit"')], ""), (403, [], ""), (511, HTML, LINK_PAGE)],
        [(401, [], ""), (401, [("proxy-authenticate", 'Basic realm="x"')], "")],
    ),
    "407-without-proxy-authenticate": (
        [(407, [("proxy-authenticate", 'Basic realm="gw"')], ""), (401, [("www-authenticate", "Basic")], "")],
        [(407, [], ""), (407, [("www-authenticate", 'Basic realm="gw"')], "")],
    ),
    "retry-after-missing": (
        [(503, [("retry-after", "120")], ""), (429, [("retry-after", "5")], ""), (500, [], ""), (511, HTML, LINK_PAGE)],
        [(503, [], ""), (429, [], "")],
    ),
    "retry-after-invalid": (
        [(503, [("retry-after", "0")], ""),
         (503, [("retry-after", "120")], ""),
         (429, [("retry-after", "Wed, 21 Oct 2026 07:28:00 GMT")], ""),
         (200, [], "")],
        [(503, [("retry-after", "soon")], ""),
         (503, [("retry-after", "-5")], ""),
         (503, [("retry-after", "1.5")], ""),
         (429, [("retry-after", "2026-10-21T07:28:00Z")], ""),
         (301, [("retry-after", "Wed, 21 Oct 2026 07:28:00 +0200")], "")],
    ),
    "content-type-missing": (
        [(200, [("content-type", "text/plain")], "hello"), (204, [], ""), (511, [], "")],
        [(200, [], "hello"), (511, [], LINK_PAGE), (500, [], '{"error": "boom"}')],
    ),
    "error-storable": (
        [(404, NO_STORE, ""), (500, [], ""), (404, [("cache-control", "private")], ""),
         (200, [("cache-control", "max-age=60")], ""), (511, [("cache-control", "max-age=60")], ""),
         (429, [("cache-control", "max-age=60")], ""),  # rfc6585-storable's job
         (404, [("cache-control", "max-age=0")], ""), (404, [("cache-control", "no-cache")], ""),
         (404, [("expires", "0")], ""), (500, DATE + [("expires", EARLIER)], ""),
         dict(status=404, headers=[], body="", method="POST"),
         dict(status=404, headers=[], body="", request_headers=[("authorization", "Basic eDp5")])],
        [(404, [], ""), (500, [("cache-control", "max-age=600")], ""),
         (503, [("expires", LATER)], ""),
         (410, [("cache-control", "public")], ""),
         dict(status=403, headers=[("cache-control", "s-maxage=60")], body="",
              request_headers=[("authorization", "Basic eDp5")])],
    ),
    "gateway-response-storable": (
        [(200, GATEWAY + HTML + NO_STORE, FORM_PAGE),
         (200, ORIGIN + [("cache-control", "max-age=60")], ""),
         (511, GATEWAY + HTML + [("cache-control", "max-age=60")], LINK_PAGE),  # 511-storable's job
         (302, GATEWAY + [("location", "http://portal.labkit.test/login")], ""),
         # A site's own login page, and a redirect to a single sign-on elsewhere: not a portal.
         dict(status=200, headers=SPOOF_HEADERS, body=FORM_PAGE, url=ASKED),
         dict(status=301, headers=[("location", "https://sso.example.org/login")], body="", url=ASKED)],
        [(200, GATEWAY + HTML, FORM_PAGE),  # heuristically cacheable: the spoof case
         (200, GATEWAY + HTML + [("cache-control", "max-age=300")], FORM_PAGE),
         (301, GATEWAY + [("location", "http://portal.labkit.test/login")], ""),
         # The same on real traffic: no labkit name, only what the response shows.
         dict(status=200, headers=SPOOF_HEADERS, body=SPOOF, url=ASKED),
         dict(status=301, headers=[("server", "nginx")] + TO_PORTAL, body="", url=ASKED)],
    ),
    "gateway-response-from-cache": (
        [dict(status=200, headers=GATEWAY + HTML, body=FORM_PAGE),
         dict(status=200, headers=ORIGIN + [("age", "3")], body=""),
         dict(status=511, headers=GATEWAY + [("age", "3")], body=LINK_PAGE),
         dict(status=200, headers=GATEWAY + HTML + [("age", "0")], body=FORM_PAGE)],  # a miss
        [dict(status=200, headers=GATEWAY + HTML, body=FORM_PAGE, cache=HIT),
         dict(status=200, headers=GATEWAY + HTML + [("age", "30")], body=FORM_PAGE),
         dict(status=200, headers=SPOOF_HEADERS + [("age", "30")], body=SPOOF, url=ASKED)],
    ),
}

# Levels follow the words of the section each rule rests on: MUST (NOT) -> error,
# SHOULD (NOT) -> warning, MAY -> info.
LEVELS = {
    "511-from-origin": "warning",  # "SHOULD NOT be generated by origin servers"
    "511-storable": "error",  # "MUST NOT be stored by a cache"
    "rfc6585-storable": "error",  # 428, 429, 431: "MUST NOT be stored by a cache"
    "511-from-cache": "error",
    "511-with-challenge": "warning",  # "SHOULD NOT contain a challenge"
    "511-with-login-form": "warning",  # "SHOULD NOT contain ... the login interface itself"
    "511-without-link": "warning",  # "SHOULD contain a link"
    "401-without-www-authenticate": "error",  # "MUST send a WWW-Authenticate header field"
    "407-without-proxy-authenticate": "error",  # "MUST send a Proxy-Authenticate header field"
    "retry-after-missing": "info",  # "MAY send a Retry-After header field"
    "retry-after-invalid": "error",  # "MUST generate those timestamps in the IMF-fixdate format"
    "content-type-missing": "warning",  # "SHOULD generate a Content-Type header field"
    "error-storable": "info",  # storing is what HTTP allows
    "gateway-response-storable": "error",
    "gateway-response-from-cache": "error",
}

def _exchange(example):
    if isinstance(example, dict):
        example = dict(example)
        return Exchange.build(example.pop("status"), example.pop("headers"), example.pop("body"), **example)
    status, headers, body = example
    return Exchange.build(status, headers, body)


def _params(kind):
    out = []
    for rule_id, (passing, failing) in CASES.items():
        examples = passing if kind == "pass" else failing
        out += [pytest.param(rule_id, ex, id=f"{rule_id}-{kind}-{i}") for i, ex in enumerate(examples)]
    return out


def test_every_rule_has_passing_and_failing_cases():
    assert {r.id for r in RULES} == set(CASES)
    for rule_id, (passing, failing) in CASES.items():
        assert passing and failing, rule_id


@pytest.mark.parametrize("rule_id, example", _params("pass"))
def test_rule_passes(rule_id, example):
    ids = [f.id for f in inspect(_exchange(example), httplint=False)]
    assert rule_id not in ids


@pytest.mark.parametrize("rule_id, example", _params("fail"))
def test_rule_fires(rule_id, example):
    findings = [f for f in inspect(_exchange(example), httplint=False) if f.id == rule_id]
    assert len(findings) == 1, [f.id for f in inspect(_exchange(example), httplint=False)]
    f = findings[0]
    rule = next(r for r in RULES if r.id == rule_id)
    assert f.level == rule.level and f.source == "labkit"
    assert f.rfc.startswith("RFC ") and "section" in f.rfc
    assert f.summary and "\n" not in f.summary and "{" not in f.summary
    assert len(f.explanation) > len(f.summary) and "{" not in f.explanation


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_rule_metadata(rule):
    assert rule.level in ("error", "warning", "info")
    assert rule.rfc.split()[0] == "RFC"


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_level_follows_the_rfc_words(rule):
    assert rule.level == LEVELS[rule.id]


@pytest.mark.parametrize("rule_id, example", _params("fail"))
def test_explanation_quotes_the_section(rule_id, example):
    # Each rule states its rule in the section's own words, in double quotes.
    f = next(f for f in inspect(_exchange(example), httplint=False) if f.id == rule_id)
    assert f.explanation.count('"') >= 2, f.explanation


@pytest.mark.parametrize("example, rfc, words", [
    ((503, [], ""), "RFC 9110 section 15.6.4", "The server MAY send a Retry-After header field"),
    ((429, [], ""), "RFC 6585 section 4", "MAY include a Retry-After header"),
])
def test_retry_after_missing_cites_the_code_s_own_section(example, rfc, words):
    f = next(f for f in inspect(_exchange(example), httplint=False) if f.id == "retry-after-missing")
    assert (f.level, f.rfc) == ("info", rfc) and words in f.explanation


@pytest.mark.parametrize("status, section", [(428, "3"), (429, "4"), (431, "5")])
def test_rfc6585_storable_cites_each_code_s_section(status, section):
    ex = Exchange.build(status, [("cache-control", "max-age=60")], "")
    f = next(f for f in inspect(ex, httplint=False) if f.id == "rfc6585-storable")
    assert f.rfc == f"RFC 6585 section {section}" and f.level == "error"
    assert f'"Responses with the {status} status code MUST NOT be stored by a cache."' in f.explanation


@pytest.mark.parametrize("headers", [RFC6585_HEADERS, [("server", "nginx")] + RFC6585_HEADERS],
                         ids=["direct", "nginx"])
def test_rfc6585_example_is_clean_and_the_network_s(headers):
    ex = Exchange.build(511, headers, RFC6585_EXAMPLE, url="http://www.example.com/index.htm")
    findings = inspect(ex)
    assert [f.id for f in findings if f.level in ("error", "warning")] == []
    who = attribute(ex)
    assert (who.answered_by, who.generated_by) == ("gateway", "gateway")
    assert "not interpret the response as being from the origin server" in who.evidence[0]
    status_note = next(f for f in findings if f.id == "httplint:STATUS_NETWORK_AUTHENTICATION_REQUIRED")
    assert status_note.rfc == "RFC 6585 section 6"


# (example, answered_by, generated_by, a word the evidence must contain)
ATTRIBUTION = [
    pytest.param(dict(status=511, headers=RFC6585_HEADERS, body=RFC6585_EXAMPLE),
                 "gateway", "gateway", "RFC 6585 section 6.1", id="rfc6585-example"),
    pytest.param(dict(status=511, headers=[("server", "nginx")] + RFC6585_HEADERS, body=RFC6585_EXAMPLE),
                 "gateway", "gateway", "no evidence that the origin", id="511-nginx"),
    pytest.param(dict(status=511, headers=[("server", "uvicorn"), ("x-request-id", "abc")] + HTML, body=""),
                 "gateway", "gateway", "RFC 6585 section 6.1", id="511-uvicorn"),
    pytest.param(dict(status=511, headers=ORIGIN + GATEWAY[1:], body=""),
                 "origin", "origin", "labkit-origin", id="511-lab-origin"),
    pytest.param(dict(status=511, headers=GATEWAY, body=LINK_PAGE),
                 "gateway", "gateway", "labkit-gateway", id="511-lab-gateway"),
    pytest.param(dict(status=511, headers=RFC6585_HEADERS + [("age", "0")], body=RFC6585_EXAMPLE),
                 "gateway", "gateway", "Age: 0", id="511-age-0-miss"),
    pytest.param(dict(status=511, headers=RFC6585_HEADERS + [("age", "40")], body=RFC6585_EXAMPLE),
                 "cache", "gateway", "Age: 40", id="511-age-40-hit"),
    pytest.param(dict(status=200, headers=SPOOF_HEADERS, body=SPOOF, url=ASKED),
                 "gateway", "gateway", "portal.example.net", id="spoof-nginx"),
    pytest.param(dict(status=302, headers=TO_PORTAL, body="", url=ASKED),
                 "gateway", "gateway", "carrying the URL asked for", id="redirect-to-portal"),
    pytest.param(dict(status=200, headers=SPOOF_HEADERS, body=FORM_PAGE, url=ASKED),
                 "origin", "origin", "nginx", id="site-login-page"),
    pytest.param(dict(status=302, headers=[("location", "https://sso.example.org/login")], body="", url=ASKED),
                 "unknown", "unknown", "nothing says", id="redirect-to-sso"),
    pytest.param(dict(status=200, headers=[("server", "nginx"), ("via", "1.1 varnish"), ("age", "0")], body=""),
                 "origin", "origin", "Via: 1.1 varnish", id="via-is-not-who-made-it"),
    pytest.param(dict(status=407, headers=[("proxy-authenticate", "Basic")], body=""),
                 "gateway", "gateway", "15.5.8", id="407"),
    pytest.param(dict(status=200, headers=[("server", "nginx")], body="", cache=HIT),
                 "cache", "origin", "caching.from_cache", id="hishel-hit"),
]


@pytest.mark.parametrize("example, answered, generated, word", ATTRIBUTION)
def test_attribution(example, answered, generated, word):
    who = attribute(_exchange(example))
    assert (who.answered_by, who.generated_by) == (answered, generated), who
    assert any(word in e for e in who.evidence), who.evidence


@pytest.mark.parametrize("example, code", [
    ((429, [], ""), 0),  # retry-after-missing: info
    ((503, [("content-type", "text/plain")], "down"), 0),
    ((511, RFC6585_HEADERS, RFC6585_EXAMPLE), 0),
    ((511, [("server", "nginx")] + RFC6585_HEADERS, RFC6585_EXAMPLE), 0),
    ((511, [("server", "nginx"), ("content-type", "application/json")], '{"error": "x"}'), 0),  # warning
    ((404, [("content-type", "text/plain")], "gone"), 0),  # error-storable: info
    ((429, [("cache-control", "max-age=60")], ""), 1),  # rfc6585-storable: error
    ((511, RFC6585_HEADERS + [("cache-control", "max-age=60")], RFC6585_EXAMPLE), 1),
    ((401, [], ""), 1),
])
def test_cli_exit_status_follows_the_levels(example, code):
    assert exit_status([inspect(_exchange(example))]) == code


@pytest.mark.parametrize(
    "value, valid",
    [("0", True), ("120", True), ("Thu, 01 Jan 2026 00:00:00 GMT", True),
     # Obsolete forms: a recipient MUST accept them, a sender MUST NOT generate them
     # (RFC 9110 section 5.6.7), so the linter flags them.
     ("Thursday, 01-Jan-26 00:00:00 GMT", False), ("Thu Jan  1 00:00:00 2026", False),
     ("soon", False), ("-1", False), ("1e3", False), ("1" * 300, False),
     ("Thu, 01 Jan 2026 00:00:00 +0000", False), ("Thu, 01 Jan 99999 00:00:00 GMT", False)],
)
def test_retry_after_validity(value, valid):
    ex = Exchange.build(503, [("content-type", "text/plain"), ("retry-after", value)], "down")
    assert ("retry-after-invalid" in [f.id for f in inspect(ex)]) is not valid


def test_labkit_rule_replaces_httplint_duplicate():
    ex = Exchange.build(503, [("content-type", "text/plain"), ("retry-after", "soon")], "down")
    ids = [f.id for f in inspect(ex)]
    assert "retry-after-invalid" in ids
    assert not any(f.source == "httplint" and f.subject == "field-retry-after" for f in inspect(ex))


def test_findings_are_sorted_most_serious_first():
    ex = Exchange.build(401, [], "x")  # error (no challenge) + warning (no content-type) + infos
    levels = [f.level for f in inspect(ex)]
    order = {"error": 0, "warning": 1, "info": 2, "good": 3}
    assert levels == sorted(levels, key=order.get)
    assert levels[0] == "error"
