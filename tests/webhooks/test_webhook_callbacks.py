"""Signed callback URLs: creation, verification and the resolve/reject they trigger.

The resolves and rejects go through the real ingress clients to the session's real
restate-server, to ``HookWaiter`` workflows (tests/webhooks/webhook_services.py) that wait on
the awakeable and return how it was completed. "Nothing was forwarded" is observed on the wire
(``deliver.sent``). Restate down is a client pointed at a closed port; an unknown awakeable id
is one the real server refuses (400).
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest

from restate_web.webhooks import (
    CallbackEndpoint,
    WebhookConfigurationError,
    WebhookRequest,
    make_callback_url,
    make_reject_callback_url,
)
from restate_web.webhooks._pipeline import WebhookResponse

from .conftest import Deliver, Waiters, closed_port_url
from .webhook_support import NOW, clock

SECRET = "callback-secret-0123456789abcdef"
OLD_SECRET = "callback-secret-old-0123456789ab"
BASE = "https://app.example/restate/callback"
AWAKEABLE = "sign_1PEb6Gk7gg1sBXmZmgZIy5UwAAAAAQ"
"""Well-formed but made up: the real server refuses it (400 "bad awakeable id")."""


def post(
    endpoint: CallbackEndpoint, url: str, body: bytes = b"", *, deliver: Deliver
) -> WebhookResponse:
    request = WebhookRequest("POST", url, {"Content-Type": "application/json"}, body)
    return deliver(endpoint, request)


@pytest.fixture
def sync_deliver(hook_url: str) -> Deliver:
    """The blocking shell only, for the tests that are not about the shells."""
    return Deliver("sync", hook_url)


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


def test_resolve_url_resolves_with_the_json_body(deliver: Deliver, waiters: Waiters) -> None:
    key, awakeable_id = waiters.start()
    url = make_callback_url(BASE, awakeable_id, SECRET, ttl=3600, now=NOW)
    response = post(receiver(), url, b'{"approved": true}', deliver=deliver)
    assert response.status == 200 and json.loads(response.body) == {"status": "resolved"}
    assert [request.url.path for request in deliver.sent] == [
        f"/restate/awakeables/{awakeable_id}/resolve"
    ]
    assert waiters.outcome(key) == {"resolved": {"approved": True}}


def test_empty_body_resolves_with_null_and_bad_json_is_400(
    sync_deliver: Deliver, waiters: Waiters
) -> None:
    key, awakeable_id = waiters.start()
    url = make_callback_url(BASE, awakeable_id, SECRET, ttl=60, now=NOW)
    response = post(receiver(), url, b"not json", deliver=sync_deliver)
    assert status_and_error(response) == (400, "invalid_json") and sync_deliver.sent == []
    response = post(receiver(), url, deliver=sync_deliver)
    assert response.status == 200 and len(sync_deliver.sent) == 1
    assert waiters.outcome(key) == {"resolved": None}


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
def test_reject_url_rejects_with_the_reason(
    body: bytes, reason: str, sync_deliver: Deliver, waiters: Waiters
) -> None:
    key, awakeable_id = waiters.start()
    url = make_reject_callback_url(BASE, awakeable_id, SECRET, ttl=timedelta(hours=1), now=NOW)
    response = post(receiver(), url, body, deliver=sync_deliver)
    assert response.status == 200 and json.loads(response.body) == {"status": "rejected"}
    assert [request.url.path for request in sync_deliver.sent] == [
        f"/restate/awakeables/{awakeable_id}/reject"
    ]
    assert waiters.outcome(key) == {"rejected": reason}


def test_url_layout_keeps_existing_query(sync_deliver: Deliver, waiters: Waiters) -> None:
    key, awakeable_id = waiters.start()
    url = make_callback_url(BASE + "?tenant=acme&token=stale", awakeable_id, SECRET, 60, now=NOW)
    query = parse_qs(urlsplit(url).query)
    assert query["tenant"] == ["acme"]
    assert query["awakeable"] == [awakeable_id]
    assert query["action"] == ["resolve"] and query["expires"] == [str(NOW + 60)]
    assert len(query["token"]) == 1 and len(query["token"][0]) == 43
    assert SECRET not in url
    assert post(receiver(), url, deliver=sync_deliver).status == 200
    assert waiters.outcome(key) == {"resolved": None}


def test_forged_missing_and_malformed_tokens_are_403(sync_deliver: Deliver) -> None:
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
            response = post(receiver(), bad, b"{}", deliver=sync_deliver)
            assert status_and_error(response) == (403, reason), bad
    assert sync_deliver.sent == []


def test_token_moved_to_another_awakeable_or_action_is_403(sync_deliver: Deliver) -> None:
    url = make_callback_url(BASE, AWAKEABLE, SECRET, ttl=60, now=NOW)
    moved = with_params(url, awakeable="sign_1SomeoneElsesAwakeableId000000")
    assert status_and_error(post(receiver(), moved, deliver=sync_deliver)) == (403, "bad_token")
    turned = with_params(url, action="reject")
    assert status_and_error(post(receiver(), turned, deliver=sync_deliver)) == (403, "bad_token")
    reject_url = make_reject_callback_url(BASE, AWAKEABLE, SECRET, ttl=60, now=NOW)
    flipped = with_params(reject_url, action="resolve")
    assert status_and_error(post(receiver(), flipped, deliver=sync_deliver)) == (
        403,
        "bad_token",
    )
    assert sync_deliver.sent == []


def test_expired_is_410_but_forged_and_expired_is_403(
    sync_deliver: Deliver, waiters: Waiters
) -> None:
    key, awakeable_id = waiters.start()
    url = make_callback_url(BASE, awakeable_id, SECRET, ttl=60, now=NOW)
    response = post(receiver(now=NOW + 61), url, deliver=sync_deliver)
    assert status_and_error(response) == (410, "expired") and sync_deliver.sent == []
    forged = with_params(url, expires=str(NOW - 10))
    response = post(receiver(now=NOW + 61), forged, deliver=sync_deliver)
    assert status_and_error(response) == (403, "bad_token") and sync_deliver.sent == []
    # On the last second it still resolves.
    assert post(receiver(now=NOW + 60), url, deliver=sync_deliver).status == 200
    assert waiters.outcome(key) == {"resolved": None}


def test_secret_rotation(sync_deliver: Deliver, waiters: Waiters) -> None:
    (old_key, old_id), (new_key, new_id) = waiters.start(), waiters.start()
    old_url = make_callback_url(BASE, old_id, OLD_SECRET, ttl=60, now=NOW)
    new_url = make_callback_url(BASE, new_id, [SECRET, OLD_SECRET], ttl=60, now=NOW)
    assert post(receiver(secrets=SECRET), old_url, deliver=sync_deliver).status == 403
    assert post(receiver(secrets=OLD_SECRET), new_url, deliver=sync_deliver).status == 403
    assert sync_deliver.sent == []
    rotating = receiver(secrets=[SECRET, OLD_SECRET])
    assert post(rotating, old_url, b'"old"', deliver=sync_deliver).status == 200
    assert post(rotating, new_url, b'"new"', deliver=sync_deliver).status == 200
    assert waiters.outcome(old_key) == {"resolved": "old"}
    assert waiters.outcome(new_key) == {"resolved": "new"}


def test_restate_failures_map_like_webhooks(sync_deliver: Deliver) -> None:
    url = make_callback_url(BASE, AWAKEABLE, SECRET, ttl=60, now=NOW)
    # Restate down: 503, the caller retries.
    request = WebhookRequest("POST", url, {}, b"")
    assert sync_deliver(receiver(), request, url=closed_port_url()).status == 503
    # An awakeable id the real server refuses (400): acknowledged, retrying cannot help.
    assert sync_deliver(receiver(), request).status == 200
    assert [request.url.path for request in sync_deliver.sent] == [
        f"/restate/awakeables/{AWAKEABLE}/resolve"
    ] * 2


def test_method_and_size_limits(sync_deliver: Deliver) -> None:
    url = make_callback_url(BASE, AWAKEABLE, SECRET, ttl=60, now=NOW)
    small = CallbackEndpoint(SECRET, now=clock(), max_body_size=10)
    assert post(small, url, b"x" * 11, deliver=sync_deliver).status == 413
    assert small.check_content_length("11") is not None
    request = WebhookRequest("GET", url, {}, b"")
    assert sync_deliver(small, request).status == 405
    assert sync_deliver.sent == []


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
