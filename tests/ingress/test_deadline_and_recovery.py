"""``timeout`` is a deadline for the whole call (issue #10, defect 2), and a call that timed out
or found Restate unavailable can be picked up by its idempotency key (defect 3).

Against the real restate-server, except where a fault must be faked (marked FAKED FAULT).
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest

from restate_web.ingress import (
    IngressClient,
    IngressError,
    IngressTimeout,
    IngressUnavailable,
    NotReady,
    RetryPolicy,
)
from tests.ingress.fakes import Fake, answer, refuse


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


HANDLER_SECONDS = 4


@pytest.mark.parametrize("where", ["client", "call"])
def test_timeout_is_a_deadline_for_the_whole_keyed_call(make_client, where):
    """A keyed call may be retried; the retries must not stretch the caller's deadline."""
    sent: list[httpx.Request] = []
    options: dict[str, Any] = {"timeout": 1} if where == "call" else {}
    client = make_client(
        record=sent, retry=RetryPolicy(), **({"timeout": 1} if where == "client" else {})
    )
    key = unique("deadline")
    started = time.monotonic()
    with pytest.raises(IngressTimeout) as caught:
        client.service("Greeter").call("slow", HANDLER_SECONDS, idempotency_key=key, **options)
    elapsed = time.monotonic() - started
    # Before: each attempt had the whole second, and the retries re-attached until the handler
    # finished (~4 s) or six attempts had passed.
    assert elapsed < HANDLER_SECONDS - 0.5, f"the 1 s deadline was stretched to {elapsed:.1f}s"
    assert len(sent) == 1, "a timed-out answer is not retried: the deadline has passed"
    assert caught.value.idempotency_key == key


def test_after_a_timeout_attach_by_key_picks_up_the_same_invocation(make_client):
    client = make_client(timeout=1)
    service = client.service("Greeter")
    with pytest.raises(IngressTimeout) as caught:
        service.call("slow", 2, idempotency_key=unique("recover"))
    key = caught.value.idempotency_key
    assert key is not None
    with pytest.raises(NotReady):
        service.output("slow", idempotency_key=key)
    assert service.attach("slow", idempotency_key=key, timeout=30) == "slept 2"
    assert service.output("slow", idempotency_key=key) == "slept 2"


def test_generated_keys_are_on_the_error_and_attachable(make_client):
    client = make_client(timeout=1, generate_idempotency_keys=True)
    with pytest.raises(IngressTimeout) as caught:
        client.service("Greeter").call("slow", 2)
    key = caught.value.idempotency_key
    assert key, "the generated key must be reported, or the invocation cannot be found again"
    assert client.service("Greeter").attach("slow", idempotency_key=key, timeout=30) == "slept 2"


def test_object_invocation_attach_by_key(make_client):
    client = make_client()
    # '/' in both keys: derived keys look like "rw:Counter/add:1:<sha256>".
    counter = client.object("Counter", unique("attach/a b"))
    key = unique("rw:Counter/add:1")
    assert counter.call("add", 5, idempotency_key=key) == 5
    assert counter.attach("add", idempotency_key=key) == 5
    assert counter.call("add", 5, idempotency_key=key) == 5, "same key: same invocation"
    assert counter.call("get") == 5


def test_attach_by_an_unknown_key_is_an_error(make_client):
    client = make_client()
    with pytest.raises(IngressError) as caught:
        client.service("Greeter").output("greet", idempotency_key=unique("never-used"))
    assert caught.value.status == 404


def test_errors_from_the_handler_carry_key_and_invocation_id(make_client):
    client = make_client()
    key = unique("fail")
    with pytest.raises(IngressError) as caught:
        client.service("Greeter").call("fail", 409, idempotency_key=key)
    assert caught.value.idempotency_key == key
    assert caught.value.invocation_id and caught.value.invocation_id.startswith("inv_")


def test_keyless_errors_carry_no_key(make_client):
    client = make_client()
    with pytest.raises(IngressError) as caught:
        client.service("Greeter").call("fail", 409)
    assert caught.value.idempotency_key is None


# FAKED FAULTS below: a real server cannot be made to answer Retry-After or to refuse
# connections on demand.


def test_a_retry_wait_that_would_pass_the_deadline_is_not_waited(fake_client):
    client, fake = fake_client([answer(429, {"message": "later"}, **{"retry-after": "5"})])
    started = time.monotonic()
    with pytest.raises(IngressUnavailable) as caught:
        client.service("S").call("h", idempotency_key="k1", timeout=1)
    assert time.monotonic() - started < 1, "gave up at once instead of sleeping past it"
    assert len(fake.requests) == 1
    assert caught.value.idempotency_key == "k1"


def test_retries_stop_at_the_deadline(fake_client):
    policy = RetryPolicy(max_attempts=1000, max_duration=60, initial_interval=0.05)
    client, fake = fake_client([refuse], retry=policy, timeout=0.5)
    started = time.monotonic()
    with pytest.raises(IngressUnavailable) as caught:
        client.service("S").call("h", idempotency_key="k2")
    assert time.monotonic() - started < 1.5
    assert 2 <= len(fake.requests) < 20
    assert caught.value.idempotency_key == "k2"


def test_unavailable_after_retries_carries_the_generated_key(fake_client):
    client, fake = fake_client([refuse], generate_idempotency_keys=True)
    with pytest.raises(IngressUnavailable) as caught:
        client.service("S").call("h")
    assert caught.value.idempotency_key == fake.keys[0] is not None


def test_later_attempts_get_what_is_left_of_the_deadline():
    timeouts: list[dict[str, Any]] = []

    def record(request: httpx.Request) -> httpx.Response:
        timeouts.append(request.extensions["timeout"])
        return refuse(request)

    policy = RetryPolicy(max_attempts=3, initial_interval=0.2, max_interval=0.2, jitter=0)
    with (
        IngressClient(
            "http://restate.test", transport=httpx.MockTransport(Fake([record])), retry=policy
        ) as client,
        pytest.raises(IngressUnavailable),
    ):
        client.service("S").call("h", idempotency_key="k", timeout=2)
    reads = [t["read"] for t in timeouts]
    assert len(reads) == 3
    assert reads[0] == 2 and reads[0] > reads[1] > reads[2] > 0
    assert all(t["connect"] <= 5 for t in timeouts)
