"""The process-wide Integration built from ``settings.RESTATE``, and view helpers."""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable
from typing import Any, TypeVar, cast

from django.conf import settings as django_settings
from django.core.signals import setting_changed
from django.http import HttpRequest, HttpResponse

from .._core import Integration
from .._idempotency import Problem
from ._binding import request_binding

F = TypeVar("F", bound=Callable[..., Any])

_lock = threading.Lock()
_integration: Integration | None = None


def get_integration() -> Integration:
    """The project's ``Integration`` (settings and clients), built from ``settings.RESTATE``.

    Rebuilt when ``RESTATE`` changes (``override_settings`` in tests).
    """
    global _integration
    integration = _integration
    if integration is None:
        with _lock:
            if _integration is None:
                _integration = Integration(getattr(django_settings, "RESTATE", None))
            integration = _integration
    return integration


def _reset(*, setting: str, **kwargs: Any) -> None:
    global _integration
    if setting == "RESTATE":
        with _lock:
            old, _integration = _integration, None
        if old is not None:
            old.close()


setting_changed.connect(_reset, dispatch_uid="restate_web.adapters.django.reset")


def problem_response(problem: Problem) -> HttpResponse:
    response = HttpResponse(problem.body(), status=problem.status)
    for name, value in problem.headers():
        response[name] = value
    return response


def idempotency_key_required(view: F) -> F:
    """Decorator (sync or async view): 400 problem+json unless an idempotency key was sent."""

    if inspect.iscoroutinefunction(view):

        @functools.wraps(view)
        async def async_wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            problem = request_binding(request).require_key()
            if problem is not None:
                return problem_response(problem)
            return await view(request, *args, **kwargs)

        return cast(F, async_wrapper)

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        problem = request_binding(request).require_key()
        if problem is not None:
            return problem_response(problem)
        return view(request, *args, **kwargs)

    return cast(F, wrapper)
