"""Two concurrent calls to one target, behind a PRINCIPAL whose delay changes from lookup to
lookup: the apps of tests/adapters/test_request_binding.py (one per framework).

No ``from __future__ import annotations``: FastAPI reads the views' annotations at runtime."""

import asyncio
import itertools
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

    return app


async def django_pair(request: Any) -> Any:
    from django.http import JsonResponse

    return JsonResponse(await echo_pair(request.restate))


def _urls() -> list[Any]:
    from django.urls import path
    from django.views.decorators.csrf import csrf_exempt

    return [path("pair", csrf_exempt(django_pair))]


urlpatterns = _urls() if __name__ != "__main__" else []
