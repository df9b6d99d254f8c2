"""Official test vectors, from the providers' own SDK tests and documentation."""

from __future__ import annotations

import base64
import json

import pytest

from restate_web.webhooks import WebhookRequest, WebhookVerificationError
from restate_web.webhooks._verifiers import (
    AdyenVerifier,
    GitHubVerifier,
    PaddleVerifier,
    SquareVerifier,
    StandardWebhooksVerifier,
    adyen_signing_string,
)

from .webhook_support import clock

# --- Standard Webhooks spec / libraries -------------------------------------------

SW_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SW_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SW_TS = 1614265330
SW_BODY = b'{"test": 2432232314}'
SW_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def sw_request(signature: str = SW_SIGNATURE, body: bytes = SW_BODY) -> WebhookRequest:
    headers = {"webhook-id": SW_ID, "webhook-timestamp": str(SW_TS), "webhook-signature": signature}
    return WebhookRequest("POST", "https://x.example/h", headers, body)


def test_standard_webhooks_vector() -> None:
    verifier = StandardWebhooksVerifier(SW_SECRET, now=clock(SW_TS))
    verifier.verify(sw_request())
    assert verifier.sign_headers(SW_BODY, message_id=SW_ID, timestamp=SW_TS) == {
        "webhook-id": SW_ID,
        "webhook-timestamp": str(SW_TS),
        "webhook-signature": SW_SIGNATURE,
    }


def test_standard_webhooks_vector_among_other_versions_and_junk() -> None:
    verifier = StandardWebhooksVerifier(SW_SECRET, now=clock(SW_TS))
    # v1a (ed25519) and entries without a comma are skipped, not crashed on
    # (the reference libraries raise ValueError from split(",") there).
    verifier.verify(sw_request("v1a,AAAA nocomma v2,xyz " + SW_SIGNATURE))
    with pytest.raises(WebhookVerificationError) as caught:
        verifier.verify(sw_request("v1a,AAAA nocomma"))
    assert caught.value.reason == "bad_signature"


def test_standard_webhooks_vector_refuses_tampering_and_staleness() -> None:
    verifier = StandardWebhooksVerifier(SW_SECRET, now=clock(SW_TS))
    with pytest.raises(WebhookVerificationError, match="bad_signature"):
        verifier.verify(sw_request(body=b'{"test": 2432232315}'))
    late = StandardWebhooksVerifier(SW_SECRET, now=clock(SW_TS + 301))
    with pytest.raises(WebhookVerificationError, match="stale_timestamp"):
        late.verify(sw_request())
    early = StandardWebhooksVerifier(SW_SECRET, now=clock(SW_TS - 301))
    with pytest.raises(WebhookVerificationError, match="future_timestamp"):
        early.verify(sw_request())


def test_standard_webhooks_secret_without_prefix_or_padding() -> None:
    StandardWebhooksVerifier(SW_SECRET.removeprefix("whsec_"), now=clock(SW_TS)).verify(
        sw_request()
    )


# --- Adyen (Adyen/adyen-python-api-library test/UtilTest.py) ----------------------

ADYEN_KEY = "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056"
ADYEN_ITEM = {
    "pspReference": "7914073381342284",
    "merchantReference": "TestPayment-1407325143704",
    "merchantAccountCode": "TestMerchant",
    "amount": {"currency": "EUR", "value": 1130},
    "eventCode": "AUTHORISATION",
    "success": "true",
    "eventDate": "2019-05-06T17:15:34.121+02:00",
    "operations": ["CANCEL", "CAPTURE", "REFUND"],
    "paymentMethod": "visa",
}
ADYEN_SIGNATURE = "coqCmt/IZ4E3CzPvMY8zTjQVL5hYJUiBRg8UU+iCWo0="


def adyen_request(*items: dict[str, object]) -> WebhookRequest:
    body = {"live": "false", "notificationItems": [{"NotificationRequestItem": i} for i in items]}
    return WebhookRequest("POST", "https://x.example/h", {}, json.dumps(body).encode())


