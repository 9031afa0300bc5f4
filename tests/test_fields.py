"""The header fields the engine reads, parsed once (labkit.core._fields)."""

import base64
import os
import subprocess
import sys
import time

import pytest

from labkit.core import _fields as f

NOW = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC


@pytest.mark.parametrize("value, expected", [
    # RFC 9110 section 5.6.7's own three examples, one instant.
    ("Sun, 06 Nov 1994 08:49:37 GMT", 784111777.0),
    ("Sunday, 06-Nov-94 08:49:37 GMT", 784111777.0),
    ("Sun Nov  6 08:49:37 1994", 784111777.0),
    ("sun, 06 nov 1994 08:49:37 gmt", 784111777.0),
    ("Sun, 06 Nov 1994 08:49:37 UTC", None),
    ("Sun, 06 Nov 1994 08:49:37 +0000", None),
    ("Sun, 31 Feb 1994 08:49:37 GMT", None),
    ("Sun, 06 Nov 99999 08:49:37 GMT", None),
    ("Sun, 06 Nov 1994 25:49:37 GMT", None),
    ("tomorrow", None),
    ("", None),
    (None, None),
    ("9" * 400, None),
])
def test_http_date_forms(value, expected):
    assert f.parse_http_date(value, now=NOW) == expected


def test_obsolete_forms_can_be_refused():
    assert f.parse_http_date("Sun Nov  6 08:49:37 1994", obsolete=False) is None
    assert f.parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT", obsolete=False) == 784111777.0


def test_rfc850_two_digit_year_more_than_50_years_ahead_is_the_past():
    # "MUST interpret a timestamp that appears to be more than 50 years in the
    # future as representing the most recent year in the past" (RFC 9110 section 5.6.7).
    now_2023 = NOW
    assert time.gmtime(f.parse_http_date("Monday, 01-Jan-80 00:00:00 GMT", now=now_2023)).tm_year == 1980
    assert time.gmtime(f.parse_http_date("Friday, 01-Jan-60 00:00:00 GMT", now=now_2023)).tm_year == 2060


@pytest.mark.parametrize("value, expected", [
    ("120", 120.0),
    (" 0 ", 0.0),
    ("-1", None),
    ("1.5", None),
    ("1" * 300, None),
    ("soon", None),
    (None, None),
])
def test_retry_after_seconds(value, expected):
    assert f.parse_retry_after(value) == expected


def test_retry_after_dates_in_every_form_measured_from_now():
    later = NOW + 2977
    for form in (time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(later)),
                 time.strftime("%A, %d-%b-%y %H:%M:%S GMT", time.gmtime(later)),
                 time.strftime("%a %b %e %H:%M:%S %Y", time.gmtime(later))):
        assert f.parse_retry_after(form, now=NOW) == 2977.0, form


def test_retry_after_date_needs_a_clock_and_past_dates_mean_now():
    date = "Sun, 06 Nov 1994 08:49:37 GMT"
    assert f.parse_retry_after(date) is None
    assert f.parse_retry_after(date, date="Sun, 06 Nov 1994 08:48:37 GMT") == 60.0
    assert f.parse_retry_after(date, now=NOW) == 0.0
    assert f.parse_retry_after("Sun, 06 Nov 99999 08:49:37 GMT", now=NOW) is None


@pytest.mark.parametrize("tz", ["UTC", "America/New_York", "Asia/Kolkata"])
def test_dates_are_utc_whatever_the_machines_time_zone(tz):
    code = (
        "from labkit.core._fields import parse_retry_after as p;"
        "print(p('Sun Nov  6 09:39:14 1994', now=784111777.0))"
    )
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, "TZ": tz},
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == "2977.0"


def test_basic_credentials():
    token = base64.b64encode("aladdin:open:sesame".encode()).decode()
    assert f.basic_credentials(f"Basic {token}") == ("aladdin", "open:sesame")
    assert f.basic_credentials(f"basic  {token}") == ("aladdin", "open:sesame")
    assert f.basic_credentials("Bearer abc") is None
    assert f.basic_credentials("Basic !!!") is None
    assert f.basic_credentials("Basic " + base64.b64encode(b"nocolon").decode()) is None
    assert f.basic_credentials("Basic " + base64.b64encode(b"\xff:x").decode()) is None
    assert f.basic_credentials(None) is None


def test_header_lookup_and_media_type():
    pairs = [("Content-Type", "Application/Problem+JSON; charset=utf-8"), ("via", "a"), ("Via", "b")]
    assert f.header(pairs, "content-type").startswith("Application")
    assert f.header(pairs, "x-missing", "none") == "none"
    assert f.header_values(pairs, "VIA") == ["a", "b"]
    assert f.media_type(f.header(pairs, "content-type")) == "application/problem+json"
    assert f.media_type(None) == ""


def test_pairs_round_trip_every_byte():
    raw = [(b"X-Odd", bytes(range(32, 256)))]
    assert f.encode_pairs(f.decode_pairs(raw, lower=False)) == raw
    assert f.decode_pairs(raw)[0][0] == "x-odd"


def test_cache_directives():
    assert f.cache_directives('No-Store, max-age=0, private="set-cookie"') == {
        "no-store": None, "max-age": "0", "private": "set-cookie"}
    assert f.cache_directives(None) == {}


def test_hop_names():
    assert f.VIA_GATEWAY == "1.1 labkit-gateway"
    assert f.ORIGIN_NAME == "labkit-origin"
