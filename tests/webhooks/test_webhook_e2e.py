"""End to end: signed webhooks through the pipeline into a real restate-server.

A real SDK workflow (tests/restate_services.py ``PaymentWait``) waits on an
awakeable; a signed Stripe ``payment_intent.succeeded`` carrying its id goes
through ``WebhookEndpoint`` with the real ``IngressClient`` or
``AsyncIngressClient`` and resolves it.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from square.utils.webhooks_helper import verify_signature

from restate_web.ingress import AsyncIngressClient, IngressClient, InvocationFailed, RetryPolicy
from restate_web.testing import RestateServer, free_port
from restate_web.webhooks import (
    CallbackEndpoint,
    DeadLetter,
    RejectAwakeable,
    ResolveAwakeable,
    SendToHandler,
    WebhookEndpoint,
    WebhookRequest,
    make_callback_url,
    make_reject_callback_url,
    square_reference_id,
    square_webhooks,
    stripe_webhooks,
)
from restate_web.webhooks._events import WebhookEvent
from restate_web.webhooks._pipeline import ResolveStep, WebhookResponse, dead_letter_key
from restate_web.webhooks._verifiers import StripeVerifier

SECRET = "whsec_e2e_secret"
CALLBACK_SECRET = "e2e-callback-secret-0123456789abcdef"
URL = "https://shop.example/webhooks/stripe"

ENDPOINT = WebhookEndpoint(
    stripe_webhooks(SECRET),
    {
        "payment_intent.succeeded": ResolveAwakeable(payload=lambda e: e.payload["data"]["object"]),
        "payment_intent.payment_failed": RejectAwakeable(),
    },
    # Greeter/echo stands in for a dead-letter handler: its result is what it was sent.
    dead_letter=DeadLetter("Greeter", "echo"),
)


class Delivery:
    """Runs the pipeline with the real client of one kind (sync or async)."""

    def __init__(self, kind: str, ingress_url: str, loop_thread: Any) -> None:
        self.kind = kind
        self.loop_thread = loop_thread
        policy = RetryPolicy(max_attempts=3, max_duration=10)
        self.sync = IngressClient(ingress_url, retry=policy)
        self.async_client: AsyncIngressClient | None = None
        if kind == "async":
            self.async_client = loop_thread.run(_make_async(ingress_url, policy))

    def deliver(self, endpoint: Any, request: WebhookRequest, times: int = 1) -> list[int]:
        if self.async_client is None:
            with ThreadPoolExecutor(max_workers=8) as pool:
                responses = list(
                    pool.map(lambda _: endpoint.handle(request, self.sync), range(times))
                )
        else:
            client = self.async_client

            async def all_at_once() -> list[WebhookResponse]:
                return list(
                    await asyncio.gather(
                        *(endpoint.handle_async(request, client) for _ in range(times))
                    )
                )

            responses = self.loop_thread.run(all_at_once())
        return [response.status for response in responses]

    def close(self) -> None:
        self.sync.close()
        if self.async_client is not None:
            self.loop_thread.run(self.async_client.aclose())


async def _make_async(url: str, policy: RetryPolicy) -> AsyncIngressClient:
    return AsyncIngressClient(url, retry=policy)


@pytest.fixture(params=["sync", "async"])
def delivery(
    request: pytest.FixtureRequest, ingress_url: str, loop_thread: Any
) -> Iterator[Delivery]:
    runner = Delivery(request.param, ingress_url, loop_thread)
    yield runner
    runner.close()


def start_payment(client: IngressClient, amount: int) -> tuple[str, str]:
    """Start a PaymentWait workflow; return its key and the awakeable id it waits on."""
    key = f"pay-{uuid.uuid4().hex[:12]}"
    client.workflow("PaymentWait", key).submit(amount)
    awakeable_id = client.workflow("PaymentWait", key).call("awakeable_id", timeout=30)
    assert isinstance(awakeable_id, str) and awakeable_id
    return key, awakeable_id


def stripe_request(event: dict[str, Any], *, timestamp: int | None = None) -> WebhookRequest:
    body = json.dumps(event).encode()
    headers = StripeVerifier(SECRET).sign_headers(body, timestamp=timestamp or int(time.time()))
    return WebhookRequest("POST", URL, headers, body)


def payment_event(
    event_type: str, event_id: str, awakeable_id: str, **fields: Any
) -> dict[str, Any]:
    return {
        "id": event_id,
        "object": "event",
        "type": event_type,
        "data": {
            "object": {
                "id": "pi_" + event_id,
                "object": "payment_intent",
                "amount": 1130,
                "metadata": {"restate_awakeable_id": awakeable_id},
                **fields,
            }
        },
    }


@pytest.mark.server
def test_stripe_payment_resolves_the_waiting_handler_once(delivery: Delivery) -> None:
    key, awakeable_id = start_payment(delivery.sync, 1130)
    event_id = "evt_" + key
    succeeded = stripe_request(payment_event("payment_intent.succeeded", event_id, awakeable_id))

    # Stripe may deliver the same event many times, even concurrently.
    assert delivery.deliver(ENDPOINT, succeeded, times=20) == [200] * 20

    # A later, contradicting event for the same awakeable is acknowledged but changes nothing:
    # Restate keeps the first completion.
    failed = stripe_request(
        payment_event(
            "payment_intent.payment_failed",
            event_id + "_late",
            awakeable_id,
            last_payment_error={"message": "declined"},
        )
    )
    assert delivery.deliver(ENDPOINT, failed) == [200]

    result = delivery.sync.workflow("PaymentWait", key).attach(timeout=30)
    assert result["paid"] is True and result["amount"] == 1130
    assert result["result"]["id"] == "pi_" + event_id
    assert result["result"]["metadata"] == {"restate_awakeable_id": awakeable_id}


@pytest.mark.server
def test_stripe_payment_failure_rejects_with_the_provider_reason(delivery: Delivery) -> None:
    key, awakeable_id = start_payment(delivery.sync, 99)
    failed = stripe_request(
        payment_event(
            "payment_intent.payment_failed",
            "evt_" + key,
            awakeable_id,
            last_payment_error={"message": "Your card was declined."},
        )
    )
    assert delivery.deliver(ENDPOINT, failed) == [200]
    result = delivery.sync.workflow("PaymentWait", key).attach(timeout=30)
    assert result == {"amount": 99, "paid": False, "reason": "Your card was declined."}


@pytest.mark.server
def test_forged_webhook_reaches_nothing(delivery: Delivery) -> None:
    key, awakeable_id = start_payment(delivery.sync, 5)
    event = payment_event("payment_intent.succeeded", "evt_" + key, awakeable_id)
    body = json.dumps(event).encode()
    forged_headers = StripeVerifier("whsec_attacker").sign_headers(body)
    forged = WebhookRequest("POST", URL, forged_headers, body)
    assert delivery.deliver(ENDPOINT, forged) == [400]
    stale = stripe_request(event, timestamp=int(time.time()) - 3600)
    assert delivery.deliver(ENDPOINT, stale) == [400]
    # Still waiting: complete it for real so the workflow does not linger.
    assert delivery.deliver(ENDPOINT, stripe_request(event)) == [200]
    assert delivery.sync.workflow("PaymentWait", key).attach(timeout=30)["paid"] is True


@pytest.mark.server
def test_invalid_awakeable_id_is_acknowledged_and_dead_lettered(delivery: Delivery) -> None:
    event_id = f"evt_bad_{uuid.uuid4().hex[:12]}"
    bogus = stripe_request(
        payment_event("payment_intent.succeeded", event_id, "sign_1notAnAwakeable")
    )
    assert delivery.deliver(ENDPOINT, bogus, times=3) == [200, 200, 200]
    # The dead letter went to Greeter/echo once, keyed by event and failed step: calling with
    # the same key returns that first invocation's result.
    letter = delivery.sync.service("Greeter").call(
        "echo", "probe", idempotency_key=letter_key(event_id, "sign_1notAnAwakeable")
    )
    assert letter["id"] == event_id and letter["provider"] == "stripe"
    assert letter["error"]["status"] == 400
    assert letter["action"] == "resolve awakeable sign_1notAnAwakeable"


@pytest.mark.server
def test_a_sent_handler_failing_terminally_is_not_a_dead_letter(
    delivery: Delivery, restate_server: RestateServer
) -> None:
    """README "Dead letters": SendToHandler only sends; the handler's later terminal error is
    the invocation's outcome in Restate, and the webhook answers 200 without a dead letter."""
    event_id = f"evt_fail_{uuid.uuid4().hex[:12]}"
    endpoint = WebhookEndpoint(
        stripe_webhooks(SECRET),
        {"payment_intent.succeeded": SendToHandler("Greeter", "fail", arg=lambda e: 422)},
        dead_letter=DeadLetter("Greeter", "echo"),
    )
    request = stripe_request(payment_event("payment_intent.succeeded", event_id, "sign_1x"))
    assert delivery.deliver(endpoint, request, times=2) == [200, 200]
    with pytest.raises(InvocationFailed) as failed:
        delivery.sync.service("Greeter").call("fail", 422, idempotency_key=event_id, timeout=30)
    assert failed.value.message == "failed on purpose with 422"
    letters = restate_server.query(
        "SELECT id FROM sys_invocation WHERE target_service_name = 'Greeter' "
        f"AND target_handler_name = 'echo' AND idempotency_key LIKE '{event_id}%'"
    )
    assert letters == []


