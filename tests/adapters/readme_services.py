"""The Restate services the README's framework snippets call (``Order``, ``Payment``,
``Payments``), written with the real restate-sdk."""

from __future__ import annotations

import asyncio
from typing import Any

import restate
from restate import Context, ObjectContext

order = restate.VirtualObject("Order")


@order.handler()
async def create(ctx: ObjectContext, items: Any = None) -> int:
    """How many times this order was created: a replayed request must not add one."""
    count = (await ctx.get("count", type_hint=int) or 0) + 1
    ctx.set("count", count)
    return count


payment = restate.VirtualObject("Payment")


@payment.handler()
async def charge(ctx: ObjectContext) -> str:
    count = (await ctx.get("count", type_hint=int) or 0) + 1
    ctx.set("count", count)
    return f"charged {ctx.key()} #{count}"


payments = restate.Service("Payments")


@payments.handler("charge")
async def charge_order(ctx: Context, order_id: str) -> str:
    if order_id.startswith("slow"):
        # A plain sleep keeps the ingress call open past the caller's timeout.
        await asyncio.sleep(2)  # noqa: RW103 (on purpose: a slow payment provider)
    return f"charged {order_id}"


app = restate.app([order, payment, payments])
