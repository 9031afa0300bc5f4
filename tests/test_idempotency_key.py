"""Idempotency-Key as the IETF draft writes it: a Structured Field String, sent quoted by
the runner, accepted quoted or bare by /orders, and 409 while the first request is processed."""

import re
import uuid

import httpx
import pytest

from labkit import Simulator, VirtualClock
from labkit.core import parse_sf_string, sf_string
from labkit.retry import Backoff, RetryPolicy, run

DRAFT_EXAMPLE = '"8e03978e-40d5-43e8-bc93-6894a57f9324"'  # the draft's own example value


@pytest.fixture
def sim():
    return Simulator(clock=VirtualClock(), name="test-idempotency-key")


@pytest.mark.parametrize("value", ["8e03978e-40d5-43e8-bc93-6894a57f9324", "a b", 'q"uote', "back\\slash", ""])
def test_sf_strings_round_trip(value):
    text = sf_string(value)
    assert text.startswith('"') and text.endswith('"')
    assert parse_sf_string(text) == value


@pytest.mark.parametrize("text", ["bare", '"open', '"bad \\x escape"', '"a"junk', '"caf\u00e9"', None])
def test_what_is_not_an_sf_string(text):
    assert parse_sf_string(text) is None


def test_parameters_after_the_string_are_ignored():
    assert parse_sf_string(' "k1";scope=orders ') == "k1"
    with pytest.raises(ValueError):
        sf_string("caf\u00e9")


def test_the_runner_sends_a_quoted_uuid(sim):
    r = run(sim.client(), "POST", "/orders?key=q", json={"sku": "lamp"}, clock=sim.clock,
            idempotency_key=True)
    sent = r.response.request.headers["idempotency-key"]
    assert re.fullmatch(r'"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"', sent)
    assert uuid.UUID(parse_sf_string(sent)).version == 4
    assert r.idempotency_key == parse_sf_string(sent)
    assert sim.client().get("/orders?key=q").json()["orders"][0]["idempotency_key"] == r.idempotency_key


@pytest.mark.parametrize("given", ["order-7", '"order-7"'])
def test_a_given_key_is_sent_quoted_once(sim, given):
    r = run(sim.client(), "POST", "/orders?key=given", json={}, clock=sim.clock, idempotency_key=given)
    assert r.response.request.headers["idempotency-key"] == '"order-7"'
    assert r.idempotency_key == "order-7"


def test_orders_take_quoted_and_bare_keys_as_the_same_key(sim):
    client = sim.client()
    url = "/orders?lose=1&key=both"
    with pytest.raises(httpx.RemoteProtocolError):
        client.post(url, json={"sku": "lamp"}, headers={"Idempotency-Key": DRAFT_EXAMPLE})
    again = client.post(url, json={"sku": "lamp"},
                        headers={"Idempotency-Key": "8e03978e-40d5-43e8-bc93-6894a57f9324"})
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    listing = client.get("/orders?key=both").json()
    assert listing["count"] == 1
    assert listing["orders"][0]["idempotency_key"] == "8e03978e-40d5-43e8-bc93-6894a57f9324"


@pytest.mark.parametrize("value", ['"unterminated', '"bad \\n escape"', '""', '"' + "k" * 256 + '"'])
def test_malformed_keys_are_400(sim, value):
    r = sim.client().post("/orders?key=bad", json={}, headers={"Idempotency-Key": value})
    assert r.status_code == 400 and "Idempotency-Key" in r.json()["detail"]


def test_409_while_the_first_request_is_still_processing(sim):
    client = sim.client()
    url = "/orders?processing=10&key=slow"
    headers = {"Idempotency-Key": '"slow-1"'}
    with pytest.raises(httpx.ReadTimeout):
        client.post(url, json={"sku": "lamp"}, headers=headers)
    busy = client.post(url, json={"sku": "lamp"}, headers=headers)
    assert busy.status_code == 409
    assert busy.headers["content-type"] == "application/problem+json"
    assert "outstanding for this Idempotency-Key" in busy.json()["detail"]
    sim.clock.advance(10)
    done = client.post(url, json={"sku": "lamp"}, headers=headers)
    assert done.status_code == 201 and done.headers["idempotent-replayed"] == "true"
    assert client.get("/orders?key=slow").json()["count"] == 1


def test_the_policy_waits_out_the_409(sim):
    policy = RetryPolicy(backoff=Backoff(kind="exponential", base=1.0, cap=30.0, attempts=5))
    r = run(sim.client(), "POST", "/orders?processing=5&key=wait", json={"sku": "lamp"}, policy=policy,
            clock=sim.clock, idempotency_key=True)
    assert [a.status for a in r.attempts] == ["ReadTimeout", 409, 409, 201], r.timeline
    assert r.ok and r.response.headers["idempotent-replayed"] == "true"
    assert sim.client().get("/orders?key=wait").json()["count"] == 1
