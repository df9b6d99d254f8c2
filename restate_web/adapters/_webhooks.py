"""Mounting webhook endpoints in a web framework: what the three mounts share.

An app names its endpoints (``{"stripe": WebhookEndpoint(...), "pay": CallbackEndpoint(...)}``)
in code or in the ``WEBHOOKS`` setting (values may be dotted paths, resolved on first use).
Each framework mount serves ``POST <prefix>/<name>`` and only translates: it checks
Content-Length before reading, reads at most ``max_body_size + 1`` raw bytes (never a re-parsed
body: signatures are over the exact bytes), hands a ``WebhookRequest`` to the endpoint with the
app's ingress client, and writes the ``WebhookResponse`` back.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import AsyncIterable, Callable, Iterable, Mapping
from typing import Any

from ..webhooks.pipeline import Endpoint, WebhookResponse

EndpointSpec = Endpoint | str | Callable[[], Endpoint]
"""An endpoint, a dotted path to one ("pkg.module:name" or "pkg.module.name"), or a factory."""

READ_CHUNK = 64 * 1024


class WebhookMountError(LookupError):
    """A configured endpoint could not be loaded; the message says which and why."""


def _import(path: str) -> Any:
    module_name, sep, attribute = path.partition(":")
    if not sep:
        module_name, _, attribute = path.rpartition(".")
    if not module_name or not attribute:
        raise WebhookMountError(
            f"webhook endpoint {path!r} is not a dotted path like 'myapp.webhooks:stripe'"
        )
    try:
        target: Any = importlib.import_module(module_name)
        for part in attribute.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError) as error:
        raise WebhookMountError(f"cannot load webhook endpoint {path!r}: {error}") from error
    return target


def resolve_endpoint(name: str, spec: Any) -> Endpoint:
    """Turn a configured value into an ``Endpoint`` (import it, call a factory)."""
    value = _import(spec) if isinstance(spec, str) else spec
    if not isinstance(value, Endpoint) and callable(value):
        value = value()
    if not isinstance(value, Endpoint):
        raise WebhookMountError(
            f"webhook endpoint {name!r} is {type(value).__name__}, not a WebhookEndpoint or "
            "CallbackEndpoint (or a dotted path / factory giving one)"
        )
    return value


class WebhookMount:
    """Endpoints by name. ``endpoints=None`` means: read the app's ``WEBHOOKS`` setting."""

    def __init__(
        self,
        endpoints: Mapping[str, EndpointSpec] | None,
        configured: Callable[[], Mapping[str, Any] | None] | None = None,
    ) -> None:
        self._specs = dict(endpoints) if endpoints is not None else None
        self._configured = configured
        self._resolved: dict[str, Endpoint] = {}
        self._lock = threading.Lock()

    def _spec_table(self) -> Mapping[str, Any]:
        if self._specs is not None:
            return self._specs
        table = self._configured() if self._configured is not None else None
        return table or {}

    def endpoint(self, name: str) -> Endpoint | None:
        found = self._resolved.get(name)
        if found is not None:
            return found
        table = self._spec_table()
        if name not in table:
            return None
        with self._lock:
            if name not in self._resolved:
                self._resolved[name] = resolve_endpoint(name, table[name])
            return self._resolved[name]

    def names(self) -> list[str]:
        return sorted(self._spec_table())


def not_found(name: str, known: Iterable[str]) -> WebhookResponse:
    # The known names are not listed: the 404 goes to whoever calls, not to the app's owner.
    del known
    return WebhookResponse.json(404, {"error": "unknown_webhook", "name": name[:100]})


def length_required() -> WebhookResponse:
    """411 for a body without Content-Length that the WSGI server cannot bound for us.

    WSGI gives no end-of-body signal unless the server sets ``wsgi.input_terminated``; reading
    on could block or read nothing, and a signature over nothing only ever fails."""
    return WebhookResponse.json(411, {"error": "length_required"})


def wsgi_body_unbounded(environ: Mapping[str, Any]) -> bool:
    """True when a WSGI request has no Content-Length and the server did not end the input."""
    return not environ.get("CONTENT_LENGTH") and not environ.get("wsgi.input_terminated")


def read_limited(read: Callable[[int], bytes], limit: int) -> bytes:
    """Read at most ``limit + 1`` bytes from a blocking reader (one over: 'too large')."""
    parts: list[bytes] = []
    remaining = limit + 1
    while remaining > 0:
        chunk = read(min(READ_CHUNK, remaining))
        if not chunk:
            break
        parts.append(chunk)
        remaining -= len(chunk)
    return b"".join(parts)


async def read_limited_async(chunks: AsyncIterable[bytes], limit: int) -> bytes:
    """The same for an async stream of chunks; stops reading once over the limit."""
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        parts.append(chunk)
        size += len(chunk)
        if size > limit:
            break
    return b"".join(parts)
