"""Restate goes down while a payment webhook arrives, then comes back.

A restate-server of this module's own (the session's server stays up for everything
else) runs the real SDK workflow ``PaymentWait``, which waits on an awakeable. The
server is stopped by pid; a correctly signed Stripe ``payment_intent.succeeded`` for
that awakeable goes through ``WebhookEndpoint`` with the real ``IngressClient`` or
``AsyncIngressClient`` and must be answered 503 (so Stripe redelivers), after a
short, bounded retry. The same server is started again on the same ports and data;
the redelivery is answered 200 and the workflow completes with the event's data.
The same client object is used across the outage, as a web worker would.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from restate_web.ingress import AsyncIngressClient, IngressClient, RetryPolicy
from restate_web.testing import RestateServer
from restate_web.webhooks import ResolveAwakeable, WebhookEndpoint, WebhookRequest, stripe_webhooks
from restate_web.webhooks._pipeline import WebhookResponse
from restate_web.webhooks._verifiers import StripeVerifier
from tests.conftest import LoopThread, own_restate_stack

SECRET = "whsec_outage_secret"
URL = "https://shop.example/webhooks/stripe"

# Short: connection refused on loopback is immediate, so this gives up in well under a
# second instead of the default 30 s budget. 503 is then the provider's cue to redeliver.
SHORT = RetryPolicy(max_attempts=3, max_duration=2, initial_interval=0.05, max_interval=0.2)

ENDPOINT = WebhookEndpoint(
    stripe_webhooks(SECRET),
    {"payment_intent.succeeded": ResolveAwakeable(payload=lambda e: e.payload["data"]["object"])},
)


@pytest.fixture(scope="module")
def own_server() -> Iterator[RestateServer]:
    with own_restate_stack("the webhook outage tests") as server:
        yield server


class Delivery:
    """Delivers webhooks through the pipeline with one real client of one kind."""

    def __init__(self, kind: str, ingress_url: str, loop_thread: LoopThread) -> None:
        self.kind = kind
        self.loop_thread = loop_thread
        self.sync_client = IngressClient(ingress_url, retry=SHORT)
        self.async_client: AsyncIngressClient | None = None
        if kind == "async":
            self.async_client = loop_thread.run(_make_async(ingress_url))

    def one(self, request: WebhookRequest) -> int:
        if self.async_client is None:
            return ENDPOINT.handle(request, self.sync_client).status
        response: WebhookResponse = self.loop_thread.run(
            ENDPOINT.handle_async(request, self.async_client)
        )
        return response.status

    def concurrently(self, requests: list[WebhookRequest]) -> list[int]:
        if self.async_client is None:
            client = self.sync_client
            with ThreadPoolExecutor(max_workers=len(requests)) as pool:
                return [r.status for r in pool.map(lambda q: ENDPOINT.handle(q, client), requests)]
        async_client = self.async_client

        async def all_at_once() -> list[int]:
            responses = await asyncio.gather(
                *(ENDPOINT.handle_async(q, async_client) for q in requests)
            )
            return [r.status for r in responses]

        statuses: list[int] = self.loop_thread.run(all_at_once())
        return statuses

    def close(self) -> None:
        self.sync_client.close()
        if self.async_client is not None:
            self.loop_thread.run(self.async_client.aclose())


async def _make_async(url: str) -> AsyncIngressClient:
    return AsyncIngressClient(url, retry=SHORT)


@pytest.fixture(params=["sync", "async"])
def delivery(
    request: pytest.FixtureRequest, own_server: RestateServer, loop_thread: LoopThread
) -> Iterator[Delivery]:
    runner = Delivery(request.param, own_server.ingress_url, loop_thread)
    try:
        yield runner
    finally:
        runner.close()
        # Whatever happened in the test, leave the module's server running for the next one.
        own_server.start_again()


@pytest.fixture
def control(own_server: RestateServer) -> Iterator[IngressClient]:
    """A plain client to set up and inspect workflows (not the one under test)."""
    with IngressClient(own_server.ingress_url, retry=RetryPolicy(max_attempts=5)) as client:
        yield client


def start_payment(client: IngressClient, amount: int) -> tuple[str, str]:
    key = f"pay-{uuid.uuid4().hex[:12]}"
    client.workflow("PaymentWait", key).submit(amount)
    awakeable_id = client.workflow("PaymentWait", key).call("awakeable_id", timeout=30)
    assert isinstance(awakeable_id, str) and awakeable_id
    return key, awakeable_id


def succeeded_body(event_id: str, awakeable_id: str, amount: int) -> bytes:
    event = {
        "id": event_id,
        "object": "event",
        "type": "payment_intent.succeeded",
        "data": {
            "object": {
                "id": "pi_" + event_id,
                "object": "payment_intent",
                "amount": amount,
                "metadata": {"restate_awakeable_id": awakeable_id},
            }
        },
    }
    return json.dumps(event).encode()


def signed(body: bytes) -> WebhookRequest:
    """The request Stripe sends for ``body`` now: every redelivery is signed afresh."""
    headers = StripeVerifier(SECRET).sign_headers(body, timestamp=int(time.time()))
    return WebhookRequest("POST", URL, headers, body)


def run_invocations(server: RestateServer, key: str) -> list[dict[str, Any]]:
    """The ``run`` invocations of workflow ``key``, from the server's introspection API."""
    return server.query(
        "SELECT id, status, completion_result FROM sys_invocation "
        f"WHERE target_service_name = 'PaymentWait' AND target_service_key = '{key}' "
        "AND target_handler_name = 'run'"
    )


