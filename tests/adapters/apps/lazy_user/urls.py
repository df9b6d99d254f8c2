"""Views that never call Restate, behind a user whose loading is counted (tests only)."""

from __future__ import annotations

from typing import Any

from django.http import JsonResponse
from django.urls import path
from django.utils.functional import SimpleLazyObject
from django.views.decorators.csrf import csrf_exempt

from ..django_project.auth import HeaderUser

LOADS: list[str] = []


class CountingUserMiddleware:
    """Like django.contrib.auth: request.user is lazy; each evaluation (a session and a user
    read from the database in a real project) is counted."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        def load() -> HeaderUser:
            LOADS.append(request.path)
            return HeaderUser("alice")

        request.user = SimpleLazyObject(load)
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
    from restate_web.ingress import Target

    return JsonResponse({"key": key(Target("service", "Svc", "h"))})


urlpatterns = [
    path("sync", sync_plain),
    path("async", async_plain),
    path("sync-calls", sync_calls),
]
