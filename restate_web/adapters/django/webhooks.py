"""Webhook views for Django: ``include("restate_web.adapters.django.urls")``.

settings.py::

    RESTATE = {"WEBHOOKS": {"stripe": "myapp.webhooks:stripe_endpoint"}}

urls.py::

    path("webhooks/", include("restate_web.adapters.django.urls"))   # POST /webhooks/stripe

or, with endpoints given in code: ``path("webhooks/", include(webhook_urlpatterns({...})))``.
The views are CSRF-exempt (providers cannot send a token; the signature is the check), read
the raw body up to the endpoint's size limit, and work under WSGI and ASGI. Under ASGI, serve
``restate_web.adapters.django.asgi.get_asgi_application()`` instead of Django's: Django's own
handler reads a whole request body to a temporary file before any view runs, so only that
wrapper can refuse an oversized webhook before its body is read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path
from django.views.decorators.csrf import csrf_exempt

from .._webhooks import EndpointSpec, WebhookMounts, wsgi_body_unbounded
from ._runtime import get_integration


def webhook_view(mounts: WebhookMounts) -> Any:
    """The view for one set of endpoints: CSRF-exempt, sync (run in a thread under ASGI)."""

    def restate_webhook(request: HttpRequest, name: str) -> HttpResponse:
        mount = mounts.for_app(get_integration())
        result = mount.dispatch(
            name,
            request.method or "POST",
            request.build_absolute_uri(),
            list(request.headers.items()),
            request.read,
            # Under ASGI the body is always bounded (Django spooled it; see .asgi).
            body_unbounded="wsgi.input" in request.META and wsgi_body_unbounded(request.META),
        )
        return HttpResponse(result.body, status=result.status, headers=dict(result.headers))

    # Providers cannot send a CSRF token; the signature check is what authenticates them.
    view = csrf_exempt(restate_webhook)
    view.restate_webhook_mounts = mounts  # found by .asgi
    return view


def webhook_urlpatterns(
    endpoints: Mapping[str, EndpointSpec] | None = None,
) -> list[URLPattern]:
    """URL patterns serving ``<name>`` for each endpoint (default: ``RESTATE["WEBHOOKS"]``)."""
    return [path("<str:name>", webhook_view(WebhookMounts(endpoints)), name="restate-webhook")]
