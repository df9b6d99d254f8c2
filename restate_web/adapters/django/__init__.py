"""Django adapter: a contrib-style app plus ``RestateMiddleware``.

settings.py::

    INSTALLED_APPS = [..., "restate_web.adapters.django"]
    MIDDLEWARE = [..., "restate_web.adapters.django.middleware.RestateMiddleware"]
    RESTATE = {"INGRESS_URL": "http://localhost:8080"}

In views, ``request.restate`` is the ingress client bound to the request: an ``IngressClient``
in sync code, an ``AsyncIngressClient`` (of the running event loop) in async code, under WSGI
and ASGI alike; decided each time it is read, so a helper that an async view runs with
``sync_to_async`` gets the blocking client. Both share the request's binding.
``manage.py check`` reports bad settings as ``restate_web.E00x``/``W00x``.

The app also ships the outbox table (``models.OutboxMessage``, ``manage.py migrate``) behind
``request.restate....send(..., outbox=True)`` and ``manage.py restate outbox-relay``
(see ``restate_web.outbox``).
"""

from __future__ import annotations

from ..._optional import require

require("django", "django", "restate_web.adapters.django")

from ._runtime import get_integration, idempotency_key_required  # noqa: E402

__all__ = ["get_integration", "idempotency_key_required"]
