"""Event parsing per provider, extractors, and parse errors."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from restate_web.webhooks import (
    WebhookEvent,
    WebhookParseError,
    WebhookRequest,
    first_of,
    hmac_webhooks,
    named_attribute,
)
from restate_web.webhooks._events import extract, extract_text, lookup_path

from .webhook_support import CASES_BY_NAME, adyen_item, stripe_body


def parse(name: str, body: bytes | None = None, **headers: str) -> list[WebhookEvent]:
    case = CASES_BY_NAME[name]
    request = case.request(body=body, extra_headers=headers or None)
    return case.provider().verify_and_parse(request)


def digest_id(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


def only(name: str, body: bytes | None = None, **headers: str) -> WebhookEvent:
    events = parse(name, body, **headers)
    assert len(events) == 1
    return events[0]


def defaults(name: str, event: WebhookEvent) -> tuple[str | None, str | None]:
    provider = CASES_BY_NAME[name].provider()
    reason = None if provider.reject_reason is None else extract_text(provider.reject_reason, event)
    return extract_text(provider.awakeable_id, event), reason


def dumps(document: dict[str, Any]) -> bytes:
    return json.dumps(document).encode()


def test_stripe_event() -> None:
    event = only("stripe", stripe_body("sign_1xyz", "evt_9"))
    assert (event.provider, event.id, event.type) == ("stripe", "evt_9", "payment_intent.succeeded")
    assert defaults("stripe", event) == ("sign_1xyz", None)
    failed = json.loads(stripe_body())
    failed["type"] = "payment_intent.payment_failed"
    failed["data"]["object"]["last_payment_error"] = {"message": "Your card was declined."}
    assert defaults("stripe", only("stripe", dumps(failed)))[1] == "Your card was declined."


def test_standard_webhooks_event_uses_header_id() -> None:
    body = dumps({"type": "invoice.paid", "data": {"metadata": {"restate_awakeable_id": "a1"}}})
    event = only("standard-webhooks", body)
    assert (event.id, event.type) == ("msg_1", "invoice.paid")
    assert defaults("standard-webhooks", event)[0] == "a1"


def test_adyen_one_event_per_item_with_flattened_metadata() -> None:
    body = dumps(
        {
            "notificationItems": [
                {"NotificationRequestItem": adyen_item()},
                {
                    "NotificationRequestItem": adyen_item(
                        pspReference="2",
                        success="false",
                        reason="Refused",
                        merchantReference="nested",
                        additionalData={"metadata": {"restate_awakeable_id": "unsigned"}},
                    )
                },
            ]
        }
    )
    first, second = parse("adyen", body)
    assert (first.id, first.type) == ("7914073381342284:AUTHORISATION:true", "AUTHORISATION")
    assert second.id == "2:AUTHORISATION:false"
    assert defaults("adyen", first) == ("sign_1adyen", None)
    assert defaults("adyen", second) == ("nested", "Refused")


def test_paddle_event() -> None:
    body = dumps(
        {
            "event_id": "evt_01h",
            "notification_id": "ntf_01h",
            "event_type": "transaction.payment_failed",
            "data": {
                "custom_data": {"restate_awakeable_id": "p1"},
                "payments": [{"error_code": "declined"}],
            },
        }
    )
    event = only("paddle", body)
    assert (event.id, event.type) == ("evt_01h", "transaction.payment_failed")
    assert defaults("paddle", event) == ("p1", "declined")


def test_square_event() -> None:
    body = dumps(
        {
            "event_id": "e-42",
            "type": "payment.updated",
            "data": {"object": {"payment": {"note": "sign_1note", "reference_id": "sq"}}},
        }
    )
    event = only("square", body)
    assert (event.id, event.type) == ("e-42", "payment.updated")
    assert defaults("square", event) == ("sign_1sq", None)


def test_razorpay_event_and_body_hash_fallback() -> None:
    body = dumps(
        {
            "event": "payment.failed",
            "payload": {
                "payment": {
                    "entity": {
                        "notes": {"restate_awakeable_id": "r1"},
                        "error_description": "Payment was unsuccessful",
                    }
                }
            },
        }
    )
    event = only("razorpay", body)
    # x-razorpay-event-id is not signed: the identity is the body's digest (defect 7).
    assert (event.id, event.type) == (digest_id(body), "payment.failed")
    assert event.delivery_id == "Ev_1"
    assert defaults("razorpay", event) == ("r1", "Payment was unsuccessful")
    order = dumps(
        {
            "event": "order.paid",
            "payload": {"order": {"entity": {"notes": {"restate_awakeable_id": "o1"}}}},
        }
    )
    assert defaults("razorpay", only("razorpay", order))[0] == "o1"
    # Without x-razorpay-event-id the id is the same hash of the body.
    case = CASES_BY_NAME["razorpay"]
    request = case.request(body=order)
    headerless = WebhookRequest(
        "POST",
        request.url,
        [(k, v) for k, v in request.headers.items_all() if k != "x-razorpay-event-id"],
        request.body,
    )
    (hashed,) = case.provider().verify_and_parse(headerless)
    assert hashed.id.startswith("sha256:") and len(hashed.id) == 7 + 64


def test_github_event_type_includes_action() -> None:
    body = dumps({"action": "deploy", "client_payload": {"restate_awakeable_id": "g1"}})
    event = only("github", body)
    assert (event.id, event.type) == (digest_id(body), "repository_dispatch.deploy")
    assert event.delivery_id == "72d3162e-cc78-11e3-81ab-4c9367dc0958"
    assert defaults("github", event)[0] == "g1"
    assert only("github", dumps({"ref": "refs/heads/main"})).type == "repository_dispatch"


def test_shopify_event_reads_note_attributes() -> None:
    body = dumps(
        {
            "id": 1,
            "note_attributes": [
                {"name": "gift", "value": "no"},
                {"name": "restate_awakeable_id", "value": "s1"},
            ],
        }
    )
    event = only("shopify", body)
    assert (event.id, event.type) == (digest_id(body), "orders/paid")
    assert event.delivery_id == "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"
    assert defaults("shopify", event)[0] == "s1"


def test_lemonsqueezy_event_id_is_composite() -> None:
    body = dumps(
        {
            "meta": {"event_name": "order_created", "custom_data": {"restate_awakeable_id": "l1"}},
            "data": {"id": "77", "attributes": {"updated_at": "2024-05-01T10:00:00Z"}},
        }
    )
    event = only("lemonsqueezy", body)
    assert (event.id, event.type) == ("order_created:77:2024-05-01T10:00:00Z", "order_created")
    assert defaults("lemonsqueezy", event)[0] == "l1"
    hashed = only("lemonsqueezy", dumps({"meta": {"event_name": "x"}, "data": {}}))
    assert hashed.id.startswith("sha256:")


def test_lemonsqueezy_id_is_the_digest_when_the_type_comes_from_the_unsigned_header() -> None:
    """Only signed content decides identity: a body without meta.event_name replayed with
    another X-Event-Name is the same event (the README's "digest of the body")."""
    body = dumps({"meta": {}, "data": {"id": "77", "attributes": {"updated_at": "2024-05-01"}}})
    created = only("lemonsqueezy", body, **{"X-Event-Name": "order_created"})
    refunded = only("lemonsqueezy", body, **{"X-Event-Name": "order_refunded"})
    assert created.type == "order_created" and refunded.type == "order_refunded"
    assert created.id == refunded.id == digest_id(body)


def test_generic_event_sources() -> None:
    provider = hmac_webhooks(
        "s3cret",
        header="X-Sig",
        event_id=["event.uid", "header:X-Event-Id"],
        event_type="header:X-Kind",
    )
    body = b'{"event": {}, "metadata": {"restate_awakeable_id": "h1"}}'
    headers = provider.verifier.sign_headers(body)  # type: ignore[attr-defined]
    request = WebhookRequest(
        "POST", "https://x", {**headers, "X-Event-Id": "77", "X-Kind": "k"}, body
    )
    (event,) = provider.verify_and_parse(request)
    assert (event.id, event.type) == ("77", "k")
    assert extract_text(provider.awakeable_id, event) == "h1"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "invalid_json"),
        (b"{", "invalid_json"),
        (b"\xff\xfe", "invalid_json"),
        (b'{"a": NaN}', "invalid_json"),
        (b"[" * 100_000 + b"]" * 100_000, "invalid_json"),
        (b"9" * 5000, "invalid_json"),
        (b"[]", "not_an_object"),
        (b'"text"', "not_an_object"),
        (b"{}", "missing_field"),
        (b'{"id": "", "type": "x"}', "missing_field"),
        (b'{"id": {"a": 1}, "type": "x"}', "wrong_type"),
        (b'{"id": true, "type": "x"}', "wrong_type"),
        (b'{"id": "evt", "type": ["x"]}', "wrong_type"),
    ],
    ids=lambda value: value[:20] if isinstance(value, bytes) else value,
)
def test_stripe_parse_errors(body: bytes, reason: str) -> None:
    with pytest.raises(WebhookParseError) as caught:
        parse("stripe", body)
    assert caught.value.reason == reason
    assert caught.value.provider == "stripe"


