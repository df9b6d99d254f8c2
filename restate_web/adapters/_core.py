"""The framework-agnostic heart of the adapters.

An ``Integration`` exists once per web app: its settings, the shared blocking ``IngressClient``
and one ``AsyncIngressClient`` per event loop. For each web request an adapter calls
``Integration.begin`` with what it read from its framework's request object; the result is either
a ``Problem`` to answer with (a malformed idempotency key: the view must not run) or a
``RequestBinding``, the ``CallBinding`` that clients bound to the request use to derive
idempotency keys and pick the headers that may be forwarded to Restate. Adapters only translate
their framework to and from these calls; every decision is made here.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import inspect
import re
import ssl
import sys
import threading
import weakref
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence
from typing import Any

import httpx

from .. import guards
from ..ingress import AsyncIngressClient, IngressClient
from ..ingress._clients import DEFAULT_ASYNC_LIMITS
from ..ingress._core import Target
from ._idempotency import (
    KeyFound,
    KeyScope,
    MalformedIdempotencyKey,
    Problem,
    derive_key,
    key_of,
    key_screens,
    malformed_problem,
    missing_problem,
    parse_idempotency_key,
    parse_key,
)
from ._settings import RestateSettings, load_settings

_TRACEPARENT_RE = re.compile(r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")
_MAX_TRACESTATE = 512

# Ordinals change only when a call is made; one lock for all requests is cheaper than one each.
_ordinal_lock = threading.Lock()

HeaderGetter = Callable[[str], "str | None"]
"""Returns the value of a request header (name in lower case), or None when absent."""


class RequestBinding:
    """Everything about one web request that its ingress calls depend on (a ``CallBinding``).

    Derived keys: the ``n``-th call to a target made while handling the request gets
    ``derive_key(scope, incoming key, target, n)``; a call with an explicit ``idempotency_key=``
    keeps it (the client never asks the binding) and does not count.
    """

    __slots__ = (
        "_forwarded",
        "_get_header",
        "_ordinals",
        "_principal",
        "_principal_resolved",
        "_resolve_principal",
        "_resolve_principal_async",
        "_view_name",
        "client_hint",
        "framework",
        "incoming_key",
        "integration",
        "method",
        "path",
    )

    def __init__(
        self,
        integration: Integration,
        *,
        framework: str,
        method: str,
        path: str,
        incoming_key: str | None,
        get_header: HeaderGetter,
        principal: Callable[[], Any] | None = None,
        async_principal: Callable[[], Awaitable[Any]] | None = None,
        view_name: Callable[[], str | None] | None = None,
        client_hint: str = "the request's Restate client",
    ) -> None:
        self.integration = integration
        self.framework = framework
        self.method = method.upper()
        self.path = path
        self.incoming_key = incoming_key
        self.client_hint = client_hint
        self._get_header = get_header
        self._resolve_principal = principal
        self._resolve_principal_async = async_principal
        self._view_name = view_name
        self._principal: str | None = None
        self._principal_resolved = False
        self._ordinals: dict[Target, int] = {}
        self._forwarded: dict[str, str] | None = None

    # -- guards.WebRequestInfo

    def view_name(self) -> str | None:
        return self._view_name() if self._view_name is not None else None

    # -- principal

    @property
    def principal(self) -> str | None:
        """The authenticated caller that scopes derived keys (resolved on first use)."""
        if not self._principal_resolved:
            value = self._resolve_principal() if self._resolve_principal is not None else None
            if inspect.isawaitable(value):
                if inspect.iscoroutine(value):
                    value.close()  # never awaited: no "coroutine was never awaited" warning
                raise TypeError(
                    "the PRINCIPAL callable is async, and this request's keys were derived from "
                    "sync code: use the async client in an async view (it awaits PRINCIPAL), "
                    "make PRINCIPAL a plain function, or call binding.set_principal(...) first"
                )
            self._principal = None if value is None else str(value)
            self._principal_resolved = True
        return self._principal

    async def aprepare(self) -> None:
        """Resolve the principal without blocking the event loop (the async clients await this
        before deriving a key). For frameworks whose user may only be loaded asynchronously in
        async code (Django's ``await request.auser()``); a no-op once resolved or without a key.
        """
        if (
            self._principal_resolved
            or self._resolve_principal_async is None
            or self.incoming_key is None
        ):
            return
        value = await self._resolve_principal_async()
        with _ordinal_lock:
            if not self._principal_resolved:
                self._principal = None if value is None else str(value)
                self._principal_resolved = True

    def set_principal(self, principal: Any) -> None:
        """Scope this request's derived keys to ``principal`` (before the first call)."""
        with _ordinal_lock:
            if self._ordinals:
                raise RuntimeError(
                    "set_principal() after an ingress call of this request: the keys already "
                    "derived would not be scoped to the principal"
                )
            self._principal = None if principal is None else str(principal)
            self._principal_resolved = True

    @property
    def scope(self) -> KeyScope:
        return KeyScope(self.method, self.path, self.principal)

    # -- CallBinding

    def idempotency_key_for(self, target: Target) -> str | None:
        if self.incoming_key is None:
            return None
        scope = self.scope
        with _ordinal_lock:
            ordinal = self._ordinals.get(target, 0) + 1
            self._ordinals[target] = ordinal
        return derive_key(scope, self.incoming_key, target, ordinal)

    def reserve_key(self, target: Target) -> _ReservedKey | None:
        # Interim (h-ingress): the ingress clients' new CallBinding protocol on top of the
        # existing ordinals; the adapters' branch implements it properly (one principal lookup).
        if self.incoming_key is None:
            return None
        with _ordinal_lock:
            ordinal = self._ordinals.get(target, 0) + 1
            self._ordinals[target] = ordinal
        return _ReservedKey(self, target, ordinal)

    def forwarded_headers(self) -> Mapping[str, str]:
        if self._forwarded is None:
            self._forwarded = self._compute_forwarded()
        return self._forwarded

    def _compute_forwarded(self) -> dict[str, str]:
        settings = self.integration.settings
        out: dict[str, str] = {}
        if settings.forward_trace_context and not _otel_span_active():
            traceparent = self._get_header("traceparent")
            if traceparent is not None and _TRACEPARENT_RE.match(traceparent.strip()):
                out["traceparent"] = traceparent.strip()
                tracestate = self._get_header("tracestate")
                if tracestate and len(tracestate) <= _MAX_TRACESTATE and tracestate.isascii():
                    out["tracestate"] = tracestate.strip()
        for name in settings.forward_headers:
            value = self._get_header(name)
            if value is not None:
                out[name] = value
        return out

    def require_key(self) -> Problem | None:
        """The problem to answer with when a route requires a key and none came."""
        if self.incoming_key is None:
            return missing_problem(self.integration.settings.idempotency_header)
        return None

    def __repr__(self) -> str:
        return f"<RequestBinding {self.method} {self.path} key={self.incoming_key!r}>"


class _ReservedKey:
    __slots__ = ("_binding", "_ordinal", "_target")

    def __init__(self, binding: RequestBinding, target: Target, ordinal: int) -> None:
        self._binding, self._target, self._ordinal = binding, target, ordinal

    def get(self) -> str:
        binding = self._binding
        assert binding.incoming_key is not None
        return derive_key(binding.scope, binding.incoming_key, self._target, self._ordinal)

    async def aget(self) -> str:
        await self._binding.aprepare()
        return self.get()


def principal_resolvers(
    principal: Callable[[Any], Any] | None, request: Callable[[], Any]
) -> dict[str, Any]:
    """``RequestBinding`` keyword arguments for a ``PRINCIPAL`` callable given the framework's
    request (made by ``request()`` when first needed): async callables are awaited by the async
    client, never called from sync code."""
    if principal is None:
        return {}
    if inspect.iscoroutinefunction(principal):

        async def resolve_async() -> Any:
            return await principal(request())

        def refuse_sync() -> Any:
            return resolve_async()  # an awaitable: RequestBinding.principal explains

        return {"principal": refuse_sync, "async_principal": resolve_async}
    return {"principal": lambda: principal(request())}


@dataclasses.dataclass(frozen=True)
class WebView:
    """A ``guards.WebRequestInfo``: the view a probe found on the stack."""

    framework: str
    client_hint: str
    name: str | None

    def view_name(self) -> str | None:
        return self.name


def environ_header_getter(environ: Mapping[str, Any]) -> Callable[[str], str | None]:
    """Header lookup in a WSGI environ or Django ``request.META`` (``HTTP_X_NAME`` keys)."""

    def get_header(name: str) -> str | None:
        value = environ.get("HTTP_" + name.upper().replace("-", "_"))
        return None if value is None else str(value)

    return get_header


class RequestState:
    """What an adapter keeps per request: the screened key, and the binding once needed.

    A ``guards.WebRequestInfo`` too, and the place the adapters find the request's binding.
    Building the ``RequestBinding`` is deferred to the
    first view that asks for a client, so a request that never calls Restate pays only for
    reading the header.
    """

    __slots__ = ("_binding", "_found", "integration")
    framework = "web"
    client_hint = "the request's Restate client"

    def __init__(self, integration: Integration, found: KeyFound) -> None:
        self.integration = integration
        self._found = found
        self._binding: RequestBinding | None = None

    @property
    def incoming_key(self) -> str | None:
        """The request's idempotency key (None when it came without one)."""
        return key_of(self._found)

    def view_name(self) -> str | None:
        return None

    def binding(self) -> RequestBinding:
        binding = self._binding
        if binding is None:
            binding = self._binding = self.make_binding()
        return binding

    def make_binding(self) -> RequestBinding:
        raise NotImplementedError


def _otel_span_active() -> bool:
    """Is an OpenTelemetry span active? Then the client forwards it instead of the header."""
    if "opentelemetry.trace" not in sys.modules:
        return False
    from opentelemetry import trace

    return bool(trace.get_current_span().get_span_context().is_valid)


class _LoopClients:
    """One ``AsyncIngressClient`` per event loop, closed when that loop shuts down.

    An httpx async client is bound to the loop it first used. Flask runs every async view in a
    loop of its own and Django under WSGI does the same, so a client may never be shared across
    loops. Each loop gets its own, and ``asyncio.run`` (which Flask, asgiref, uvicorn and anyio
    all use) closes it: a suspended async generator is registered with the loop, and the loop's
    ``shutdown_asyncgens()`` runs its ``finally`` (``await client.aclose()``) before it closes.
    """

    def __init__(self, factory: Callable[[], AsyncIngressClient]) -> None:
        self._factory = factory
        self._lock = threading.Lock()
        self._entries: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, tuple[AsyncIngressClient, AsyncGenerator[None, None]]
        ] = weakref.WeakKeyDictionary()

    def get(self) -> AsyncIngressClient:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise RuntimeError(
                "the async Restate client is bound to an event loop: use it in async code "
                "(an async view), or use the blocking IngressClient in sync code"
            ) from None
        entry = self._entries.get(loop)
        if entry is not None:
            return entry[0]
        with self._lock:
            entry = self._entries.get(loop)
            if entry is None:
                client = self._factory()
                closer = self._close_on_shutdown(weakref.ref(loop), client)
                # Start the generator (it suspends at its yield): this registers it with the
                # running loop's async-generator hooks.
                with contextlib.suppress(StopIteration):
                    closer.asend(None).send(None)
                entry = (client, closer)
                self._entries[loop] = entry
        return entry[0]

    async def _close_on_shutdown(
        self,
        loop_ref: weakref.ref[asyncio.AbstractEventLoop],
        client: AsyncIngressClient,
    ) -> AsyncGenerator[None, None]:
        try:
            yield
        finally:
            loop = loop_ref()
            with self._lock:
                entry = self._entries.get(loop) if loop is not None else None
                if entry is not None and entry[0] is client:
                    del self._entries[loop]  # type: ignore[arg-type]
            await client.aclose()

    async def aclose_current(self) -> None:
        """Close the running loop's client now (an app's lifespan ends)."""
        entry = self._entries.get(asyncio.get_running_loop())
        if entry is not None:
            await entry[1].aclose()


