"""The trivial handlers benchmarks call: nothing but the round trip through Restate is measured."""

from __future__ import annotations

from typing import Any

import restate
from restate import Context, ObjectContext, WorkflowContext, WorkflowSharedContext

bench = restate.Service("Bench")


@bench.handler()
async def echo(ctx: Context, value: Any) -> Any:
    return value


keyed = restate.VirtualObject("BenchKeyed")


@keyed.handler()
async def add(ctx: ObjectContext, value: Any) -> Any:
    """A Virtual Object handler: its sends are processed one at a time per key."""
    return value


waiter = restate.Workflow("Waiter")


@waiter.main(name="run")
async def wait(ctx: WorkflowContext) -> Any:
    """Creates an awakeable, publishes its id, and returns whatever completes it."""
    awakeable_id, promise = ctx.awakeable(type_hint=dict)
    await ctx.promise("awakeable_id", type_hint=str).resolve(awakeable_id)
    return await promise


@waiter.handler(name="awakeable_id")
async def awakeable_id(ctx: WorkflowSharedContext) -> str:
    return await ctx.promise("awakeable_id", type_hint=str).value()


app = restate.app([bench, keyed, waiter])
