"""Serve restate-sdk services inside the web app, under a path, signed.

>>> app = FastAPI()
>>> mount_services(app, [greeter, orders], path="/restate/v42",
...                identity_keys=["publickeyv1_..."])

then ``restate-web register https://app.example/restate/v42``. Other ASGI apps (Django under
ASGI) wrap instead: ``application = with_services(get_asgi_application(), [...], path=...)``.

The SDK's app is ASGI-only, and Restate's HTTP/1.1 invocations stream a chunked request body
that WSGI bridges cut short, so Flask and Django under WSGI cannot host services: both functions
refuse a WSGI app with :class:`WSGIServingError`, which says how to serve them beside the app.

With ``identity_keys`` (Restate's ``publickeyv1_...`` request-signing keys) every request except
the SDK's ``/health`` must carry a valid signature from the restate-server: others get 401.
Without them, the first request that arrives on an address other than loopback logs a warning.
"""

from __future__ import annotations

import inspect
import ipaddress
import logging
import os
from collections.abc import Awaitable, Callable, Iterable, MutableMapping, Sequence
from typing import Any

from ._optional import require

__all__ = [
    "IDENTITY_KEYS_ENV",
    "WSGIServingError",
    "identity_keys_from_env",
    "mount_services",
    "services_app",
    "with_services",
]

logger = logging.getLogger("restate_web.serving")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

IDENTITY_KEYS_ENV = "RESTATE_IDENTITY_KEYS"
KEY_PREFIX = "publickeyv1_"

SERVE_BESIDE = (
    "Serve the services beside the app instead: put them in their own module with "
    "`app = restate.app([...], identity_keys=[...])`, run it with an ASGI server "
    "(`hypercorn my_project.services:app --bind 0.0.0.0:9080`), and register that URL with "
    "`restate-web register`."
)


class WSGIServingError(TypeError):
    """A WSGI app cannot host restate-sdk services; the message says what to do instead."""


def _is_wsgi(app: Any) -> bool:
    """True for Flask apps, Django's WSGIHandler and other synchronous callables."""
    module = type(app).__module__
    if module.startswith("flask") or type(app).__name__ == "WSGIHandler":
        return True
    if hasattr(app, "wsgi_app"):
        return True
    if inspect.iscoroutinefunction(app):
        return False
    # An ASGI app is a coroutine function or an object whose __call__ is one.
    return not inspect.iscoroutinefunction(type(app).__call__)


def _refuse_wsgi(app: Any) -> None:
    if _is_wsgi(app):
        raise WSGIServingError(
            f"{type(app).__name__} is a WSGI app and cannot host restate-sdk services: the SDK "
            "is ASGI-only, and Restate's HTTP/1.1 invocations stream a chunked request body "
            "that WSGI servers and bridges cut short (every invocation fails with 500 / RT0012). "
            + SERVE_BESIDE
        )


def identity_keys_from_env(environ: MutableMapping[str, str] | None = None) -> list[str]:
    """``RESTATE_IDENTITY_KEYS``: comma-separated ``publickeyv1_...`` keys."""
    raw = (os.environ if environ is None else environ).get(IDENTITY_KEYS_ENV, "")
    return _validated_keys(raw.split(","))


def _validated_keys(identity_keys: Iterable[str] | None) -> list[str]:
    if identity_keys is None:
        return identity_keys_from_env()
    from .adapters._settings import _parse_identity_keys

    return list(_parse_identity_keys(list(identity_keys)))


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def services_app(
    services: Sequence[Any],
    *,
    identity_keys: Iterable[str] | None = None,
    protocol: str | None = None,
) -> ASGIApp:
    """``restate.app(services, ...)`` with validated identity keys (``RESTATE_IDENTITY_KEYS``
    when None) and a warning when it is reached on a non-loopback address without keys."""
    restate = require("restate", "sdk", "Serving Restate services")
    keys = _validated_keys(identity_keys)
    sdk_app: ASGIApp = restate.app(list(services), protocol=protocol, identity_keys=keys or None)
    if keys:
        return sdk_app
    warned = False

    async def unsigned(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal warned
        if not warned and scope.get("type") == "http":
            server = scope.get("server") or (None, None)
            if not is_loopback(server[0]):
                warned = True
                logger.warning(
                    "Restate services at %s are served on %s without identity keys: anyone "
                    "who can reach this address can invoke them. Pass identity_keys=[...] "
                    "(or set %s) with the restate-server's request-identity public key.",
                    scope.get("root_path", "") or scope.get("path", ""),
                    server[0],
                    IDENTITY_KEYS_ENV,
                )
        await sdk_app(scope, receive, send)

    return unsigned


def mount_services(
    app: Any,
    services: Sequence[Any],
    *,
    path: str = "/restate",
    identity_keys: Iterable[str] | None = None,
    protocol: str | None = None,
) -> ASGIApp:
    """Mount restate-sdk services on a FastAPI or Starlette app under ``path``.

    Register ``<the app's base URL><path>`` with Restate. Returns the mounted ASGI app."""
    _refuse_wsgi(app)
    if not hasattr(app, "mount"):
        raise TypeError(
            f"{type(app).__name__} has no mount(): use with_services(app, ...) for a plain ASGI app"
        )
    path = _clean_path(path)
    mounted = services_app(services, identity_keys=identity_keys, protocol=protocol)
    app.mount(path, mounted)
    return mounted


def with_services(
    app: Any,
    services: Sequence[Any],
    *,
    path: str = "/restate",
    identity_keys: Iterable[str] | None = None,
    protocol: str | None = None,
) -> ASGIApp:
    """An ASGI app that sends ``path`` and below to the services and the rest to ``app``
    (Django's ``get_asgi_application()``, or any ASGI app). Lifespan events go to ``app``."""
    _refuse_wsgi(app)
    prefix = _clean_path(path)
    inner = services_app(services, identity_keys=identity_keys, protocol=protocol)

    async def router(scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") == "http":
            request_path = scope.get("path", "")
            if request_path == prefix or request_path.startswith(prefix + "/"):
                # The SDK routes on the path's last segments and verifies the signature
                # against the full path, so it gets the path unchanged.
                await inner(scope, receive, send)
                return
        await app(scope, receive, send)

    return router


def _clean_path(path: str) -> str:
    if not path.startswith("/"):
        raise ValueError(f"path must start with '/', got {path!r}")
    return path.rstrip("/") or "/"
