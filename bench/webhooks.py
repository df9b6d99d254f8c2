"""Webhook benchmarks, in one run, as ratios against the baselines that matter.

Run: ``.venv/bin/python -m bench.webhooks`` (under a minute; ``--only`` runs some parts).

1. **Verification throughput** of our Stripe and Standard Webhooks verifiers against
   ``stripe.Webhook.construct_event`` / ``stripe.WebhookSignature.verify_header`` and
   ``standardwebhooks.Webhook.verify`` on the same signed ~2.5 kB payloads, like with
   like: "verify" rows check the signature and timestamp only, "verify + parse" rows
   also turn the body into an event object (the official functions parse JSON too).
   The "includes" column says what each row times. Target: >= 1.0x the official library.
2. **Resolve latency** against a real restate-server: a workflow (``bench/services.py``
   ``Waiter``) waits on an awakeable; we time the request that resolves it, either
   the whole webhook pipeline (``WebhookRequest`` from the raw headers, signature
   check, parse, route, ``IngressClient`` resolve, response) or a bare
   ``POST /restate/awakeables/{id}/resolve`` of the same payload through a keep-alive
   httpx client. Samples are interleaved pairwise; p50/p99 per round, median of the
   rounds. Target: pipeline p50 <= 1.3x bare.
3. **Pipeline CPU per provider** with a client that does nothing: the library's own cost.

On a busy machine numbers move; rounds are interleaved and medians reported.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import statistics
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from bench._common import bench_stack, print_table
from restate_web.ingress import AsyncIngressClient, IngressClient
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
from restate_web.webhooks._json import loads_json
from restate_web.webhooks._verifiers import (
    AdyenVerifier,
    HmacVerifier,
    StandardWebhooksVerifier,
    StripeVerifier,
)

URL = "https://shop.example/webhooks"
STRIPE_SECRET = "whsec_bench_0123456789abcdefghijklmnopqrstuv"
STANDARD_SECRET = "whsec_" + base64.b64encode(b"bench-standard-webhooks-key-32b!").decode()
PADDING = "x" * 1200  # brings the per-provider events of table 3 to a realistic size


# ------------------------------------------------------------------------------ payloads


def stripe_event(event_id: str, awakeable_id: str) -> dict[str, Any]:
    """A ``payment_intent.succeeded`` shaped like Stripe's (~2.5 kB serialised)."""
    intent_id = "pi_3" + event_id[-20:].rjust(20, "0")
    return {
        "id": event_id,
        "object": "event",
        "api_version": "2024-06-20",
        "created": 1_718_000_000,
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": "req_8Xb1mJdK2Qw9Zp", "idempotency_key": str(uuid.uuid4())},
        "type": "payment_intent.succeeded",
        "data": {
            "object": {
                "id": intent_id,
                "object": "payment_intent",
                "amount": 1130,
                "amount_capturable": 0,
                "amount_details": {"tip": {}},
                "amount_received": 1130,
                "application": None,
                "application_fee_amount": None,
                "automatic_payment_methods": {"allow_redirects": "always", "enabled": True},
                "canceled_at": None,
                "cancellation_reason": None,
                "capture_method": "automatic_async",
                "client_secret": intent_id + "_secret_Zr8xJvP0d1Q6s0mF3KqB7tY2u",
                "confirmation_method": "automatic",
                "created": 1_718_000_000,
                "currency": "eur",
                "customer": "cus_Q1w2E3r4T5y6U7",
                "description": "Order #10342",
                "invoice": None,
                "last_payment_error": None,
                "latest_charge": "ch_3PQk2fLkdIwHu7ix0xh3K2aB",
                "livemode": False,
                "metadata": {"order_id": "10342", "restate_awakeable_id": awakeable_id},
                "next_action": None,
                "on_behalf_of": None,
                "payment_method": "pm_1PQk2eLkdIwHu7ixV3m0Wq8n",
                "payment_method_configuration_details": {
                    "id": "pmc_1OHQ8xLkdIwHu7ixcG5Mv2Jm",
                    "parent": None,
                },
                "payment_method_options": {
                    "card": {
                        "installments": None,
                        "mandate_options": None,
                        "network": None,
                        "request_three_d_secure": "automatic",
                    },
                    "link": {"persistent_token": None},
                },
                "payment_method_types": ["card", "link"],
                "processing": None,
                "receipt_email": "ada@example.com",
                "review": None,
                "setup_future_usage": None,
                "shipping": {
                    "address": {
                        "city": "Berlin",
                        "country": "DE",
                        "line1": "Unter den Linden 1",
                        "line2": None,
                        "postal_code": "10117",
                        "state": None,
                    },
                    "carrier": None,
                    "name": "Ada Lovelace",
                    "phone": None,
                    "tracking_number": None,
                },
                "source": None,
                "statement_descriptor": None,
                "statement_descriptor_suffix": None,
                "status": "succeeded",
                "transfer_data": None,
                "transfer_group": None,
            }
        },
    }


