"""``RestateMiddleware``: sync and async capable; binds each request, gives ``request.restate``."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse

from ... import guards
from ...guards import RequestMark
from .._idempotency import Problem
from . import _runtime
from ._binding import MARK_ATTRIBUTE, request_binding
from ._runtime import get_integration, problem_response

_enter_request = guards._enter  # guards.enter_web_request, without a call of its own
_exit_request = guards._exit


def _request_restate(request: HttpRequest) -> Any:
    """``request.restate``: the request-bound ``IngressClient`` in sync code, the running
    event loop's ``AsyncIngressClient`` in async code; both share the request's binding."""
    binding = request_binding(request)
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

    def _begin(self, request: HttpRequest) -> HttpResponse | RequestMark:
        integration = _runtime._integration or get_integration()
        raw = request.META.get(integration.key_environ_key)
        found = (
            None
            if raw is None
            else (integration.match_usual_key(raw) or integration.screen_key(raw))
        )
        if isinstance(found, Problem):
            return problem_response(found)
        # An attribute, not an entry of request.__dict__: reading __dict__ makes CPython build
        # the request's attribute dictionary, a measurable part of the adapter's cost.
        setattr(request, MARK_ATTRIBUTE, (integration, found))
        if integration.forward_headers:
            problem = request_binding(request).entry_problem()
            if problem is not None:
                return problem_response(problem)
        return (request_binding, request)

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self.__acall__(request)
        mark = self._begin(request)
        if isinstance(mark, HttpResponse):
            return mark
        token = _enter_request(mark)
        try:
            return self.get_response(request)
        finally:
            _exit_request(token)

    async def __acall__(self, request: HttpRequest) -> Any:
        mark = self._begin(request)
        if isinstance(mark, HttpResponse):
            return mark
        token = _enter_request(mark)
        try:
            response: Awaitable[Any] = self.get_response(request)
            return await response
        finally:
            _exit_request(token)
