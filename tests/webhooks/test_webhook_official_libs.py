"""Cross-checks against the providers' official Python libraries.

Signatures the official library makes (or accepts), ours accept; the requests
ours refuse include some the official library lets through (future Stripe
timestamps, unsigned second Adyen items), which is deliberate.
"""

from __future__ import annotations

import base64
import json
import time
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from restate_web.webhooks import WebhookRequest, WebhookVerificationError
from restate_web.webhooks._verifiers import (
    AdyenVerifier,
    PaddleVerifier,
    RazorpayVerifier,
    SquareVerifier,
    StandardWebhooksVerifier,
    StripeVerifier,
)

from .webhook_support import NOW, adyen_item, clock, stripe_body

URL = "https://shop.example/webhooks/in"
bodies = st.text(max_size=300).map(lambda s: s.encode("utf-8"))
text_secrets = st.text(
    alphabet=st.characters(codec="ascii", exclude_categories=("Cc",)), min_size=1, max_size=40
).filter(lambda s: s.strip())


def request(headers: dict[str, str], body: bytes, url: str = URL) -> WebhookRequest:
    return WebhookRequest("POST", url, headers, body)


def reason(verify: object, req: WebhookRequest) -> str:
    with pytest.raises(WebhookVerificationError) as caught:
        verify(req)  # type: ignore[operator]
    return caught.value.reason


# --------------------------------------------------------------------------- Stripe
stripe = pytest.importorskip("stripe")


def stripe_header(body: bytes, secret: str, timestamp: int) -> str:
    sign = getattr(stripe.WebhookSignature, "generate_signature_header", None)
    if sign is not None:
        return str(sign(body.decode(), secret, timestamp=timestamp))
    digest = stripe.WebhookSignature._compute_signature(f"{timestamp}.{body.decode()}", secret)
    return f"t={timestamp},v1={digest}"


def test_stripe_library_signatures_are_accepted() -> None:
    body = stripe_body()
    header = stripe_header(body, "whsec_test", NOW)
    verifier = StripeVerifier(["whsec_other", "whsec_test"], now=clock())
    verifier.verify(request({"Stripe-Signature": header}, body))


def test_stripe_library_accepts_ours() -> None:
    body = stripe_body()
    now = int(time.time())
    header = StripeVerifier("whsec_test").sign_headers(body, timestamp=now)["Stripe-Signature"]
    assert stripe.WebhookSignature.verify_header(body.decode(), header, "whsec_test", 300)
    event = stripe.Webhook.construct_event(body, header, "whsec_test")
    assert event["id"] == "evt_1"


def test_stripe_refusals_including_future_timestamps_stripe_accepts() -> None:
    body = stripe_body()
    real_now = int(time.time())
    future = stripe_header(body, "whsec_test", real_now + 301)
    # stripe-python only checks the past side of the window...
    assert stripe.WebhookSignature.verify_header(body.decode(), future, "whsec_test", 300)
    # ...ours refuses the future side too.
    ours_now = StripeVerifier("whsec_test", now=clock(real_now))
    assert reason(ours_now.verify, request({"Stripe-Signature": future}, body)) == (
        "future_timestamp"
    )
    verifier = StripeVerifier("whsec_test", now=clock())
    stale = stripe_header(body, "whsec_test", NOW - 301)
    assert reason(verifier.verify, request({"Stripe-Signature": stale}, body)) == "stale_timestamp"
    good = stripe_header(body, "whsec_test", NOW)
    assert reason(verifier.verify, request({"Stripe-Signature": good}, body + b" ")) == (
        "bad_signature"
    )
    assert (
        reason(
            StripeVerifier("whsec_x", now=clock()).verify, request({"Stripe-Signature": good}, body)
        )
        == "bad_signature"
    )
    truncated = good[:-1]
    assert reason(verifier.verify, request({"Stripe-Signature": truncated}, body)) == (
        "bad_signature"
    )


def test_stripe_multiple_v1_and_v0_entries() -> None:
    body = stripe_body()
    good = stripe_header(body, "whsec_test", NOW)
    digest = good.split("v1=")[1]
    verifier = StripeVerifier("whsec_test", now=clock())
    verifier.verify(
        request({"Stripe-Signature": f"t={NOW},v0={digest},v1={'a' * 64},v1={digest}"}, body)
    )
    # v0 is never accepted, even when it carries the right digest.
    assert reason(verifier.verify, request({"Stripe-Signature": f"t={NOW},v0={digest}"}, body)) == (
        "malformed_header"
    )
    twice = [("Stripe-Signature", good), ("Stripe-Signature", good)]
    assert reason(verifier.verify, WebhookRequest("POST", URL, twice, body)) == "malformed_header"
    two_ts = f"t={NOW},t={NOW},v1={digest}"
    assert reason(verifier.verify, request({"Stripe-Signature": two_ts}, body)) == (
        "malformed_header"
    )


