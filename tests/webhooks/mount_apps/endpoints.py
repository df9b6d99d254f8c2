"""The webhook endpoints the mount tests configure by dotted path, in every framework."""

from __future__ import annotations

import os

from restate_web.webhooks import (
    CallbackEndpoint,
    RejectAwakeable,
    ResolveAwakeable,
    WebhookEndpoint,
    stripe_webhooks,
)

MAX_BODY = 64 * 1024


def stripe() -> WebhookEndpoint:
    """A factory: the secret is read when the endpoint is first used, not at import."""
    return WebhookEndpoint(
        stripe_webhooks(os.environ["TEST_STRIPE_SECRET"]),
        routes={
            "payment_intent.succeeded": ResolveAwakeable(),
            "payment_intent.payment_failed": RejectAwakeable(),
        },
        max_body_size=MAX_BODY,
    )


def callbacks() -> CallbackEndpoint:
    return CallbackEndpoint(os.environ["TEST_CALLBACK_SECRET"], max_body_size=MAX_BODY)


WEBHOOKS = {
    "stripe": "tests.webhooks.mount_apps.endpoints:stripe",
    "callbacks": "tests.webhooks.mount_apps.endpoints:callbacks",
}