class Integration:
    """One web app's Restate integration: settings and clients. Adapters keep one per app.

    Webhook routes and other extensions reach it from the app (``app.state.restate`` in
    Starlette/FastAPI, ``app.extensions["restate"]`` in Flask, ``get_integration()`` in Django).
    """

    def __init__(self, settings: RestateSettings | Mapping[str, Any] | None = None) -> None:
        self.settings = load_settings(settings)
        # What every request needs, computed once per app (the adapters' hot path reads these).
        self.key_header = self.settings.idempotency_header
        self.key_max_length = self.settings.idempotency_key_max_length
        self.key_header_asgi = self.settings.header_lower.encode("latin-1")
        self.key_environ_key = self.settings.header_environ_key
        screen_str, screen_bytes = key_screens(self.key_max_length)
        # ``fullmatch`` of the usual well-formed header values; a miss goes to ``read_one_key``.
        self.screen_key = screen_str.fullmatch
        self.screen_key_bytes = screen_bytes.fullmatch
        self._sync: IngressClient | None = None
        self._lock = threading.Lock()
        self._ssl: ssl.SSLContext | None = None
        self._loop_clients = _LoopClients(self._make_async_client)
        if self.settings.guard_contexts:
            guards.install_context_guard()

    # -- clients

    def _client_kwargs(self) -> dict[str, Any]:
        s = self.settings
        kwargs: dict[str, Any] = {
            "token": s.ingress_token,
            "retry": s.retry,
            "generate_idempotency_keys": s.generate_idempotency_keys,
        }
        if s.timeout is not None:
            kwargs["timeout"] = s.timeout
        return kwargs

    def sync_client(self) -> IngressClient:
        """The app's blocking client (thread-safe, shared by every sync view)."""
        client = self._sync
        if client is None:
            with self._lock:
                if self._sync is None:
                    self._sync = IngressClient(self.settings.ingress_url, **self._client_kwargs())
                client = self._sync
        return client

    def _make_async_client(self) -> AsyncIngressClient:
        if self._ssl is None:
            # Building an SSL context costs milliseconds; every per-loop client shares one.
            self._ssl = httpx.create_ssl_context()
        transport = httpx.AsyncHTTPTransport(verify=self._ssl, limits=DEFAULT_ASYNC_LIMITS)
        return AsyncIngressClient(
            self.settings.ingress_url, transport=transport, **self._client_kwargs()
        )

    def async_client(self) -> AsyncIngressClient:
        """The async client of the running event loop (created on first use in that loop)."""
        return self._loop_clients.get()

    async def aclose_loop_client(self) -> None:
        await self._loop_clients.aclose_current()

    def close(self) -> None:
        with self._lock:
            client, self._sync = self._sync, None
        if client is not None:
            client.close()

    # -- requests

    def read_key(self, values: Sequence[str]) -> str | Problem | None:
        """The request's idempotency key (None when absent) or the Problem to answer with."""
        if not values:
            return None
        try:
            return parse_idempotency_key(
                values, header=self.key_header, max_length=self.key_max_length
            )
        except MalformedIdempotencyKey as error:
            return malformed_problem(error)

    def read_one_key(self, value: str) -> str | Problem | None:
        """``read_key`` of a request with exactly one header line."""
        try:
            return parse_key(value, self.key_header, self.key_max_length)
        except MalformedIdempotencyKey as error:
            return malformed_problem(error)

    def begin(
        self,
        *,
        framework: str,
        method: str,
        path: str,
        key_values: Sequence[str],
        get_header: HeaderGetter,
        principal: Callable[[], Any] | None = None,
        view_name: Callable[[], str | None] | None = None,
        client_hint: str = "the request's Restate client",
    ) -> RequestBinding | Problem:
        """``read_key`` and a ``RequestBinding`` in one step (for adapters of other frameworks)."""
        key = self.read_key(key_values)
        if isinstance(key, Problem):
            return key
        return RequestBinding(
            self,
            framework=framework,
            method=method,
            path=path,
            incoming_key=key,
            get_header=get_header,
            principal=principal,
            view_name=view_name,
            client_hint=client_hint,
        )

    def __repr__(self) -> str:
        return f"<Integration {self.settings.ingress_url or '(RESTATE_INGRESS_URL)'}>"


def callable_name(func: Any) -> str | None:
    """``module.qualname`` of a view function (unwrapping decorators)."""
    func = getattr(func, "view_class", func)
    while hasattr(func, "__wrapped__"):
        func = func.__wrapped__
    module = getattr(func, "__module__", None)
    name = getattr(func, "__qualname__", None) or getattr(func, "__name__", None)
    if name is None:
        return None
    return f"{module}.{name}" if module else str(name)
