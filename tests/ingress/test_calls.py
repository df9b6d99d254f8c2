"""Calls and sends against the real restate-server, for both clients (parametrized)."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from restate_web.ingress import (
    IngressClient,
    IngressError,
    IngressTimeout,
    InvocationFailed,
    NotFound,
    NotReady,
)
from tests.restate_services import Order, Person, counter, get, get_status, greet, greeter, signup
from tests.restate_services import headers as greeter_headers


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def test_service_call_returns_handler_result(restate):
    assert restate.service("Greeter").call("greet", "Ada") == "Hello Ada"


@pytest.mark.parametrize(
    "value",
    [{"a": [1, 2, {"b": None}]}, [1, "two", 3.5], "ünïcødé ✓", 0, True],
)
def test_json_values_round_trip(restate, value):
    assert restate.service("Greeter").call("echo", value) == value


def test_bytes_pass_through_untouched(restate):
    payload = bytes(range(256))
    result = restate.service("Greeter").call("echoBytes", payload, response_type=bytes)
    assert result == payload


def test_dataclass_argument_and_response_type(restate):
    result = restate.service("Greeter").call(
        "describePerson", Person("ada", 36), response_type=Person
    )
    assert result == Person("ADA", 37)


def test_pydantic_argument_and_response_type(restate):
    result = restate.service("Greeter").call(
        "priceOrder", Order(id="o1", amount=21), response_type=Order
    )
    assert result == Order(id="o1", amount=42)


def test_sdk_handler_reference_instead_of_names(restate):
    assert restate.service(greeter).call(greet, "Grace") == "Hello Grace"
    with pytest.raises(ValueError, match="does not belong"):
        restate.service("Counter").call(greet, "x")


def test_sdk_reference_to_a_handler_without_input_sends_no_body(restate):
    """A handler that takes only the context: Restate refuses a body or a content type, so a
    reference to it must send neither, as a call by name does."""
    assert restate.service(greeter).call(greeter_headers)["x-restate-ingress-path"] == (
        "/Greeter/headers"
    )
    assert restate.object(counter, unique("ref")).call(get) == 0
    assert restate.workflow(signup, unique("ref")).call(get_status) == "not started"


@pytest.mark.parametrize("key", ["a/b", "with space", "ünï/cødé?&#%", "..", "k" * 200])
def test_object_keys_reach_the_handler_exactly(restate, key):
    assert restate.object("Counter", key).call("key") == key


def test_virtual_object_state(restate):
    counter = restate.object("Counter", unique("state"))
    assert counter.call("add", 2) == 2
    assert counter.call("add", 3) == 5
    assert counter.call("get") == 5


def test_idempotent_send_twice_is_one_invocation(restate):
    key = unique("counter")
    counter = restate.object("Counter", key)
    first = counter.send("add", 1, idempotency_key="once")
    second = counter.send("add", 1, idempotency_key="once")
    assert first.status == "Accepted"
    assert second.status == "PreviouslyAccepted"
    assert first.invocation_id == second.invocation_id
    assert first.invocation_id.startswith("inv_")
    assert first.attach() == 1
    assert second.output() == 1
    assert restate.invocation(first.invocation_id).attach() == 1
    assert counter.call("get") == 1


def test_idempotent_call_twice_runs_once(restate):
    counter = restate.object("Counter", unique("call"))
    assert counter.call("add", 5, idempotency_key="k") == 5
    assert counter.call("add", 5, idempotency_key="k") == 5
    assert counter.call("get") == 5


def test_send_without_key_cannot_be_attached(restate):
    handle = restate.object("Counter", unique("nokey")).send("add", 1)
    assert handle.status == "Accepted"
    assert not handle.attachable
    with pytest.raises(ValueError, match="idempotency key"):
        handle.attach()


def test_delay_really_delays(restate):
    counter = restate.object("Counter", unique("delay"))
    started = time.monotonic()
    handle = counter.send("add", 7, delay=timedelta(seconds=2), idempotency_key="later")
    assert handle.execution_time is not None
    with pytest.raises(NotReady):
        handle.output()
    assert counter.call("get") == 0
    assert handle.attach() == 7
    assert time.monotonic() - started >= 1.5
    assert counter.call("get") == 7


def test_terminal_error_code_and_message_survive_and_are_not_retried(make_client):
    sent: list = []
    restate = make_client(record=sent)
    with pytest.raises(InvocationFailed) as caught:
        restate.service("Greeter").call("fail", 409, idempotency_key=unique("fail"))
    error = caught.value
    assert error.status == 409
    assert error.code == 409
    assert error.message == "failed on purpose with 409"
    assert error.source == "invocation"
    assert error.invocation_id and error.invocation_id.startswith("inv_")
    assert len(sent) == 1, "a handler's terminal error must never be retried"


def test_terminal_503_from_handler_is_not_mistaken_for_restate_down(make_client):
    sent: list = []
    restate = make_client(record=sent)
    with pytest.raises(InvocationFailed) as caught:
        restate.service("Greeter").call("fail", 503, idempotency_key=unique("fail503"))
    assert caught.value.status == 503
    assert len(sent) == 1


def test_unknown_service_is_not_found(restate):
    with pytest.raises(NotFound) as caught:
        restate.service("NoSuchService").call("nothing")
    assert caught.value.status == 404
    assert caught.value.source == "ingress"


def test_long_call_is_not_cut_off_by_default(restate):
    assert restate.service("Greeter").call("slow", 10) == "slept 10"


def test_per_call_timeout(restate):
    started = time.monotonic()
    with pytest.raises(IngressTimeout, match="did not answer within the timeout"):
        restate.service("Greeter").call("slow", 5, timeout=0.5)
    assert time.monotonic() - started < 4


def test_error_is_an_ingress_error_with_operation(restate):
    with pytest.raises(
        IngressError,
        match=r"call NoSuchService/x failed \(HTTP 404\): service 'NoSuchService' not found",
    ):
        restate.service("NoSuchService").call("x")


def test_headers_default_extra_and_token_reach_the_handler(make_client):
    restate = make_client(headers={"X-Team": "payments"}, token="cloud-token")
    seen = restate.service("Greeter").call("headers", headers={"X-Request-Id": "r1"})
    assert seen["x-team"] == "payments"
    assert seen["x-request-id"] == "r1"
    assert seen["authorization"] == "Bearer cloud-token"


def test_ingress_url_from_environment(monkeypatch, ingress_url):
    monkeypatch.setenv("RESTATE_INGRESS_URL", ingress_url)
    with IngressClient() as restate:
        assert restate.base_url == ingress_url
        assert restate.service("Greeter").call("greet", "env") == "Hello env"


def test_sync_client_is_safe_to_share_between_threads(ingress_url):
    with IngressClient(ingress_url) as restate:
        counter = restate.object("Counter", unique("threads"))
        with ThreadPoolExecutor(16) as pool:
            results = list(pool.map(lambda i: counter.call("add", 1), range(64)))
        assert sorted(results) == list(range(1, 65))
        assert counter.call("get") == 64


def test_invalid_idempotency_key_is_refused_before_sending(restate):
    with pytest.raises(ValueError, match="idempotency key"):
        restate.service("Greeter").call("greet", "x", idempotency_key="bad\nkey")


def test_http2_prior_knowledge_to_the_ingress(make_client, client_kind):
    if client_kind == "aiohttp":
        with pytest.raises(ValueError, match=r"HTTP/1\.1 only"):
            make_client(http2=True)
        return
    restate = make_client(http2=True)
    counter = restate.object("Counter", unique("h2"))
    handle = counter.send("add", 2, idempotency_key="h2")
    assert handle.attach() == 2
    with ThreadPoolExecutor(8) as pool:
        results = list(
            pool.map(lambda i: restate.service("Greeter").call("greet", str(i)), range(16))
        )
    assert results == [f"Hello {i}" for i in range(16)]
