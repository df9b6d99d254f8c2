"""The webhook endpoint the Django and Flask test apps configure (its provider is what
``check`` compares idempotency retention with)."""

from restate_web.webhooks import ResolveAwakeable, WebhookEndpoint, stripe_webhooks

stripe = WebhookEndpoint(
    stripe_webhooks(["whsec_test"]),
    routes={"payment_intent.succeeded": ResolveAwakeable()},
)
