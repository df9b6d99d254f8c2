"""The framework-agnostic heart of the adapters.

An ``Integration`` exists once per web app: its settings, the shared blocking ``IngressClient``
and one ``AsyncIngressClient`` per event loop. Every web request has one ``RequestBinding``,
the adapter's subclass, which only translates the framework's request (method, path, headers,
view name, the object ``PRINCIPAL`` receives). Each framework's middleware does the same:

1. ``Integration.screen_key`` reads the idempotency header (a malformed one is a ``Problem``
   to answer with; the view does not run);
2. ``RequestBinding.entry_problem`` refuses forwarded headers httpx could not send (when
   ``FORWARD_HEADERS`` names any);
3. it marks the request as the one being handled, for the guards and the framework's client
   accessors: a context variable holding a tuple ``(make, *parts)`` (``guards.RequestMark``;
   the parts: the integration, the screened key, the framework's request). ``make(*parts)``
   returns the request's binding, made the first time something asks and kept in the request
   (``binding_kept_in``): most requests never call Restate, and never pay for one.

The binding is the ``CallBinding`` of the clients handed to the view: it reserves derived
idempotency keys in program order and looks the principal up once per request.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import re
import ssl
import sys
import threading
import weakref
from collections.abc import (
    AsyncGenerator,
    Callable,
    Coroutine,
    Mapping,
    MutableMapping,
    Sequence,
)
from typing import Any, ClassVar

import httpx

from .. import guards
from ..ingress import AsyncIngressClient, IngressClient
from ..ingress._async import async_transport, direct_sender
from ..ingress._clients import DEFAULT_ASYNC_LIMITS
from ..ingress._core import Target
from ._idempotency import (
    KeyFound,
    KeyScope,
    MalformedIdempotencyKey,
    Problem,
    derive_key,
    header_problem,
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
# What httpx can send as a header value: visible ASCII, spaces and tabs.
_SENDABLE_VALUE = re.compile(r"[\t\x20-\x7e]*")

# Bindings are made and ordinals change only when code calls Restate: one lock for all requests.
_ordinal_lock = threading.Lock()

_UNRESOLVED: Any = object()


class _ReservedKey:
    """A derived key whose ordinal was fixed when the call was made (``ReservedKey``)."""

    __slots__ = ("_binding", "_key", "_ordinal", "_target")

    def __init__(self, binding: RequestBinding, key: str, target: Target, ordinal: int) -> None:
        self._binding = binding
        self._key = key
        self._target = target
        self._ordinal = ordinal

    def _derive(self, principal: str | None) -> str:
        binding = self._binding
        scope = KeyScope(binding.method, binding.path, principal)
        return derive_key(scope, self._key, self._target, self._ordinal)

    def get(self) -> str:
        return self._derive(self._binding.principal())

    async def aget(self) -> str:
        return self._derive(await self._binding.aprincipal())

    def __repr__(self) -> str:
        return f"<reserved key #{self._ordinal} for {self._target}>"


class RequestBinding:
    """One web request as the core sees it, the same for every framework.

    It is the ``CallBinding`` of the clients bound to the request: the ``n``-th call to a target
    made while handling the request gets the key derived from (method, path, principal, incoming
    key, target, ``n``), ``n`` fixed when the call is made; a call with an explicit
    ``idempotency_key=`` keeps it and does not count. It is also what the guards report
    (``guards.WebRequestInfo``).

    Adapters subclass it to translate their framework's request: ``method``, ``path``,
    ``header``, ``view_name``, ``principal_argument`` and, where the framework has its own way,
    how the principal is found without a ``PRINCIPAL`` setting and how sync and async code call
    each other.
    """

    framework: ClassVar[str] = "web"
    client_hint: ClassVar[str] = "the request's Restate client"

    def __init__(self, integration: Integration, found: KeyFound) -> None:
        self.integration = integration
        self._found = found
        self._principal: Any = _UNRESOLVED
        self._ordinals: dict[Target, int] = {}
        self._forwarded: dict[str, str] | None = None
        self._sync_client: IngressClient | None = None
        self._async_client: tuple[asyncio.AbstractEventLoop, AsyncIngressClient] | None = None
        self._lookup: asyncio.Future[str | None] | None = None
        self._principal_lock = threading.Lock()

    # -- what adapters translate

    @property
    def method(self) -> str:
        raise NotImplementedError

    @property
    def path(self) -> str:
        raise NotImplementedError

    def header(self, name: str) -> str | None:
        """The value of a request header (``name`` in lower case), or None when absent."""
        raise NotImplementedError

    def view_name(self) -> str | None:
        """``module.qualname`` of the view handling the request, when known."""
        return None

    def principal_argument(self) -> Any:
        """What the ``PRINCIPAL`` callable receives: the framework's request object."""
        raise NotImplementedError

    def default_principal(self) -> Any:
        """The principal when no ``PRINCIPAL`` is set (Django: the authenticated user)."""
        return None

    async def adefault_principal(self) -> Any:
        return self.default_principal()

    def run_coroutine(self, function: Callable[[Any], Coroutine[Any, Any, Any]], arg: Any) -> Any:
        """Run an async ``PRINCIPAL`` from sync code (each framework has its own bridge)."""
        raise TypeError(
            "the PRINCIPAL callable is async, and a key of this request was derived from sync "
            "code: use the async client in an async view, make PRINCIPAL a plain function, or "
            "call binding.set_principal(...) before the first call"
        )

    async def run_sync(self, function: Callable[[Any], Any], arg: Any) -> Any:
        """Run a plain ``PRINCIPAL`` from async code (Django: in a worker thread)."""
        return function(arg)

    # -- the request's key

    @property
    def incoming_key(self) -> str | None:
        """The request's idempotency key (None when it came without one)."""
        return key_of(self._found)

    def require_key(self) -> Problem | None:
        """The problem to answer with when a route requires a key and none came."""
        if self._found is None:
            return missing_problem(self.integration.settings.idempotency_header)
        return None

    def entry_problem(self) -> Problem | None:
        """What to refuse the request with before the view runs, or None.

        Header values that are forwarded to Restate must be sendable (httpx encodes them as
        ASCII): refused here with 400, not a 500 from deep inside the view's first call.
        """
        names = self.integration.forward_headers
        if not names:
            return None
        for name in names:
            value = self.header(name)
            if value is not None and _SENDABLE_VALUE.fullmatch(value) is None:
                return header_problem(name)
        return None

    # -- principal: looked up once per request, by whichever call needs it first

    def set_principal(self, principal: Any) -> None:
        """Scope this request's derived keys to ``principal`` (before its first ingress call)."""
        with _ordinal_lock:
            if self._ordinals:
                raise RuntimeError(
                    "set_principal() after an ingress call of this request: the keys already "
                    "derived would not be scoped to the principal; set it before the first call "
                    "(in an auth dependency, a before_request hook or a middleware)"
                )
            self._principal = None if principal is None else str(principal)

    def principal(self) -> str | None:
        """The caller that scopes derived keys, looked up now from sync code if not yet known."""
        value = self._principal
        if value is not _UNRESOLVED:
            return value  # type: ignore[no-any-return]
        # Another thread of this request may be looking it up right now.
        with self._principal_lock:
            if self._principal is _UNRESOLVED:
                configured = self.integration.settings.principal
                if configured is None:
                    found = self.default_principal()
                elif inspect.iscoroutinefunction(configured):
                    found = self.run_coroutine(configured, self.principal_argument())
                else:
                    found = configured(self.principal_argument())
                if inspect.isawaitable(found):
                    if inspect.iscoroutine(found):
                        found.close()
                    raise TypeError("PRINCIPAL returned an awaitable: declare it with async def")
                self._principal = None if found is None else str(found)
        return self._principal  # type: ignore[no-any-return]

    async def aprincipal(self) -> str | None:
        """The principal from async code: one lookup shared by every concurrent call."""
        value = self._principal
        if value is not _UNRESOLVED:
            return value  # type: ignore[no-any-return]
        lookup = self._lookup
        if lookup is None or lookup.get_loop() is not asyncio.get_running_loop():
            lookup = self._lookup = asyncio.ensure_future(self._look_up_async())
        # A call that is cancelled must not cancel the lookup the other calls wait for.
        return await asyncio.shield(lookup)

    async def _look_up_async(self) -> str | None:
        configured = self.integration.settings.principal
        if configured is None:
            found = await self.adefault_principal()
        elif inspect.iscoroutinefunction(configured):
            found = await configured(self.principal_argument())
        else:
            found = await self.run_sync(configured, self.principal_argument())
        with _ordinal_lock:
            if self._principal is _UNRESOLVED:
                self._principal = None if found is None else str(found)
            return self._principal  # type: ignore[no-any-return]

    # -- CallBinding

    def reserve_key(self, target: Target) -> _ReservedKey | None:
        """Fix the ordinal of a call to ``target`` now (the client calls this when user code
        makes the call, before any await); None when the request carries no key."""
        key = self.incoming_key
        if key is None:
            return None
        with _ordinal_lock:
            ordinals = self._ordinals
            ordinal = ordinals[target] = ordinals.get(target, 0) + 1
        return _ReservedKey(self, key, target, ordinal)

    def forwarded_headers(self) -> Mapping[str, str]:
        forwarded = self._forwarded
        if forwarded is None:
            forwarded = self._forwarded = self._compute_forwarded()
        return forwarded

    def _compute_forwarded(self) -> dict[str, str]:
        settings = self.integration.settings
        out: dict[str, str] = {}
        if settings.forward_trace_context and not _otel_span_active():
            # Invalid trace context is ignored, as W3C Trace Context says: the trace restarts.
            traceparent = self.header("traceparent")
            if traceparent is not None and _TRACEPARENT_RE.match(traceparent.strip()):
                out["traceparent"] = traceparent.strip()
                tracestate = self.header("tracestate")
                if (
                    tracestate
                    and len(tracestate) <= _MAX_TRACESTATE
                    and _SENDABLE_VALUE.fullmatch(tracestate)
                ):
                    out["tracestate"] = tracestate.strip()
        for name in settings.forward_headers:
            value = self.header(name)
            if value is not None:
                out[name] = value
        return out

    # -- the clients bound to this request

    def sync_client(self) -> IngressClient:
        """The app's blocking client bound to this request."""
        client = self._sync_client
        if client is None:
            client = self._sync_client = self.integration.sync_client().with_binding(self)
        return client

    def async_client(self) -> AsyncIngressClient:
        """The running event loop's async client bound to this request."""
        entry = self._async_client
        if entry is not None and entry[0] is _running_loop():
            return entry[1]
        client = self.integration.async_client().with_binding(self)
        self._async_client = (asyncio.get_running_loop(), client)
        return client

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.framework} key={self.incoming_key!r}>"


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


