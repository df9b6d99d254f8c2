"""Every webhook outcome is one record on the ``restate_web.webhooks`` logger with the provider,
event id, action and result, and no record ever carries the body, a secret, a signature or an
awakeable id (whoever knows one can complete the awakeable).

Run through ``WebhookEndpoint`` with the real ``IngressClient`` against the real restate-server
(an unreachable ingress for the 503 case)."""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import Any

import pytest

from restate_web.ingress import IngressClient
from restate_web.testing import free_port
from restate_web.webhooks import (
    DeadLetter,
    ResolveAwakeable,
    WebhookEndpoint,
    WebhookRequest,
    stripe_webhooks,
)
from restate_web.webhooks._verifiers import StripeVerifier

SECRET = "whsec_logging_secret_value"
BODY_MARKER = "customer-card-holder-name"

ENDPOINT = WebhookEndpoint(
    stripe_webhooks(SECRET),
    {"payment_intent.succeeded": ResolveAwakeable()},
    dead_letter=DeadLetter("Greeter", "echo"),
)


def request(event_type: str, awakeable_id: str = "sign_1notAnAwakeable") -> WebhookRequest:
    event: dict[str, Any] = {
        "id": f"evt_{uuid.uuid4().hex[:12]}",
        "type": event_type,
        "data": {
            "object": {
                "billing": BODY_MARKER,
                "metadata": {"restate_awakeable_id": awakeable_id},
            }
        },
    }
    body = json.dumps(event).encode()
    headers = StripeVerifier(SECRET).sign_headers(body, timestamp=int(time.time()))
    return WebhookRequest("POST", "https://shop.example/webhooks/stripe", headers, body)


def outcomes(caplog: pytest.LogCaptureFixture) -> list[tuple[Any, ...]]:
    return [
        (
            r.webhook_provider,
            r.webhook_event_id,
            r.webhook_action,
            r.webhook_result,
            r.webhook_status,
        )
        for r in caplog.records
        if r.name == "restate_web.webhooks" and hasattr(r, "webhook_result")
    ]


def assert_nothing_secret_logged(caplog: pytest.LogCaptureFixture, *requests: WebhookRequest):
    text = caplog.text
    assert SECRET not in text
    assert BODY_MARKER not in text
    for sent in requests:
        assert sent.headers["stripe-signature"] not in text
        assert sent.body.decode() not in text
        awakeable_id = json.loads(sent.body)["data"]["object"]["metadata"]["restate_awakeable_id"]
        assert awakeable_id not in text


def test_each_outcome_is_logged_with_event_action_and_result(
    ingress_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    ignored = request("customer.created")
    forged = request("payment_intent.succeeded")
    forged = WebhookRequest(
        "POST", forged.url, forged.headers, forged.body.replace(b"billing", b"biling")
    )
    refused = request("payment_intent.succeeded")  # Restate refuses the bogus awakeable id
    with caplog.at_level(logging.INFO, "restate_web.webhooks"), IngressClient(ingress_url) as c:
        assert ENDPOINT.handle(ignored, c, timeout=5).status == 200
        assert ENDPOINT.handle(forged, c, timeout=5).status == 400
        assert ENDPOINT.handle(refused, c, timeout=5).status == 200
    event_of = {sent: json.loads(sent.body)["id"] for sent in (ignored, refused)}
    assert outcomes(caplog) == [
        ("stripe", event_of[ignored], "-", "ignored", 200),
        ("stripe", "-", "-", "verification_failed:bad_signature", 400),
        ("stripe", event_of[refused], "resolve_awakeable", "dead_lettered", 200),
    ]
    assert_nothing_secret_logged(caplog, ignored, forged, refused)


def test_restate_unreachable_is_logged_as_retry(caplog: pytest.LogCaptureFixture) -> None:
    sent = request("payment_intent.succeeded")
    dead = f"http://127.0.0.1:{free_port()}"
    with (
        caplog.at_level(logging.INFO, "restate_web.webhooks"),
        IngressClient(dead, retry=False) as client,
    ):
        assert ENDPOINT.handle(sent, client, timeout=1).status == 503
    assert outcomes(caplog) == [
        ("stripe", json.loads(sent.body)["id"], "resolve_awakeable", "retry", 503)
    ]
    assert_nothing_secret_logged(caplog, sent)
