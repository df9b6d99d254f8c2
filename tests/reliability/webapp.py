"""The web apps the reliability suite attacks: one per framework, the same four routes.

POST /webhooks/stripe  a WebhookEndpoint: payment_intent.succeeded resolves the awakeable in
                       the event's metadata, .payment_failed rejects it, other types are ignored
POST /callbacks        a CallbackEndpoint: signed callback URLs resolve or reject an awakeable
POST /orders           needs an Idempotency-Key and {"item": "<1-100 chars>"}; calls RelOnce/make
                       with the adapter's derived key and returns its answer
POST /slow-orders      the same with RelOnce/slow (a durable sleep), for the app-crash test

The routes are mounted by hand, as the samples do; the tests only talk HTTP (or ASGI/WSGI) to
them. Secrets and the ingress URL come from the environment (the process tests) or from the
``create_*`` arguments (the in-process tests). The principal is the X-User header, a stand-in
for real authentication (Django: tests/adapters/apps/django_project/auth.py).
"""

import json
import os
from typing import Any

from restate_web.webhooks import (
    CallbackEndpoint,
    RejectAwakeable,
    ResolveAwakeable,
    WebhookEndpoint,
    WebhookRequest,
    stripe_webhooks,
)

STRIPE_SECRET_ENV = "REL_STRIPE_SECRET"
CALLBACK_SECRET_ENV = "REL_CALLBACK_SECRET"
DEFAULT_STRIPE_SECRET = "whsec_reliability_default_secret_0123456789"
DEFAULT_CALLBACK_SECRET = "reliability-callback-secret-0123456789"


def stripe_secret() -> str:
    return os.environ.get(STRIPE_SECRET_ENV, DEFAULT_STRIPE_SECRET)


def callback_secret() -> str:
    return os.environ.get(CALLBACK_SECRET_ENV, DEFAULT_CALLBACK_SECRET)


def webhook_endpoint(secret: str | None = None) -> WebhookEndpoint:
    return WebhookEndpoint(
        stripe_webhooks(secret or stripe_secret()),
        routes={
            "payment_intent.succeeded": ResolveAwakeable(),
            "payment_intent.payment_failed": RejectAwakeable(),
        },
    )


def callback_endpoint(secret: str | None = None) -> CallbackEndpoint:
    return CallbackEndpoint(secret or callback_secret())