def letter_key(event_id: str, awakeable_id: str) -> str:
    """The idempotency key of the dead letter for a failed resolve of ``awakeable_id``."""
    event = WebhookEvent("stripe", event_id, "payment_intent.succeeded", {})
    return dead_letter_key(event, ResolveStep(event, awakeable_id, None))


@pytest.mark.server
def test_two_failed_steps_of_one_event_give_two_dead_letters(
    delivery: Delivery, restate_server: RestateServer
) -> None:
    """Defect 6: every dead letter of an event used the event id as its key, so the second
    failed step's letter was a duplicate of the first and its body was dropped."""
    event_id = f"evt_two_{uuid.uuid4().hex[:12]}"
    endpoint = WebhookEndpoint(
        stripe_webhooks(SECRET),
        {
            "payment_intent.succeeded": [
                ResolveAwakeable(awakeable_id=lambda e: "sign_1firstBogus"),
                ResolveAwakeable(awakeable_id=lambda e: "sign_1secondBogus"),
            ]
        },
        dead_letter=DeadLetter("Greeter", "echo"),
    )
    request = stripe_request(payment_event("payment_intent.succeeded", event_id, "sign_1x"))
    # Redelivered three times: still one letter per failed step.
    assert delivery.deliver(endpoint, request, times=3) == [200, 200, 200]
    rows = restate_server.query(
        "SELECT idempotency_key FROM sys_invocation WHERE target_service_name = 'Greeter' "
        f"AND target_handler_name = 'echo' AND idempotency_key LIKE '{event_id}%'"
    )
    assert len(rows) == 2
    letters = [
        delivery.sync.service("Greeter").call(
            "echo", "probe", idempotency_key=letter_key(event_id, awakeable_id)
        )
        for awakeable_id in ("sign_1firstBogus", "sign_1secondBogus")
    ]
    assert [letter["action"] for letter in letters] == [
        "resolve awakeable sign_1firstBogus",
        "resolve awakeable sign_1secondBogus",
    ]
    assert all(letter["id"] == event_id and letter["error"]["status"] == 400 for letter in letters)


