"""Services the signed-serving tests host inside web apps (one per mount: a service name is
registered by one deployment at a time)."""

from __future__ import annotations

from datetime import timedelta

import restate
from restate import Context

signed_greeter = restate.Service("SignedGreeter")


@signed_greeter.handler()
async def greet(ctx: Context, name: str) -> str:
    return f"Hello {name}, signed"


request_response = restate.Service("SignedRequestResponse")


@request_response.handler()
async def slow_echo(ctx: Context, value: str) -> str:
    # A durable timer: over request-response the invocation suspends and is invoked again.
    await ctx.sleep(timedelta(milliseconds=200))
    return f"{value} over HTTP/1.1"


django_greeter = restate.Service("SignedDjangoGreeter")


@django_greeter.handler()
async def hello(ctx: Context, name: str) -> str:
    return f"Hello {name} from Django"


django_services = [django_greeter]
