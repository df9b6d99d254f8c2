"""``RestateMiddleware``: sync and async capable; binds each request, gives ``request.restate``."""

from __future__ import annotations

import asyncio
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
from .._core import Integration, RequestBinding, callable_name
from .._idempotency import KeyFound, Problem
from . import _runtime
from ._runtime import BINDING_ATTRIBUTE, get_integration, problem_response

_enter_request = guards._enter  # guards.enter_web_request, without a call of our own
_exit_request = guards._exit


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


class _DjangoBinding(RequestBinding):
    """A request as Django's ``HttpRequest`` (held weakly: the request holds the binding)."""

    framework = "Django"
    client_hint = "request.restate"

    def __init__(self, integration: Integration, found: KeyFound, request: HttpRequest) -> None:
        # RequestBinding's fields set here (every request makes one; see the FastAPI adapter).
        self.integration = integration
        self._found = found
        # A weak reference: a cycle would leave every request to the garbage collector.
        self._request_ref = weakref.ref(request)

    @property
    def request(self) -> HttpRequest:
        request = self._request_ref()
        if request is None:
            raise RuntimeError(
                "request.restate was used after its request was freed: use it only while "
                "handling the request (get_integration().sync_client() for other work)"
            )
        return request

    @property
    def method(self) -> str:
        return (self.request.method or "GET").upper()

    @property
    def path(self) -> str:
        return str(self.request.path)

    def header(self, name: str) -> str | None:
        value = self.request.META.get("HTTP_" + name.upper().replace("-", "_"))
        return None if value is None else str(value)

    def view_name(self) -> str | None:
        request = self._request_ref()
        match = getattr(request, "resolver_match", None)
        return None if match is None else callable_name(match.func)

    def principal_argument(self) -> Any:
        return self.request

    def default_principal(self) -> Any:
        return user_principal(self.request)

    async def adefault_principal(self) -> Any:
        # No ORM access from async code: django.contrib.auth's request.auser(), a user object
        # that is already there, or else the sync lookup in a worker thread.
        request = self.request
        auser = getattr(request, "auser", None)
        if auser is not None:
            return _principal_of(await auser())
        user = request.__dict__.get("user")
        if user is not None and not isinstance(user, LazyObject):
            return _principal_of(user)
        return await sync_to_async(user_principal)(request)

    def run_coroutine(self, function: Any, arg: Any) -> Any:
        return async_to_sync(function)(arg)

    async def run_sync(self, function: Any, arg: Any) -> Any:
        return await sync_to_async(function)(arg)


def _request_restate(request: HttpRequest) -> Any:
    """``request.restate``: the request-bound ``IngressClient`` in sync code, the running
    event loop's ``AsyncIngressClient`` in async code; both share the request's binding."""
    binding = getattr(request, BINDING_ATTRIBUTE, None)
    if binding is None:
        raise RuntimeError(
            "request.restate needs RestateMiddleware: add "
            "'restate_web.adapters.django.middleware.RestateMiddleware' to MIDDLEWARE"
        )
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return binding.sync_client()
    return binding.async_client()


def _add_request_property() -> None:
    """Give ``HttpRequest`` its ``restate`` property (the app's ``ready()`` and the middleware
    call this; idempotent)."""
    # A property, not an attribute set per request: which client a piece of code gets depends
    # on where it runs (a helper handed to sync_to_async from an async view runs in a thread
    # and must get the blocking client, or its send would be a coroutine nobody awaits).
    if not isinstance(HttpRequest.__dict__.get("restate"), property):
        HttpRequest.restate = property(_request_restate)


class RestateMiddleware:
    """Reads the idempotency header (a malformed one, or a forwarded header that cannot be sent,
    is answered with 400 problem+json before the view runs) and binds the request.

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
        _add_request_property()

    def _begin(self, request: HttpRequest) -> HttpResponse | RequestBinding:
        integration = _runtime._integration or get_integration()
        raw = request.META.get(integration.key_environ_key)
        found = (
            None
            if raw is None
            else (integration.match_usual_key(raw) or integration.screen_key(raw))
        )
        if isinstance(found, Problem):
            return problem_response(found)
        binding = _DjangoBinding(integration, found, request)
        if integration.forward_headers:
            problem = binding.entry_problem()
            if problem is not None:
                return problem_response(problem)
        # An attribute, not an entry of request.__dict__: reading __dict__ makes CPython build
        # the request's attribute dictionary, a measurable part of the adapter's cost.
        setattr(request, BINDING_ATTRIBUTE, binding)
        return binding

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self.__acall__(request)
        binding = self._begin(request)
        if isinstance(binding, HttpResponse):
            return binding
        token = _enter_request(binding)
        try:
            return self.get_response(request)
        finally:
            _exit_request(token)

    async def __acall__(self, request: HttpRequest) -> Any:
        binding = self._begin(request)
        if isinstance(binding, HttpResponse):
            return binding
        token = _enter_request(binding)
        try:
            response: Awaitable[Any] = self.get_response(request)
            return await response
        finally:
            _exit_request(token)
