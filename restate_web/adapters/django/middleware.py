"""``RestateMiddleware``: sync and async capable; binds each request, sets ``request.restate``."""

from __future__ import annotations

import asyncio
import inspect
import types
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import (
    async_to_sync,
    iscoroutinefunction,
    markcoroutinefunction,
    sync_to_async,
)
from django.http import HttpRequest, HttpResponse
from django.utils.functional import LazyObject

from ... import guards
from .._core import Integration, RequestBinding, callable_name, environ_header_getter
from .._idempotency import KeyFound, Problem, key_of
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


class DjangoRequest:
    """``request.restate``: the per-request state, and the request-bound client it forwards to.

    One object per request (what the guards' probe reports, found through the request that a
    view's frame holds): the ``RequestBinding`` is made when a view first uses the client, and
    the client then. In a sync view an
    ``IngressClient``, in an async view the ``AsyncIngressClient`` of the running event loop;
    attribute access is forwarded to it. Its own attributes start with ``_rw_`` so that they
    never hide the client's.
    """

    __slots__ = ("_rw_binding", "_rw_client", "_rw_found", "_rw_integration", "_rw_request_ref")
    framework = "Django"
    client_hint = _CLIENT_HINT

    # Set when first needed; until then reading one gives None (see __getattr__). Every request
    # makes one of these objects, and most never use the client.
    _rw_binding: RequestBinding | None
    _rw_client: Any

    def __init__(self, integration: Integration, found: KeyFound, request: HttpRequest) -> None:
        self._rw_integration = integration
        self._rw_found = found
        # A weak reference: the request holds this object (request.restate), and a cycle would
        # leave every request to the garbage collector instead of freeing it when it is done.
        self._rw_request_ref = weakref.ref(request)

    @property
    def _rw_request(self) -> HttpRequest:
        request = self._rw_request_ref()
        if request is None:
            raise RuntimeError(
                "request.restate was used after its request was freed: use request.restate "
                "only while handling the request (make a plain client with get_client() for "
                "work outside a request)"
            )
        return request

    @property
    def incoming_key(self) -> str | None:
        return key_of(self._rw_found)

    def view_name(self) -> str | None:
        return _view_name(self._rw_request)

    def _rw_get_binding(self) -> RequestBinding:
        binding = self._rw_binding
        if binding is None:
            binding = self._rw_binding = self._rw_make_binding()
        return binding

    def _rw_make_binding(self) -> RequestBinding:
        request = self._rw_request
        principal = self._rw_integration.settings.principal
        if principal is not None:
            custom: Callable[[HttpRequest], Any] = principal

            def sync_principal() -> Any:
                if iscoroutinefunction(custom):  # Django can run it from sync code
                    return async_to_sync(custom)(request)
                return custom(request)

            async def async_principal() -> Any:
                if iscoroutinefunction(custom):
                    return await custom(request)
                return await sync_to_async(custom)(request)

        else:

            def sync_principal() -> Any:
                return user_principal(request)

            async def async_principal() -> Any:
                # No ORM access from async code: django.contrib.auth's request.auser(), a user
                # object that is already there, or else the sync lookup in a worker thread.
                auser = getattr(request, "auser", None)
                if auser is not None:
                    return _principal_of(await auser())
                user = request.__dict__.get("user")
                if user is not None and not isinstance(user, LazyObject):
                    return _principal_of(user)
                return await sync_to_async(user_principal)(request)

        return RequestBinding(
            self._rw_integration,
            framework=self.framework,
            method=request.method or "GET",
            path=request.path,
            incoming_key=self.incoming_key,
            get_header=environ_header_getter(request.META),
            principal=sync_principal,
            async_principal=async_principal,
            view_name=self.view_name,
            client_hint=self.client_hint,
        )

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_rw_"):
            return None  # one of our own slots, not set yet
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


def _request_state(frame: types.FrameType) -> DjangoRequest | None:
    """``request.restate`` of a request that ``frame`` received as an argument, if any."""
    code = frame.f_code
    if not code.co_flags & inspect.CO_OPTIMIZED:  # a module or class body, not a function
        return None
    argument_names = code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]
    if not argument_names:
        return None
    local_values = frame.f_locals
    for name in argument_names:
        value = local_values.get(name)
        if isinstance(value, HttpRequest):
            state = value.__dict__.get("restate")
            if isinstance(state, DjangoRequest):
                return state
    return None


def _probe() -> DjangoRequest | None:
    """The request whose view led here (the guards' probe, asked only when a guard raises).

    Every Django view (and class-based view method, and the middleware) takes the request as
    an argument, so the view's frame holds it: on the request's thread under WSGI, up the
    chain of awaiting coroutines for async views, on the worker thread of a sync view under ASGI.
    """
    return guards.find_in_frames(_request_state)


guards.register_web_request_probe(_probe)


class RestateMiddleware:
    """Reads the idempotency header (a malformed one is answered with 400 problem+json before
    the view runs) and sets ``request.restate``.

    Put it anywhere in MIDDLEWARE. The authenticated user that scopes derived keys is read when
    the view first calls Restate (awaited in async views), never for requests that do not.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def _begin(self, request: HttpRequest) -> HttpResponse | None:
        """Every request's hot path: the header screened by one C-level match (the key itself is
        extracted when a call needs it), ``request.restate`` set; a problem response, or None."""
        integration = _runtime._integration or get_integration()
        raw = request.META.get(integration.key_environ_key)
        found: KeyFound = None
        if raw is not None and (found := integration.screen_key(raw)) is None:
            parsed = integration.read_one_key(raw)
            if isinstance(parsed, Problem):
                return problem_response(parsed)
            found = parsed
        request.restate = DjangoRequest(integration, found, request)
        return None

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self.__acall__(request)
        problem = self._begin(request)
        return self.get_response(request) if problem is None else problem

    async def __acall__(self, request: HttpRequest) -> Any:
        problem = self._begin(request)
        if problem is not None:
            return problem
        response: Awaitable[Any] = self.get_response(request)
        return await response
