"""Sets request.user from the X-User header: a stand-in for django.contrib.auth in tests."""

from __future__ import annotations

from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction


class HeaderUser:
    is_authenticated = True

    def __init__(self, name: str) -> None:
        self.pk = name

    def get_username(self) -> str:
        return str(self.pk)


class AnonymousUser:
    is_authenticated = False
    pk = None


class HeaderUserMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def _authenticate(self, request: Any) -> None:
        name = request.headers.get("x-user")
        request.user = HeaderUser(name) if name else AnonymousUser()

    def __call__(self, request: Any) -> Any:
        self._authenticate(request)
        return self.get_response(request)  # a coroutine in async mode: Django awaits it
