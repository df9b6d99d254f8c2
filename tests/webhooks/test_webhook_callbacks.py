"""Signed callback URLs: creation, verification and the resolve/reject they trigger."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest

from restate_web.ingress import IngressError, IngressUnavailable
from restate_web.webhooks import (
    CallbackEndpoint,
    WebhookConfigurationError,
    WebhookRequest,
    make_callback_url,
    make_reject_callback_url,
)
from restate_web.webhooks._pipeline import WebhookResponse

from .fake_ingress import FakeIngress
from .webhook_support import NOW, clock

SECRET = "callback-secret-0123456789abcdef"
OLD_SECRET = "callback-secret-old-0123456789ab"
BASE = "https://app.example/restate/callback"
AWAKEABLE = "sign_1PEb6Gk7gg1sBXmZmgZIy5UwAAAAAQ"


def post(
    endpoint: CallbackEndpoint,
    url: str,
    body: bytes = b"",
    client: FakeIngress | None = None,
    *,
    use_async: bool = False,
) -> tuple[WebhookResponse, FakeIngress]:
    client = client or FakeIngress()
    request = WebhookRequest("POST", url, {"Content-Type": "application/json"}, body)
    if use_async:
        client.is_async = True
        return asyncio.run(endpoint.handle_async(request, client)), client  # type: ignore[arg-type]
    return endpoint.handle(request, client), client  # type: ignore[arg-type]


def receiver(now: float = NOW, secrets: Any = SECRET) -> CallbackEndpoint:
    return CallbackEndpoint(secrets, now=clock(now))


def status_and_error(response: WebhookResponse) -> tuple[int, Any]:
    return response.status, json.loads(response.body).get("error")


def with_params(url: str, **changes: str | None) -> str:
    parts = urlsplit(url)
    query = {name: values[0] for name, values in parse_qs(parts.query).items()}
    for name, value in changes.items():
        if value is None:
            query.pop(name, None)
        else:
            query[name] = value
    return urlunsplit(parts._replace(query=urlencode(query)))


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
def test_resolve_url_resolves_with_the_json_body(use_async: bool) -> None:
    url = make_callback_url(BASE, AWAKEABLE, SECRET, ttl=3600, now=NOW)
    response, client = post(receiver(), url, b'{"approved": true}', use_async=use_async)
    assert response.status == 200 and json.loads(response.body) == {"status": "resolved"}
    assert client.calls == [("resolve", AWAKEABLE, {"approved": True})]


def test_empty_body_resolves_with_null_and_bad_json_is_400() -> None:
    url = make_callback_url(BASE, AWAKEABLE, SECRET, ttl=60, now=NOW)
    response, client = post(receiver(), url)
    assert response.status == 200 and client.calls == [("resolve", AWAKEABLE, None)]
    response, client = post(receiver(), url, b"not json")
    assert status_and_error(response) == (400, "invalid_json") and client.calls == []


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "rejected through a signed callback URL"),
        (b'"out of stock"', "out of stock"),
        (b'{"reason": "declined by manager"}', "declined by manager"),
        (b"plain text reason", "plain text reason"),
        (b"[1, 2]", "[1, 2]"),
    ],
)
def test_reject_url_rejects_with_the_reason(body: bytes, reason: str) -> None:
    url = make_reject_callback_url(BASE, AWAKEABLE, SECRET, ttl=timedelta(hours=1), now=NOW)
    response, client = post(receiver(), url, body)
    assert response.status == 200 and json.loads(response.body) == {"status": "rejected"}
    assert client.calls == [("reject", AWAKEABLE, reason)]


def test_url_layout_keeps_existing_query() -> None:
    url = make_callback_url(BASE + "?tenant=acme&token=stale", AWAKEABLE, SECRET, 60, now=NOW)
    query = parse_qs(urlsplit(url).query)
    assert query["tenant"] == ["acme"]
    assert query["awakeable"] == [AWAKEABLE]
    assert query["action"] == ["resolve"] and query["expires"] == [str(NOW + 60)]
    assert len(query["token"]) == 1 and len(query["token"][0]) == 43
    assert SECRET not in url
    assert post(receiver(), url)[0].status == 200


def test_forged_missing_and_malformed_tokens_are_403() -> None:
    url = make_callback_url(BASE, AWAKEABLE, SECRET, ttl=60, now=NOW)
    token = parse_qs(urlsplit(url).query)["token"][0]
    forged = make_callback_url(BASE, AWAKEABLE, "another-secret-0123456789abcdef", 60, now=NOW)
    cases = {
        "bad_token": [
            forged,
            with_params(url, token=("A" if token[0] != "A" else "B") + token[1:]),
            with_params(url, expires=str(NOW + 3600)),  # extending the expiry breaks the token
        ],
        "malformed_token": [
            with_params(url, token=token[:-2]),
            with_params(url, token=token + "AA"),
            with_params(url, action="cancel"),
            with_params(url, expires="soon"),
        ],
        "missing_token": [
            with_params(url, token=None),
            with_params(url, awakeable=None),
            with_params(url, token=""),
            BASE,
            url + "&token=" + token,  # a repeated parameter is ambiguous
        ],
    }
    for reason, urls in cases.items():
        for bad in urls:
            response, client = post(receiver(), bad, b"{}")
            assert status_and_error(response) == (403, reason), bad
            assert client.calls == []


def test_token_moved_to_another_awakeable_or_action_is_403() -> None:
    url = make_callback_url(BASE, AWAKEABLE, SECRET, ttl=60, now=NOW)
    moved = with_params(url, awakeable="sign_1SomeoneElsesAwakeableId000000")
    assert status_and_error(post(receiver(), moved)[0]) == (403, "bad_token")
    turned = with_params(url, action="reject")
    assert status_and_error(post(receiver(), turned)[0]) == (403, "bad_token")
    reject_url = make_reject_callback_url(BASE, AWAKEABLE, SECRET, ttl=60, now=NOW)
    assert status_and_error(post(receiver(), with_params(reject_url, action="resolve"))[0]) == (
        403,
        "bad_token",
    )


def test_expired_is_410_but_forged_and_expired_is_403() -> None:
    url = make_callback_url(BASE, AWAKEABLE, SECRET, ttl=60, now=NOW)
    assert post(receiver(now=NOW + 60), url)[0].status == 200
    response, client = post(receiver(now=NOW + 61), url)
    assert status_and_error(response) == (410, "expired") and client.calls == []
    forged = with_params(url, expires=str(NOW - 10))
    assert status_and_error(post(receiver(now=NOW + 61), forged)[0]) == (403, "bad_token")


def test_secret_rotation() -> None:
    old_url = make_callback_url(BASE, AWAKEABLE, OLD_SECRET, ttl=60, now=NOW)
    new_url = make_callback_url(BASE, AWAKEABLE, [SECRET, OLD_SECRET], ttl=60, now=NOW)
    rotating = receiver(secrets=[SECRET, OLD_SECRET])
    assert post(rotating, old_url)[0].status == 200
    assert post(rotating, new_url)[0].status == 200
    assert post(receiver(secrets=SECRET), old_url)[0].status == 403
    assert post(receiver(secrets=OLD_SECRET), new_url)[0].status == 403


def test_restate_failures_map_like_webhooks() -> None:
    url = make_callback_url(BASE, AWAKEABLE, SECRET, ttl=60, now=NOW)
    down = FakeIngress(lambda call: IngressUnavailable("down"))
    assert post(receiver(), url, client=down)[0].status == 503
    invalid = FakeIngress(
        lambda call: IngressError("bad awakeable id", status=400, source="ingress")
    )
    assert post(receiver(), url, client=invalid)[0].status == 200


def test_method_and_size_limits() -> None:
    url = make_callback_url(BASE, AWAKEABLE, SECRET, ttl=60, now=NOW)
    small = CallbackEndpoint(SECRET, now=clock(), max_body_size=10)
    assert post(small, url, b"x" * 11)[0].status == 413
    assert small.check_content_length("11") is not None
    request = WebhookRequest("GET", url, {}, b"")
    assert small.handle(request, FakeIngress()).status == 405  # type: ignore[arg-type]


def test_configuration_errors() -> None:
    for bad_ttl in (0, -1, float("nan"), float("inf"), timedelta(0)):
        with pytest.raises(WebhookConfigurationError, match="ttl"):
            make_callback_url(BASE, AWAKEABLE, SECRET, ttl=bad_ttl)
    for bad_id in ("", "a\nb"):
        with pytest.raises(WebhookConfigurationError, match="awakeable_id"):
            make_callback_url(BASE, bad_id, SECRET, ttl=1)
    for bad_secret in ("short", b"", []):
        with pytest.raises(WebhookConfigurationError):
            CallbackEndpoint(bad_secret)
        with pytest.raises(WebhookConfigurationError):
            make_callback_url(BASE, AWAKEABLE, bad_secret, ttl=1)
    assert SECRET not in repr(CallbackEndpoint(SECRET))