@pytest.mark.server
def test_signed_callback_urls_resolve_and_reject(delivery: Delivery) -> None:
    callbacks = CallbackEndpoint(CALLBACK_SECRET)
    base = "https://app.example/restate/callback"

    key, awakeable_id = start_payment(delivery.sync, 7)
    url = make_callback_url(base, awakeable_id, CALLBACK_SECRET, ttl=600)
    moved = url.replace(awakeable_id, awakeable_id[:-2] + "AA")
    assert delivery.deliver(callbacks, WebhookRequest("POST", moved, {}, b"{}")) == [403]
    approve = WebhookRequest("POST", url, {}, b'{"approved_by": "ada"}')
    assert delivery.deliver(callbacks, approve, times=3) == [200, 200, 200]
    result = delivery.sync.workflow("PaymentWait", key).attach(timeout=30)
    assert result == {"amount": 7, "paid": True, "result": {"approved_by": "ada"}}

    key, awakeable_id = start_payment(delivery.sync, 8)
    expired = make_reject_callback_url(
        base, awakeable_id, CALLBACK_SECRET, ttl=1, now=time.time() - 60
    )
    assert delivery.deliver(callbacks, WebhookRequest("POST", expired, {}, b"")) == [410]
    reject = make_reject_callback_url(base, awakeable_id, CALLBACK_SECRET, ttl=600)
    assert delivery.deliver(callbacks, WebhookRequest("POST", reject, {}, b'"not approved"')) == [
        200
    ]
    result = delivery.sync.workflow("PaymentWait", key).attach(timeout=30)
    assert result == {"amount": 8, "paid": False, "reason": "not approved"}


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_unreachable_restate_answers_503(kind: str) -> None:
    # A real client pointed at a port nothing listens on: no server needed.
    dead_url = f"http://127.0.0.1:{free_port()}"
    request = stripe_request(payment_event("payment_intent.succeeded", "evt_down", "sign_1x"))
    if kind == "sync":
        with IngressClient(dead_url, retry=False) as client:
            response = ENDPOINT.handle(request, client)
    else:

        async def go() -> WebhookResponse:
            async with AsyncIngressClient(dead_url, retry=False) as client:
                return await ENDPOINT.handle_async(request, client)

        response = asyncio.run(go())
    assert response.status == 503


