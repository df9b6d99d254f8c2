"""Shared builders for the webhook tests: one signed-request factory per provider.

The signatures here are computed with plain ``hmac``/``hashlib``/``base64``,
independently of ``restate_web.webhooks``, so a bug in our signing helpers
cannot hide a bug in our verifiers.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from restate_web.webhooks import (
    WebhookProvider,
    WebhookRequest,
    adyen_webhooks,
    github_webhooks,
    hmac_webhooks,
    lemonsqueezy_webhooks,
    paddle_webhooks,
    razorpay_webhooks,
    shopify_webhooks,
    square_webhooks,
    standard_webhooks,
    stripe_webhooks,
)

NOW = 1_700_000_000
URL = "https://shop.example/webhooks/in"


def clock(at: float = NOW) -> Callable[[], float]:
    return lambda: at


def hex_sig(key: bytes, content: bytes) -> str:
    return hmac.new(key, content, hashlib.sha256).hexdigest()


def b64_sig(key: bytes, content: bytes) -> str:
    return base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()


@dataclass
class ProviderCase:
    """How to build a provider and a correctly signed request for it."""

    name: str
    secrets: tuple[str, str]  # (current, previous): the second exercises rotation
    make: Callable[[list[str], Callable[[], float]], WebhookProvider]
    sign: Callable[[str, bytes, int], dict[str, str]]  # (secret, body, timestamp) -> headers
    body: Callable[[], bytes]
    timestamped: bool = False
    tolerance: int = 300

    def request(
        self,
        *,
        secret: str | None = None,
        body: bytes | None = None,
        timestamp: int = NOW,
        extra_headers: dict[str, str] | None = None,
    ) -> WebhookRequest:
        raw = self.body() if body is None else body
        headers = self.sign(secret or self.secrets[0], raw, timestamp)
        headers.update(extra_headers or {})
        return WebhookRequest("POST", URL, headers, raw)

    @property
    def foreign_secret(self) -> str:
        """A well-formed secret that is not configured."""
        if self.name == "standard-webhooks":
            return "whsec_" + base64.b64encode(b"x" * 32).decode()
        if self.name == "adyen":
            return "AB" * 32
        return "not-the-secret"

    def tampered(self, request: WebhookRequest) -> WebhookRequest:
        """The same request with one body byte changed (still valid JSON)."""
        body = request.body.replace(b":", b": ", 1)
        return WebhookRequest(request.method, request.url, request.headers, body)

    def provider(self, now: float = NOW, secrets: list[str] | None = None) -> WebhookProvider:
        return self.make(list(secrets or self.secrets), clock(now))


# ---------------------------------------------------------------- bodies


def stripe_body(awakeable_id: str = "sign_1abc", event_id: str = "evt_1") -> bytes:
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": "payment_intent.succeeded",
            "data": {
                "object": {
                    "id": "pi_1",
                    "object": "payment_intent",
                    "amount": 1130,
                    "metadata": {"restate_awakeable_id": awakeable_id},
                }
            },
        }
    ).encode()


def adyen_item(**overrides: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "pspReference": "7914073381342284",
        "merchantReference": "sign_1adyen",
        "merchantAccountCode": "TestMerchant",
        "amount": {"currency": "EUR", "value": 1130},
        "eventCode": "AUTHORISATION",
        "success": "true",
        "reason": "",
        "additionalData": {"metadata.order": "TestPayment-1407325143704"},
    }
    item.update(overrides)
    return item


def adyen_signing_string(item: dict[str, Any]) -> str:
    amount = item.get("amount", {})
    fields = [
        item.get("pspReference", ""),
        item.get("originalReference", ""),
        item.get("merchantAccountCode", ""),
        item.get("merchantReference", ""),
        amount.get("value", ""),
        amount.get("currency", ""),
        item.get("eventCode", ""),
        item.get("success", ""),
    ]
    return ":".join(str(field) for field in fields)


def adyen_signed_body(hex_key: str, items: list[dict[str, Any]]) -> bytes:
    key = bytes.fromhex(hex_key)
    wrapped = []
    for item in items:
        signed = json.loads(json.dumps(item))
        signed.setdefault("additionalData", {})["hmacSignature"] = b64_sig(
            key, adyen_signing_string(item).encode()
        )
        wrapped.append({"NotificationRequestItem": signed})
    return json.dumps({"live": "false", "notificationItems": wrapped}).encode()


# ---------------------------------------------------------------- cases

STANDARD_SECRETS = (
    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "whsec_" + base64.b64encode(b"k" * 32).decode(),
)
ADYEN_KEYS = (
    "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056",
    "74F490DD33F7327BAECC88B2947C011FC02D014A473AAA33A8EC93E4DC069174",
)


def _standard_sign(secret: str, body: bytes, ts: int) -> dict[str, str]:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    return {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(ts),
        "webhook-signature": "v1," + b64_sig(key, f"msg_1.{ts}.".encode() + body),
    }


def _adyen_body() -> bytes:
    return json.dumps({"notificationItems": [{"NotificationRequestItem": adyen_item()}]}).encode()


def _adyen_sign(secret: str, body: bytes, ts: int) -> dict[str, str]:
    # The Adyen signature lives in the body; sign_body() rewrites it, headers stay empty.
    return {}


CASES: list[ProviderCase] = [
    ProviderCase(
        "stripe",
        ("whsec_current", "whsec_previous"),
        lambda s, now: stripe_webhooks(s, now=now),
        lambda secret, body, ts: {
            "Stripe-Signature": f"t={ts},v1=" + hex_sig(secret.encode(), f"{ts}.".encode() + body)
        },
        stripe_body,
        timestamped=True,
    ),
    ProviderCase(
        "standard-webhooks",
        STANDARD_SECRETS,
        lambda s, now: standard_webhooks(s, now=now),
        _standard_sign,
        lambda: json.dumps({"type": "invoice.paid", "data": {"id": "inv_1"}}).encode(),
        timestamped=True,
    ),
    ProviderCase(
        "paddle",
        ("pdl_ntfset_current", "pdl_ntfset_previous"),
        lambda s, now: paddle_webhooks(s, now=now),
        lambda secret, body, ts: {
            "Paddle-Signature": f"ts={ts};h1=" + hex_sig(secret.encode(), f"{ts}:".encode() + body)
        },
        lambda: json.dumps(
            {"event_id": "evt_01", "event_type": "transaction.completed", "data": {}}
        ).encode(),
        timestamped=True,
        tolerance=5,
    ),
    ProviderCase(
        "square",
        ("square-key-current", "square-key-previous"),
        lambda s, now: square_webhooks(s, notification_url=URL),
        lambda secret, body, ts: {
            "x-square-hmacsha256-signature": b64_sig(secret.encode(), URL.encode() + body)
        },
        lambda: json.dumps({"event_id": "e-1", "type": "payment.updated", "data": {}}).encode(),
    ),
    ProviderCase(
        "razorpay",
        ("rzp-current", "rzp-previous"),
        lambda s, now: razorpay_webhooks(s),
        lambda secret, body, ts: {
            "X-Razorpay-Signature": hex_sig(secret.encode(), body),
            "x-razorpay-event-id": "Ev_1",
        },
        lambda: json.dumps({"event": "payment.captured", "payload": {}}).encode(),
    ),
    ProviderCase(
        "github",
        ("gh-current", "gh-previous"),
        lambda s, now: github_webhooks(s),
        lambda secret, body, ts: {
            "X-Hub-Signature-256": "sha256=" + hex_sig(secret.encode(), body),
            "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
            "X-GitHub-Event": "repository_dispatch",
        },
        lambda: json.dumps({"action": "deploy", "client_payload": {}}).encode(),
    ),
    ProviderCase(
        "shopify",
        ("shpss_current", "shpss_previous"),
        lambda s, now: shopify_webhooks(s),
        lambda secret, body, ts: {
            "X-Shopify-Hmac-SHA256": b64_sig(secret.encode(), body),
            "X-Shopify-Webhook-Id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
            "X-Shopify-Topic": "orders/paid",
        },
        lambda: json.dumps({"id": 820982911946154508, "note_attributes": []}).encode(),
    ),
    ProviderCase(
        "lemonsqueezy",
        ("ls-current", "ls-previous"),
        lambda s, now: lemonsqueezy_webhooks(s),
        lambda secret, body, ts: {"X-Signature": hex_sig(secret.encode(), body)},
        lambda: json.dumps(
            {
                "meta": {"event_name": "order_created", "custom_data": {}},
                "data": {"id": "1", "attributes": {"updated_at": "2024-01-01T00:00:00Z"}},
            }
        ).encode(),
    ),
    ProviderCase(
        "hmac",
        ("generic-current", "generic-previous"),
        lambda s, now: hmac_webhooks(
            s,
            header="X-Acme-Signature",
            prefix="v1=",
            timestamp_header="X-Acme-Timestamp",
            signed_content="{timestamp}.{body}",
            now=now,
        ),
        lambda secret, body, ts: {
            "X-Acme-Timestamp": str(ts),
            "X-Acme-Signature": "v1=" + hex_sig(secret.encode(), f"{ts}.".encode() + body),
        },
        lambda: json.dumps({"id": "acme_1", "type": "thing.done"}).encode(),
        timestamped=True,
    ),
]


@dataclass
class AdyenCase(ProviderCase):
    """Adyen signs inside the body, so 'signing' rewrites the body rather than adding headers."""

    def request(
        self,
        *,
        secret: str | None = None,
        body: bytes | None = None,
        timestamp: int = NOW,
        extra_headers: dict[str, str] | None = None,
    ) -> WebhookRequest:
        raw = self.body() if body is None else body
        items = [w["NotificationRequestItem"] for w in json.loads(raw)["notificationItems"]]
        signed = adyen_signed_body(secret or self.secrets[0], items)
        return WebhookRequest("POST", URL, extra_headers or {}, signed)

    def tampered(self, request: WebhookRequest) -> WebhookRequest:
        document = json.loads(request.body)
        document["notificationItems"][0]["NotificationRequestItem"]["amount"]["value"] += 1
        return WebhookRequest("POST", URL, request.headers, json.dumps(document).encode())


CASES.append(
    AdyenCase(
        "adyen",
        ADYEN_KEYS,
        lambda s, now: adyen_webhooks(s),
        _adyen_sign,
        _adyen_body,
    )
)

CASES_BY_NAME = {case.name: case for case in CASES}

SIGNATURE_HEADERS = {
    "stripe": "Stripe-Signature",
    "standard-webhooks": "webhook-signature",
    "paddle": "Paddle-Signature",
    "square": "x-square-hmacsha256-signature",
    "razorpay": "X-Razorpay-Signature",
    "github": "X-Hub-Signature-256",
    "shopify": "X-Shopify-Hmac-SHA256",
    "lemonsqueezy": "X-Signature",
    "hmac": "X-Acme-Signature",
}
"""Where each header-signed provider puts its signature (always at the end of the value)."""


def with_header(request: WebhookRequest, name: str, value: str | None) -> WebhookRequest:
    """A copy of ``request`` with header ``name`` replaced (or removed when ``value`` is None)."""
    pairs = [(k, v) for k, v in request.headers.items_all() if k != name.lower()]
    if value is not None:
        pairs.append((name, value))
    return WebhookRequest(request.method, request.url, pairs, request.body)
