"""Django under ASGI with Restate services served from a path of the same app.

In the project's ``asgi.py``::

    from restate_web.adapters.django.asgi import get_asgi_application
    application = get_asgi_application()

serves ``RESTATE["SERVICES"]`` (a list of SDK services, or ``"module:name"`` of one) under
``RESTATE["SERVICES_PATH"]`` (default ``/restate``), verifying Restate's request signatures with
``RESTATE["IDENTITY_KEYS"]``; every other request goes to Django. Under WSGI services cannot be
served (see ``restate_web.serving``).
"""

from __future__ import annotations

import importlib
from typing import Any

from django.conf import settings

from ...serving import ASGIApp, with_services
from .._settings import load_settings


def configured_services(value: Any) -> list[Any]:
    """``RESTATE["SERVICES"]`` as a list of SDK services."""
    if isinstance(value, str):
        module, _, name = value.partition(":")
        if not name:
            module, _, name = value.rpartition(".")
        value = getattr(importlib.import_module(module), name)
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def get_asgi_application() -> ASGIApp:
    """Django's ASGI application, with ``RESTATE["SERVICES"]`` routed from their path."""
    from django.core.asgi import get_asgi_application as django_asgi_application

    app: ASGIApp = django_asgi_application()
    parsed = load_settings(getattr(settings, "RESTATE", None))
    if parsed.services is None:
        return app
    return with_services(
        app,
        configured_services(parsed.services),
        path=parsed.services_path,
        identity_keys=parsed.identity_keys,
    )
