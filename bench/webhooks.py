"""How much CPU the webhook core costs per request, without Restate or a web server.

Run: ``.venv/bin/python -m bench.webhooks [--seconds 0.5]``

For each provider: verify + parse of a typical ~1.5 kB event, and the whole
pipeline (verify, parse, route, plan, drive, respond) with a client that does
nothing, so the numbers are the library's own overhead. Also the signed
callback URL check. Pure CPU, bounded by time; prints one line per case.
"""

from __future__ import annotations

import argparse
import base64
import json
import time
from collections.abc import Callable
from typing import Any

from restate_web.webhooks import (
    CallbackEndpoint,
    ResolveAwakeable,
    WebhookEndpoint,
    WebhookProvider,
    WebhookRequest,
    adyen_webhooks,
    github_webhooks,
    make_callback_url,
    paddle_webhooks,
    shopify_webhooks,
    square_webhooks,
    standard_webhooks,
    stripe_webhooks,
)
from restate_web.webhooks.verifiers import AdyenVerifier, HmacVerifier

URL = "https://shop.example/webhooks"
PADDING = "x" * 1200  # brings events to a realistic size


class NullAwakeable:
    def resolve(self, payload: Any = None) -> None:
        return None

    def reject(self, reason: str) -> None:
        return None


class NullClient:
    """Accepts every call and does nothing: measures the pipeline, not the network."""

    def awakeable(self, awakeable_id: str) -> NullAwakeable:
        return NullAwakeable()


def stripe_case(now: int) -> tuple[WebhookProvider, WebhookRequest]:
    provider = stripe_webhooks("whsec_bench")
    body = json.dumps(
        {
            "id": "evt_1",
            "type": "payment_intent.succeeded",
            "data": {"object": {"metadata": {"restate_awakeable_id": "sign_1x"}, "pad": PADDING}},
        }
    ).encode()
    headers = provider.verifier.sign_headers(body, timestamp=now)  # type: ignore[attr-defined]
    return provider, WebhookRequest("POST", URL, headers, body)


def standard_case(now: int) -> tuple[WebhookProvider, WebhookRequest]:
    secret = "whsec_" + base64.b64encode(b"k" * 32).decode()
    provider = standard_webhooks(secret)
    body = json.dumps(
        {"type": "a.b", "data": {"metadata": {"restate_awakeable_id": "sign_1x"}, "pad": PADDING}}
    ).encode()
    headers = provider.verifier.sign_headers(body, message_id="msg_1", timestamp=now)  # type: ignore[attr-defined]
    return provider, WebhookRequest("POST", URL, headers, body)


def paddle_case(now: int) -> tuple[WebhookProvider, WebhookRequest]:
    provider = paddle_webhooks("pdl_ntfset_bench")
    body = json.dumps(
        {
            "event_id": "evt_1",
            "event_type": "transaction.completed",
            "data": {"custom_data": {"restate_awakeable_id": "sign_1x"}, "pad": PADDING},
        }
    ).encode()
    headers = provider.verifier.sign_headers(body, timestamp=now)  # type: ignore[attr-defined]
    return provider, WebhookRequest("POST", URL, headers, body)


def adyen_case(now: int) -> tuple[WebhookProvider, WebhookRequest]:
    key = "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056"
    item: dict[str, Any] = {
        "pspReference": "7914073381342284",
        "merchantAccountCode": "TestMerchant",
        "merchantReference": "ref",
        "amount": {"currency": "EUR", "value": 1130},
        "eventCode": "AUTHORISATION",
        "success": "true",
        "reason": PADDING,
    }
    item["additionalData"] = {
        "hmacSignature": AdyenVerifier(key).sign_item(item),
        "metadata.restate_awakeable_id": "sign_1x",
    }
    body = json.dumps({"notificationItems": [{"NotificationRequestItem": item}]}).encode()
    return adyen_webhooks(key), WebhookRequest("POST", URL, {}, body)


def body_hmac_case(
    factory: Callable[[str], WebhookProvider], extra: dict[str, str]
) -> Callable[[int], tuple[WebhookProvider, WebhookRequest]]:
    def build(now: int) -> tuple[WebhookProvider, WebhookRequest]:
        provider = factory("bench-secret")
        body = json.dumps({"event_id": "e1", "type": "t", "pad": PADDING}).encode()
        verifier = provider.verifier
        if isinstance(verifier, HmacVerifier):
            headers = verifier.sign_headers(body)
        else:
            headers = verifier.sign_headers(body, url=URL)  # type: ignore[attr-defined]
        return provider, WebhookRequest("POST", URL, {**headers, **extra}, body)

    return build


CASES: dict[str, Callable[[int], tuple[WebhookProvider, WebhookRequest]]] = {
    "stripe": stripe_case,
    "standard-webhooks": standard_case,
    "paddle": paddle_case,
    "adyen": adyen_case,
    "square": body_hmac_case(lambda s: square_webhooks(s, notification_url=URL), {}),
    "github": body_hmac_case(
        github_webhooks, {"X-GitHub-Delivery": "d1", "X-GitHub-Event": "push"}
    ),
    "shopify": body_hmac_case(
        shopify_webhooks, {"X-Shopify-Webhook-Id": "w1", "X-Shopify-Topic": "orders/paid"}
    ),
}


def rate(action: Callable[[], object], seconds: float) -> float:
    """Calls per second of ``action``, measured for about ``seconds``."""
    count = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(50):
            action()
        count += 50
        now = time.perf_counter()
        if now >= deadline:
            return count / (now - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=0.5, help="time per measurement")
    args = parser.parse_args()
    now = int(time.time())
    client = NullClient()
    print(f"{'case':<22}{'verify+parse /s':>18}{'full pipeline /s':>18}")
    for name, build in CASES.items():
        provider, request = build(now)
        endpoint = WebhookEndpoint(provider, {"*": ResolveAwakeable(awakeable_id=lambda e: "x")})
        assert endpoint.handle(request, client).status == 200, name  # type: ignore[arg-type]
        parse_rate = rate(lambda: provider.verify_and_parse(request), args.seconds)  # noqa: B023
        full_rate = rate(lambda: endpoint.handle(request, client), args.seconds)  # type: ignore[arg-type]  # noqa: B023
        print(f"{name:<22}{parse_rate:>18,.0f}{full_rate:>18,.0f}")
    secret = "bench-callback-secret-0123456789"
    callbacks = CallbackEndpoint(secret)
    url = make_callback_url(URL, "sign_1PEb6Gk7gg1sBXmZmgZIy5UwAAAAAQ", secret, ttl=600)
    callback = WebhookRequest("POST", url, {}, b'{"ok": true}')
    assert callbacks.handle(callback, client).status == 200  # type: ignore[arg-type]
    callback_rate = rate(lambda: callbacks.handle(callback, client), args.seconds)  # type: ignore[arg-type]
    print(f"{'callback URL':<22}{'':>18}{callback_rate:>18,.0f}")


if __name__ == "__main__":
    main()
