"""Restate services the tests drive through the ingress, written with the real restate-sdk.

Served by hypercorn in a child process (see conftest.py) and registered with a real
restate-server. Each one exists to exercise one behaviour a user relies on.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import restate
from pydantic import BaseModel
from restate import (
    Context,
    ObjectContext,
    ObjectSharedContext,
    TerminalError,
    WorkflowContext,
    WorkflowSharedContext,
)
from restate.serde import BytesSerde

from restate_web.guards import install_context_guard
from restate_web.ingress import AsyncIngressClient, IngressClient, IngressInHandlerError

greeter = restate.Service("Greeter")


@greeter.handler()
async def greet(ctx: Context, name: str) -> str:
    return f"Hello {name}"


@greeter.handler()
async def echo(ctx: Context, value: Any) -> Any:
    return value


@greeter.handler(
    "echoBytes",
    accept="*/*",
    content_type="application/octet-stream",
    input_serde=BytesSerde(),
    output_serde=BytesSerde(),
)
async def echo_bytes(ctx: Context, value: bytes) -> bytes:
    return value


@greeter.handler()
async def headers(ctx: Context) -> dict[str, str]:
    """The headers Restate handed to the handler (what the ingress stored in the journal)."""
    return {k.lower(): v for k, v in ctx.request().headers.items()}


@greeter.handler()
async def fail(ctx: Context, code: int) -> str:
    raise TerminalError(f"failed on purpose with {code}", status_code=code)


@greeter.handler()
async def slow(ctx: Context, seconds: float) -> str:
    # A plain (non-durable) sleep keeps the ingress request open, like an LLM call would.
    await asyncio.sleep(seconds)  # noqa: RW103 (on purpose: stands in for a slow LLM call)
    return f"slept {seconds}"


@greeter.handler("useIngressInside")
async def use_ingress_inside(ctx: Context, kind: str) -> dict[str, str]:
    """Misuse on purpose: an ingress client inside a handler must refuse, not call."""
    try:
        if kind == "async":
            async with AsyncIngressClient("http://127.0.0.1:9", retry=False) as client:  # noqa: RW701
                await client.service("Greeter").call("greet", "inside")
        else:
            with IngressClient("http://127.0.0.1:9", retry=False) as sync_client:  # noqa: RW701
                sync_client.awakeable("sign_x").resolve(1)
    except IngressInHandlerError as error:
        return {"error": type(error).__name__, "message": str(error)}
    return {"error": "none"}


@dataclass
class Person:
    name: str
    age: int


class Order(BaseModel):
    id: str
    amount: int


@greeter.handler("describePerson")
async def describe_person(ctx: Context, person: dict[str, Any]) -> dict[str, Any]:
    # restate-sdk decodes dataclasses only with its optional 'serde' extra; plain dicts here.
    return {"name": person["name"].upper(), "age": person["age"] + 1}


@greeter.handler("priceOrder")
async def price_order(ctx: Context, order: Order) -> Order:
    return Order(id=order.id, amount=order.amount * 2)


counter = restate.VirtualObject("Counter")


@counter.handler()
async def add(ctx: ObjectContext, delta: int) -> int:
    total = (await ctx.get("total", type_hint=int) or 0) + delta
    ctx.set("total", total)
    return total


@counter.handler(kind="shared")
async def get(ctx: ObjectSharedContext) -> int:
    return await ctx.get("total", type_hint=int) or 0


@counter.handler()
async def key(ctx: ObjectContext) -> str:
    return ctx.key()


signup = restate.Workflow("Signup")


@signup.main()
async def run(ctx: WorkflowContext, email: str) -> dict[str, Any]:
    ctx.set("status", "waiting for confirmation")
    confirmed_by = await ctx.promise("confirmation", type_hint=str).value()
    ctx.set("status", "confirmed")
    return {"email": email, "key": ctx.key(), "confirmed_by": confirmed_by}


@signup.handler(name="get_status")
async def get_status(ctx: WorkflowSharedContext) -> str:
    return await ctx.get("status", type_hint=str) or "not started"


@signup.handler()
async def confirm(ctx: WorkflowSharedContext, who: str) -> None:
    await ctx.promise("confirmation", type_hint=str).resolve(who)


payment = restate.Workflow("PaymentWait")


@payment.main(name="run")
async def wait_for_payment(ctx: WorkflowContext, amount: int) -> dict[str, Any]:
    """Creates an awakeable, publishes its id, and waits for someone outside to complete it."""
    awakeable_id, promise = ctx.awakeable(type_hint=dict)
    await ctx.promise("awakeable_id", type_hint=str).resolve(awakeable_id)
    try:
        result = await promise
    except TerminalError as error:
        return {"amount": amount, "paid": False, "reason": error.message}
    return {"amount": amount, "paid": True, "result": result}


@payment.handler(name="awakeable_id")
async def awakeable_id(ctx: WorkflowSharedContext) -> str:
    return await ctx.promise("awakeable_id", type_hint=str).value()


# --- misuse the guards turn into clear errors (restate_web.guards.install_context_guard) -------

install_context_guard()

misuse = restate.Service("Misuse")


@misuse.handler("sleepInsideRun")
async def sleep_inside_run(ctx: Context) -> str:
    """The classic mistake: the parent context used inside a ctx.run action."""

    async def nap() -> str:
        await ctx.sleep(timedelta(milliseconds=10))  # noqa: RW201 (the misuse under test)
        return "slept"

    return await ctx.run_typed("nap", nap)


@misuse.handler("stateInsideSyncRun")
async def state_inside_sync_run(ctx: Context) -> str:
    def read_state() -> str:
        ctx.request()  # harmless: not a journal entry
        ctx.service_send(greet, "x")  # noqa: RW201 (a durable step: refused)
        return "sent"

    return await ctx.run_typed("send", read_state)


@misuse.handler("plainRun")
async def plain_run(ctx: Context, value: int) -> int:
    """The right way still works with the guard installed."""

    def double() -> int:
        return value * 2

    doubled = await ctx.run_typed("double", double)
    await ctx.sleep(timedelta(milliseconds=1))
    return doubled


app = restate.app([greeter, counter, signup, payment, misuse])
