"""The checkout's views: sync ones (WSGI or ASGI) and one async view for the guard."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from restate_web.adapters.django import idempotency_key_required
from restate_web.guards import DurableContextOutsideHandler

from ...common.web import misuse_durable_helper, order_request


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


async def debug_misuse(request: HttpRequest) -> HttpResponse:
    try:
        await misuse_durable_helper()  # raises: durable-only code in a web view
    except DurableContextOutsideHandler as error:
        return JsonResponse({"error": type(error).__name__, "detail": str(error)}, status=500)
    return JsonResponse({"error": "none"})