def assert_paid_once(
    server: RestateServer, control: IngressClient, key: str, event_id: str, amount: int
) -> None:
    result = control.workflow("PaymentWait", key).attach(timeout=60)
    assert result["paid"] is True and result["amount"] == amount
    assert result["result"]["id"] == "pi_" + event_id
    assert result["result"]["amount"] == amount
    runs = run_invocations(server, key)
    assert [(r["status"], r["completion_result"]) for r in runs] == [("completed", "success")]


@pytest.mark.server
@pytest.mark.parametrize("how", ["stop", "kill"])
def test_webhook_during_outage_gets_503_and_the_redelivery_completes_the_workflow(
    own_server: RestateServer, control: IngressClient, delivery: Delivery, how: str
) -> None:
    # Before the outage a payment goes through, so the client under test holds a warm
    # keep-alive connection when the server goes away.
    before_key, before_awakeable = start_payment(control, 700)
    before_body = succeeded_body("evt_" + before_key, before_awakeable, 700)
    assert delivery.one(signed(before_body)) == 200
    assert_paid_once(own_server, control, before_key, "evt_" + before_key, 700)

    key, awakeable_id = start_payment(control, 1130)
    event_id = "evt_" + key
    body = succeeded_body(event_id, awakeable_id, 1130)

    # Stopped by pid: gracefully (SIGTERM), or crashed (SIGKILL, nothing flushed on the way).
    if how == "stop":
        own_server.stop()
    else:
        own_server.kill()
    assert not own_server.running()
    assert delivery.one(signed(body)) == 503
    # A provider may retry while Restate is still down: still 503, nothing lost.
    assert delivery.one(signed(body)) == 503

    own_server.start_again()
    assert delivery.one(signed(body)) == 200
    assert_paid_once(own_server, control, key, event_id, 1130)


@pytest.mark.server
def test_redelivery_storm_after_restart_resolves_once(
    own_server: RestateServer, control: IngressClient, delivery: Delivery
) -> None:
    key, awakeable_id = start_payment(control, 2500)
    event_id = "evt_" + key
    body = succeeded_body(event_id, awakeable_id, 2500)

    own_server.stop()
    assert delivery.one(signed(body)) == 503

    own_server.start_again()
    # Stripe's retries pile up while the endpoint was failing and arrive together:
    # the same event 20 times, 5 one after the other, then 15 at once.
    statuses = [delivery.one(signed(body)) for _ in range(5)]
    statuses += delivery.concurrently([signed(body) for _ in range(15)])
    assert statuses == [200] * 20
    assert_paid_once(own_server, control, key, event_id, 2500)

    # Afterwards the workflow's result is settled: one more delivery changes nothing.
    assert delivery.one(signed(body)) == 200
    assert_paid_once(own_server, control, key, event_id, 2500)