def test_integer_ids_become_text() -> None:
    assert only("stripe", b'{"id": 12, "type": "x"}').id == "12"


def test_lookup_path() -> None:
    document = {
        "a": {"b": [{"c": "deep"}], "x.y": {"z": "flat-then-nested"}},
        "m.n": "flat",
        "list": ["zero", "one"],
    }
    assert lookup_path(document, "a.b.0.c") == "deep"
    assert lookup_path(document, "a.x.y.z") == "flat-then-nested"
    assert lookup_path(document, "m.n") == "flat"
    assert lookup_path(document, "list.1") == "one"
    for missing in ("a.b.1.c", "a.b.-1", "list.x", "nope", "a.b.0.c.d", "list.01x"):
        assert lookup_path(document, missing) is None
    assert lookup_path(document, "") == document


def test_extractors() -> None:
    event = WebhookEvent(
        "p", "1", "t", {"a": {"b": 3}, "s": "text", "attrs": [{"name": "k", "value": "v"}]}
    )
    assert extract("a.b", event) == 3
    assert extract_text("a.b", event) is None  # not a string
    assert extract_text("s", event) == "text"
    assert extract(lambda e: e.id + "!", event) == "1!"
    assert extract(first_of("missing", "s"), event) == "text"
    assert extract(first_of("missing", "also.missing"), event) is None
    assert extract(named_attribute("attrs", "k"), event) == "v"
    assert extract(named_attribute("attrs", "other"), event) is None
    assert extract(named_attribute("s", "k"), event) is None
    with_headers = only("github", dumps({}))
    assert extract("header:x-github-event", with_headers) == "repository_dispatch"
