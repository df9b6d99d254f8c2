"""SDK services whose shape changes between "releases", chosen by environment variables.

``DEPLOY_PREFIX`` namespaces the service names (each test registers its own on a shared
restate-server); ``DEPLOY_VARIANT`` picks the release:

- ``v1``: ``Greeter`` (greet, bye) and the ``Parked`` workflow
- ``v1plus``: v1 with a new handler ``Greeter/hello`` (compatible)
- ``v2``: ``Greeter/bye`` removed (breaking)
- ``object``: ``Greeter`` becomes a virtual object (breaking type change)

``DEPLOY_RETENTION_HOURS`` declares Greeter's idempotency retention in the SDK.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

import restate
from restate import Context, WorkflowContext, WorkflowSharedContext

PREFIX = os.environ.get("DEPLOY_PREFIX", "")
VARIANT = os.environ.get("DEPLOY_VARIANT", "v1")
RETENTION = os.environ.get("DEPLOY_RETENTION_HOURS")

options: dict[str, Any] = {}
if RETENTION:
    options["idempotency_retention"] = timedelta(hours=float(RETENTION))

greeter: Any
if VARIANT == "object":
    greeter = restate.VirtualObject(PREFIX + "Greeter", **options)
else:
    greeter = restate.Service(PREFIX + "Greeter", **options)


@greeter.handler()
async def greet(ctx: Context, name: str) -> str:
    return f"Hello {name} from {VARIANT}"


if VARIANT != "v2":

    @greeter.handler()
    async def bye(ctx: Context, name: str) -> str:
        return f"Bye {name}"


if VARIANT == "v1plus":

    @greeter.handler()
    async def hello(ctx: Context, name: str) -> str:
        return f"Hi {name}"


parked = restate.Workflow(PREFIX + "Parked")


@parked.main()
async def run(ctx: WorkflowContext) -> str:
    """Suspends on an awakeable (pinned to this deployment) until someone resolves it."""
    awakeable_id, promise = ctx.awakeable(type_hint=str)
    await ctx.promise("awakeable_id", type_hint=str).resolve(awakeable_id)
    return f"{await promise} on {VARIANT}"


@parked.handler(name="awakeable_id")
async def awakeable_id(ctx: WorkflowSharedContext) -> str:
    return await ctx.promise("awakeable_id", type_hint=str).value()


app = restate.app([greeter, parked])
