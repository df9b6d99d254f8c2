"""A Django middleware that sets the principal the README's way (request.restate.binding)."""

from __future__ import annotations

from typing import Any

from django.http import JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from restate_web.ingress._core import Target


class SetPrincipalMiddleware:
    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        request.restate.binding.set_principal("user:bob")  # after your authentication
        return self.get_response(request)


@csrf_exempt
def orders(request: Any) -> JsonResponse:
    reserved = request.restate.binding.reserve_key(Target("service", "Svc", "h"))
    return JsonResponse({"key": reserved.get()})


urlpatterns = [path("orders", orders)]
