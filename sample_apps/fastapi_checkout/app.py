"""The checkout in FastAPI. Run it with `make sample FRAMEWORK=fastapi`."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse

from restate_web.adapters.fastapi import (
    AsyncRestateClient,
    IdempotencyKey,
    Restate,
    webhook_router,
)
from restate_web.guards import DurableContextOutsideHandler

from ..common.web import misuse_durable_helper, order_request, stripe_endpoint

app = FastAPI(title="restate-web checkout (FastAPI)")
Restate(app)  # RESTATE_INGRESS_URL etc. from the environment
# POST /webhooks/stripe: verified, then resolves or rejects the order's awakeable.
app.include_router(webhook_router({"stripe": stripe_endpoint}), prefix="/webhooks")


@app.post("/orders")
async def create_order(request: Request, restate: AsyncRestateClient, key: IdempotencyKey) -> Any:
    try:
        order = order_request(await request.json())
    except ValueError as error:
        raise HTTPException(400, str(error)) from error
    # The adapter derives this call's idempotency key from the client's Idempotency-Key: a
    # replayed POST gets the first answer (the same order id) and starts nothing new.
    return await restate.service("Checkout").call("start", order)


@app.get("/orders/{order_id}")
async def get_order(order_id: str, restate: AsyncRestateClient) -> Any:
    return await restate.workflow("Order", order_id).call("status")


@app.get("/stock/{sku}")
async def get_stock(sku: str, restate: AsyncRestateClient) -> Any:
    return {"sku": sku, "available": await restate.object("Inventory", sku).call("available")}


@app.get("/debug/misuse")
async def debug_misuse() -> Any:
    await misuse_durable_helper()  # raises: durable-only code in a web view


@app.exception_handler(DurableContextOutsideHandler)
async def show_misuse(request: Request, error: DurableContextOutsideHandler) -> JSONResponse:
    return JSONResponse({"error": type(error).__name__, "detail": str(error)}, status_code=500)
