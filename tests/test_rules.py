"""Table-driven tests for every labkit rule: examples that pass and examples that fire."""

import pytest

from labkit.inspector import RULES, Exchange, inspect

GATEWAY = [("server", "labkit-gateway"), ("via", "1.1 labkit-gateway")]
ORIGIN = [("server", "labkit-origin"), ("x-request-id", "0123456789abcdef")]
HTML = [("content-type", "text/html; charset=utf-8")]
NO_STORE = [("cache-control", "no-store")]
LINK_PAGE = '<p>Please <a href="http://portal.labkit.test/login">sign in</a>.</p>'
FORM_PAGE = '<form method="post"><input name="user"><input type="password" name="password"></form>'

# rule id -> (examples that must NOT fire it, examples that MUST fire it).
# Each example: (status, headers, body) or a dict of Exchange.build keywords.
CASES = {
    "511-from-origin": (
        [(511, GATEWAY + HTML + NO_STORE, LINK_PAGE),
         (511, HTML, LINK_PAGE),  # no evidence either way: RFC 6585's own example
         (500, ORIGIN, "")],
        [(511, ORIGIN + HTML, LINK_PAGE),
         (511, ORIGIN + GATEWAY[1:] + HTML, LINK_PAGE),  # forwarded by the gateway, still the origin's
         (511, [("server", "nginx")] + HTML, LINK_PAGE)],
    ),
    "511-storable": (
        [(511, HTML, LINK_PAGE),
         (511, HTML + NO_STORE, LINK_PAGE),
         (511, HTML + [("cache-control", "no-store, max-age=60")], LINK_PAGE),
         (200, [("cache-control", "max-age=60")], "")],
        [(511, HTML + [("cache-control", "max-age=300")], LINK_PAGE),
         (511, HTML + [("cache-control", "public")], LINK_PAGE),
         (511, HTML + [("cache-control", "private")], LINK_PAGE),
         (511, HTML + [("expires", "Thu, 01 Jan 2026 00:05:00 GMT")], LINK_PAGE)],
    ),
    "511-from-cache": (
        [dict(status=511, headers=GATEWAY + HTML, body=LINK_PAGE,
              cache={"from_cache": False, "revalidated": False, "stored": False}),
         dict(status=200, headers=[("age", "5")], body="")],
        [dict(status=511, headers=GATEWAY + HTML, body=LINK_PAGE,
              cache={"from_cache": True, "revalidated": False, "stored": False}),
         dict(status=511, headers=GATEWAY + HTML + [("age", "12")], body=LINK_PAGE)],
    ),
    "511-with-challenge": (
        [(511, HTML, LINK_PAGE), (401, [("www-authenticate", 'Basic realm="x"')], "")],
        [(511, HTML + [("www-authenticate", 'Basic realm="wifi"')], LINK_PAGE),
         (511, HTML + [("proxy-authenticate", 'Basic realm="wifi"')], LINK_PAGE)],
    ),
    "511-with-login-form": (
        [(511, HTML, LINK_PAGE), (200, HTML, FORM_PAGE)],
        [(511, HTML, FORM_PAGE + LINK_PAGE),
         (511, HTML, '<input type="password" name="p">')],
    ),
    "511-without-link": (
        [(511, HTML, LINK_PAGE),
         (511, HTML, '<meta http-equiv="refresh" content="0; url=http://portal.test/">'),
         (511, [("link", '<http://portal.test/>; rel="captive-portal"')], ""),
         (511, [("content-type", "application/problem+json")],
          '{"detail": "sign in at http://portal.labkit.test/login"}'),
         (401, [], "")],
        [(511, [("content-type", "application/json")], '{"error": "Network Authentication Required"}'),
         (511, [], ""),
         (511, HTML, "<p>Sign in at the front desk.</p>")],
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
         dict(status=404, headers=[], body="", method="POST"),
         dict(status=404, headers=[], body="", request_headers=[("authorization", "Basic eDp5")])],
        [(404, [], ""), (500, [("cache-control", "max-age=600")], ""),
         (503, [("expires", "Thu, 01 Jan 2026 00:05:00 GMT")], ""),
         (410, [("cache-control", "public")], ""),
         dict(status=403, headers=[("cache-control", "s-maxage=60")], body="",
              request_headers=[("authorization", "Basic eDp5")])],
    ),
    "gateway-response-storable": (
        [(200, GATEWAY + HTML + NO_STORE, FORM_PAGE),
         (200, ORIGIN + [("cache-control", "max-age=60")], ""),
         (511, GATEWAY + HTML + [("cache-control", "max-age=60")], LINK_PAGE),  # 511-storable's job
         (302, GATEWAY + [("location", "http://portal.labkit.test/login")], "")],
        [(200, GATEWAY + HTML, FORM_PAGE),  # heuristically cacheable: the spoof case
         (200, GATEWAY + HTML + [("cache-control", "max-age=300")], FORM_PAGE),
         (301, GATEWAY + [("location", "http://portal.labkit.test/login")], "")],
    ),
    "gateway-response-from-cache": (
        [dict(status=200, headers=GATEWAY + HTML, body=FORM_PAGE),
         dict(status=200, headers=ORIGIN + [("age", "3")], body=""),
         dict(status=511, headers=GATEWAY + [("age", "3")], body=LINK_PAGE)],
        [dict(status=200, headers=GATEWAY + HTML, body=FORM_PAGE,
              cache={"from_cache": True, "revalidated": False, "stored": False}),
         dict(status=200, headers=GATEWAY + HTML + [("age", "30")], body=FORM_PAGE)],
    ),
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
