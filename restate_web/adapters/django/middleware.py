"""``RestateMiddleware``: sync and async capable; binds each request, sets ``request.restate``."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.http import HttpRequest, HttpResponse

from ... import guards
from .._core import RequestBinding, RequestState, callable_name
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


def _view_name(request: HttpRequest) -> str | None:
    match = getattr(request, "resolver_match", None)
    return None if match is None else callable_name(match.func)


def _client_for(binding: RequestBinding) -> Any:
    integration = binding.integration
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return integration.sync_client().with_binding(binding)
    return integration.async_client().with_binding(binding)


class DjangoRequest(RequestState):
    """The per-request state; ``request.restate`` resolves the client from it on first use."""

    __slots__ = ("request",)
    framework = "Django"
    client_hint = _CLIENT_HINT

    def __init__(self, integration: Any, key: str | None, request: HttpRequest) -> None:
        super().__init__(integration, key)
        self.request = request

    def view_name(self) -> str | None:
        return _view_name(self.request)

    def make_binding(self) -> RequestBinding:
        request = self.request
        meta = request.META
        principal = self.integration.settings.principal

        def get_header(name: str) -> str | None:
            value = meta.get("HTTP_" + name.upper().replace("-", "_"))
            return None if value is None else str(value)

        return RequestBinding(
            self.integration,
            framework=self.framework,
            method=request.method or "GET",
            path=request.path,
            incoming_key=self.incoming_key,
            get_header=get_header,
            principal=(
                (lambda: principal(request))
                if principal is not None
                else (lambda: user_principal(request))
            ),
            view_name=self.view_name,
            client_hint=self.client_hint,
        )


class LazyClient:
    """``request.restate``: the request-bound client, made when a view first uses it.

    In a sync view an ``IngressClient``, in an async view the ``AsyncIngressClient`` of the
    running event loop; attribute access is forwarded to it.
    """

    __slots__ = ("_client", "_state")

    def __init__(self, state: DjangoRequest) -> None:
        self._state = state
        self._client: Any = None

    def __getattr__(self, name: str) -> Any:
        client = self._client
        if client is None:
            client = self._client = _client_for(self._state.binding())
        return getattr(client, name)

    def __repr__(self) -> str:
        return f"<request.restate for {self._state.request!r}>"


def binding_of(request: HttpRequest) -> RequestBinding:
    """The request's ``RequestBinding``."""
    state = getattr(request, "_restate_state", None)
    if not isinstance(state, DjangoRequest):
        raise RuntimeError(
            "no Restate binding on this request: add "
            "'restate_web.adapters.django.middleware.RestateMiddleware' to MIDDLEWARE"
        )
    return state.binding()


class RestateMiddleware:
    """Reads the idempotency header (a malformed one is answered with 400 problem+json before
    the view runs), marks the request and sets ``request.restate``.

    Put it anywhere in MIDDLEWARE: the authenticated user is read when the view is resolved.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        self._integration: Any = None
        if self.is_async:
            markcoroutinefunction(self)
            # Under ASGI Django awaits coroutine view middleware directly (no thread hop).
            self.process_view = self._process_view_async  # type: ignore[method-assign]

    def _begin(self, request: HttpRequest) -> DjangoRequest | HttpResponse:
        integration = get_integration()
        raw = request.META.get(integration.settings.header_environ_key)
        key: str | None = None
        if raw is not None:
            found = integration.read_key((raw,))
            if isinstance(found, Problem):
                return problem_response(found)
            key = found
        state = DjangoRequest(integration, key, request)
        request._restate_state = state
        request.restate = LazyClient(state)
        return state

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self.__acall__(request)
        state = self._begin(request)
        if isinstance(state, HttpResponse):
            return state
        token = guards.enter_web_request(state)
        try:
            return self.get_response(request)
        finally:
            guards.exit_web_request(token)

    async def __acall__(self, request: HttpRequest) -> Any:
        state = self._begin(request)
        if isinstance(state, HttpResponse):
            return state
        token = guards.enter_web_request(state)
        try:
            response: Awaitable[Any] = self.get_response(request)
            return await response
        finally:
            guards.exit_web_request(token)

    def process_view(
        self, request: HttpRequest, view: Any, args: Any, kwargs: Any
    ) -> HttpResponse | None:
        state = getattr(request, "_restate_state", None)
        if state is not None and state.incoming_key is not None:
            # Resolve the principal now, in sync code: an async view may not touch the ORM.
            settings = state.integration.settings
            if settings.principal is not None:
                state.binding().set_principal(settings.principal(request))
            else:
                state.binding().set_principal(user_principal(request))
        return None

    async def _process_view_async(
        self, request: HttpRequest, view: Any, args: Any, kwargs: Any
    ) -> HttpResponse | None:
        state = getattr(request, "_restate_state", None)
        if state is not None and state.incoming_key is not None:
            settings = state.integration.settings
            if settings.principal is not None:
                value = await sync_to_async(settings.principal)(request)
            elif hasattr(request, "auser"):
                value = _principal_of(await request.auser())
            else:
                value = await sync_to_async(user_principal)(request)
            state.binding().set_principal(value)
        return None
