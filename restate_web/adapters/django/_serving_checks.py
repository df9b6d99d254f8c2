"""System check: Restate services served without request signing beyond loopback.

``restate_web.W010``: ``RESTATE["SERVICES"]`` is set, ``RESTATE["IDENTITY_KEYS"]`` is not, and
``ALLOWED_HOSTS`` lets the app answer on a non-loopback address: anyone who reaches it can
invoke the handlers. ``restate_web.E010``: ``RESTATE["SERVICES"]`` cannot be imported.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register

from ...serving import is_loopback
from .._settings import check_settings


@register("restate_web")  # type: ignore[untyped-decorator]
def check_served_services(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    values = getattr(settings, "RESTATE", None)
    parsed, _ = check_settings(values if isinstance(values, dict) else None)
    if parsed.services is None:
        return []
    from .asgi import configured_services

    try:
        configured_services(parsed.services)
    except (ImportError, AttributeError, ValueError) as error:
        return [
            Error(
                f'RESTATE["SERVICES"] cannot be loaded: {error}',
                hint='use "package.module:services" naming a list of restate.Service objects',
                obj="settings.RESTATE",
                id="restate_web.E010",
            )
        ]
    if parsed.identity_keys:
        return []
    hosts = [str(host).lstrip(".") for host in getattr(settings, "ALLOWED_HOSTS", []) or []]
    exposed = [host for host in hosts if host == "*" or not is_loopback(host)]
    if not exposed:
        return []
    return [
        Warning(
            "Restate services are served without IDENTITY_KEYS while ALLOWED_HOSTS lets the "
            f"app answer on {', '.join(exposed)}: anyone who can reach it can invoke them",
            hint='set RESTATE["IDENTITY_KEYS"] = ["publickeyv1_..."], the key restate-server '
            "logs at start when request-identity-private-key-pem-file is configured",
            obj="settings.RESTATE",
            id="restate_web.W010",
        )
    ]
