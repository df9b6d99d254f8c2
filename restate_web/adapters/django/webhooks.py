"""Webhook views for Django: ``include("restate_web.adapters.django.urls")``.

settings.py::

    RESTATE = {"WEBHOOKS": {"stripe": "myapp.webhooks.stripe_endpoint"}}

urls.py::

    path("webhooks/", include("restate_web.adapters.django.urls"))   # POST /webhooks/stripe

or, with endpoints given in code: ``path("webhooks/", include(webhook_urlpatterns({...})))``.
The views are CSRF-exempt (providers cannot send a token; the signature is the check), read
the raw body up to the endpoint's size limit, and work under WSGI and ASGI.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path
from django.views.decorators.csrf import csrf_exempt

from ...webhooks import WebhookRequest
from ...webhooks.pipeline import WebhookResponse
from .._webhooks import (
    EndpointSpec,
    WebhookMount,
    length_required,
    not_found,
    read_limited,
    wsgi_body_unbounded,
)
from ._runtime import get_integration


def _to_response(result: WebhookResponse) -> HttpResponse:
    return HttpResponse(result.body, status=result.status, headers=dict(result.headers))


def webhook_view(mount: WebhookMount) -> Any:
    """The view for one mount: CSRF-exempt, sync (Django runs it in a thread under ASGI)."""

    def restate_webhook(request: HttpRequest, name: str) -> HttpResponse:
        endpoint = mount.endpoint(name)
        if endpoint is None:
            return _to_response(not_found(name, mount.names()))
        early = endpoint.check_content_length(request.META.get("CONTENT_LENGTH"))
        if early is not None:
            return _to_response(early)
        if "wsgi.input" in request.META and wsgi_body_unbounded(request.META):
            return _to_response(length_required())  # under ASGI the body is always bounded
        body = read_limited(request.read, endpoint.max_body_size)
        webhook = WebhookRequest(
            request.method or "POST",
            request.build_absolute_uri(),
            list(request.headers.items()),
            body,
        )
        return _to_response(endpoint.handle(webhook, get_integration().sync_client()))

    # Providers cannot send a CSRF token; the signature check is what authenticates them.
    return csrf_exempt(restate_webhook)


def webhook_urlpatterns(
    endpoints: Mapping[str, EndpointSpec] | None = None,
) -> list[URLPattern]:
    """URL patterns serving ``<name>`` for each endpoint (default: ``RESTATE["WEBHOOKS"]``)."""
    mount = WebhookMount(endpoints, lambda: get_integration().settings.webhooks)
    return [path("<str:name>", webhook_view(mount), name="restate-webhook")]