BINDING_KEY = "restate_web.binding"
"""Where a request keeps its binding once made: a key of the ASGI scope, of the WSGI environ
or of the attribute dict of Django's request."""


def binding_kept_in(
    store: MutableMapping[str, Any], make: Callable[[], RequestBinding]
) -> RequestBinding:
    """The request's binding kept in ``store``, made with ``make`` by the first code that asks
    (the middleware marks each request with the parts of its binding: ``guards.RequestMark``)."""
    binding: RequestBinding | None = store.get(BINDING_KEY)
    if binding is None:
        with _ordinal_lock:  # two threads of one request asking at once get the same binding
            binding = store.get(BINDING_KEY)
            if binding is None:
                binding = store[BINDING_KEY] = make()
    return binding


def current_binding() -> RequestBinding | None:
    """The binding of the web request being handled in this context (None outside one)."""
    info = guards.current_web_request()
    return info if isinstance(info, RequestBinding) else None


def wsgi_path(environ: Mapping[str, Any]) -> str:
    raw_path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
    return str(raw_path.encode("latin-1").decode("utf-8", "replace"))


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


class _LoopClient(AsyncIngressClient):
    """An ``AsyncIngressClient`` configured exactly like the app's blocking client.

    Built the way ``AsyncIngressClient`` builds its httpx client (environment proxies and
    certificates, limits, http2, the ``ASYNC_TRANSPORT`` setting), except that every loop's
    client shares one SSL context: loading the certificate store costs tens of milliseconds,
    and Flask makes a client for every async view's loop.
    """

    def __init__(
        self,
        base_url: str | None,
        ssl_context: ssl.SSLContext,
        transport_name: str = "httpx",
        **kwargs: Any,
    ) -> None:
        super().__init__(base_url, transport=httpx.AsyncBaseTransport(), **kwargs)
        transport = async_transport(transport_name, self, ssl_context)
        self._http = httpx.AsyncClient(**self._http_kwargs(transport), verify=ssl_context)
        self._direct = direct_sender(transport, self.base_urls)


