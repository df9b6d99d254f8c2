"""Defect 7: Shopify, GitHub and Razorpay sign only the body, while their delivery ids and (for
Shopify and GitHub) event types travel in headers. A captured body replayed with a new delivery
id must not start a second invocation, and a rewritten type header must not route the body to
another handler.

Each scenario goes through ``WebhookEndpoint`` with the real ``IngressClient`` into the real
restate-server: the routes add 1 to a ``Counter`` virtual object (tests/restate_services.py),
so the counter says how many invocations the deliveries started.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import razorpay

from restate_web.ingress import IngressClient
from restate_web.webhooks import (
    SendToHandler,
    WebhookEndpoint,
    WebhookRequest,
    github_webhooks,
    razorpay_webhooks,
    shopify_webhooks,
)

SECRET = "identity-test-secret"
URL = "https://shop.example/webhooks/in"


@pytest.fixture
def client(ingress_url: str) -> Iterator[IngressClient]:
    with IngressClient(ingress_url) as ingress:
        yield ingress


def count_to(key: str) -> SendToHandler:
    return SendToHandler("Counter", "add", key=lambda event: key, arg=lambda event: 1)


def total(client: IngressClient, key: str) -> int:
    # An exclusive call queues behind the sends accepted before it: it sees all of them.
    value: int = client.object("Counter", key).call("add", 0)
    return value


def deliver(
    endpoint: WebhookEndpoint, client: IngressClient, body: bytes, headers: dict[str, str]
) -> int:
    return endpoint.handle(WebhookRequest("POST", URL, headers, body), client).status


def fresh_key() -> str:
    return f"identity-{uuid.uuid4().hex[:12]}"


def test_shopify_replay_with_new_webhook_id_or_rewritten_topic_starts_nothing(
    client: IngressClient,
) -> None:
    orders, products = fresh_key(), fresh_key()
    endpoint = WebhookEndpoint(
        shopify_webhooks(SECRET),
        {"orders/create": count_to(orders), "products/update": count_to(products)},
    )
    body = json.dumps(
        {
            "id": 820982911946154508,
            "admin_graphql_api_id": "gid://shopify/Order/820982911946154508",
            "email": "jon@example.com",
            "financial_status": "paid",
        }
    ).encode()
    signature = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest())

    def headers(webhook_id: str, topic: str) -> dict[str, str]:
        return {
            "X-Shopify-Hmac-SHA256": signature.decode(),
            "X-Shopify-Topic": topic,
            "X-Shopify-Webhook-Id": webhook_id,
        }

    assert deliver(endpoint, client, body, headers(str(uuid.uuid4()), "orders/create")) == 200
    # The captured request replayed with a new delivery id: acknowledged, nothing started.
    assert deliver(endpoint, client, body, headers(str(uuid.uuid4()), "orders/create")) == 200
    # ... and with the topic rewritten to reach another handler: the body is an Order.
    assert deliver(endpoint, client, body, headers(str(uuid.uuid4()), "products/update")) == 400
    assert (total(client, orders), total(client, products)) == (1, 0)


def test_github_replay_with_new_delivery_or_rewritten_event_starts_nothing(
    client: IngressClient,
) -> None:
    pulls, issues = fresh_key(), fresh_key()
    endpoint = WebhookEndpoint(
        github_webhooks(SECRET),
        {"pull_request.opened": count_to(pulls), "issues.opened": count_to(issues)},
    )
    body = json.dumps(
        {
            "action": "opened",
            "number": 7,
            "pull_request": {"id": 1, "number": 7, "title": "Fix"},
            "repository": {"full_name": "octo/repo"},
        }
    ).encode()
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()

    def headers(delivery: str, event: str) -> dict[str, str]:
        return {
            "X-Hub-Signature-256": signature,
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery,
        }

    assert deliver(endpoint, client, body, headers(str(uuid.uuid4()), "pull_request")) == 200
    assert deliver(endpoint, client, body, headers(str(uuid.uuid4()), "pull_request")) == 200
    assert deliver(endpoint, client, body, headers(str(uuid.uuid4()), "issues")) == 400
    assert (total(client, pulls), total(client, issues)) == (1, 0)


def test_razorpay_replay_with_new_event_id_starts_nothing(client: IngressClient) -> None:
    payments = fresh_key()
    endpoint = WebhookEndpoint(razorpay_webhooks(SECRET), {"payment.captured": count_to(payments)})
    document: dict[str, Any] = {
        "entity": "event",
        "event": "payment.captured",
        "payload": {"payment": {"entity": {"id": "pay_29QQoUBi66xm2f", "amount": 5000}}},
        "created_at": 1_700_000_000,
    }
    body = json.dumps(document).encode()
    signature = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    # The capture is genuine for Razorpay's own library, whatever the event-id header says.
    assert razorpay.Client().utility.verify_webhook_signature(body.decode(), signature, SECRET)
    for _ in range(2):
        headers = {"X-Razorpay-Signature": signature, "X-Razorpay-Event-Id": uuid.uuid4().hex}
        assert deliver(endpoint, client, body, headers) == 200
    assert total(client, payments) == 1
