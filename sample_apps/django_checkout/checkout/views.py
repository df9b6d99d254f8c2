"""The checkout's views: sync ones (WSGI or ASGI) and one async view for the guard."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from restate_web.adapters.django import get_integration, idempotency_key_required
from restate_web.guards import DurableContextOutsideHandler
from restate_web.webhooks import WebhookRequest

from ...common.web import misuse_durable_helper, order_request, stripe_endpoint


@csrf_exempt
@require_POST
@idempotency_key_required
def create_order(request: HttpRequest) -> HttpResponse:
    try:
        order = order_request(json.loads(request.body or b"null"))
    except ValueError as error:
        return JsonResponse({"detail": str(error)}, status=400)
    # The middleware derives this call's idempotency key from the client's Idempotency-Key.
    return JsonResponse(request.restate.service("Checkout").call("start", order))  # type: ignore[attr-defined]


@require_GET
def get_order(request: HttpRequest, order_id: str) -> HttpResponse:
    return JsonResponse(request.restate.workflow("Order", order_id).call("status"))  # type: ignore[attr-defined]


@require_GET
def get_stock(request: HttpRequest, sku: str) -> HttpResponse:
    available: Any = request.restate.object("Inventory", sku).call("available")  # type: ignore[attr-defined]
    return JsonResponse({"sku": sku, "available": available})


@csrf_exempt
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    stripe = stripe_endpoint()
    too_big = stripe.check_content_length(request.headers.get("content-length"))
    if too_big is not None:
        return HttpResponse(too_big.body, status=too_big.status, headers=dict(too_big.headers))
    webhook = WebhookRequest(
        request.method or "POST",
        request.build_absolute_uri(),
        list(request.headers.items()),
        request.body,
    )
    result = stripe.handle(webhook, get_integration().sync_client())
    return HttpResponse(result.body, status=result.status, headers=dict(result.headers))


async def debug_misuse(request: HttpRequest) -> HttpResponse:
    try:
        await misuse_durable_helper()  # raises: durable-only code in a web view
    except DurableContextOutsideHandler as error:
        return JsonResponse({"error": type(error).__name__, "detail": str(error)}, status=500)
    return JsonResponse({"error": "none"})