class Integration:
    """One web app's Restate integration: settings and clients. Adapters keep one per app.

    ``get_integration()`` returns it in every framework (FastAPI ``get_integration(app or
    request)``, Flask ``restate.integration`` / ``app.extensions["restate"]``, Django
    ``get_integration()``).
    """

    def __init__(self, settings: RestateSettings | Mapping[str, Any] | None = None) -> None:
        self.settings = load_settings(settings)
        # What every request needs, computed once per app (the adapters' hot path reads these).
        self.key_header = self.settings.idempotency_header
        self.key_max_length = self.settings.idempotency_key_max_length
        self.key_header_asgi = self.settings.header_lower.encode("latin-1")
        self.key_environ_key = self.settings.header_environ_key
        self.forward_headers = self.settings.forward_headers
        # The usual well-formed headers, one C call each (str: WSGI, bytes: ASGI). A middleware
        # calls these first, and ``screen_key`` only for what they do not match (a Python call
        # per request is a measurable part of the adapter's cost: bench/README.md).
        screen_str, screen_bytes = key_screens(self.key_max_length)
        self.match_usual_key = screen_str.fullmatch
        self.match_usual_key_bytes = screen_bytes.fullmatch
        self._sync: IngressClient | None = None
        self._lock = threading.Lock()
        self._ssl: ssl.SSLContext | None = None
        self._loop_clients = _LoopClients(self._make_async_client)
        if self.settings.guard_contexts:
            guards.install_context_guard_where_handlers_run()

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
            self._ssl = httpx.create_ssl_context()
        return _LoopClient(
            self.settings.ingress_url,
            self._ssl,
            self.settings.async_transport,
            limits=DEFAULT_ASYNC_LIMITS,
            **self._client_kwargs(),
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

    def screen_key(self, raw: str | bytes | None) -> KeyFound | Problem:
        """The idempotency header of a request with at most one such header line.

        One C-level match of the usual shapes (``match_usual_key``; middlewares try it
        themselves and call this only when it fails), the key itself extracted when a call
        needs it (``KeyFound``). Anything else goes to the parser, which decides and explains
        (a ``Problem`` to answer with).
        """
        if raw is None:
            return None
        found: KeyFound = (
            self.match_usual_key_bytes(raw) if isinstance(raw, bytes) else self.match_usual_key(raw)
        )
        if found is not None:
            return found
        value = raw.decode("latin-1") if isinstance(raw, bytes) else raw
        try:
            return parse_key(value, self.key_header, self.key_max_length)
        except MalformedIdempotencyKey as error:
            return malformed_problem(error)

    def screen_keys(self, values: Sequence[str | bytes]) -> KeyFound | Problem:
        """``screen_key`` of a request with any number of header lines."""
        if len(values) <= 1:
            return self.screen_key(values[0] if values else None)
        try:
            return parse_idempotency_key(
                [v.decode("latin-1") if isinstance(v, bytes) else v for v in values],
                header=self.key_header,
                max_length=self.key_max_length,
            )
        except MalformedIdempotencyKey as error:
            return malformed_problem(error)

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
