"""``RestateMiddleware``: sync and async capable; binds each request, sets ``request.restate``."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.http import HttpRequest, HttpResponse

from ...guards import web_request_var as _web_request
from .._core import Integration, RequestBinding, callable_name, environ_header_getter
from .._idempotency import MalformedIdempotencyKey, malformed_problem, parse_key
from . import _runtime
from ._runtime import get_integration, problem_response

_CLIENT_HINT = "request.restate"


def user_principal(request: HttpRequest) -> str | None:
    """The authenticated ``request.user`` as ``app_label.model:pk``, or None."""
    # request.user is an instance attribute (AuthenticationMiddleware sets it): look there first,
    # so that a project without authentication does not pay for an AttributeError per request.
    user = request.__dict__.get("user")
    if user is None and hasattr(type(request), "user"):
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


_UNSET: Any = object()


class DjangoRequest:
    """``request.restate``: the per-request state, and the request-bound client it forwards to.

    One object per request (it is also the guards' web-request mark): the ``RequestBinding``
    is made when a view first uses the client, and the client then. In a sync view an
    ``IngressClient``, in an async view the ``AsyncIngressClient`` of the running event loop;
    attribute access is forwarded to it. Its own attributes start with ``_rw_`` so that they
    never hide the client's.
    """

    __slots__ = (
        "_rw_binding",
        "_rw_client",
        "_rw_integration",
        "_rw_key",
        "_rw_principal",
        "_rw_request",
    )
    framework = "Django"
    client_hint = _CLIENT_HINT

    def __init__(self, integration: Integration, key: str | None, request: HttpRequest) -> None:
        self._rw_integration = integration
        self._rw_key = key
        self._rw_request = request
        self._rw_binding: RequestBinding | None = None
        self._rw_client: Any = None
        self._rw_principal: Any = _UNSET

    @property
    def incoming_key(self) -> str | None:
        return self._rw_key

    def view_name(self) -> str | None:
        return _view_name(self._rw_request)

    def _rw_get_binding(self) -> RequestBinding:
        binding = self._rw_binding
        if binding is None:
            binding = self._rw_binding = self._rw_make_binding()
        return binding

    def _rw_make_binding(self) -> RequestBinding:
        request = self._rw_request
        meta = request.META
        principal = self._rw_integration.settings.principal

        binding = RequestBinding(
            self._rw_integration,
            framework=self.framework,
            method=request.method or "GET",
            path=request.path,
            incoming_key=self._rw_key,
            get_header=environ_header_getter(meta),
            principal=(
                (lambda: principal(request))
                if principal is not None
                else (lambda: user_principal(request))
            ),
            view_name=self.view_name,
            client_hint=self.client_hint,
        )
        if self._rw_principal is not _UNSET:
            binding.set_principal(self._rw_principal)
        return binding

    def _rw_set_principal(self, value: Any) -> None:
        """The principal read when the view was resolved (applied when the binding is made)."""
        if self._rw_binding is not None:
            self._rw_binding.set_principal(value)
        else:
            self._rw_principal = value

    def __getattr__(self, name: str) -> Any:
        client = self._rw_client
        if client is None:
            client = self._rw_client = _client_for(self._rw_get_binding())
        return getattr(client, name)

    def __repr__(self) -> str:
        return f"<request.restate for {self._rw_request!r}>"


LazyClient = DjangoRequest
"""``request.restate``'s type (its former name)."""


def binding_of(request: HttpRequest) -> RequestBinding:
    """The request's ``RequestBinding``."""
    state = request.__dict__.get("restate")
    if not isinstance(state, DjangoRequest):
        raise RuntimeError(
            "no Restate binding on this request: add "
            "'restate_web.adapters.django.middleware.RestateMiddleware' to MIDDLEWARE"
        )
    return state._rw_get_binding()


class RestateMiddleware:
    """Reads the idempotency header (a malformed one is answered with 400 problem+json before
    the view runs), marks the request and sets ``request.restate``.

    Put it anywhere in MIDDLEWARE: the authenticated user is read when an async view is
    resolved, and when a sync view first calls Restate (never for requests that do not).
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
        integration = _runtime._integration or get_integration()
        raw = request.META.get(integration.key_environ_key)
        key: str | None = None
        if raw is not None:
            try:
                key = parse_key(raw, integration.key_header, integration.key_max_length)
            except MalformedIdempotencyKey as error:
                return problem_response(malformed_problem(error))
        state = request.restate = DjangoRequest(integration, key, request)
        return state

    def __call__(self, request: HttpRequest) -> Any:
        # Every request's hot path (sync): the header parsed, one object made, the guards'
        # context variable set and reset directly.
        if self.is_async:
            return self.__acall__(request)
        state = self._begin(request)
        if type(state) is not DjangoRequest:
            return state
        token = _web_request.set(state)
        try:
            return self.get_response(request)
        finally:
            _web_request.reset(token)

    async def __acall__(self, request: HttpRequest) -> Any:
        state = self._begin(request)
        if type(state) is not DjangoRequest:
            return state
        token = _web_request.set(state)
        try:
            response: Awaitable[Any] = self.get_response(request)
            return await response
        finally:
            _web_request.reset(token)

    def process_view(
        self, request: HttpRequest, view: Any, args: Any, kwargs: Any
    ) -> HttpResponse | None:
        state = request.__dict__.get("restate")
        if type(state) is DjangoRequest and state._rw_key is not None and iscoroutinefunction(view):
            # An async view may not touch the ORM: resolve its principal now, in sync code. A
            # sync view resolves it when it first calls Restate, so a keyed request that never
            # does never loads the session and user just for us.
            principal = state._rw_integration.settings.principal
            state._rw_set_principal(
                principal(request) if principal is not None else user_principal(request)
            )
        return None

    async def _process_view_async(
        self, request: HttpRequest, view: Any, args: Any, kwargs: Any
    ) -> HttpResponse | None:
        state = request.__dict__.get("restate")
        if type(state) is DjangoRequest and state._rw_key is not None and iscoroutinefunction(view):
            principal = state._rw_integration.settings.principal
            if principal is not None:
                value = await sync_to_async(principal)(request)
            elif hasattr(request, "auser"):
                value = _principal_of(await request.auser())
            else:
                value = await sync_to_async(user_principal)(request)
            state._rw_set_principal(value)
        return None
