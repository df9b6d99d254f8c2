"""Django under ASGI: refuse an oversized webhook before its body is read.

Django's ``ASGIHandler`` reads the whole request body (to a temporary file past 2.5 MB) before
any middleware or view runs, so a webhook view cannot answer 413 to ``Content-Length: 50 GB``
until all of it has arrived. Serve this module's application instead of Django's; it is
Django's, with the webhook URLs of ``restate_web.adapters.django.urls`` (or
``webhook_urlpatterns``) guarded in front of it. In ``asgi.py``::

    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")

    from restate_web.adapters.django.asgi import get_asgi_application

    application = get_asgi_application()

A request to a webhook URL whose Content-Length exceeds the endpoint's ``max_body_size`` gets
the endpoint's 413 at once, before a byte of the body is read; a body without Content-Length
(chunked) is read only up to the limit, then refused the same way. Every other request goes to
Django untouched. ``RestateASGIHandler(app)`` wraps an ASGI application you already have (one
wrapped by other middleware, say). Webhook URLs are found with Django's ``resolve()`` on the
project's ``ROOT_URLCONF`` (a per-request ``urlconf`` set by middleware is not seen).

With ``RESTATE["SERVICES"]`` (a list of SDK services, or ``"module:name"`` of one) the same
application also serves them under ``RESTATE["SERVICES_PATH"]`` (default ``/restate``),
verifying Restate's request signatures with ``RESTATE["IDENTITY_KEYS"]``
(``restate_web.serving.with_services``). Under WSGI services cannot be served.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import django
from django.conf import settings
from django.core.handlers.asgi import ASGIHandler
from django.urls import Resolver404, resolve

from ...serving import with_services
from ...webhooks._pipeline import Endpoint, WebhookResponse, log_outcome
from ...webhooks._request import Headers
from .._settings import load_settings
from ._runtime import get_integration

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

__all__ = ["RestateASGIHandler", "get_asgi_application"]


def get_asgi_application() -> ASGIApp:
    """Django's ``get_asgi_application()``, refusing oversized webhook bodies before reading,
    and serving ``RESTATE["SERVICES"]`` under ``RESTATE["SERVICES_PATH"]`` when set."""
    django.setup(set_prefix=False)
    app: ASGIApp = RestateASGIHandler(ASGIHandler())
    parsed = load_settings(getattr(settings, "RESTATE", None))
    if parsed.services is None:
        return app
    return with_services(
        app,
        configured_services(parsed.services),
        path=parsed.services_path,
        identity_keys=parsed.identity_keys,
    )


def configured_services(value: Any) -> list[Any]:
    """``RESTATE["SERVICES"]`` as a list of SDK services."""
    if isinstance(value, str):
        module, _, name = value.partition(":")
        if not name:
            module, _, name = value.rpartition(".")
        value = getattr(importlib.import_module(module), name)
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


class RestateASGIHandler:
    """Pure ASGI middleware: webhook requests over their endpoint's size limit get 413 unread."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope.get("headers") or ())
        length = headers.get("content-length")
        has_body = (length is not None and length.strip() not in ("", "0")) or (
            "transfer-encoding" in headers
        )
        endpoint = self._webhook_endpoint(scope) if has_body else None
        if endpoint is None:
            await self.app(scope, receive, send)
            return
        early = endpoint.check_content_length(length)
        if early is not None:
            await _refuse(endpoint, early, send)
            return
        # No (or a small) Content-Length: read the body here, at most one byte over the limit,
        # and hand what was read to Django; its handler reads the same messages it would have.
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > endpoint.max_body_size:
                await _refuse(endpoint, endpoint.too_large(), send)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    def _webhook_endpoint(self, scope: Scope) -> Endpoint | None:
        path: str = scope.get("path", "")
        root = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        try:
            match = resolve(path)
        except Resolver404:
            return None
        mounts = getattr(match.func, "restate_webhook_mounts", None)
        name = match.kwargs.get("name")
        if mounts is None or not isinstance(name, str):
            return None
        try:
            found: Endpoint | None = mounts.for_app(get_integration()).endpoint(name)
        except Exception:
            return None  # a misconfigured endpoint: the view reports it
        return found


async def _refuse(endpoint: Endpoint, response: WebhookResponse, send: Send) -> None:
    result = "payload_too_large" if response.status == 413 else "bad_content_length"
    log_outcome(response.status, result, provider=endpoint.provider_name)
    headers = [
        (name.lower().encode("latin-1"), value.encode("latin-1"))
        for name, value in response.headers.items()
    ]
    headers.append((b"content-length", str(len(response.body)).encode()))
    # The body is left unread: the server cannot reuse this connection, so say so.
    headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body})
