"""Retry decisions, driven through both clients.

FAKED FAULTS: a real restate-server cannot be made to answer 503/429 with Retry-After, drop a
connection after reading a request, or refuse one connection and accept the next on demand, so
these tests put an httpx.MockTransport where the network would be. Everything else in this file
(request building, retry policy, error mapping) is the real client code. The real-server
counterparts (Restate stopped and restarted, terminal errors never retried) are in
test_server_down.py and test_calls.py.
"""

from __future__ import annotations

import time

import pytest

from restate_web.ingress import (
    IngressError,
    IngressUnavailable,
    InvocationFailed,
    RetryPolicy,
)
from tests.ingress.fakes import OK, answer, drop_after_sending, refuse, unavailable


def test_idempotent_call_is_retried_with_the_same_key(fake_client):
    client, fake = fake_client([unavailable, unavailable, OK])
    assert client.service("S").call("h", 1, idempotency_key="k1") == "done"
    assert fake.keys == ["k1", "k1", "k1"]


def test_keyless_call_is_not_retried_after_reaching_restate(fake_client):
    client, fake = fake_client([unavailable, OK])
    with pytest.raises(IngressUnavailable) as caught:
        client.service("S").call("h", 1)
    assert caught.value.status == 503
    assert len(fake.requests) == 1


def test_keyless_call_is_retried_when_the_connection_never_opened(fake_client):
    client, fake = fake_client([refuse, refuse, OK])
    assert client.service("S").call("h") == "done"
    assert len(fake.requests) == 3


def test_keyless_call_is_not_retried_when_the_answer_was_lost(fake_client):
    client, fake = fake_client([drop_after_sending, OK])
    with pytest.raises(IngressUnavailable, match="RemoteProtocolError"):
        client.service("S").call("h")
    assert len(fake.requests) == 1


def test_keyed_call_is_retried_when_the_answer_was_lost(fake_client):
    client, fake = fake_client([drop_after_sending, OK])
    assert client.object("O", "k").call("h", idempotency_key="k2") == "done"
    assert fake.keys == ["k2", "k2"]


def test_generated_keys_make_keyless_calls_retryable(fake_client):
    client, fake = fake_client(
        [drop_after_sending, unavailable, OK], generate_idempotency_keys=True
    )
    assert client.service("S").call("h") == "done"
    assert len(fake.requests) == 3
    assert fake.keys[0] and len(set(fake.keys)) == 1, "one generated key, reused on every retry"


def test_generated_keys_differ_between_calls(fake_client):
    client, fake = fake_client([OK], generate_idempotency_keys=True)
    client.service("S").call("h")
    client.service("S").call("h")
    assert fake.keys[0] != fake.keys[1]


@pytest.mark.parametrize(
    "operation",
    [
        lambda c: c.awakeable("sign_1").resolve({"ok": True}),
        lambda c: c.awakeable("sign_1").reject("declined"),
        lambda c: c.workflow("W", "k").submit({"x": 1}),
        lambda c: c.workflow("W", "k").attach(),
        lambda c: c.invocation("inv_1").output(),
    ],
    ids=["resolve", "reject", "submit", "attach", "output"],
)
def test_safe_operations_are_retried_without_a_key(fake_client, operation):
    send_answer = answer(202, {"invocationId": "inv_1", "status": "Accepted"})
    client, fake = fake_client([unavailable, answer(429), send_answer])
    operation(client)
    assert len(fake.requests) == 3


def test_handler_terminal_error_is_never_retried(fake_client):
    terminal = answer(
        503,
        {"code": 503, "message": "downstream said no", "source": "invocation"},
        **{"x-restate-error-source": "invocation", "x-restate-id": "inv_9"},
    )
    client, fake = fake_client([terminal, OK])
    with pytest.raises(InvocationFailed) as caught:
        client.service("S").call("h", idempotency_key="k")
    assert caught.value.message == "downstream said no"
    assert caught.value.invocation_id == "inv_9"
    assert len(fake.requests) == 1


def test_attempts_are_bounded_and_end_in_ingress_unavailable(fake_client):
    client, fake = fake_client([unavailable])
    with pytest.raises(IngressUnavailable, match="for 4 attempts"):
        client.service("S").call("h", idempotency_key="k")
    assert len(fake.requests) == 4


def test_total_retry_time_is_bounded(fake_client):
    policy = RetryPolicy(
        max_attempts=1000, max_duration=0.3, initial_interval=0.05, max_interval=0.05
    )
    client, fake = fake_client([unavailable], retry=policy)
    with pytest.raises(IngressUnavailable):
        client.service("S").call("h", idempotency_key="k")
    assert 2 <= len(fake.requests) < 20


def test_retry_after_is_honoured(fake_client):
    client, fake = fake_client([answer(429, {"message": "slow down"}, **{"retry-after": "1"}), OK])
    started = time.monotonic()
    assert client.service("S").call("h", idempotency_key="k") == "done"
    assert time.monotonic() - started >= 0.9, "Retry-After: 1 must delay the retry by a second"
    assert len(fake.requests) == 2


def test_retries_can_be_turned_off(fake_client):
    client, fake = fake_client([refuse, OK], retry=False)
    with pytest.raises(IngressUnavailable, match="could not reach Restate"):
        client.service("S").call("h")
    assert len(fake.requests) == 1


def test_non_retryable_status_is_raised_at_once(fake_client):
    client, fake = fake_client([answer(400, {"code": 400, "message": "bad delay"}), OK])
    with pytest.raises(IngressError) as caught:
        client.service("S").call("h", idempotency_key="k")
    assert caught.value.status == 400 and caught.value.message == "bad delay"
    assert not isinstance(caught.value, IngressUnavailable)
    assert len(fake.requests) == 1


def test_redirects_are_not_followed(fake_client):
    client, fake = fake_client([answer(307, location="http://elsewhere.test/S/h"), OK])
    with pytest.raises(IngressError) as caught:
        client.service("S").call("h", idempotency_key="k")
    assert caught.value.status == 307
    assert len(fake.requests) == 1


def test_delay_is_sent_with_a_unit(fake_client):
    from datetime import timedelta

    client, fake = fake_client([answer(202, {"invocationId": "inv_1", "status": "Accepted"})])
    client.service("S").send("h", delay=timedelta(seconds=1.5))
    assert fake.requests[0].url.params["delay"] == "1500ms"