@settings(max_examples=60, deadline=None)
@given(body=bodies, secret=text_secrets, timestamp=st.integers(NOW - 300, NOW + 300))
def test_stripe_agrees_with_library_on_random_input(
    body: bytes, secret: str, timestamp: int
) -> None:
    header = stripe_header(body, secret, timestamp)
    StripeVerifier(secret, now=clock()).verify(request({"Stripe-Signature": header}, body))
    ours = StripeVerifier(secret, now=clock()).sign_headers(body, timestamp=timestamp)
    assert ours["Stripe-Signature"] == header


# ------------------------------------------------------------- Standard Webhooks / Svix
standardwebhooks = pytest.importorskip("standardwebhooks")
svix_webhooks = pytest.importorskip("svix.webhooks")

SW_SECRET = "whsec_" + base64.b64encode(bytes(range(32))).decode()


def test_standardwebhooks_library_signatures_are_accepted() -> None:
    body = b'{"type":"invoice.paid","data":{}}'
    signer = standardwebhooks.Webhook(SW_SECRET)
    signature = signer.sign("msg_1", datetime.fromtimestamp(NOW, tz=timezone.utc), body.decode())
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(NOW), "webhook-signature": signature}
    StandardWebhooksVerifier(SW_SECRET, now=clock()).verify(request(headers, body))


def test_standardwebhooks_and_svix_accept_ours() -> None:
    body = b'{"type":"invoice.paid","data":{}}'
    now = int(time.time())
    headers = StandardWebhooksVerifier(SW_SECRET).sign_headers(
        body, message_id="msg_2", timestamp=now
    )
    assert standardwebhooks.Webhook(SW_SECRET).verify(body, dict(headers)) == json.loads(body)
    svix_headers = {k.replace("webhook-", "svix-"): v for k, v in headers.items()}
    svix_webhooks.Webhook(SW_SECRET).verify(body, dict(svix_headers))
    # And ours reads the svix-* names too.
    StandardWebhooksVerifier(SW_SECRET).verify(request(svix_headers, body))


def test_svix_library_signatures_are_accepted() -> None:
    body = b'{"type":"a.b"}'
    signature = svix_webhooks.Webhook(SW_SECRET).sign(
        "msg_3", datetime.fromtimestamp(NOW, tz=timezone.utc), body.decode()
    )
    headers = {"svix-id": "msg_3", "svix-timestamp": str(NOW), "svix-signature": signature}
    StandardWebhooksVerifier(SW_SECRET, now=clock()).verify(request(headers, body))


def test_standard_webhooks_rotation_header_with_two_signatures() -> None:
    body = b"{}"
    old = StandardWebhooksVerifier(SW_SECRET, now=clock())
    new_secret = "whsec_" + base64.b64encode(b"n" * 24).decode()
    new = StandardWebhooksVerifier(new_secret, now=clock())
    both = " ".join(
        v.sign_headers(body, message_id="m", timestamp=NOW)["webhook-signature"] for v in (old, new)
    )
    headers = {"webhook-id": "m", "webhook-timestamp": str(NOW), "webhook-signature": both}
    old.verify(request(headers, body))
    new.verify(request(headers, body))


@settings(max_examples=60, deadline=None)
@given(
    body=bodies,
    key=st.binary(min_size=24, max_size=64),
    msg_id=st.from_regex(r"msg_[A-Za-z0-9]{1,20}", fullmatch=True),
)
def test_standard_webhooks_agrees_with_library_on_random_input(
    body: bytes, key: bytes, msg_id: str
) -> None:
    secret = "whsec_" + base64.b64encode(key).decode()
    signature = standardwebhooks.Webhook(secret).sign(
        msg_id, datetime.fromtimestamp(NOW, tz=timezone.utc), body.decode()
    )
    headers = {"webhook-id": msg_id, "webhook-timestamp": str(NOW), "webhook-signature": signature}
    StandardWebhooksVerifier(secret, now=clock()).verify(request(headers, body))


# --------------------------------------------------------------------------- Adyen
adyen_util = pytest.importorskip("Adyen.util")
ADYEN_KEY = "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056"


def adyen_body(*items: dict[str, object]) -> bytes:
    return json.dumps(
        {"notificationItems": [{"NotificationRequestItem": i} for i in items]}
    ).encode()


