"""Django adapter: a contrib-style app plus ``RestateMiddleware``.

settings.py::

    INSTALLED_APPS = [..., "restate_web.adapters.django"]
    MIDDLEWARE = [..., "restate_web.adapters.django.middleware.RestateMiddleware"]
    RESTATE = {"INGRESS_URL": "http://localhost:8080"}

In views, ``request.restate`` is the ingress client bound to the request: an ``IngressClient``
in sync views, an ``AsyncIngressClient`` (of the running event loop) in async views, under
WSGI and ASGI alike. ``manage.py check`` reports bad settings as ``restate_web.E00x``/``W00x``.
"""

from __future__ import annotations

from ..._optional import require

require("django", "django", "restate_web.adapters.django")

from ._runtime import (  # noqa: E402
    get_async_client,
    get_client,
    get_integration,
    idempotency_key_required,
    problem_response,
)

__all__ = [
    "get_async_client",
    "get_client",
    "get_integration",
    "idempotency_key_required",
    "problem_response",
]