def order_request(body: bytes) -> dict[str, Any]:
    """The validated order, or ValueError: nothing reaches Restate before this passes."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        raise ValueError("the body must be JSON") from None
    if not isinstance(document, dict):
        raise ValueError('send {"item": "..."}')
    item = document.get("item")
    if not isinstance(item, str) or not 1 <= len(item) <= 100:
        raise ValueError("item must be a string of 1 to 100 characters")
    seconds = document.get("seconds", 3)
    if not isinstance(seconds, (int, float)) or not 0 <= seconds <= 30:
        raise ValueError("seconds must be a number from 0 to 30")
    return {"item": item, "seconds": seconds}


def principal(request: Any) -> str | None:
    user = request.headers.get("x-user")
    return f"user:{user}" if user else None


# --------------------------------------------------------------------------------- FastAPI


def create_fastapi_app(settings: dict[str, Any] | None = None, **secrets: str) -> Any:
    from fastapi import FastAPI, HTTPException, Request
    from fastapi.responses import Response

    from restate_web.adapters.fastapi import (
        AsyncRestateClient,
        IdempotencyKey,
        Restate,
        get_integration,
    )

    app = FastAPI()
    Restate(app, {"PRINCIPAL": principal, **(settings or {})})
    stripe = webhook_endpoint(secrets.get("stripe"))
    callbacks = callback_endpoint(secrets.get("callback"))

    async def run(endpoint: Any, request: Request) -> Response:
        too_big = endpoint.check_content_length(request.headers.get("content-length"))
        if too_big is not None:
            return Response(too_big.body, too_big.status, headers=dict(too_big.headers))
        webhook = WebhookRequest(
            request.method, str(request.url), request.headers.raw, await request.body()
        )
        result = await endpoint.handle_async(webhook, get_integration(request).async_client())
        return Response(result.body, result.status, headers=dict(result.headers))

    @app.post("/webhooks/stripe")
    async def stripe_webhook(request: Request) -> Response:
        return await run(stripe, request)

    @app.post("/callbacks")
    async def callback(request: Request) -> Response:
        return await run(callbacks, request)

    async def order(handler: str, request: Request, restate: Any) -> Any:
        try:
            body = order_request(await request.body())
        except ValueError as error:
            raise HTTPException(400, str(error)) from error
        return await restate.service("RelOnce").call(handler, body)

    @app.post("/orders")
    async def orders(request: Request, restate: AsyncRestateClient, _: IdempotencyKey) -> Any:
        return await order("make", request, restate)

    @app.post("/slow-orders")
    async def slow_orders(request: Request, restate: AsyncRestateClient, _: IdempotencyKey) -> Any:
        return await order("slow", request, restate)

    return app


# ----------------------------------------------------------------------------------- Flask


def create_flask_app(config: dict[str, Any] | None = None, **secrets: str) -> Any:
    from flask import Flask, Response, jsonify, request

    from restate_web.adapters.flask import Restate, idempotency_key_required

    app = Flask(__name__)
    app.config["RESTATE_PRINCIPAL"] = principal
    if os.environ.get("RESTATE_INGRESS_URL"):
        app.config["RESTATE_INGRESS_URL"] = os.environ["RESTATE_INGRESS_URL"]
    app.config.update(config or {})
    restate = Restate(app)
    stripe = webhook_endpoint(secrets.get("stripe"))
    callbacks = callback_endpoint(secrets.get("callback"))

    def run(endpoint: Any) -> Response:
        too_big = endpoint.check_content_length(request.headers.get("content-length"))
        if too_big is not None:
            return Response(too_big.body, too_big.status, headers=dict(too_big.headers))
        webhook = WebhookRequest(
            request.method, request.url, list(request.headers.items()), request.get_data()
        )
        result = endpoint.handle(webhook, restate.integration.sync_client())
        return Response(result.body, result.status, headers=dict(result.headers))

    @app.post("/webhooks/stripe")
    def stripe_webhook() -> Response:
        return run(stripe)

    @app.post("/callbacks")
    def callback() -> Response:
        return run(callbacks)

    def order(handler: str) -> Any:
        try:
            body = order_request(request.get_data())
        except ValueError as error:
            return jsonify(detail=str(error)), 400
        return jsonify(restate.client.service("RelOnce").call(handler, body))

    @app.post("/orders")
    @idempotency_key_required
    def orders() -> Any:
        return order("make")

    @app.post("/slow-orders")
    @idempotency_key_required
    def slow_orders() -> Any:
        return order("slow")

    return app


# ---------------------------------------------------------------------------------- Django


def django_views() -> dict[str, Any]:
    """The Django views (tests/reliability/django_site/urls.py routes to them)."""
    from django.http import HttpRequest, HttpResponse, JsonResponse
    from django.views.decorators.csrf import csrf_exempt
    from django.views.decorators.http import require_POST

    from restate_web.adapters.django import get_integration, idempotency_key_required

    stripe = webhook_endpoint()
    callbacks = callback_endpoint()

    def run(endpoint: Any, request: HttpRequest) -> HttpResponse:
        too_big = endpoint.check_content_length(request.headers.get("content-length"))
        if too_big is not None:
            return HttpResponse(too_big.body, status=too_big.status, headers=dict(too_big.headers))
        webhook = WebhookRequest(
            request.method or "POST",
            request.build_absolute_uri(),
            list(request.headers.items()),
            request.body,
        )
        result = endpoint.handle(webhook, get_integration().sync_client())
        return HttpResponse(result.body, status=result.status, headers=dict(result.headers))

    @csrf_exempt
    def stripe_webhook(request: HttpRequest) -> HttpResponse:
        return run(stripe, request)

    @csrf_exempt
    def callback(request: HttpRequest) -> HttpResponse:
        return run(callbacks, request)

    def order(handler: str, request: HttpRequest) -> HttpResponse:
        try:
            body = order_request(request.body)
        except ValueError as error:
            return JsonResponse({"detail": str(error)}, status=400)
        answer = request.restate.service("RelOnce").call(handler, body)  # type: ignore[attr-defined]
        return JsonResponse(answer)

    @csrf_exempt
    @require_POST
    @idempotency_key_required
    def orders(request: HttpRequest) -> HttpResponse:
        return order("make", request)

    @csrf_exempt
    @require_POST
    @idempotency_key_required
    def slow_orders(request: HttpRequest) -> HttpResponse:
        return order("slow", request)

    return {
        "webhooks/stripe": stripe_webhook,
        "callbacks": callback,
        "orders": orders,
        "slow-orders": slow_orders,
    }
