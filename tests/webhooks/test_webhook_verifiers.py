"""Behaviour every verifier shares: rotation, tampering, freshness, lengths, secrecy."""

from __future__ import annotations

import pytest

from restate_web.webhooks import WebhookRequest, WebhookVerificationError

from .webhook_support import CASES, NOW, SIGNATURE_HEADERS, ProviderCase, with_header

HEADER_CASES = [case for case in CASES if case.name in SIGNATURE_HEADERS]
TIMESTAMPED = [case for case in CASES if case.timestamped]


def ids(cases: list[ProviderCase]) -> list[str]:
    return [case.name for case in cases]


def refuse(case: ProviderCase, request: WebhookRequest) -> WebhookVerificationError:
    with pytest.raises(WebhookVerificationError) as caught:
        case.provider().verifier.verify(request)
    error = caught.value
    text = f"{error} {error!r} {error.args!r}"
    for secret in case.secrets:
        assert secret not in text
    signature_header = SIGNATURE_HEADERS.get(case.name)
    if signature_header:
        for value in request.headers.get_all(signature_header):
            signature = value.rsplit("=", 1)[0] if value.endswith("=") else value
            signature = signature.split(",")[-1].split(";")[-1].split("=")[-1]
            if len(signature) >= 8:
                assert signature not in text
    assert error.provider == case.provider().name
    return error


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_accepts_current_and_previous_secret(case: ProviderCase) -> None:
    provider = case.provider()
    for secret in case.secrets:
        provider.verifier.verify(case.request(secret=secret))
        events = provider.verify_and_parse(case.request(secret=secret))
        assert events and all(event.id and event.type for event in events)


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_refuses_a_secret_not_configured(case: ProviderCase) -> None:
    provider = case.provider(secrets=[case.secrets[0]])
    with pytest.raises(WebhookVerificationError) as caught:
        provider.verifier.verify(case.request(secret=case.secrets[1]))
    assert caught.value.reason == "bad_signature"


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_refuses_a_tampered_body(case: ProviderCase) -> None:
    assert refuse(case, case.tampered(case.request())).reason == "bad_signature"


@pytest.mark.parametrize("case", HEADER_CASES, ids=ids(HEADER_CASES))
def test_refuses_missing_signature_header(case: ProviderCase) -> None:
    request = with_header(case.request(), SIGNATURE_HEADERS[case.name], None)
    assert refuse(case, request).reason == "missing_header"


@pytest.mark.parametrize("case", HEADER_CASES, ids=ids(HEADER_CASES))
@pytest.mark.parametrize("cut", [1, 2, 8, 30])
def test_refuses_truncated_signature(case: ProviderCase, cut: int) -> None:
    request = case.request()
    header = SIGNATURE_HEADERS[case.name]
    # Base64 padding is optional, so cut real signature characters, not '='.
    value = request.headers[header].rstrip("=")
    error = refuse(case, with_header(request, header, value[:-cut]))
    assert error.reason in {"bad_signature", "malformed_header"}


@pytest.mark.parametrize("case", HEADER_CASES, ids=ids(HEADER_CASES))
def test_refuses_extended_signature(case: ProviderCase) -> None:
    request = case.request()
    header = SIGNATURE_HEADERS[case.name]
    for suffix in ("0", "00", "AAAA"):
        error = refuse(case, with_header(request, header, request.headers[header] + suffix))
        assert error.reason == "bad_signature"


@pytest.mark.parametrize("case", HEADER_CASES, ids=ids(HEADER_CASES))
def test_refuses_empty_and_garbage_signature(case: ProviderCase) -> None:
    header = SIGNATURE_HEADERS[case.name]
    for value in ("", " ", "=", "v1=", "sha256=", "t=1,v1=zz", "ts=;h1=", "\u00e9\u00e9"):
        request = with_header(case.request(), header, value)
        assert refuse(case, request).reason in {"bad_signature", "malformed_header"}


@pytest.mark.parametrize("case", TIMESTAMPED, ids=ids(TIMESTAMPED))
def test_timestamp_window(case: ProviderCase) -> None:
    provider = case.provider()
    tolerance = case.tolerance
    # Exactly at the edges is still fresh, in both directions.
    provider.verifier.verify(case.request(timestamp=NOW - tolerance))
    provider.verifier.verify(case.request(timestamp=NOW + tolerance))
    assert refuse(case, case.request(timestamp=NOW - tolerance - 1)).reason == "stale_timestamp"
    assert refuse(case, case.request(timestamp=NOW + tolerance + 1)).reason == "future_timestamp"
    assert refuse(case, case.request(timestamp=NOW - 10 * 86400)).reason == "stale_timestamp"


@pytest.mark.parametrize("case", TIMESTAMPED, ids=ids(TIMESTAMPED))
def test_stale_timestamp_is_reported_only_for_authentic_requests(case: ProviderCase) -> None:
    # A forged request with an old timestamp must be 'bad_signature', so the
    # freshness check never tells an attacker anything about our clock.
    old = case.request(timestamp=NOW - 10 * 86400, secret=case.foreign_secret)
    assert refuse(case, old).reason == "bad_signature"


@pytest.mark.parametrize("case", TIMESTAMPED, ids=ids(TIMESTAMPED))
def test_tolerance_none_disables_freshness(case: ProviderCase) -> None:
    from restate_web.webhooks import (
        hmac_webhooks,
        paddle_webhooks,
        standard_webhooks,
        stripe_webhooks,
    )

    from .webhook_support import clock

    factories = {
        "stripe": lambda: stripe_webhooks(list(case.secrets), tolerance=None, now=clock()),
        "standard-webhooks": lambda: standard_webhooks(
            list(case.secrets), tolerance=None, now=clock()
        ),
        "paddle": lambda: paddle_webhooks(list(case.secrets), tolerance=None, now=clock()),
        "hmac": lambda: hmac_webhooks(
            list(case.secrets),
            header="X-Acme-Signature",
            prefix="v1=",
            timestamp_header="X-Acme-Timestamp",
            signed_content="{timestamp}.{body}",
            tolerance=None,
            now=clock(),
        ),
    }
    factories[case.name]().verifier.verify(case.request(timestamp=NOW - 10 * 86400))


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_repr_hides_secrets(case: ProviderCase) -> None:
    provider = case.provider()
    text = repr(provider) + repr(provider.verifier) + str(vars(provider.verifier).keys())
    for secret in case.secrets:
        assert secret not in text
    assert "hidden" in repr(provider.verifier)


def test_headers_are_case_insensitive() -> None:
    case = next(c for c in CASES if c.name == "stripe")
    request = case.request()
    shouted = WebhookRequest(
        "post",
        request.url,
        [(k.upper(), v) for k, v in request.headers.items_all()],
        request.body,
    )
    case.provider().verifier.verify(shouted)
    assert shouted.method == "POST"


def test_bytes_headers_from_asgi_are_accepted() -> None:
    case = next(c for c in CASES if c.name == "github")
    request = case.request()
    raw = WebhookRequest(
        "POST",
        request.url,
        [(k.encode("latin-1"), v.encode("latin-1")) for k, v in request.headers.items_all()],
        bytearray(request.body),
    )
    case.provider().verifier.verify(raw)
    assert isinstance(raw.body, bytes)


def test_request_repr_hides_header_values_and_query() -> None:
    request = WebhookRequest(
        "POST", "https://x.example/cb?token=SECRET-TOKEN", {"Stripe-Signature": "t=1,v1=abc"}, b"{}"
    )
    text = repr(request)
    assert "SECRET-TOKEN" not in text and "v1=abc" not in text
    assert "stripe-signature" in text