@pytest.mark.server
def test_square_payment_resolves_through_reference_id_not_the_note(delivery: Delivery) -> None:
    """Square's default awakeable-id location is the payment's reference_id (40 characters,
    not shown to the customer), written with square_reference_id(); the note may be shown."""
    key, awakeable_id = start_payment(delivery.sync, 310)
    reference = square_reference_id(awakeable_id)
    assert len(reference) <= 40  # Square's limit for reference_id
    endpoint = WebhookEndpoint(
        square_webhooks("square-signature-key", notification_url=URL),
        {
            "payment.updated": ResolveAwakeable(
                payload=lambda e: e.payload["data"]["object"]["payment"]
            )
        },
    )
    payment = {"id": "pay_1", "status": "COMPLETED", "reference_id": reference, "note": "Thanks!"}
    body = json.dumps(
        {
            "event_id": f"sq-{key}",
            "type": "payment.updated",
            "data": {"type": "payment", "id": "pay_1", "object": {"payment": payment}},
        }
    )
    signature = base64.b64encode(
        hmac.new(b"square-signature-key", (URL + body).encode(), hashlib.sha256).digest()
    ).decode()
    assert verify_signature(  # Square's own verifier accepts the delivery
        request_body=body,
        signature_header=signature,
        signature_key="square-signature-key",
        notification_url=URL,
    )
    headers = {"x-square-hmacsha256-signature": signature}
    request = WebhookRequest("POST", URL, headers, body.encode())
    assert delivery.deliver(endpoint, request) == [200]
    result = delivery.sync.workflow("PaymentWait", key).attach(timeout=30)
    assert result == {"amount": 310, "paid": True, "result": payment}