def adyen_signed(item: dict[str, object]) -> dict[str, object]:
    signature = adyen_util.generate_notification_sig(item, ADYEN_KEY).decode()
    additional = dict(item.get("additionalData", {}))  # type: ignore[call-overload]
    return {**item, "additionalData": {**additional, "hmacSignature": signature}}


def test_adyen_library_signatures_are_accepted_and_ours_accepted_by_library() -> None:
    item = adyen_item()
    signed = adyen_signed(item)
    AdyenVerifier(ADYEN_KEY).verify(request({}, adyen_body(signed)))
    ours = AdyenVerifier(ADYEN_KEY).sign_item(item)
    document = {
        "notificationItems": [
            {"NotificationRequestItem": {**item, "additionalData": {"hmacSignature": ours}}}
        ]
    }
    assert adyen_util.is_valid_hmac_notification(document, ADYEN_KEY) is True


def test_adyen_library_signatures_of_null_and_boolean_fields_are_accepted() -> None:
    """Adyen's Python library signs a JSON null as "None" and a JSON boolean as "True": a
    notification it signed with an explicit null originalReference (or a boolean success)
    verifies, and changing any signed field still fails."""
    verifier = AdyenVerifier(ADYEN_KEY)
    for item in (
        adyen_item(originalReference=None),
        adyen_item(success=True),
        adyen_item(originalReference=None, success=False),
    ):
        signed = adyen_signed(item)
        verifier.verify(request({}, adyen_body(signed)))
        tampered = {**signed, "merchantReference": "another"}
        assert reason(verifier.verify, request({}, adyen_body(tampered))) == "bad_signature"
    # Ours signs a null as empty, as Adyen's documentation says.
    assert verifier.sign_item(adyen_item(originalReference=None)) == verifier.sign_item(
        adyen_item()
    )


def test_adyen_every_item_is_checked_unlike_the_library() -> None:
    first = adyen_signed(adyen_item())
    forged = {**adyen_signed(adyen_item(pspReference="1111")), "pspReference": "2222"}
    document = json.loads(adyen_body(first, forged))
    # The official helper only looks at notificationItems[0]...
    assert adyen_util.is_valid_hmac_notification(document, ADYEN_KEY) is True
    # ...ours refuses the batch because the second item is forged.
    assert reason(AdyenVerifier(ADYEN_KEY).verify, request({}, adyen_body(first, forged))) == (
        "bad_signature"
    )
    AdyenVerifier(ADYEN_KEY).verify(
        request({}, adyen_body(first, adyen_signed(adyen_item(pspReference="3333"))))
    )


def test_adyen_refusals() -> None:
    verifier = AdyenVerifier(["AB" * 32, ADYEN_KEY])
    signed = adyen_signed(adyen_item())
    tampered = {**signed, "amount": {"currency": "EUR", "value": 1}}
    assert reason(verifier.verify, request({}, adyen_body(tampered))) == "bad_signature"
    unsigned = adyen_item()
    assert reason(verifier.verify, request({}, adyen_body(unsigned))) == "missing_signature"
    empty = {**unsigned, "additionalData": {"hmacSignature": ""}}
    assert reason(verifier.verify, request({}, adyen_body(empty))) == "missing_signature"
    short = {
        **signed,
        "additionalData": {"hmacSignature": signed["additionalData"]["hmacSignature"][:-2]},
    }  # type: ignore[index]
    assert reason(verifier.verify, request({}, adyen_body(short))) == "bad_signature"
    for body in (
        b"",
        b"[]",
        b"{}",
        b'{"notificationItems": []}',
        b'{"notificationItems": [1]}',
        b"\xff",
    ):
        assert reason(verifier.verify, request({}, body)) == "malformed_body"
    assert (
        reason(AdyenVerifier("AB" * 32).verify, request({}, adyen_body(signed))) == "bad_signature"
    )


@settings(max_examples=60, deadline=None)
@given(
    reference=st.text(max_size=40),
    value=st.integers(0, 10**9),
    success=st.sampled_from(["true", "false"]),
    key=st.binary(min_size=32, max_size=32).map(lambda b: b.hex().upper()),
)
def test_adyen_agrees_with_library_on_random_input(
    reference: str, value: int, success: str, key: str
) -> None:
    item = adyen_item(
        merchantReference=reference, amount={"currency": "EUR", "value": value}, success=success
    )
    signature = adyen_util.generate_notification_sig(item, key).decode()
    assert AdyenVerifier(key).sign_item(item) == signature


# --------------------------------------------------------------------------- Paddle
paddle_notifications = pytest.importorskip("paddle_billing.Notifications")