def test_adyen_vector() -> None:
    assert adyen_signing_string(ADYEN_ITEM) == (
        "7914073381342284::TestMerchant:TestPayment-1407325143704:1130:EUR:AUTHORISATION:true"
    )
    verifier = AdyenVerifier(ADYEN_KEY)
    assert verifier.sign_item(ADYEN_ITEM) == ADYEN_SIGNATURE
    verifier.verify(
        adyen_request({**ADYEN_ITEM, "additionalData": {"hmacSignature": ADYEN_SIGNATURE}})
    )


# Adyen's fixtures test/mocks/util/{backslash,colon,forwardslash}_notification.json:
# special characters in merchantReference are signed as-is, without escaping.
ADYEN_SLASH_KEY = "74F490DD33F7327BAECC88B2947C011FC02D014A473AAA33A8EC93E4DC069174"
ADYEN_SLASH_FIXTURES = [
    ("T7FD4VM4D3RZNN82", "\\\\slashes are fun", "nIgT81gaB5oJpn2jPXupDq68iRo2wUlBsuYjtYfwKqo="),
    ("M8NB66SBZSGLNK82", ":slashes are fun", "2EQYm7YJpKO4EtHSPu55SQTyWf8dkW5u2nD1tJFpViA="),
    ("X3GWNS6KJ8NKGK82", "//slashes are fun", "9Z0xdpG9Xi3zcmXv14t/BvMBut77O/Xq9D4CQXSDUi4="),
]


@pytest.mark.parametrize(("psp", "reference", "signature"), ADYEN_SLASH_FIXTURES)
def test_adyen_special_character_vectors(psp: str, reference: str, signature: str) -> None:
    item = {
        "additionalData": {"hmacSignature": signature, "expiryDate": "03/2030"},
        "amount": {"currency": "EUR", "value": 1000},
        "eventCode": "AUTHORISATION",
        "merchantAccountCode": "AntoniStroinski",
        "merchantReference": reference,
        "pspReference": psp,
        "success": "true",
    }
    AdyenVerifier(ADYEN_SLASH_KEY).verify(adyen_request(item))
    with pytest.raises(WebhookVerificationError, match="bad_signature"):
        AdyenVerifier(ADYEN_KEY).verify(adyen_request(item))


# --- Paddle (reference file: PaddleHQ/paddle-python-sdk) --------------------------

PADDLE_SECRET = "pdl_ntf_01hbpjmytsa32fhr36nqgc3kgb_WvRO0eL4Bj9rgYYIBZY6wZhG4EHy9jzh"
PADDLE_TS = 1696195954
PADDLE_H1 = "d96299976a6eb066f484d7fde011ac56fc32b38fc9940bc419d6e537fdc6ef02"


def paddle_request(header: str, body: bytes = b"hello-world") -> WebhookRequest:
    return WebhookRequest("POST", "https://x.example/h", {"Paddle-Signature": header}, body)


def test_paddle_vector() -> None:
    verifier = PaddleVerifier(PADDLE_SECRET, now=clock(PADDLE_TS))
    verifier.verify(paddle_request(f"ts={PADDLE_TS};h1={PADDLE_H1}"))
    assert verifier.sign_headers(b"hello-world", timestamp=PADDLE_TS) == {
        "Paddle-Signature": f"ts={PADDLE_TS};h1={PADDLE_H1}"
    }
    # Rotation: Paddle sends one h1 per active secret; any may match.
    verifier.verify(paddle_request(f"ts={PADDLE_TS};h1={'0' * 64};h1={PADDLE_H1}"))
    with pytest.raises(WebhookVerificationError, match="bad_signature"):
        verifier.verify(paddle_request(f"ts={PADDLE_TS};h1={PADDLE_H1}", b"hello-world!"))
    with pytest.raises(WebhookVerificationError, match="stale_timestamp"):
        PaddleVerifier(PADDLE_SECRET, now=clock(PADDLE_TS + 6)).verify(
            paddle_request(f"ts={PADDLE_TS};h1={PADDLE_H1}")
        )


# --- Square (square/square-python-sdk tests/integration/test_webhooks_helper.py) --