def standard_event(awakeable_id: str) -> dict[str, Any]:
    """A Standard Webhooks event with the same inner object (~2.5 kB)."""
    inner = stripe_event("evt_0", awakeable_id)["data"]["object"]
    inner["metadata"] = {"restate_awakeable_id": awakeable_id}
    return {"type": "invoice.paid", "timestamp": "2024-06-10T06:13:20Z", "data": inner}


# ------------------------------------------------------------- 1. verification throughput


def _rate(action: Callable[[], object], calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        action()
    return calls / (time.perf_counter() - started)


def _calibrate(action: Callable[[], object], seconds: float) -> int:
    """How many calls of ``action`` take about ``seconds``."""
    calls = 50
    while True:
        started = time.perf_counter()
        for _ in range(calls):
            action()
        elapsed = time.perf_counter() - started
        if elapsed >= seconds / 4:
            return max(50, int(calls * seconds / elapsed))
        calls *= 4


VerifyCase = tuple[str, str, Callable[[], object], str, Callable[[], object]]
"""(row, includes, ours, official name, official)."""


def verification_cases() -> list[VerifyCase]:
    import standardwebhooks
    import stripe

    now = int(time.time())

    stripe_body = json.dumps(stripe_event("evt_1PQk2fLkdIwHu7ix", "sign_1x")).encode()
    stripe_provider = stripe_webhooks(STRIPE_SECRET)
    stripe_headers = StripeVerifier(STRIPE_SECRET).sign_headers(stripe_body, timestamp=now)
    stripe_header = stripe_headers["Stripe-Signature"]
    stripe_request = WebhookRequest("POST", URL, stripe_headers, stripe_body)
    stripe_verifier = stripe_provider.verifier

    standard_body = json.dumps(standard_event("sign_1x")).encode()
    standard_provider = standard_webhooks(STANDARD_SECRET)
    standard_headers = StandardWebhooksVerifier(STANDARD_SECRET).sign_headers(
        standard_body, message_id="msg_2Ldx8KhZ6pN3", timestamp=now
    )
    standard_verifier = standard_provider.verifier
    official_standard = standardwebhooks.Webhook(STANDARD_SECRET)

    def ours_stripe_json() -> object:
        stripe_verifier.verify(WebhookRequest("POST", URL, stripe_headers, stripe_body))
        return loads_json(stripe_body)

    def ours_stripe_event() -> object:
        return stripe_provider.verify_and_parse(
            WebhookRequest("POST", URL, stripe_headers, stripe_body)
        )

    def ours_standard_verify() -> object:
        return standard_verifier.verify(
            WebhookRequest("POST", URL, standard_headers, standard_body)
        )

    def ours_standard_json() -> object:
        standard_verifier.verify(WebhookRequest("POST", URL, standard_headers, standard_body))
        return loads_json(standard_body)

    def ours_standard_event() -> object:
        return standard_provider.verify_and_parse(
            WebhookRequest("POST", URL, standard_headers, standard_body)
        )

    cases: list[VerifyCase] = [
        (
            "Stripe: verify",
            "ours: verify() on a built request; theirs: verify_header(body, header): "
            "header parse, HMAC, compare, timestamp",
            lambda: stripe_verifier.verify(stripe_request),
            "stripe WebhookSignature.verify_header",
            lambda: stripe.WebhookSignature.verify_header(
                stripe_body, stripe_header, STRIPE_SECRET, 300
            ),
        ),
        (
            "Stripe: verify + JSON",
            "ours: WebhookRequest from the header dict + verify + JSON to dict; "
            "theirs: verify + JSON + StripeObject",
            ours_stripe_json,
            "stripe Webhook.construct_event",
            lambda: stripe.Webhook.construct_event(
                stripe_body, stripe_headers["Stripe-Signature"], STRIPE_SECRET
            ),
        ),
        (
            "Stripe: verify + event",
            "ours: as above + id/type checked into a WebhookEvent (verify_and_parse)",
            ours_stripe_event,
            "stripe Webhook.construct_event",
            lambda: stripe.Webhook.construct_event(
                stripe_body, stripe_headers["Stripe-Signature"], STRIPE_SECRET
            ),
        ),
        (
            "Standard Webhooks: verify",
            "both: header dict normalised, HMAC, compare, timestamp (theirs json_parse=False)",
            ours_standard_verify,
            "standardwebhooks Webhook.verify(json_parse=False)",
            lambda: official_standard.verify(standard_body, standard_headers, json_parse=False),
        ),
        (
            "Standard Webhooks: verify + JSON",
            "both: as above + JSON to dict",
            ours_standard_json,
            "standardwebhooks Webhook.verify",
            lambda: official_standard.verify(standard_body, standard_headers),
        ),
        (
            "Standard Webhooks: verify + event",
            "ours: as above + id (header) / type checked into a WebhookEvent (verify_and_parse)",
            ours_standard_event,
            "standardwebhooks Webhook.verify",
            lambda: official_standard.verify(standard_body, standard_headers),
        ),
    ]
    for _, _, ours, _, theirs in cases:  # all must succeed, or we would time error paths
        ours()
        theirs()
    return cases


def verification_rows(rounds: int, seconds: float) -> list[list[object]]:
    cases = verification_cases()
    ours_rates: dict[str, list[float]] = {}
    theirs_rates: dict[str, list[float]] = {}
    calls = {name: (_calibrate(o, seconds), _calibrate(t, seconds)) for name, _, o, _, t in cases}
    for round_number in range(rounds):
        for name, _, ours, _, theirs in cases:
            n_ours, n_theirs = calls[name]
            if round_number % 2:
                theirs_rates.setdefault(name, []).append(_rate(theirs, n_theirs))
                ours_rates.setdefault(name, []).append(_rate(ours, n_ours))
            else:
                ours_rates.setdefault(name, []).append(_rate(ours, n_ours))
                theirs_rates.setdefault(name, []).append(_rate(theirs, n_theirs))
    rows: list[list[object]] = []
    for name, includes, _, official, _ in cases:
        ours_rate = statistics.median(ours_rates[name])
        theirs_rate = statistics.median(theirs_rates[name])
        ratio = ours_rate / theirs_rate
        rows.append(
            [
                name,
                f"{ours_rate:,.0f}",
                official,
                f"{theirs_rate:,.0f}",
                f"{ratio:.2f}x",
                "ok" if ratio >= 1.0 else "MISSED",
                includes,
            ]
        )
    return rows


# ----------------------------------------------------------------- 2. resolve latency

LATENCY_ENDPOINT = WebhookEndpoint(
    stripe_webhooks(STRIPE_SECRET),
    {"payment_intent.succeeded": ResolveAwakeable(payload=lambda e: e.payload["data"]["object"])},
)


class Sample:
    """One waiting workflow and the signed webhook that completes it."""

    def __init__(self, key: str, awakeable_id: str) -> None:
        self.key = key
        self.awakeable_id = awakeable_id
        event = stripe_event("evt_" + key, awakeable_id)
        self.payload: dict[str, Any] = event["data"]["object"]
        self.body = json.dumps(event).encode()
        self.headers = StripeVerifier(STRIPE_SECRET).sign_headers(self.body)

    def request(self) -> WebhookRequest:
        """What an adapter builds from the framework request: part of the timed work."""
        return WebhookRequest("POST", URL, self.headers, self.body)


def start_waiters(client: IngressClient, count: int) -> list[Sample]:
    def start(_: int) -> Sample:
        key = uuid.uuid4().hex
        workflow = client.workflow("Waiter", key)
        workflow.submit()
        return Sample(key, workflow.call("awakeable_id", timeout=60))

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(start, range(count)))


