"""The scenario views, written once; each framework's test app only routes to them.

Every function takes the request-bound client the adapter hands the view (sync or async) and
returns a JSON-able dict, so the three frameworks answer the same request the same way.
"""

from __future__ import annotations

from typing import Any

from restate_web.guards import DurableContextOutsideHandler, durable_only
from restate_web.ingress._core import Target

# The services a test registers in this process (see tests/adapters/in_process.py) leak their
# Restate context here on purpose.
LEAKED: dict[str, Any] = {}

FORWARD_HEADERS = ["x-allowed"]


def principal_from_header(request: Any) -> str | None:
    """The PRINCIPAL setting of the FastAPI and Flask test apps: a stand-in for real auth.

    Spelled like the Django adapter spells request.user ("user:<pk>"), so that the same request
    derives the same keys in every framework.
    """
    user = request.headers.get("x-user")
    return f"user:{user}" if user else None


@durable_only
def charge(amount: int) -> str:
    """A durable-only helper: it would journal a payment step in a real app."""
    return f"charged {amount}"


def _receipt(handle: Any, total: Any) -> dict[str, Any]:
    return {
        "invocation_id": handle.invocation_id,
        "status": handle.status,
        "attachable": handle.attachable,
        "total": total,
    }


def count(client: Any, key: str, **options: Any) -> dict[str, Any]:
    """Add 1 to the Counter object ``key`` (the side effect tests count)."""
    handle = client.object("Counter", key).send("add", 1, **options)
    return _receipt(handle, handle.attach() if handle.attachable else None)


async def acount(client: Any, key: str, **options: Any) -> dict[str, Any]:
    handle = await client.object("Counter", key).send("add", 1, **options)
    return _receipt(handle, (await handle.attach()) if handle.attachable else None)


def count_twice(client: Any, key: str) -> dict[str, Any]:
    return {"calls": [count(client, key), count(client, key)]}


async def acount_twice(client: Any, key: str) -> dict[str, Any]:
    return {"calls": [await acount(client, key), await acount(client, key)]}


def explicit(client: Any, key: str) -> dict[str, Any]:
    return count(client, key, idempotency_key=f"explicit-{key}")


async def aexplicit(client: Any, key: str) -> dict[str, Any]:
    return await acount(client, key, idempotency_key=f"explicit-{key}")


def journaled_headers(client: Any) -> dict[str, Any]:
    """The headers Restate stored for the call (Greeter/headers echoes them)."""
    return {"headers": client.service("Greeter").call("headers")}


async def ajournaled_headers(client: Any) -> dict[str, Any]:
    return {"headers": await client.service("Greeter").call("headers")}


def derived_keys(client: Any) -> dict[str, Any]:
    """The keys the request's binding derives for two calls to one target and one to another."""
    binding = client.binding
    counter = Target("object", "Counter", "add", "k1")
    greeter = Target("service", "Greeter", "greet")
    keys = [binding.idempotency_key_for(t) for t in (counter, counter, greeter)]
    return {"keys": keys, "principal": binding.principal}


def durable_only_from_view() -> dict[str, Any]:
    try:
        charge(10)
    except DurableContextOutsideHandler as error:
        return {"error": type(error).__name__, "message": str(error)}
    return {"error": None}


def use_leaked(name: str) -> dict[str, Any]:
    """Use a context that a handler leaked: must raise, never touch that journal."""
    try:
        LEAKED[name].set("hijacked", True)
    except DurableContextOutsideHandler as error:
        return {"error": type(error).__name__, "message": str(error)}
    return {"error": None}
