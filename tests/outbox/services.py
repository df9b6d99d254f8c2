"""The Restate services the outbox tests send to (real restate-sdk, served by hypercorn).

``OutboxLedger/<key>/append`` keeps every item it received, in arrival order: a doubled send
shows up twice, a lost one is missing, and the order per key is the list's order.
"""

from __future__ import annotations

from typing import Any

import restate
from restate import Context, ObjectContext, WorkflowContext

ledger = restate.VirtualObject("OutboxLedger")


@ledger.handler()
async def append(ctx: ObjectContext, item: Any) -> int:
    items = await ctx.get("items", type_hint=list) or []
    items.append(item)
    ctx.set("items", items)
    return len(items)


@ledger.handler()
async def items(ctx: ObjectContext) -> list[Any]:
    # Exclusive on purpose: queued behind every send already accepted for this key, so it
    # answers once they all ran.
    return await ctx.get("items", type_hint=list) or []


notes = restate.Service("OutboxNotes")


@notes.handler()
async def note(ctx: Context, item: Any) -> Any:
    return item


order = restate.Workflow("OutboxOrder")


@order.main()
async def run(ctx: WorkflowContext, item: Any) -> Any:
    return {"workflow": ctx.key(), "item": item}


app = restate.app([ledger, notes, order])