def check_resolved(client: IngressClient, samples: list[Sample]) -> None:
    """Every workflow finished with exactly the payload its resolve sent."""

    def check(sample: Sample) -> None:
        result = client.workflow("Waiter", sample.key).attach(timeout=60)
        if result != sample.payload:
            raise AssertionError(f"workflow {sample.key} got {result!r}")

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(check, samples))


def _ms(seconds: float) -> float:
    return seconds * 1000.0


def latency_round_sync(url: str, samples: list[Sample]) -> tuple[list[float], list[float]]:
    """Interleaved pairs: bare resolve and pipeline resolve, alternating which goes first."""
    bare: list[float] = []
    ours: list[float] = []
    half = len(samples) // 2
    with httpx.Client(base_url=url, timeout=30) as raw, IngressClient(url) as client:

        def bare_one(sample: Sample) -> None:
            started = time.perf_counter()
            response = raw.post(
                f"/restate/awakeables/{sample.awakeable_id}/resolve", json=sample.payload
            )
            bare.append(time.perf_counter() - started)
            response.raise_for_status()

        def ours_one(sample: Sample) -> None:
            started = time.perf_counter()
            response = LATENCY_ENDPOINT.handle(sample.request(), client)
            ours.append(time.perf_counter() - started)
            if response.status != 200:
                raise AssertionError(f"pipeline answered {response.status}: {response.body!r}")

        for i in range(half):
            first, second = samples[2 * i], samples[2 * i + 1]
            if i % 2:
                ours_one(first)
                bare_one(second)
            else:
                bare_one(first)
                ours_one(second)
    return bare, ours


