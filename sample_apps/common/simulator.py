"""A payment provider that behaves like Stripe, as a separate process (Starlette, uvicorn).

POST /v1/payment_intents  answers at once with a PaymentIntent in "processing" (honouring the
                          Idempotency-Key header like Stripe), then later POSTs a Stripe-signed
                          payment_intent.succeeded or .payment_failed event to the webhook URL,
                          retrying every non-2xx answer (or no answer) with exponential backoff.
                          Some events are sent twice, as Stripe may do.
GET  /v1/deliveries       every delivery attempt and its answer, for the walkthrough to check.

It signs independently of restate_web (plain hmac), as Stripe's servers would.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import random
import time
import uuid
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .config import (
    CARD_DECLINED,
    CARD_NO_ANSWER,
    DUPLICATE_RATE_ENV,
    WEBHOOK_SECRET_ENV,
    WEBHOOK_URL_ENV,
)

intents_by_key: dict[str, dict[str, Any]] = {}
deliveries: list[dict[str, Any]] = []
background: set[asyncio.Task[None]] = set()
MAX_ATTEMPTS = 12


def sign(payload: bytes, secret: str, timestamp: int) -> str:
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def build_event(intent: dict[str, Any]) -> dict[str, Any]:
    declined = intent["payment_method"] == CARD_DECLINED
    obj = dict(intent)
    if declined:
        obj["status"] = "requires_payment_method"
        obj["last_payment_error"] = {"code": "card_declined", "message": "Your card was declined."}
    else:
        obj["status"] = "succeeded"
    return {
        "id": f"evt_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "type": "payment_intent.payment_failed" if declined else "payment_intent.succeeded",
        "created": int(time.time()),
        "data": {"object": obj},
    }


async def deliver(event: dict[str, Any], copy: int) -> None:
    url = os.environ[WEBHOOK_URL_ENV]
    secret = os.environ[WEBHOOK_SECRET_ENV]
    payload = json.dumps(event).encode()
    delay = 0.25
    async with httpx.AsyncClient(timeout=15) as http:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            headers = {
                "content-type": "application/json",
                "stripe-signature": sign(payload, secret, int(time.time())),
            }
            try:
                response = await http.post(url, content=payload, headers=headers)
                status: int | str = response.status_code
            except httpx.HTTPError as error:
                status = type(error).__name__
            deliveries.append(
                {
                    "event": event["id"],
                    "type": event["type"],
                    "copy": copy,
                    "attempt": attempt,
                    "status": status,
                    "order_id": event["data"]["object"]["metadata"].get("order_id"),
                }
            )
            if isinstance(status, int) and 200 <= status < 300:
                return
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)


async def send_later(intent: dict[str, Any]) -> None:
    await asyncio.sleep(0.3)  # the bank takes a moment
    event = build_event(intent)
    duplicate = intent["metadata"].get("simulate_duplicate") == "true" or (
        random.random() < float(os.environ.get(DUPLICATE_RATE_ENV, "0"))
    )
    copies = [deliver(event, 1)]
    if duplicate:
        copies.append(deliver(event, 2))
    await asyncio.gather(*copies)


async def create_intent(request: Request) -> JSONResponse:
    body = await request.json()
    key = request.headers.get("idempotency-key") or uuid.uuid4().hex
    if key in intents_by_key:  # Stripe answers a retried request with the first result
        return JSONResponse(intents_by_key[key])
    intent = {
        "id": f"pi_{uuid.uuid4().hex[:24]}",
        "object": "payment_intent",
        "amount": body["amount"],
        "currency": body.get("currency", "eur"),
        "status": "processing",
        "payment_method": body["payment_method"],
        "metadata": body.get("metadata", {}),
    }
    intents_by_key[key] = intent
    if intent["payment_method"] != CARD_NO_ANSWER:
        task = asyncio.create_task(send_later(intent))
        background.add(task)
        task.add_done_callback(background.discard)
    return JSONResponse(intent)


async def list_deliveries(request: Request) -> JSONResponse:
    order_id = request.query_params.get("order_id")
    rows = [d for d in deliveries if order_id is None or d["order_id"] == order_id]
    return JSONResponse(rows)


app = Starlette(
    routes=[
        Route("/v1/payment_intents", create_intent, methods=["POST"]),
        Route("/v1/deliveries", list_deliveries, methods=["GET"]),
    ]
)
