"""Providers: a verifier, an event parser and default extractors, bundled.

Pick one factory per webhook endpoint, e.g. ``stripe_webhooks(["whsec_..."])``,
and hand it to a :class:`~restate_web.webhooks._pipeline.WebhookEndpoint`.

Default awakeable-id extractors (where a durable handler should put the id of
the awakeable it waits on when it creates the payment, order, checkout...):

=================  ==========================================================
Provider           Default awakeable-id location
=================  ==========================================================
Stripe             ``data.object.metadata.restate_awakeable_id``
Standard Webhooks  ``data.metadata.restate_awakeable_id``
Adyen              ``additionalData.metadata.restate_awakeable_id`` (request
                   ``metadata``; Adyen echoes it flattened, which is handled)
Paddle             ``data.custom_data.restate_awakeable_id``
Square             ``data.object.payment.reference_id``, written with
                   :func:`square_reference_id` (payments have no metadata,
                   ``reference_id`` holds 40 characters and an awakeable id
                   44; the ``note`` can appear on receipts)
Razorpay           ``notes.restate_awakeable_id`` of the payment, order,
                   subscription or payment link entity in ``payload``
GitHub             ``client_payload.restate_awakeable_id``
                   (``repository_dispatch``)
Shopify            the ``restate_awakeable_id`` entry of ``note_attributes``
Lemon Squeezy      ``meta.custom_data.restate_awakeable_id`` (checkout custom
                   data)
=================  ==========================================================

Default reject reasons: Stripe ``data.object.last_payment_error.message``,
Adyen ``reason``, Paddle ``data.payments.0.error_code``, Razorpay
``payload.payment.entity.error_description``; others fall back to a generic
reason naming the event.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from ._events import (
    AWAKEABLE_ID_KEY,
    EventParser,
    Extractor,
    JsonEventParser,
    WebhookEvent,
    first_of,
    lookup_path,
    named_attribute,
    parse_adyen_events,
    parse_github_events,
    parse_lemonsqueezy_events,
    parse_shopify_events,
)
from ._request import WebhookRequest
from ._signing import SecretInput, SignatureEncoding
from ._verifiers import (
    AdyenVerifier,
    Clock,
    GitHubVerifier,
    HmacVerifier,
    LemonSqueezyVerifier,
    PaddleVerifier,
    RazorpayVerifier,
    ShopifyVerifier,
    SquareVerifier,
    StandardWebhooksVerifier,
    StripeVerifier,
    WebhookVerifier,
)


@dataclass(frozen=True)
class WebhookProvider:
    """Everything provider-specific about one webhook endpoint."""

    name: str
    verifier: WebhookVerifier
    parser: EventParser
    awakeable_id: Extractor
    reject_reason: Extractor | None = None

    def verify_and_parse(self, request: WebhookRequest) -> list[WebhookEvent]:
        """Verify the signature, then (and only then) parse the body into events.

        Raises ``WebhookVerificationError`` or ``WebhookParseError``.
        """
        self.verifier.verify(request)
        return self.parser(request)


_STRIPE_AWAKEABLE_ID = f"data.object.metadata.{AWAKEABLE_ID_KEY}"
_STANDARD_AWAKEABLE_ID = f"data.metadata.{AWAKEABLE_ID_KEY}"
_ADYEN_AWAKEABLE_ID = f"additionalData.metadata.{AWAKEABLE_ID_KEY}"
_PADDLE_AWAKEABLE_ID = f"data.custom_data.{AWAKEABLE_ID_KEY}"
_GITHUB_AWAKEABLE_ID = f"client_payload.{AWAKEABLE_ID_KEY}"
_LEMONSQUEEZY_AWAKEABLE_ID = f"meta.custom_data.{AWAKEABLE_ID_KEY}"
_GENERIC_AWAKEABLE_ID = f"metadata.{AWAKEABLE_ID_KEY}"


def stripe_webhooks(
    secrets: SecretInput,
    *,
    tolerance: float | None = 300,
    now: Clock = time.time,
    awakeable_id: Extractor = _STRIPE_AWAKEABLE_ID,
    reject_reason: Extractor | None = "data.object.last_payment_error.message",
) -> WebhookProvider:
    """Stripe (``Stripe-Signature``). Event id ``id`` (``evt_...``), type ``type``."""
    return WebhookProvider(
        "stripe",
        StripeVerifier(secrets, tolerance=tolerance, now=now),
        JsonEventParser("stripe", event_id="id", event_type="type"),
        awakeable_id,
        reject_reason,
    )


def standard_webhooks(
    secrets: str | bytes | Sequence[str | bytes],
    *,
    tolerance: float | None = 300,
    now: Clock = time.time,
    awakeable_id: Extractor = _STANDARD_AWAKEABLE_ID,
    reject_reason: Extractor | None = None,
) -> WebhookProvider:
    """Standard Webhooks / Svix. Event id is the ``webhook-id`` header, type is ``type``."""
    return WebhookProvider(
        "standard-webhooks",
        StandardWebhooksVerifier(secrets, tolerance=tolerance, now=now),
        JsonEventParser(
            "standard-webhooks",
            event_id=["header:svix-id", "header:webhook-id"],
            event_type="type",
        ),
        awakeable_id,
        reject_reason,
    )


def adyen_webhooks(
    hmac_keys: str | bytes | Sequence[str | bytes],
    *,
    awakeable_id: Extractor = _ADYEN_AWAKEABLE_ID,
    reject_reason: Extractor | None = "reason",
) -> WebhookProvider:
    """Adyen standard notifications: one event per item (see ``parse_adyen_events``)."""
    return WebhookProvider(
        "adyen", AdyenVerifier(hmac_keys), parse_adyen_events, awakeable_id, reject_reason
    )


def paddle_webhooks(
    secrets: SecretInput,
    *,
    tolerance: float | None = 5,
    now: Clock = time.time,
    awakeable_id: Extractor = _PADDLE_AWAKEABLE_ID,
    reject_reason: Extractor | None = "data.payments.0.error_code",
) -> WebhookProvider:
    """Paddle Billing. Event id ``event_id`` (stable across replays), type ``event_type``."""
    return WebhookProvider(
        "paddle",
        PaddleVerifier(secrets, tolerance=tolerance, now=now),
        JsonEventParser("paddle", event_id="event_id", event_type="event_type"),
        awakeable_id,
        reject_reason,
    )


_AWAKEABLE_PREFIX = "sign_1"


def square_reference_id(awakeable_id: str) -> str:
    """The value to put in a Square payment's ``reference_id`` for ``awakeable_id``.

    ``reference_id`` holds at most 40 characters and a Restate awakeable id is 44 (``sign_1`` +
    38): the version prefix is left out, and :func:`square_webhooks` puts it back.
    """
    compact = awakeable_id.removeprefix(_AWAKEABLE_PREFIX)
    if len(compact) > 40 or not compact:
        raise ValueError(
            f"the awakeable id {awakeable_id!r} does not fit in Square's 40-character "
            "reference_id; pass awakeable_id= to square_webhooks() to read it from elsewhere"
        )
    return compact


def _square_awakeable_id(event: WebhookEvent) -> str | None:
    value = lookup_path(event.payload, "data.object.payment.reference_id")
    if not isinstance(value, str) or not value:
        return None
    return value if value.startswith(("sign_", "prom_")) else _AWAKEABLE_PREFIX + value


def square_webhooks(
    signature_keys: SecretInput,
    *,
    notification_url: str | None = None,
    awakeable_id: Extractor = _square_awakeable_id,
    reject_reason: Extractor | None = None,
) -> WebhookProvider:
    """Square. Event id ``event_id``, type ``type``; see :class:`~._verifiers.SquareVerifier`.

    The default awakeable id is the payment's ``reference_id`` (see :func:`square_reference_id`);
    not the ``note``, which Square may show the customer.
    """
    return WebhookProvider(
        "square",
        SquareVerifier(signature_keys, notification_url=notification_url),
        JsonEventParser("square", event_id="event_id", event_type="type"),
        awakeable_id,
        reject_reason,
    )


def razorpay_webhooks(
    secrets: SecretInput,
    *,
    awakeable_id: Extractor | None = None,
    reject_reason: Extractor | None = "payload.payment.entity.error_description",
) -> WebhookProvider:
    """Razorpay. Type ``event`` (signed); id: a digest of the body.

    The ``x-razorpay-event-id`` header is not signed: it is kept as ``event.delivery_id``.
    """
    default_awakeable_id = first_of(
        *(
            f"payload.{entity}.entity.notes.{AWAKEABLE_ID_KEY}"
            for entity in ("payment", "order", "subscription", "payment_link")
        )
    )
    return WebhookProvider(
        "razorpay",
        RazorpayVerifier(secrets),
        # The x-razorpay-event-id header is not signed: the identity is the body's digest.
        JsonEventParser(
            "razorpay",
            event_id=(),
            event_type="event",
            body_hash_fallback=True,
            delivery_id="x-razorpay-event-id",
        ),
        awakeable_id if awakeable_id is not None else default_awakeable_id,
        reject_reason,
    )


def github_webhooks(
    secrets: SecretInput,
    *,
    awakeable_id: Extractor = _GITHUB_AWAKEABLE_ID,
    reject_reason: Extractor | None = None,
) -> WebhookProvider:
    """GitHub. Type ``"<X-GitHub-Event>.<action>"``; id: a digest of the body (see README)."""
    return WebhookProvider(
        "github", GitHubVerifier(secrets), parse_github_events, awakeable_id, reject_reason
    )


def shopify_webhooks(
    secrets: SecretInput,
    *,
    awakeable_id: Extractor | None = None,
    reject_reason: Extractor | None = None,
) -> WebhookProvider:
    """Shopify. Type ``X-Shopify-Topic`` (unsigned); id: a digest of the body (see README)."""
    return WebhookProvider(
        "shopify",
        ShopifyVerifier(secrets),
        parse_shopify_events,
        awakeable_id
        if awakeable_id is not None
        else named_attribute("note_attributes", AWAKEABLE_ID_KEY),
        reject_reason,
    )


def lemonsqueezy_webhooks(
    secrets: SecretInput,
    *,
    awakeable_id: Extractor = _LEMONSQUEEZY_AWAKEABLE_ID,
    reject_reason: Extractor | None = None,
) -> WebhookProvider:
    """Lemon Squeezy. Type ``meta.event_name``; id: see :func:`.parse_lemonsqueezy_events`."""
    return WebhookProvider(
        "lemonsqueezy",
        LemonSqueezyVerifier(secrets),
        parse_lemonsqueezy_events,
        awakeable_id,
        reject_reason,
    )


def hmac_webhooks(
    secrets: SecretInput,
    *,
    header: str,
    event_id: str | Sequence[str] = "id",
    event_type: str | Sequence[str] = "type",
    algorithm: str = "sha256",
    encoding: SignatureEncoding = "hex",
    prefix: str = "",
    timestamp_header: str | None = None,
    signed_content: str = "{body}",
    tolerance: float | None = 300,
    now: Clock = time.time,
    name: str = "hmac",
    awakeable_id: Extractor = _GENERIC_AWAKEABLE_ID,
    reject_reason: Extractor | None = None,
) -> WebhookProvider:
    """Any provider that signs with an HMAC in a header; see :class:`~._verifiers.HmacVerifier`.

    ``event_id`` / ``event_type`` are payload paths or ``"header:<Name>"`` sources
    (lists are tried in order).
    """
    verifier = HmacVerifier(
        secrets,
        header=header,
        algorithm=algorithm,
        encoding=encoding,
        prefix=prefix,
        timestamp_header=timestamp_header,
        signed_content=signed_content,
        tolerance=tolerance,
        now=now,
        provider=name,
    )
    parser = JsonEventParser(name, event_id=event_id, event_type=event_type)
    return WebhookProvider(name, verifier, parser, awakeable_id, reject_reason)
