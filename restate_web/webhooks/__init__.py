"""Verified provider webhooks that resolve Restate awakeables or start handlers.

Mount a :class:`WebhookEndpoint` (one provider's webhook URL) or a :class:`CallbackEndpoint`
(signed callback URLs) with your framework's webhook mount (``webhook_router``,
``webhook_blueprint``, ``restate_web.adapters.django.urls``), or call
``endpoint.handle(WebhookRequest(...), client)`` yourself. The README's Webhooks section
documents each provider, route action and response.
"""

from ._callbacks import CallbackEndpoint, make_callback_url, make_reject_callback_url
from ._errors import (
    WebhookConfigurationError,
    WebhookError,
    WebhookParseError,
    WebhookVerificationError,
)
from ._events import JsonEventParser, WebhookEvent, first_of, named_attribute
from ._pipeline import (
    DeadLetter,
    Ignore,
    RejectAwakeable,
    ResolveAwakeable,
    SendToHandler,
    SubmitWorkflow,
    WebhookEndpoint,
)
from ._providers import (
    WebhookProvider,
    adyen_webhooks,
    github_webhooks,
    hmac_webhooks,
    lemonsqueezy_webhooks,
    paddle_webhooks,
    razorpay_webhooks,
    shopify_webhooks,
    square_reference_id,
    square_webhooks,
    standard_webhooks,
    stripe_webhooks,
)
from ._request import WebhookRequest
from ._verifiers import WebhookVerifier

__all__ = [
    "CallbackEndpoint",
    "DeadLetter",
    "Ignore",
    "JsonEventParser",
    "RejectAwakeable",
    "ResolveAwakeable",
    "SendToHandler",
    "SubmitWorkflow",
    "WebhookConfigurationError",
    "WebhookEndpoint",
    "WebhookError",
    "WebhookEvent",
    "WebhookParseError",
    "WebhookProvider",
    "WebhookRequest",
    "WebhookVerificationError",
    "WebhookVerifier",
    "adyen_webhooks",
    "first_of",
    "github_webhooks",
    "hmac_webhooks",
    "lemonsqueezy_webhooks",
    "make_callback_url",
    "make_reject_callback_url",
    "named_attribute",
    "paddle_webhooks",
    "razorpay_webhooks",
    "shopify_webhooks",
    "square_reference_id",
    "square_webhooks",
    "standard_webhooks",
    "stripe_webhooks",
]
