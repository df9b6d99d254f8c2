"""What every sample's views do, framework-free: the order request and the webhook endpoint."""

from __future__ import annotations

import functools
from typing import Any

from restate_web.webhooks import RejectAwakeable, ResolveAwakeable, WebhookEndpoint, stripe_webhooks

from .config import webhook_secret


def order_request(body: Any) -> dict[str, Any]:
    """Validate POST /orders input; raises ValueError with a message for the client."""
    if not isinstance(body, dict) or not isinstance(body.get("sku"), str) or not body["sku"]:
        raise ValueError(
            'send JSON like {"sku": "book", "quantity": 1, "card": "4242424242424242"}'
        )
    quantity = body.get("quantity", 1)
    if not isinstance(quantity, int) or not 1 <= quantity <= 100:
        raise ValueError("quantity must be a whole number from 1 to 100")
    return {
        "sku": body["sku"],
        "quantity": quantity,
        "card": str(body.get("card", "4242424242424242")),
        "amount": int(body.get("amount", 1999)),
        "duplicate_webhook": bool(body.get("duplicate_webhook", False)),
    }


@functools.cache
def stripe_endpoint() -> WebhookEndpoint:
    """payment_intent.succeeded resolves the order's awakeable, .payment_failed rejects it
    (with Stripe's last_payment_error.message); every other event type is acknowledged.

    Built on first use, so that `manage.py check` and imports work without the secret set."""
    return WebhookEndpoint(
        stripe_webhooks(webhook_secret()),
        routes={
            "payment_intent.succeeded": ResolveAwakeable(),
            "payment_intent.payment_failed": RejectAwakeable(),
        },
    )


async def misuse_durable_helper() -> None:
    """What the debug route does wrong on purpose: call durable-only code from a web view.

    Charging a card outside a Restate handler would not be journaled: a retried request could
    charge twice. The guard refuses before anything is sent to the provider."""
    from .payments import create_payment_intent

    await create_payment_intent("debug", 100, "4242424242424242", "sign_none")
