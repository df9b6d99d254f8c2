"""The Restate services the webhook routing tests deliver to, written with the real restate-sdk.

Served by hypercorn and registered with the session's restate-server (conftest.py,
``hook_url``). Every handler returns what it received, so a test reads an invocation's input
back by calling the same handler with the same idempotency key (Restate answers with the
first invocation's result instead of running it again), or by attaching to the workflow.
``HookWaiter`` waits on an awakeable and returns how it was completed.
"""

from __future__ import annotations

from typing import Any

import restate
from restate import Context, ObjectContext, TerminalError, WorkflowContext, WorkflowSharedContext

inbox = restate.Service("HookInbox")


@inbox.handler("on_checkout")
async def on_checkout(ctx: Context, arg: Any) -> dict[str, Any]:
    return {"handler": "on_checkout", "arg": arg}


@inbox.handler()
async def record(ctx: Context, arg: Any) -> dict[str, Any]:
    return {"handler": "record", "arg": arg}


@inbox.handler()
async def note(ctx: Context, arg: Any) -> dict[str, Any]:
    return {"handler": "note", "arg": arg}


@inbox.handler("dead_letter")
async def dead_letter(ctx: Context, arg: Any) -> dict[str, Any]:
    return {"handler": "dead_letter", "arg": arg}


customers = restate.VirtualObject("HookCustomers")


@customers.handler()
async def created(ctx: ObjectContext, arg: Any) -> dict[str, Any]:
    return {"handler": "created", "key": ctx.key(), "arg": arg}


@customers.handler()
async def add(ctx: ObjectContext, arg: Any) -> dict[str, Any]:
    return {"handler": "add", "key": ctx.key(), "arg": arg}


billing = restate.Workflow("HookBilling")


@billing.main(name="run")
async def bill(ctx: WorkflowContext, arg: Any) -> dict[str, Any]:
    return {"key": ctx.key(), "arg": arg}


waiter = restate.Workflow("HookWaiter")


@waiter.main(name="run")
async def wait(ctx: WorkflowContext) -> dict[str, Any]:
    """Creates an awakeable, publishes its id, and returns how someone outside completed it."""
    awakeable_id, promise = ctx.awakeable()
    await ctx.promise("awakeable_id", type_hint=str).resolve(awakeable_id)
    try:
        value = await promise
    except TerminalError as error:
        return {"rejected": error.message}
    return {"resolved": value}


@waiter.handler(name="awakeable_id")
async def awakeable_id(ctx: WorkflowSharedContext) -> str:
    return await ctx.promise("awakeable_id", type_hint=str).value()


app = restate.app([inbox, customers, billing, waiter])
