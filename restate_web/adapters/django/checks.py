"""System checks (``manage.py check``) for the Restate settings and middleware.

Ids: ``restate_web.E001`` RESTATE is not a dict, ``E002`` an invalid value, ``E003`` a header
in FORWARD_HEADERS that is never forwarded (cookies, credentials, ...); ``W001`` an unknown
setting, ``W002`` the middleware is missing from MIDDLEWARE, ``W003`` no ingress URL configured
while DEBUG is off (the default http://localhost:8080 is used).
"""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register

from .. import _settings

MIDDLEWARE_PATH = "restate_web.adapters.django.middleware.RestateMiddleware"


@register("restate_web")  # type: ignore[untyped-decorator]
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    values = getattr(settings, "RESTATE", None)
    parsed, problems = _settings.check_settings(values)
    for problem in problems:
        level = Error if problem.level == "error" else Warning
        name = problem.setting
        if not name.startswith(("RESTATE", _settings.ENV_PREFIX)):
            name = f'RESTATE["{name}"]'
        messages.append(
            level(
                f"{name}: {problem.message}",
                hint=problem.hint or None,
                obj="settings.RESTATE",
                id=f"restate_web.{problem.id}",
            )
        )
    middleware = list(getattr(settings, "MIDDLEWARE", None) or [])
    if MIDDLEWARE_PATH not in middleware:
        messages.append(
            Warning(
                "RestateMiddleware is not in MIDDLEWARE: request.restate, derived idempotency "
                "keys and the guards are not available",
                hint=f"add {MIDDLEWARE_PATH!r} to MIDDLEWARE",
                obj="settings.MIDDLEWARE",
                id="restate_web.W002",
            )
        )
    if (
        parsed.ingress_url is None
        and not (isinstance(values, dict) and values.get("INGRESS_URL"))
        and _settings.ENV_PREFIX + "INGRESS_URL" not in os.environ
        and not settings.DEBUG
    ):
        messages.append(
            Warning(
                "no Restate ingress URL is configured; http://localhost:8080 is used",
                hint='set RESTATE = {"INGRESS_URL": ...} or the RESTATE_INGRESS_URL variable',
                obj="settings.RESTATE",
                id="restate_web.W003",
            )
        )
    return messages
