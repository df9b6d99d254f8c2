"""Restate services of the reliability suite (restate-sdk), served by hypercorn.

The suite runs its own restate-server (it kills it), with these services registered:
``PaymentWait`` and ``Counter`` from tests/restate_services.py, plus ``RelOnce``, whose every
invocation returns an answer of its own (a deterministic uuid from the journal), so a replayed
web request that reached Restate twice would be seen with two different answers.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import restate
from restate import Context

from tests.restate_services import counter, payment

once = restate.Service("RelOnce")


@once.handler()
async def make(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    return {"answer": str(ctx.uuid()), "item": request.get("item")}


@once.handler()
async def slow(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    """Durably sleeps, so the web request that called it is still waiting when its app dies."""
    await ctx.sleep(timedelta(seconds=float(request.get("seconds", 3))))
    return {"answer": str(ctx.uuid()), "item": request.get("item")}


app = restate.app([payment, counter, once])
