"""Two concurrent calls to one target, behind a PRINCIPAL whose delay changes from lookup to
lookup: the apps of tests/adapters/test_request_binding.py (one per framework).

No ``from __future__ import annotations``: FastAPI reads the views' annotations at runtime."""

import asyncio
import contextvars
import itertools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

# Lookups 1 and 4 are slow, 2 and 3 fast: if every call looked the principal up itself, the
# second call of the first request and the first call of the second would finish first.
_DELAYS = itertools.cycle([0.3, 0.0, 0.0, 0.3])
LOOKUPS: list[str] = []


async def slow_principal(request: Any) -> str:
    LOOKUPS.append(str(getattr(request, "path", getattr(request, "url", "?"))))
    await asyncio.sleep(next(_DELAYS))
    return "user:alice"


async def echo_pair(client: Any) -> dict[str, Any]:
    greeter = client.service("Greeter")
    x, y = await asyncio.gather(greeter.call("echo", "x"), greeter.call("echo", "y"))
    return {"x": x, "y": y}


FAN_OUT = 8


def echo_from_threads(client_of_this_thread: Callable[[], Any]) -> list[Any]:
    """``FAN_OUT`` threads of one request (each with the request's context) that all ask for
    the request's client at the same moment, each calling Greeter.echo once."""
    barrier = threading.Barrier(FAN_OUT)

    def one(value: str) -> Any:
        barrier.wait()
        return client_of_this_thread().service("Greeter").call("echo", value)

    with ThreadPoolExecutor(FAN_OUT) as pool:
        futures = [pool.submit(contextvars.copy_context().run, one, str(i)) for i in range(FAN_OUT)]
        return [future.result() for future in futures]


def fastapi_app(ingress_url: str) -> Any:
    from fastapi import FastAPI

    from restate_web.adapters.fastapi import AsyncRestateClient, Restate

    app = FastAPI()
    Restate(app, {"INGRESS_URL": ingress_url, "PRINCIPAL": slow_principal})

    @app.post("/pair")
    async def pair(restate: AsyncRestateClient) -> Any:
        return await echo_pair(restate)

    return app


def flask_app(ingress_url: str) -> Any:
    from flask import Flask

    from restate_web.adapters.flask import Restate

    app = Flask(__name__)
    app.config.update(RESTATE_INGRESS_URL=ingress_url, RESTATE_PRINCIPAL=slow_principal)
    restate = Restate(app)

    @app.post("/pair")
    async def pair() -> Any:
        return await echo_pair(restate.async_client)

    @app.post("/fan-out")
    def fan_out() -> Any:
        return {"echoes": echo_from_threads(lambda: restate.client)}

    return app


async def django_pair(request: Any) -> Any:
    from django.http import JsonResponse

    return JsonResponse(await echo_pair(request.restate))


def django_fan_out(request: Any) -> Any:
    from django.http import JsonResponse

    return JsonResponse({"echoes": echo_from_threads(lambda: request.restate)})


def _urls() -> list[Any]:
    from django.urls import path
    from django.views.decorators.csrf import csrf_exempt

    return [path("pair", csrf_exempt(django_pair)), path("fan-out", csrf_exempt(django_fan_out))]


urlpatterns = _urls() if __name__ != "__main__" else []
