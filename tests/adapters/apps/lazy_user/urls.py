"""Views that never call Restate, behind a user whose loading is counted (tests only)."""

from __future__ import annotations

import asyncio
from typing import Any

from django.core.exceptions import SynchronousOnlyOperation
from django.http import JsonResponse
from django.urls import path
from django.utils.functional import SimpleLazyObject
from django.views.decorators.csrf import csrf_exempt

from ..django_project.auth import HeaderUser

LOADS: list[str] = []


class CountingUserMiddleware:
    """Like django.contrib.auth: request.user is lazy and request.auser() its async twin; each
    load (a session and a user read from the database in a real project) is counted, with the
    way it was asked for. The sync load refuses to run on an event loop, as the ORM does."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        def load() -> HeaderUser:
            try:
                asyncio.get_running_loop()
            except RuntimeError:
                LOADS.append(f"{request.path} sync")
                return HeaderUser("alice")
            raise SynchronousOnlyOperation("the user was loaded synchronously in async code")

        async def auser() -> HeaderUser:
            await asyncio.sleep(0)
            LOADS.append(f"{request.path} async")
            return HeaderUser("alice")

        request.user = SimpleLazyObject(load)
        request.auser = auser
        return self.get_response(request)


@csrf_exempt
def sync_plain(request: Any) -> JsonResponse:
    return JsonResponse({"ok": True})


@csrf_exempt
async def async_plain(request: Any) -> JsonResponse:
    return JsonResponse({"ok": True})


@csrf_exempt
def sync_calls(request: Any) -> JsonResponse:
    key = request.restate.binding.idempotency_key_for  # a keyed call derives its key here
    from restate_web.ingress._core import Target

    return JsonResponse({"key": key(Target("service", "Svc", "h"))})


@csrf_exempt
async def async_calls(request: Any) -> JsonResponse:
    # A real keyed call: the async client resolves the principal before it derives the key.
    total = await request.restate.object("Counter", request.GET["counter"]).call("add", 1)
    return JsonResponse({"total": total, "key": request.restate.binding.incoming_key})


urlpatterns = [
    path("sync", sync_plain),
    path("async", async_plain),
    path("sync-calls", sync_calls),
    path("async-calls", async_calls),
]


# --- the guards find the view whatever it calls its request -------------------------------------

from django.views import View  # noqa: E402

from tests.adapters.apps import common  # noqa: E402


@csrf_exempt
def renamed_request(req: Any) -> JsonResponse:  # not called "request"
    return JsonResponse(common.durable_only_from_view())


class DurableOnlyView(View):
    def post(self, request: Any) -> JsonResponse:
        return JsonResponse(common.durable_only_from_view())


class AsyncDurableOnlyView(View):
    async def post(self, request: Any) -> JsonResponse:
        return JsonResponse(common.durable_only_from_view())


SEEN: list[Any] = []


@csrf_exempt
def remember_request(request: Any) -> JsonResponse:
    import weakref

    SEEN.append(weakref.ref(request))
    return JsonResponse({"key": request.restate.incoming_key})


urlpatterns += [
    path("renamed", renamed_request),
    path("cbv", csrf_exempt(DurableOnlyView.as_view())),
    path("async-cbv", csrf_exempt(AsyncDurableOnlyView.as_view())),
    path("remember", remember_request),
]
