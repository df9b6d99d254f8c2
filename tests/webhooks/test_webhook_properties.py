"""Property tests: arbitrary input never escapes the documented exceptions.

The two endpoint properties hand every example to a real ``IngressClient`` for the session's
restate-server and check on the wire that it sent nothing: a correct endpoint makes no call,
so the examples cost no server round trip.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import urlencode

import httpx
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from restate_web.ingress import IngressClient
from restate_web.webhooks import (
    CallbackEndpoint,
    ResolveAwakeable,
    WebhookEndpoint,
    WebhookParseError,
    WebhookRequest,
    WebhookVerificationError,
)
from tests.conftest import RecordingTransport

from .webhook_support import CASES, NOW, SIGNATURE_HEADERS, ProviderCase

DOCUMENTED = (WebhookVerificationError, WebhookParseError)


class Wire:
    """A real client for the session server, and every HTTP request it sent."""

    def __init__(self, url: str) -> None:
        self.sent: list[httpx.Request] = []
        self.client = IngressClient(url, retry=False, transport=RecordingTransport(self.sent))


@pytest.fixture(scope="module")
def wire(hook_url: str) -> Iterator[Wire]:
    # Module scope: Hypothesis runs every example within one call of the test function.
    recorded = Wire(hook_url)
    yield recorded
    recorded.client.close()


header_names = st.sampled_from(
    sorted(
        {name for name in SIGNATURE_HEADERS.values()}
        | {
            "webhook-id",
            "webhook-timestamp",
            "svix-id",
            "svix-timestamp",
            "svix-signature",
            "X-Acme-Timestamp",
            "X-GitHub-Delivery",
            "X-GitHub-Event",
            "X-Shopify-Topic",
            "X-Shopify-Webhook-Id",
            "x-razorpay-event-id",
            "Content-Type",
        }
    )
)
header_values = st.one_of(
    st.text(max_size=120),
    st.from_regex(r"t=-?[0-9]{0,12}(,v[01]=[0-9a-fA-F]{0,70})*", fullmatch=True),
    st.from_regex(r"ts=[0-9]{0,12}(;h1=[0-9a-f]{0,70})*", fullmatch=True),
    st.from_regex(r"(v1,[A-Za-z0-9+/=]{0,50} ?)*", fullmatch=True),
    st.from_regex(r"sha256=[0-9a-fA-F]{0,70}", fullmatch=True),
)
headers = st.lists(st.tuples(header_names, header_values), max_size=8)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
bodies = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.builds(
        lambda items: json.dumps({"notificationItems": items}).encode(),
        st.lists(json_values, max_size=3),
    ),
)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw_headers=headers, body=bodies, method=st.sampled_from(["POST", "GET", "put"]))
def test_arbitrary_requests_raise_only_documented_errors(
    case: ProviderCase, raw_headers: list[tuple[str, str]], body: bytes, method: str
) -> None:
    provider = case.provider()
    request = WebhookRequest(method, "https://shop.example/webhooks/in", raw_headers, body)
    try:
        provider.verify_and_parse(request)
    except DOCUMENTED as error:
        assert error.provider == provider.name
    else:
        pytest.fail("an unsigned random request verified")


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
@settings(max_examples=100, deadline=None)
@given(body=bodies)
def test_correctly_signed_arbitrary_bodies_parse_or_raise_parse_error(
    case: ProviderCase, body: bytes
) -> None:
    if case.name == "adyen":
        return  # Adyen's signature lives in the body; covered by the test below.
    provider = case.provider()
    request = case.request(body=body)
    try:
        events = provider.verify_and_parse(request)
    except WebhookParseError as error:
        assert error.provider == provider.name
    else:
        assert all(isinstance(event.id, str) and event.id for event in events)
        assert all(isinstance(event.type, str) and event.type for event in events)


@pytest.mark.parametrize(
    "case", [c for c in CASES if c.name in SIGNATURE_HEADERS], ids=lambda c: c.name
)
@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_any_single_character_change_to_the_signature_is_refused(
    case: ProviderCase, data: st.DataObject
) -> None:
    request = case.request()
    name = SIGNATURE_HEADERS[case.name]
    value = request.headers[name]
    position = data.draw(st.integers(0, len(value) - 1))
    replacement = data.draw(st.characters(codec="ascii"))
    mutated = value[:position] + replacement + value[position + 1 :]
    assume(mutated != value)
    # Changing base64 padding (even to trailing whitespace) or the case of hex digits
    # keeps the same digest, so those are not forgeries.
    assume(mutated.strip().rstrip("=").strip() != value.rstrip("="))
    assume(
        mutated.lower() != value.lower() or case.name in {"standard-webhooks", "square", "shopify"}
    )
    # A changed timestamp that is still inside the window must fail the signature, not pass.
    pairs = [(k, v) for k, v in request.headers.items_all() if k != name.lower()] + [
        (name, mutated)
    ]
    with pytest.raises(WebhookVerificationError):
        case.provider().verifier.verify(WebhookRequest("POST", request.url, pairs, request.body))


@settings(max_examples=100, deadline=None)
@given(extra=st.integers(1, 10**6))
def test_stripe_timestamp_is_bound_to_the_signature(extra: int) -> None:
    case = next(c for c in CASES if c.name == "stripe")
    request = case.request()
    value = request.headers["Stripe-Signature"].replace(f"t={NOW}", f"t={NOW - extra}")
    with pytest.raises(WebhookVerificationError) as caught:
        case.provider().verifier.verify(
            WebhookRequest("POST", request.url, {"Stripe-Signature": value}, request.body)
        )
    assert caught.value.reason == "bad_signature"


@settings(max_examples=200, deadline=None)
@given(
    raw_headers=headers,
    body=bodies,
    method=st.sampled_from(["POST", "GET"]),
    limit=st.integers(1, 400),
    content_length=st.one_of(st.none(), st.text(max_size=8), st.integers(-5, 10**7)),
)
def test_endpoint_answers_every_unsigned_request_without_calling_restate(
    wire: Wire,
    raw_headers: list[tuple[str, str]],
    body: bytes,
    method: str,
    limit: int,
    content_length: str | int | None,
) -> None:
    endpoint = WebhookEndpoint(CASES[0].provider(), {"*": ResolveAwakeable()}, max_body_size=limit)
    early = endpoint.check_content_length(content_length)
    assert early is None or early.status in (400, 413)
    request = WebhookRequest(method, "https://shop.example/webhooks/in", raw_headers, body)
    response = endpoint.handle(request, wire.client)
    assert response.status in (400, 405, 413)
    assert wire.sent == []


@settings(max_examples=200, deadline=None)
@given(
    query=st.lists(
        st.tuples(
            st.sampled_from(["awakeable", "action", "expires", "token", "other"]),
            st.text(max_size=50),
        ),
        max_size=6,
    ),
    body=st.binary(max_size=100),
)
def test_callback_endpoint_never_forwards_unsigned_requests(
    wire: Wire, query: list[tuple[str, str]], body: bytes
) -> None:
    callbacks = CallbackEndpoint("property-test-secret-0123456789ab", now=lambda: NOW)
    url = "https://app.example/cb?" + urlencode(query)
    response = callbacks.handle(WebhookRequest("POST", url, {}, body), wire.client)
    assert response.status in (400, 403)
    assert wire.sent == []
