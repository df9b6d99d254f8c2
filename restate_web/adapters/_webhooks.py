"""Mounting webhook endpoints in a web framework: the one dispatch all three mounts share.

An app names its endpoints (``{"stripe": WebhookEndpoint(...), "pay": CallbackEndpoint(...)}``)
in code or in the ``WEBHOOKS`` setting (values may be ``"module:name"`` references, resolved on
first use). Each framework mount serves ``POST <prefix>/<name>`` and only translates: it hands
:meth:`WebhookMount.dispatch` (or :meth:`~WebhookMount.dispatch_async`) the name, method, URL,
headers and a way to read the raw body, and writes the ``WebhookResponse`` back. The dispatch
checks Content-Length before reading, reads at most ``max_body_size + 1`` raw bytes (never a
re-parsed body: signatures are over the exact bytes), runs the endpoint within the app's
``WEBHOOK_TIMEOUT`` budget and logs requests that never reach an endpoint.
"""

from __future__ import annotations

import importlib
import threading
import weakref
from collections.abc import AsyncIterable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..webhooks._pipeline import Endpoint, WebhookResponse, log_outcome
from ..webhooks._request import Headers, HeadersInput, WebhookRequest

if TYPE_CHECKING:
    from ._core import Integration

EndpointSpec = Endpoint | str | Callable[[], Endpoint]
"""An endpoint, a ``"package.module:name"`` reference to one, or a factory."""

READ_CHUNK = 64 * 1024

ROUTED_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
"""The methods the FastAPI and Flask mounts route to the dispatch, which answers all but POST
with its own 405 (Django's view takes every method already)."""


class WebhookMountError(LookupError):
    """A configured endpoint could not be loaded; the message says which and why."""


def _import(path: str) -> Any:
    module_name, sep, attribute = path.partition(":")
    if not sep or not module_name or not attribute:
        raise WebhookMountError(
            f"webhook endpoint {path!r} is not a reference like 'myapp.webhooks:stripe'"
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
            "CallbackEndpoint (or a 'module:name' reference / factory giving one)"
        )
    return value


class WebhookMount:
    """The endpoints of one app by name, and the dispatch of a request to them.

    ``endpoints=None`` means: read the app's ``WEBHOOKS`` setting.
    """

    def __init__(self, endpoints: Mapping[str, EndpointSpec] | None, integration: Integration):
        self._specs = dict(endpoints) if endpoints is not None else None
        # Weak: the mounts of an app live in a table keyed (weakly) by the app's integration.
        self._integration = weakref.ref(integration)
        self.budget = integration.settings.webhook_timeout
        self._resolved: dict[str, Endpoint] = {}
        self._lock = threading.Lock()

    @property
    def integration(self) -> Integration:
        integration = self._integration()
        if integration is None:
            raise RuntimeError("the app this webhook mount belonged to is gone")
        return integration

    def _spec_table(self) -> Mapping[str, Any]:
        if self._specs is not None:
            return self._specs
        return self.integration.settings.webhooks or {}

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

    # -- dispatch

    def _admit(
        self, name: str, method: str, headers: HeadersInput, body_unbounded: bool
    ) -> tuple[Endpoint, Headers] | WebhookResponse:
        """Before the body is read: the endpoint, or the answer (404, 405, 413, 400, 411)."""
        endpoint = self.endpoint(name)
        if endpoint is None:
            # The known names are not listed: the 404 goes to whoever calls.
            response = WebhookResponse.json(404, {"error": "unknown_webhook", "name": name[:100]})
            log_outcome(404, "unknown_webhook")
            return response
        if method != "POST":
            # Answered here, not by the framework's router: the same 405 in every framework, and
            # before a WSGI body without Content-Length could earn a GET a 411.
            log_outcome(405, "method_not_allowed", provider=endpoint.provider_name)
            return WebhookResponse.json(405, {"error": "method_not_allowed"}, {"Allow": "POST"})
        parsed = headers if isinstance(headers, Headers) else Headers(headers)
        early = endpoint.check_content_length(parsed.get("content-length"))
        if early is not None:
            log_outcome(early.status, _result_of(early), provider=endpoint.provider_name)
            return early
        if body_unbounded:
            # WSGI gives no end-of-body signal unless the server sets wsgi.input_terminated;
            # reading on could block or read nothing, and a signature over nothing only fails.
            log_outcome(411, "length_required", provider=endpoint.provider_name)
            return WebhookResponse.json(411, {"error": "length_required"})
        return endpoint, parsed

    def dispatch(
        self,
        name: str,
        method: str,
        url: str,
        headers: HeadersInput,
        read: Callable[[int], bytes],
        *,
        body_unbounded: bool = False,
    ) -> WebhookResponse:
        """Serve one request in a blocking view. ``read(n)`` reads up to ``n`` body bytes."""
        admitted = self._admit(name, method, headers, body_unbounded)
        if isinstance(admitted, WebhookResponse):
            return admitted
        endpoint, parsed = admitted
        body = read_limited(read, endpoint.max_body_size)
        request = WebhookRequest(method, url, parsed, body)
        # The budget is the deadline of all the request's Restate calls, retries included.
        return endpoint.handle(request, self.integration.sync_client(), timeout=self.budget)

    async def dispatch_async(
        self,
        name: str,
        method: str,
        url: str,
        headers: HeadersInput,
        chunks: AsyncIterable[bytes],
    ) -> WebhookResponse:
        """Serve one request in an async view; ``chunks`` is the body stream."""
        admitted = self._admit(name, method, headers, False)
        if isinstance(admitted, WebhookResponse):
            return admitted
        endpoint, parsed = admitted
        body = await read_limited_async(chunks, endpoint.max_body_size)
        request = WebhookRequest(method, url, parsed, body)
        client = self.integration.async_client()
        return await endpoint.handle_async(request, client, timeout=self.budget)


def _result_of(response: WebhookResponse) -> str:
    return {413: "payload_too_large", 400: "bad_content_length"}.get(response.status, "refused")


class WebhookMounts:
    """One :class:`WebhookMount` per app (each app has its own settings and clients)."""

    def __init__(self, endpoints: Mapping[str, EndpointSpec] | None) -> None:
        self._endpoints = endpoints
        self._mounts: weakref.WeakKeyDictionary[Integration, WebhookMount] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()

    def for_app(self, integration: Integration) -> WebhookMount:
        mount = self._mounts.get(integration)
        if mount is None:
            with self._lock:
                mount = self._mounts.get(integration)
                if mount is None:
                    mount = WebhookMount(self._endpoints, integration)
                    self._mounts[integration] = mount
        return mount


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
