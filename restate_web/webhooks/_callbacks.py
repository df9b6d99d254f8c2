"""Signed callback URLs: a durable handler hands out a URL, a POST to it completes an awakeable.

Inside a Restate handler::

    awakeable_id, promise = ctx.awakeable()
    url = await ctx.run(
        "callback url",
        lambda: make_callback_url(BASE, awakeable_id, SECRET, ttl=timedelta(days=2)),
    )
    await ctx.run("send email", lambda: send_approval_email(url))
    decision = await promise

(Create the URL inside ``ctx.run`` so replays reuse the same URL: its expiry
comes from the clock.) Mount a :class:`CallbackEndpoint` at ``BASE``: a POST
to the URL resolves the awakeable with the request's JSON body (an empty body
resolves it with ``null``); a POST to the :func:`make_reject_callback_url` URL
rejects it, with the body (a JSON string, ``{"reason": "..."}`` or plain text)
as the reason.

The token is an HMAC-SHA256 over the action, the awakeable id and the expiry,
so it cannot be moved to another awakeable or turned from resolve into reject.
Forged, missing or moved tokens get **403**; genuine but expired ones **410**.
Verification accepts any of several secrets, so a secret can be rotated while
old URLs are still out there; new URLs are signed with the first.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, Literal
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from ._errors import WebhookConfigurationError
from ._events import WebhookEvent
from ._json import loads_json
from ._pipeline import (
    DEFAULT_MAX_BODY_SIZE,
    Endpoint,
    RejectStep,
    ResolveStep,
    WebhookPlan,
    WebhookResponse,
)
from ._request import WebhookRequest
from ._signing import (
    any_signature_matches,
    decode_signature,
    encode_signature,
    hmac_digest,
    parse_unix_seconds,
    secrets_as_bytes,
)
from ._verifiers import Clock

CallbackAction = Literal["resolve", "reject"]

AWAKEABLE_PARAM = "awakeable"
ACTION_PARAM = "action"
EXPIRES_PARAM = "expires"
TOKEN_PARAM = "token"  # noqa: S105 (a query parameter name, not a secret)
_PARAMS = (AWAKEABLE_PARAM, ACTION_PARAM, EXPIRES_PARAM, TOKEN_PARAM)
_DOMAIN = b"restate-web callback v1\n"
_TOKEN_SIZE = 32
DEFAULT_REJECT_REASON = "rejected through a signed callback URL"


MIN_SECRET_BYTES = 16


def _callback_keys(secrets: str | bytes | Sequence[str | bytes]) -> tuple[bytes, ...]:
    keys = secrets_as_bytes("callback", secrets)
    if any(len(key) < MIN_SECRET_BYTES for key in keys):
        raise WebhookConfigurationError(
            f"callback: every secret must be at least {MIN_SECRET_BYTES} bytes; generate one "
            "with `python -c 'import secrets; print(secrets.token_urlsafe(32))'`."
        )
    return keys


def _message(action: str, awakeable_id: str, expires: int) -> bytes:
    # Newline-separated fields with a domain prefix: no other token in this
    # library (or value of another field) can produce the same bytes.
    return _DOMAIN + f"{action}\n{awakeable_id}\n{expires}".encode()


def _ttl_seconds(ttl: float | timedelta) -> float:
    seconds = ttl.total_seconds() if isinstance(ttl, timedelta) else float(ttl)
    if not math.isfinite(seconds) or seconds <= 0:
        raise WebhookConfigurationError(f"ttl must be a positive duration, got {ttl!r}.")
    return seconds


def _make_url(
    action: CallbackAction,
    base_url: str,
    awakeable_id: str,
    secret: str | bytes | Sequence[str | bytes],
    ttl: float | timedelta,
    now: float | None,
) -> str:
    if not awakeable_id or "\n" in awakeable_id:
        raise WebhookConfigurationError(
            f"awakeable_id must be the non-empty id from ctx.awakeable(), got {awakeable_id!r}."
        )
    key = _callback_keys(secret)[0]
    issued = time.time() if now is None else now
    expires = math.ceil(issued + _ttl_seconds(ttl))
    token = encode_signature(hmac_digest(key, _message(action, awakeable_id, expires)), "base64url")
    parts = urlsplit(base_url)
    kept = [
        (name, value)
        for name, values in parse_qs(parts.query, keep_blank_values=True).items()
        if name not in _PARAMS
        for value in values
    ]
    query = urlencode(
        [
            *kept,
            (AWAKEABLE_PARAM, awakeable_id),
            (ACTION_PARAM, action),
            (EXPIRES_PARAM, str(expires)),
            (TOKEN_PARAM, token.rstrip("=")),
        ]
    )
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def make_callback_url(
    base_url: str,
    awakeable_id: str,
    secret: str | bytes | Sequence[str | bytes],
    ttl: float | timedelta,
    *,
    now: float | None = None,
) -> str:
    """A URL that resolves ``awakeable_id`` when POSTed to, until ``ttl`` (seconds or timedelta).

    ``secret`` may be a rotation list; the first secret signs. ``now`` overrides
    the clock (Unix seconds).
    """
    return _make_url("resolve", base_url, awakeable_id, secret, ttl, now)


def make_reject_callback_url(
    base_url: str,
    awakeable_id: str,
    secret: str | bytes | Sequence[str | bytes],
    ttl: float | timedelta,
    *,
    now: float | None = None,
) -> str:
    """Like :func:`make_callback_url`, but a POST *rejects* the awakeable."""
    return _make_url("reject", base_url, awakeable_id, secret, ttl, now)


class CallbackEndpoint(Endpoint):
    """Receives POSTs to signed callback URLs and resolves or rejects the awakeable.

    Same entry points as :class:`~restate_web.webhooks._pipeline.WebhookEndpoint`:
    ``handle(request, client)``, ``await handle_async(request, client)`` and
    ``check_content_length(value)``.
    """

    def __init__(
        self,
        secrets: str | bytes | Sequence[str | bytes],
        *,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
        now: Clock = time.time,
    ) -> None:
        super().__init__(max_body_size=max_body_size)
        self.provider_name = "callback"
        self._keys = _callback_keys(secrets)
        self._now = now

    def __repr__(self) -> str:
        return f"CallbackEndpoint(secrets=<{len(self._keys)} hidden>)"

    def _refuse(self, status: int, reason: str) -> WebhookPlan:
        return WebhookPlan(
            provider=self.provider_name,
            response=WebhookResponse.json(status, {"error": reason}),
            result=f"refused:{reason}",
        )

    def plan(self, request: WebhookRequest) -> WebhookPlan:
        """Check the token, then plan one resolve or reject: pure, no I/O."""
        early = self._precheck(request)
        if early is not None:
            return early
        query = parse_qs(urlsplit(request.url).query, keep_blank_values=True)
        values = {name: query.get(name, []) for name in _PARAMS}
        if any(len(found) != 1 or not found[0] for found in values.values()):
            return self._refuse(403, "missing_token")
        awakeable_id = values[AWAKEABLE_PARAM][0]
        action = values[ACTION_PARAM][0]
        expires = parse_unix_seconds(values[EXPIRES_PARAM][0])
        token = decode_signature(values[TOKEN_PARAM][0], "base64url", _TOKEN_SIZE)
        if action not in ("resolve", "reject") or expires is None or token is None:
            return self._refuse(403, "malformed_token")
        message = _message(action, awakeable_id, expires)
        expected = [hmac_digest(key, message) for key in self._keys]
        if not any_signature_matches(expected, [token]):
            return self._refuse(403, "bad_token")
        if self._now() > expires:
            return self._refuse(410, "expired")
        event = WebhookEvent("callback", f"{action}:{awakeable_id}", action, {}, request.headers)
        if action == "resolve":
            try:
                payload = _resolve_payload(request.body)
            except ValueError:
                return WebhookPlan(
                    provider=self.provider_name,
                    response=WebhookResponse.json(400, {"error": "invalid_json"}),
                    events=(event,),
                    result="malformed_event:invalid_json",
                )
            step: ResolveStep | RejectStep = ResolveStep(event, awakeable_id, payload)
        else:
            step = RejectStep(event, awakeable_id, _reject_reason(request.body))
        return WebhookPlan(
            steps=(step,),
            events=(event,),
            done=WebhookResponse.json(
                200, {"status": "resolved" if action == "resolve" else "rejected"}
            ),
        )


def _resolve_payload(body: bytes) -> Any:
    if not body.strip():
        return None
    try:
        return loads_json(body)
    except RecursionError:
        raise ValueError("too deeply nested") from None


def _reject_reason(body: bytes) -> str:
    text = body.decode("utf-8", "replace").strip()
    if not text:
        return DEFAULT_REJECT_REASON
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        return text
    if isinstance(document, str) and document:
        return document
    if isinstance(document, dict) and isinstance(document.get("reason"), str):
        return str(document["reason"]) or DEFAULT_REJECT_REASON
    return text