def test_paddle_library_signatures_are_accepted_and_ours_accepted_by_library() -> None:
    from paddle_billing.Notifications import PaddleSignature, Secret, Verifier

    secret = "pdl_ntfset_01h_secret"
    body = b'{"event_id":"evt_1","event_type":"transaction.completed","data":{}}'
    ts = int(time.time())
    h1 = PaddleSignature.calculate_hmac(secret, f"{ts}:".encode() + body).hexdigest()
    header = f"ts={ts};h1={h1}"
    PaddleVerifier(["pdl_ntfset_other", secret]).verify(request({"Paddle-Signature": header}, body))

    ours = PaddleVerifier(secret).sign_headers(body, timestamp=ts)
    library_request = SimpleNamespace(body=body, headers=ours)
    assert Verifier().verify(library_request, Secret(secret)) is True
    assert Verifier().verify(library_request, [Secret("pdl_other"), Secret(secret)]) is True


def test_paddle_refusals() -> None:
    secret = "pdl_ntfset_01h_secret"
    body = b'{"event_id":"evt_1"}'
    verifier = PaddleVerifier(secret, now=clock())
    header = verifier.sign_headers(body, timestamp=NOW)["Paddle-Signature"]
    verifier.verify(request({"Paddle-Signature": header + ";unknown=1"}, body))
    assert (
        reason(verifier.verify, request({"Paddle-Signature": header}, body + b"x"))
        == "bad_signature"
    )
    assert (
        reason(verifier.verify, request({"Paddle-Signature": header[:-1]}, body)) == "bad_signature"
    )
    assert (
        reason(verifier.verify, request({"Paddle-Signature": "h1=" + "0" * 64}, body))
        == "malformed_header"
    )
    assert (
        reason(verifier.verify, request({"Paddle-Signature": f"ts={NOW}"}, body))
        == "malformed_header"
    )
    late = verifier.sign_headers(body, timestamp=NOW - 6)["Paddle-Signature"]
    assert reason(verifier.verify, request({"Paddle-Signature": late}, body)) == "stale_timestamp"
    early = verifier.sign_headers(body, timestamp=NOW + 6)["Paddle-Signature"]
    assert reason(verifier.verify, request({"Paddle-Signature": early}, body)) == "future_timestamp"


# --------------------------------------------------------------------------- Square
square_helper = pytest.importorskip("square.utils.webhooks_helper")


@settings(max_examples=60, deadline=None)
@given(
    body=st.text(min_size=1, max_size=300),
    key=text_secrets,
    path=st.from_regex(r"/[a-z0-9/]{0,30}", fullmatch=True),
)
def test_square_agrees_with_library(body: str, key: str, path: str) -> None:
    url = "https://shop.example" + path
    ours = SquareVerifier(key, notification_url=url).sign_headers(body.encode())
    signature = ours["x-square-hmacsha256-signature"]
    assert square_helper.verify_signature(
        request_body=body, signature_header=signature, signature_key=key, notification_url=url
    )
    SquareVerifier(["other", key], notification_url=url).verify(request(ours, body.encode()))
    assert (
        reason(SquareVerifier(key, notification_url=url + "x").verify, request(ours, body.encode()))
        == "bad_signature"
    )


# --------------------------------------------------------------------------- Razorpay
razorpay = pytest.importorskip("razorpay")


@settings(max_examples=60, deadline=None)
@given(body=st.text(max_size=300), secret=text_secrets)
def test_razorpay_agrees_with_library(body: str, secret: str) -> None:
    client = razorpay.Client(auth=("rzp_test_key", "api-secret-not-the-webhook-secret"))
    ours = RazorpayVerifier(secret).sign_headers(body.encode())
    signature = ours["X-Razorpay-Signature"]
    assert client.utility.verify_webhook_signature(body, signature, secret) is True
    RazorpayVerifier(["old", secret]).verify(request(ours, body.encode()))


def test_razorpay_library_refuses_what_ours_refuses() -> None:
    client = razorpay.Client(auth=("rzp_test_key", "api-secret"))
    body = '{"event":"payment.captured"}'
    signature = RazorpayVerifier("whsecret").sign_headers(body.encode())["X-Razorpay-Signature"]
    for bad_body, bad_signature in ((body + " ", signature), (body, signature[:-2])):
        with pytest.raises(razorpay.errors.SignatureVerificationError):
            client.utility.verify_webhook_signature(bad_body, bad_signature, "whsecret")
        assert (
            reason(
                RazorpayVerifier("whsecret").verify,
                request({"X-Razorpay-Signature": bad_signature}, bad_body.encode()),
            )
            == "bad_signature"
        )
