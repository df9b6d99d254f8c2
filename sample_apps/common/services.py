"""The checkout's durable side, written with restate-sdk and served by hypercorn.

Checkout.start   (service)         turns a web request into an Order workflow, once per key
Order.run        (workflow)        reserve stock -> ask for payment -> wait on an awakeable
Order.expire     (workflow, shared) the payment deadline: rejects the awakeable if still open
Order.status     (workflow, shared) what GET /orders/{id} shows
Inventory        (virtual object)  stock per SKU, reserved and released exactly once
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import restate
from restate import (
    Context,
    ObjectContext,
    ObjectSharedContext,
    TerminalError,
    WorkflowContext,
    WorkflowSharedContext,
)

from restate_web.guards import install_context_guard

from .config import payment_deadline_seconds
from .payments import create_payment_intent

INITIAL_STOCK = 100

# Leaked contexts and durable steps inside ctx.run fail at once with a clear message.
install_context_guard()

inventory = restate.VirtualObject("Inventory")


@inventory.handler()
async def reserve(ctx: ObjectContext, quantity: int) -> int:
    stock = await ctx.get("stock", type_hint=int)
    stock = INITIAL_STOCK if stock is None else stock
    if quantity > stock:
        raise TerminalError(f"only {stock} left of {ctx.key()}", status_code=409)
    ctx.set("stock", stock - quantity)
    return stock - quantity


@inventory.handler()
async def release(ctx: ObjectContext, quantity: int) -> int:
    stock = await ctx.get("stock", type_hint=int)
    stock = (INITIAL_STOCK if stock is None else stock) + quantity
    ctx.set("stock", stock)
    return stock


@inventory.handler(kind="shared")
async def available(ctx: ObjectSharedContext) -> int:
    stock = await ctx.get("stock", type_hint=int)
    return INITIAL_STOCK if stock is None else stock


order = restate.Workflow("Order")
# Read once at start-up: a replay on another host must schedule the same deadline.
PAYMENT_DEADLINE = timedelta(seconds=payment_deadline_seconds())


@order.main()
async def run(ctx: WorkflowContext, request: dict[str, Any]) -> dict[str, Any]:
    sku, quantity = request["sku"], int(request.get("quantity", 1))
    ctx.set("status", "reserving stock")
    try:
        await ctx.object_call(reserve, key=sku, arg=quantity)
    except TerminalError as error:
        ctx.set("status", "rejected")
        ctx.set("reason", error.message)
        return {"status": "rejected", "reason": error.message}

    awakeable_id, payment = ctx.awakeable(type_hint=dict)
    ctx.set("awakeable_id", awakeable_id)
    ctx.set("status", "waiting for payment")
    intent = await ctx.run_typed(
        "create payment intent",
        create_payment_intent,
        order_id=ctx.key(),
        amount=int(request.get("amount", 1999)),
        card=str(request.get("card", "4242424242424242")),
        awakeable_id=awakeable_id,
        duplicate_webhook=bool(request.get("duplicate_webhook", False)),
    )
    ctx.set("payment_intent", intent["id"])
    # The deadline: if no webhook has come by then, expire() rejects the awakeable.
    ctx.workflow_send(expire, ctx.key(), None, send_delay=PAYMENT_DEADLINE)
    try:
        event = await payment
    except TerminalError as error:
        await ctx.object_call(release, key=sku, arg=quantity)
        ctx.set("status", "payment failed")
        ctx.set("reason", error.message)
        return {"status": "payment failed", "reason": error.message}
    ctx.set("status", "paid")
    ctx.set("paid_event", event.get("id"))
    return {"status": "paid", "payment_intent": intent["id"], "event": event.get("id")}


@order.handler()
async def expire(ctx: WorkflowSharedContext, _: None = None) -> str:
    awakeable_id = await ctx.get("awakeable_id", type_hint=str)
    if awakeable_id is None:
        return "nothing to expire"
    # If the payment already completed the awakeable, this rejection is a no-op: first wins.
    ctx.reject_awakeable(awakeable_id, "payment deadline passed")
    return "expired"


@order.handler()
async def status(ctx: WorkflowSharedContext) -> dict[str, Any]:
    return {
        "order_id": ctx.key(),
        "status": await ctx.get("status", type_hint=str) or "unknown",
        "reason": await ctx.get("reason", type_hint=str),
        "payment_intent": await ctx.get("payment_intent", type_hint=str),
        "paid_event": await ctx.get("paid_event", type_hint=str),
    }


checkout = restate.Service("Checkout")


@checkout.handler()
async def start(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    """Called by the web app with an idempotency key derived from the client's own key, so a
    replayed POST /orders returns this same answer instead of starting a second order."""
    order_id = f"ord_{ctx.uuid().hex[:16]}"
    ctx.workflow_send(run, order_id, request)
    return {"order_id": order_id}


app = restate.app([inventory, order, checkout])
