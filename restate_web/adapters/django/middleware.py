"""``RestateMiddleware``: sync and async capable; binds each request, sets ``request.restate``."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject

from ... import guards
from .._core import RequestBinding, callable_name
from .._idempotency import Problem
from ._runtime import get_integration, problem_response

_CLIENT_HINT = "request.restate"


def user_principal(request: HttpRequest) -> str | None:
    """The authenticated ``request.user`` as ``app_label.model:pk``, or None."""
    user = getattr(request, "user", None)
    return _principal_of(user)


def _principal_of(user: Any) -> str | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    pk = getattr(user, "pk", None)
    if pk is None:
        return f"user:{user.get_username()}"
    label = getattr(getattr(user, "_meta", None), "label_lower", None) or "user"
    return f"{label}:{pk}"


def _client_for(binding: RequestBinding) -> Any:
    integration = binding.integration
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return integration.sync_client().with_binding(binding)
    return integration.async_client().with_binding(binding)


class RestateMiddleware:
    """Reads the idempotency header (a malformed one is answered with 400 problem+json before
    the view runs), binds the request and sets ``request.restate``.

    Put it anywhere in MIDDLEWARE: the authenticated user is read when the view is resolved.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)
            # Under ASGI Django awaits coroutine view middleware directly (no thread hop).
            self.process_view = self._process_view_async  # type: ignore[method-assign]

    def _begin(self, request: HttpRequest) -> RequestBinding | HttpResponse:
        integration = get_integration()
        settings = integration.settings
        raw = request.META.get(settings.header_environ_key)
        principal = settings.principal
        binding = integration.begin(
            framework="Django",
            method=request.method or "GET",
            path=request.path,
            key_values=[raw] if raw is not None else [],
            get_header=request.headers.get,
            principal=(
                (lambda: principal(request))
                if principal is not None
                else (lambda: user_principal(request))
            ),
            view_name=lambda: getattr(request, "_restate_view", None),
            client_hint=_CLIENT_HINT,
        )
        if isinstance(binding, Problem):
            return problem_response(binding)
        request.restate_binding = binding
        request.restate = SimpleLazyObject(lambda: _client_for(binding))
        return binding

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self.__acall__(request)
        binding = self._begin(request)
        if isinstance(binding, HttpResponse):
            return binding
        token = guards.enter_web_request(binding)
        try:
            return self.get_response(request)
        finally:
            guards.exit_web_request(token)

    async def __acall__(self, request: HttpRequest) -> Any:
        binding = self._begin(request)
        if isinstance(binding, HttpResponse):
            return binding
        token = guards.enter_web_request(binding)
        try:
            response: Awaitable[Any] = self.get_response(request)
            return await response
        finally:
            guards.exit_web_request(token)

    def process_view(
        self, request: HttpRequest, view: Any, args: Any, kwargs: Any
    ) -> HttpResponse | None:
        binding = self._note_view(request, view)
        if binding is not None and binding.incoming_key is not None:
            # Resolve the principal now, in sync code: an async view may not touch the ORM.
            settings = binding.integration.settings
            if settings.principal is not None:
                binding.set_principal(settings.principal(request))
            else:
                binding.set_principal(user_principal(request))
        return None

    async def _process_view_async(
        self, request: HttpRequest, view: Any, args: Any, kwargs: Any
    ) -> HttpResponse | None:
        binding = self._note_view(request, view)
        if binding is not None and binding.incoming_key is not None:
            settings = binding.integration.settings
            if settings.principal is not None:
                value = await sync_to_async(settings.principal)(request)
            elif hasattr(request, "auser"):
                value = _principal_of(await request.auser())
            else:
                value = await sync_to_async(user_principal)(request)
            binding.set_principal(value)
        return None

    @staticmethod
    def _note_view(request: HttpRequest, view: Any) -> RequestBinding | None:
        request._restate_view = callable_name(view)
        binding = getattr(request, "restate_binding", None)
        return binding if isinstance(binding, RequestBinding) else None