def latency_round_async(url: str, samples: list[Sample]) -> tuple[list[float], list[float]]:
    bare: list[float] = []
    ours: list[float] = []
    half = len(samples) // 2

    async def go() -> None:
        async with (
            httpx.AsyncClient(base_url=url, timeout=30) as raw,
            AsyncIngressClient(url) as client,
        ):

            async def bare_one(sample: Sample) -> None:
                started = time.perf_counter()
                response = await raw.post(
                    f"/restate/awakeables/{sample.awakeable_id}/resolve", json=sample.payload
                )
                bare.append(time.perf_counter() - started)
                response.raise_for_status()

            async def ours_one(sample: Sample) -> None:
                started = time.perf_counter()
                response = await LATENCY_ENDPOINT.handle_async(sample.request(), client)
                ours.append(time.perf_counter() - started)
                if response.status != 200:
                    raise AssertionError(f"pipeline answered {response.status}")

            for i in range(half):
                first, second = samples[2 * i], samples[2 * i + 1]
                if i % 2:
                    await ours_one(first)
                    await bare_one(second)
                else:
                    await bare_one(first)
                    await ours_one(second)

    asyncio.run(go())
    return bare, ours


def _p(values: list[float], percentile: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[percentile - 1]


def latency_rows(url: str, samples: int, rounds: int) -> list[list[object]]:
    series: dict[str, dict[str, list[float]]] = {}
    with IngressClient(url) as control:
        # Warm-up, discarded: first requests pay for connections and deployment lookups.
        for run in (latency_round_sync, latency_round_async):
            warm = start_waiters(control, 20)
            run(url, warm)
            check_resolved(control, warm)
        for _ in range(rounds):
            for mode, run in (("sync", latency_round_sync), ("async", latency_round_async)):
                batch = start_waiters(control, 2 * samples)
                bare, ours = run(url, batch)
                check_resolved(control, batch)
                for name, values in (("bare", bare), ("ours", ours)):
                    stats = series.setdefault(f"{mode} {name}", {"p50": [], "p99": []})
                    stats["p50"].append(_ms(_p(values, 50)))
                    stats["p99"].append(_ms(_p(values, 99)))

    def med(name: str, stat: str) -> float:
        return statistics.median(series[name][stat])

    rows: list[list[object]] = []
    for mode, client_name in (("sync", "IngressClient"), ("async", "AsyncIngressClient")):
        bare50, bare99 = med(f"{mode} bare", "p50"), med(f"{mode} bare", "p99")
        ours50, ours99 = med(f"{mode} ours", "p50"), med(f"{mode} ours", "p99")
        raw_name = "httpx.Client" if mode == "sync" else "httpx.AsyncClient"
        rows.append(
            [mode, f"bare POST .../resolve ({raw_name})", f"{bare50:.2f}", f"{bare99:.2f}", "", ""]
        )
        ratio = ours50 / bare50
        rows.append(
            [
                mode,
                f"webhook pipeline + {client_name}",
                f"{ours50:.2f}",
                f"{ours99:.2f}",
                f"{ratio:.2f}x p50, {ours99 / bare99:.2f}x p99",
                "ok" if ratio <= 1.3 else "MISSED",
            ]
        )
    return rows


# ----------------------------------------------------------- 3. pipeline CPU per provider


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
    headers = StripeVerifier("whsec_bench").sign_headers(body, timestamp=now)
    return provider, WebhookRequest("POST", URL, headers, body)


def standard_case(now: int) -> tuple[WebhookProvider, WebhookRequest]:
    provider = standard_webhooks(STANDARD_SECRET)
    body = json.dumps(
        {"type": "a.b", "data": {"metadata": {"restate_awakeable_id": "sign_1x"}, "pad": PADDING}}
    ).encode()
    headers = StandardWebhooksVerifier(STANDARD_SECRET).sign_headers(
        body, message_id="msg_1", timestamp=now
    )
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


def provider_rows(seconds: float) -> list[list[object]]:
    now = int(time.time())
    client: Any = NullClient()
    rows: list[list[object]] = []
    for name, build in CASES.items():
        provider, request = build(now)
        endpoint = WebhookEndpoint(provider, {"*": ResolveAwakeable(awakeable_id=lambda e: "x")})
        assert endpoint.handle(request, client).status == 200, name

        def parse(provider: WebhookProvider = provider, request: WebhookRequest = request) -> None:
            provider.verify_and_parse(request)

        def full(endpoint: WebhookEndpoint = endpoint, request: WebhookRequest = request) -> None:
            endpoint.handle(request, client)

        parse_rate = _rate(parse, _calibrate(parse, seconds))
        full_rate = _rate(full, _calibrate(full, seconds))
        rows.append([name, f"{parse_rate:,.0f}", f"{full_rate:,.0f}", f"{1e6 / full_rate:.1f}"])
    secret = "bench-callback-secret-0123456789"
    callbacks = CallbackEndpoint(secret)
    url = make_callback_url(URL, "sign_1PEb6Gk7gg1sBXmZmgZIy5UwAAAAAQ", secret, ttl=600)
    callback = WebhookRequest("POST", url, {}, b'{"ok": true}')
    assert callbacks.handle(callback, client).status == 200

    def handle_callback() -> None:
        callbacks.handle(callback, client)

    callback_rate = _rate(handle_callback, _calibrate(handle_callback, seconds))
    rows.append(["signed callback URL", "", f"{callback_rate:,.0f}", f"{1e6 / callback_rate:.1f}"])
    return rows


# ------------------------------------------------------------------------------------ main


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="verification rounds (interleaved)")
    parser.add_argument("--seconds", type=float, default=0.1, help="time per CPU measurement")
    parser.add_argument("--samples", type=int, default=250, help="resolves per series per round")
    parser.add_argument("--repeats", type=int, default=3, help="latency rounds")
    parser.add_argument(
        "--only",
        choices=["verify", "latency", "providers"],
        action="append",
        help="run only these parts (repeatable); default: all three",
    )
    args = parser.parse_args(argv)
    parts = args.only or ["verify", "latency", "providers"]

    tables = []
    if "verify" in parts:
        tables.append(
            print_table(
                f"Webhook verification throughput (calls/s), ~2.5 kB events, median of "
                f"{args.rounds} interleaved rounds; target >= 1.0x official",
                [
                    *("case", "ours /s", "official", "official /s", "ours vs official"),
                    *("target", "includes"),
                ],
                verification_rows(args.rounds, args.seconds),
            )
        )
    if "latency" in parts:
        with bench_stack() as server:
            rows = latency_rows(server.ingress_url, args.samples, args.repeats)
        tables.append(
            print_table(
                f"Webhook -> awakeable resolved: latency of the resolving request (ms), real "
                f"restate-server, {args.samples} interleaved pairs per round, median of "
                f"{args.repeats} rounds; target pipeline p50 <= 1.3x bare",
                ["mode", "request", "p50 ms", "p99 ms", "pipeline vs bare", "target"],
                rows,
            )
        )
    if "providers" in parts:
        tables.append(
            print_table(
                "Webhook pipeline CPU per provider, client that does nothing (no network)",
                ["provider", "verify+parse /s", "full pipeline /s", "full pipeline µs"],
                provider_rows(args.seconds),
            )
        )
    return "\n\n".join(tables)


if __name__ == "__main__":
    main()
