"""Verified webhook events and the extractors that read fields out of them.

A provider's parser turns a *verified* :class:`~restate_web.webhooks._request.WebhookRequest`
into one or more :class:`WebhookEvent` objects (Adyen can batch several
notifications in one request; every other provider sends one). Parsing errors
raise :class:`~restate_web.webhooks._errors.WebhookParseError` (answer 400).

An **extractor** reads one value from an event. It is either

- a dotted path into the payload, e.g. ``"data.object.metadata.restate_awakeable_id"``;
  digits index into lists (``"data.payments.0.error_code"``), and keys that
  themselves contain dots (Adyen flattens ``additionalData`` as
  ``"metadata.restate_awakeable_id"``) are found too;
- ``"header:<Name>"`` to read a request header, e.g. ``"header:X-GitHub-Delivery"``;
- or any callable ``(event) -> value``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._errors import WebhookParseError
from ._json import loads_json
from ._request import Headers, WebhookRequest
from ._verifiers import adyen_notification_items

AWAKEABLE_ID_KEY = "restate_awakeable_id"
"""The metadata key the default extractors look for."""


@dataclass(frozen=True)
class WebhookEvent:
    """One verified provider event.

    ``id`` is the event's identity, the same on every redelivery and covered by the
    signature, used as the Restate idempotency key: the provider's event id where it signs one
    (Stripe ``evt_...``), else ``"sha256:<hex digest of the body>"`` (Shopify, GitHub,
    Razorpay, whose delivery ids are unsigned headers). ``type`` is the provider's event type,
    used for routing. ``payload`` is the event object as sent. ``delivery_id`` is the
    provider's unsigned delivery-id header, when it sends one (for logs and support tickets,
    never for deduplication).
    """

    provider: str
    id: str
    type: str
    payload: Mapping[str, Any]
    headers: Headers = field(default_factory=Headers, repr=False, compare=False)
    delivery_id: str | None = None


Extractor = str | Callable[[WebhookEvent], object]
"""A dotted payload path, ``"header:<Name>"``, or a callable ``(event) -> value``."""

EventParser = Callable[[WebhookRequest], "list[WebhookEvent]"]
"""Turns a verified request into events; raises ``WebhookParseError`` on a malformed body."""

_MISSING = object()


def lookup_path(document: object, path: str) -> object:
    """Follow a dotted ``path`` through nested mappings and lists; ``None`` if absent.

    At each level the longest run of segments that is itself a key wins, so a
    flattened key like ``"metadata.order"`` is found as well as a nested one.
    """
    segments = path.split(".") if path else []
    found = _lookup(document, segments)
    return None if found is _MISSING else found


def _lookup(current: object, segments: Sequence[str]) -> object:
    if not segments:
        return current
    if isinstance(current, Mapping):
        for length in range(len(segments), 0, -1):
            key = ".".join(segments[:length])
            if key in current:
                found = _lookup(current[key], segments[length:])
                if found is not _MISSING:
                    return found
        return _MISSING
    if isinstance(current, list):
        index = segments[0]
        if index.isascii() and index.isdigit() and int(index) < len(current):
            return _lookup(current[int(index)], segments[1:])
    return _MISSING


def extract(extractor: Extractor, event: WebhookEvent) -> object:
    """Apply one extractor to ``event``; a missing path gives ``None``."""
    if callable(extractor):
        return extractor(event)
    if extractor.startswith("header:"):
        return event.headers.get(extractor[len("header:") :].strip())
    return lookup_path(event.payload, extractor)


def extract_text(extractor: Extractor, event: WebhookEvent) -> str | None:
    """Apply an extractor and keep the result only if it is a non-empty string."""
    value = extract(extractor, event)
    return value if isinstance(value, str) and value else None


def first_of(*extractors: Extractor) -> Callable[[WebhookEvent], object]:
    """An extractor returning the first non-empty result of ``extractors``, tried in order."""

    def first(event: WebhookEvent) -> object:
        for extractor in extractors:
            value = extract(extractor, event)
            if value is not None and value != "":
                return value
        return None

    return first


def named_attribute(list_path: str, name: str) -> Callable[[WebhookEvent], object]:
    """An extractor for ``[{"name": ..., "value": ...}]`` lists (Shopify ``note_attributes``)."""

    def attribute(event: WebhookEvent) -> object:
        entries = lookup_path(event.payload, list_path)
        if isinstance(entries, list):
            for entry in entries:
                if isinstance(entry, Mapping) and entry.get("name") == name:
                    return entry.get("value")
        return None

    return attribute


# ---------------------------------------------------------------------------- parsing


def parse_json_object(provider: str, body: bytes) -> Mapping[str, Any]:
    """Parse ``body`` as a JSON object or raise :class:`WebhookParseError`."""
    try:
        document = loads_json(body)
    except (ValueError, RecursionError):
        raise WebhookParseError(provider, "invalid_json", "the body is not valid JSON.") from None
    if not isinstance(document, dict):
        raise WebhookParseError(
            provider, "not_an_object", f"the body is JSON {type(document).__name__}, not an object."
        )
    return document


_Getter = Callable[[Mapping[str, Any], Headers], object]
_Source = tuple[str, _Getter]
"""A compiled id/type source: its text (for error messages) and what reads it."""


def _compile_source(source: str) -> _Source:
    if source.startswith("header:"):
        name = source[len("header:") :].strip().lower()
        return source, lambda payload, headers: headers.get_lowercase(name)
    if source and "." not in source:
        return source, lambda payload, headers: payload.get(source)  # a top-level key
    return source, lambda payload, headers: lookup_path(payload, source)


def compile_sources(sources: str | Sequence[str]) -> list[_Source]:
    """Sources (dotted payload paths or ``"header:<Name>"``) ready to read, tried in order."""
    return [
        _compile_source(source) for source in ([sources] if isinstance(sources, str) else sources)
    ]


def _required_text(
    provider: str,
    what: str,
    sources: Sequence[_Source],
    payload: Mapping[str, Any],
    headers: Headers,
) -> str:
    for source, read in sources:
        value = read(payload, headers)
        if value is None or value == "":
            continue
        if isinstance(value, str):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        raise WebhookParseError(
            provider, "wrong_type", f"the event {what} at {source!r} is not a string."
        )
    described = " or ".join(repr(source) for source, _ in sources)
    raise WebhookParseError(provider, "missing_field", f"the event has no {what} ({described}).")


_new_object = object.__new__


def make_event(
    provider: str,
    event_id: str,
    event_type: str,
    payload: Mapping[str, Any],
    headers: Headers,
    delivery_id: str | None = None,
) -> WebhookEvent:
    """``WebhookEvent(provider, event_id, event_type, payload, headers)``, built in half the time.

    A frozen dataclass's generated ``__init__`` sets each field through ``object.__setattr__``;
    filling the instance dictionary directly gives the same object (parsers make one per
    delivery, on every webhook's hot path).
    """
    event = _new_object(WebhookEvent)
    event.__dict__.update(
        provider=provider,
        id=event_id,
        type=event_type,
        payload=payload,
        headers=headers,
        delivery_id=delivery_id,
    )
    return event


def body_digest_id(body: bytes) -> str:
    """``"sha256:<hex>"``: an event identity that only the signed bytes decide."""
    return "sha256:" + hashlib.sha256(body).hexdigest()


def _type_mismatch(provider: str, header: str, value: str, why: str) -> WebhookParseError:
    return WebhookParseError(
        provider,
        "type_mismatch",
        f"the unsigned {header} header says {value!r} but the signed body {why}; "
        "refusing instead of routing the body as something it is not.",
    )


class JsonEventParser:
    """Parses a JSON-object body into one event, reading id and type from payload paths or headers.

    ``event_id`` and ``event_type`` are sources — a dotted payload path or
    ``"header:<Name>"`` — or lists of sources tried in order. With
    ``body_hash_fallback`` an event without an id gets ``"sha256:<hex of body>"``,
    which is stable across redeliveries of the same bytes. ``delivery_id`` names an unsigned
    header kept as ``event.delivery_id``.
    """

    def __init__(
        self,
        provider: str,
        *,
        event_id: str | Sequence[str],
        event_type: str | Sequence[str],
        body_hash_fallback: bool = False,
        delivery_id: str | None = None,
    ) -> None:
        self.provider = provider
        self._id_sources = compile_sources(event_id)
        self._type_sources = compile_sources(event_type)
        self._body_hash_fallback = body_hash_fallback
        self._delivery_header = delivery_id

    def __call__(self, request: WebhookRequest) -> list[WebhookEvent]:
        payload = parse_json_object(self.provider, request.body)
        headers = request.headers
        try:
            event_id = _required_text(self.provider, "id", self._id_sources, payload, headers)
        except WebhookParseError:
            if not self._body_hash_fallback:
                raise
            event_id = body_digest_id(request.body)
        event_type = _required_text(self.provider, "type", self._type_sources, payload, headers)
        delivery = None if self._delivery_header is None else headers.get(self._delivery_header)
        return [make_event(self.provider, event_id, event_type, payload, headers, delivery)]


_ADYEN_PSP_REFERENCE = compile_sources("pspReference")
_ADYEN_EVENT_CODE = compile_sources("eventCode")
_GITHUB_EVENT = compile_sources("header:X-GitHub-Event")
_LEMONSQUEEZY_TYPE = compile_sources(["meta.event_name", "header:X-Event-Name"])
_NO_HEADERS = Headers()


def parse_adyen_events(request: WebhookRequest) -> list[WebhookEvent]:
    """One event per ``NotificationRequestItem``.

    Adyen has no event id; the id is ``"<pspReference>:<eventCode>:<success>"``,
    which is the same on every redelivery of that notification. The type is
    ``eventCode`` (e.g. ``AUTHORISATION``); check ``payload["success"]`` in
    your route to tell a success from a refusal.
    """
    document = parse_json_object("adyen", request.body)
    items = adyen_notification_items(document)
    if items is None:
        raise WebhookParseError(
            "adyen", "missing_field", "the body has no notificationItems[].NotificationRequestItem."
        )
    events: list[WebhookEvent] = []
    for item in items:
        psp_reference = _required_text(
            "adyen", "pspReference", _ADYEN_PSP_REFERENCE, item, _NO_HEADERS
        )
        event_code = _required_text("adyen", "eventCode", _ADYEN_EVENT_CODE, item, _NO_HEADERS)
        success = item.get("success")
        success_text = (
            ("true" if success else "false") if isinstance(success, bool) else str(success or "")
        )
        event_id = f"{psp_reference}:{event_code}:{success_text}"
        events.append(make_event("adyen", event_id, event_code, item, request.headers))
    return events


# GitHub signs only the body; the event name comes from the unsigned X-GitHub-Event header.
# For these events the body tells which event it is: (keys it must have, keys it must not).
_GITHUB_BODY_SHAPES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "push": (("pusher", "commits", "ref"), ()),
    "pull_request": (("pull_request", "number"), ("review", "comment", "thread")),
    "pull_request_review": (("pull_request", "review"), ()),
    "pull_request_review_comment": (("pull_request", "comment"), ()),
    "issues": (("issue",), ("comment",)),
    "issue_comment": (("issue", "comment"), ()),
    "release": (("release",), ()),
    "workflow_run": (("workflow_run",), ()),
    "workflow_job": (("workflow_job",), ()),
    "check_run": (("check_run",), ()),
    "check_suite": (("check_suite",), ()),
    "deployment": (("deployment",), ("deployment_status",)),
    "deployment_status": (("deployment_status", "deployment"), ()),
    "ping": (("hook_id", "zen"), ()),
}


def parse_github_events(request: WebhookRequest) -> list[WebhookEvent]:
    """GitHub: type ``"<X-GitHub-Event>.<action>"`` or the bare event; id: a digest of the body.

    GitHub signs only the body: ``X-GitHub-Delivery`` (kept as ``delivery_id``) and
    ``X-GitHub-Event`` are unsigned. The id is therefore the body's digest, and for the events in
    ``_GITHUB_BODY_SHAPES`` a header that the body contradicts is refused (400).
    """
    payload = parse_json_object("github", request.body)
    event = _required_text("github", "type", _GITHUB_EVENT, payload, request.headers)
    shape = _GITHUB_BODY_SHAPES.get(event)
    if shape is not None:
        required, forbidden = shape
        if not all(key in payload for key in required) or any(key in payload for key in forbidden):
            raise _type_mismatch("github", "X-GitHub-Event", event, f"is not a {event} event")
    action = payload.get("action")
    event_type = f"{event}.{action}" if isinstance(action, str) and action else event
    delivery = request.headers.get("x-github-delivery")
    return [
        make_event(
            "github", body_digest_id(request.body), event_type, payload, request.headers, delivery
        )
    ]


# Shopify signs only the body; the topic comes from the unsigned X-Shopify-Topic header. Most
# resource bodies name their resource in admin_graphql_api_id ("gid://shopify/Order/1"): the
# topics of these resources must agree with it.
_SHOPIFY_TOPIC_RESOURCES = {
    "orders": "Order",
    "products": "Product",
    "customers": "Customer",
    "refunds": "Refund",
    "fulfillments": "Fulfillment",
    "draft_orders": "DraftOrder",
    "collections": "Collection",
    "inventory_items": "InventoryItem",
    "inventory_levels": "InventoryLevel",
    "order_transactions": "OrderTransaction",
    "locations": "Location",
}
_SHOPIFY_KNOWN_RESOURCES = frozenset(_SHOPIFY_TOPIC_RESOURCES.values())
_SHOPIFY_TOPIC = compile_sources("header:X-Shopify-Topic")


def parse_shopify_events(request: WebhookRequest) -> list[WebhookEvent]:
    """Shopify: type ``X-Shopify-Topic`` (unsigned); id: a digest of the body.

    ``X-Shopify-Webhook-Id`` is kept as ``delivery_id``. A topic of a resource in
    ``_SHOPIFY_TOPIC_RESOURCES`` whose body is another known resource is refused (400).
    """
    payload = parse_json_object("shopify", request.body)
    topic = _required_text("shopify", "type", _SHOPIFY_TOPIC, payload, request.headers)
    gid = payload.get("admin_graphql_api_id")
    if isinstance(gid, str) and gid.startswith("gid://shopify/"):
        resource = gid[len("gid://shopify/") :].split("/", 1)[0]
        expected = _SHOPIFY_TOPIC_RESOURCES.get(topic.split("/", 1)[0])
        if expected is not None and resource in _SHOPIFY_KNOWN_RESOURCES and resource != expected:
            raise _type_mismatch("shopify", "X-Shopify-Topic", topic, f"is a {resource}")
    delivery = request.headers.get("x-shopify-webhook-id")
    return [
        make_event(
            "shopify", body_digest_id(request.body), topic, payload, request.headers, delivery
        )
    ]


def parse_lemonsqueezy_events(request: WebhookRequest) -> list[WebhookEvent]:
    """Lemon Squeezy sends no event id; the id is ``"<event_name>:<data.id>:<updated_at>"``.

    If any part is missing from the signed body (the type then comes from the unsigned
    ``X-Event-Name`` header), the id falls back to a hash of the body.
    """
    payload = parse_json_object("lemonsqueezy", request.body)
    event_type = _required_text(
        "lemonsqueezy", "type", _LEMONSQUEEZY_TYPE, payload, request.headers
    )
    parts = [
        lookup_path(payload, "meta.event_name"),
        lookup_path(payload, "data.id"),
        lookup_path(payload, "data.attributes.updated_at"),
    ]
    if parts[0] == event_type and all(
        isinstance(part, (str, int)) and not isinstance(part, bool) for part in parts
    ):
        event_id = ":".join(str(part) for part in parts)
    else:
        event_id = body_digest_id(request.body)
    return [make_event("lemonsqueezy", event_id, event_type, payload, request.headers)]
