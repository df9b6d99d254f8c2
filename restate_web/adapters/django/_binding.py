"""A Django request as the adapters' core sees it (``RequestBinding``)."""

from __future__ import annotations

import weakref
from typing import Any

from asgiref.sync import async_to_sync, sync_to_async
from django.http import HttpRequest
from django.utils.functional import LazyObject

from .._core import Integration, RequestBinding, binding_kept_in, callable_name
from .._idempotency import KeyFound

MARK_ATTRIBUTE = "_restate_mark"
"""What ``RestateMiddleware`` keeps on each request it handles: ``(integration, found)``, the
parts its binding is made of when code first asks for it (``request_binding``)."""


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
        super().__init__(integration, found)
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


def request_binding(request: HttpRequest) -> RequestBinding:
    """The binding of a request ``RestateMiddleware`` handles, made the first time it is asked
    for and kept in the request (``guards.RequestMark``)."""
    mark = request.__dict__.get(MARK_ATTRIBUTE)
    if mark is None:
        raise RuntimeError(
            "no Restate binding on this request: add "
            "'restate_web.adapters.django.middleware.RestateMiddleware' to MIDDLEWARE"
        )
    integration, found = mark
    return binding_kept_in(request.__dict__, lambda: _DjangoBinding(integration, found, request))