SQUARE_BODY = (
    b'{"merchant_id":"MLEFBHHSJGVHD","type":"webhooks.test_notification",'
    b'"event_id":"ac3ac95b-f97d-458c-a6e6-18981597e05f",'
    b'"created_at":"2022-07-13T20:30:59.037339943Z",'
    b'"data":{"type":"webhooks","id":"bc368e64-01aa-407e-b46e-3231809b1129"}}'
)
SQUARE_SIGNATURE = "GF4YkrJgGBDZ9NIYbNXBnMzqb2HoL4RW/S6vkZ9/2N4="
SQUARE_KEY = "Ibxx_5AKakO-3qeNVR61Dw"
SQUARE_URL = "https://webhook.site/679a4f3a-dcfa-49ee-bac5-9d0edad886b9"


def square_request(body: bytes, signature: str, url: str = SQUARE_URL) -> WebhookRequest:
    return WebhookRequest("POST", url, {"x-square-hmacsha256-signature": signature}, body)


def test_square_vectors() -> None:
    SquareVerifier(SQUARE_KEY, notification_url=SQUARE_URL).verify(
        square_request(SQUARE_BODY, SQUARE_SIGNATURE)
    )
    # Without notification_url, the URL the request arrived at is what is checked.
    SquareVerifier(SQUARE_KEY).verify(square_request(SQUARE_BODY, SQUARE_SIGNATURE))
    SquareVerifier("signature-key", notification_url="https://webhook.site/webhooks").verify(
        square_request(
            b'{"data":{"type":"webhooks","id":">id<"}}',
            "Cxt7+aTi4rKgcA0bC4g9EHdVtLSDWdqccmL5MvihU4U=",
        )
    )


@pytest.mark.parametrize(
    ("key", "url", "body", "signature"),
    [
        (
            SQUARE_KEY,
            "https://webhook.site/79a4f3a-dcfa-49ee-bac5-9d0edad886b9",
            SQUARE_BODY,
            SQUARE_SIGNATURE,
        ),
        ("MCmhFRxGX82xMwg5FsaoQA", SQUARE_URL, SQUARE_BODY, SQUARE_SIGNATURE),
        (SQUARE_KEY, SQUARE_URL, SQUARE_BODY, "1z2n3DEJJiUPKcPzQo1ftvbxGdw="),
        (SQUARE_KEY, SQUARE_URL, SQUARE_BODY.replace(b"07-13", b"06-13"), SQUARE_SIGNATURE),
    ],
    ids=["url-mismatch", "wrong-key", "sha1-length-signature", "body-mismatch"],
)
def test_square_vector_refusals(key: str, url: str, body: bytes, signature: str) -> None:
    with pytest.raises(WebhookVerificationError) as caught:
        SquareVerifier(key, notification_url=url).verify(square_request(body, signature))
    assert caught.value.reason == "bad_signature"


# --- GitHub (docs.github.com, "Validating webhook deliveries", test values) -------


def test_github_docs_vector() -> None:
    request = WebhookRequest(
        "POST",
        "https://x.example/h",
        {
            "X-Hub-Signature-256": (
                "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
            )
        },
        b"Hello, World!",
    )
    GitHubVerifier("It's a Secret to Everybody").verify(request)


def test_non_canonical_base64_is_refused() -> None:
    # The last of 43 base64 characters carries 2 unused bits; flipping them decodes to the
    # same digest, and lenient decoders accept it. Ours only accepts the canonical text.
    verifier = StandardWebhooksVerifier(SW_SECRET, now=clock(SW_TS))
    canonical = SW_SIGNATURE.removeprefix("v1,")
    last = canonical[42]
    twin = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    sibling = twin[twin.index(last) ^ 1]
    malleable = canonical[:42] + sibling + "="
    assert base64.b64decode(malleable) == base64.b64decode(canonical)
    with pytest.raises(WebhookVerificationError, match="bad_signature"):
        verifier.verify(sw_request("v1," + malleable))
    verifier.verify(sw_request("v1," + canonical.rstrip("=")))  # padding stays optional
