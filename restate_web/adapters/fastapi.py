"""FastAPI / Starlette adapter.

>>> from fastapi import FastAPI
>>> from restate_web.adapters.fastapi import RestateIngress, install
>>> app = FastAPI()
>>> install(app, {"INGRESS_URL": "http://localhost:8080"})
>>> @app.post("/orders/{order_id}")
... async def create(order_id: str, restate: RestateIngress):
...     return await restate.object("Order", order_id).call("create")

``install`` wraps the app's lifespan (never replaces it) to create the app's
``AsyncIngressClient`` and close it at shutdown, and adds ``RestateMiddleware``, a pure ASGI
middleware (not Starlette's base HTTP middleware class, which breaks context variables) that
reads the ``Idempotency-Key`` header and binds each request.
"""

from __future__ import annotations

import contextlib
import types
import weakref
from collections.abc import AsyncIterator, Iterator, Mapping, MutableMapping
from typing import Annotated, Any

from .._optional import require

require("fastapi", "fastapi", "restate_web.adapters.fastapi")

from fastapi import APIRouter, Depends  # noqa: E402
from starlette.requests import HTTPConnection, Request  # noqa: E402
from starlette.responses import Response  # noqa: E402

from .. import guards  # noqa: E402
from ..ingress import AsyncIngressClient, IngressClient  # noqa: E402
from ._core import (  # noqa: E402
    Integration,
    RequestBinding,
    RequestState,
    WebView,
    callable_name,
    principal_resolvers,
)
from ._idempotency import KeyFound, Problem  # noqa: E402
from ._settings import RestateSettings  # noqa: E402
from ._webhooks import EndpointSpec, WebhookMounts  # noqa: E402

__all__ = [
    "IdempotencyKey",
    "ProblemException",
    "RequireIdempotencyKey",
    "RestateBinding",
    "RestateIngress",
    "RestateIngressSync",
    "RestateMiddleware",
    "binding_of",
    "get_binding",
    "get_integration",
    "get_restate",
    "get_restate_sync",
    "install",
    "require_idempotency_key",
    "webhook_router",
]

_CLIENT_HINT = "the RestateIngress dependency (restate)"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Any
Send = Any
ASGIApp = Any


class ProblemException(Exception):
    """Raised by dependencies to answer with an RFC 9457 problem (the view does not run)."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.detail)
        self.problem = problem


def problem_response(problem: Problem) -> Response:
    return Response(problem.body(), status_code=problem.status, headers=dict(problem.headers()))


async def _send_problem(send: Send, problem: Problem) -> None:
    body = problem.body()
    headers = [(k.encode(), v.encode()) for k, v in problem.headers()]
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": problem.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _header_getter(scope: Scope) -> Any:
    def get(name: str) -> str | None:
        wanted = name.encode("latin-1")
        for key, value in scope["headers"]:
            if key == wanted:
                return str(value.decode("latin-1"))
        return None

    return get


def _path(scope: Scope) -> str:
    path: str = scope["path"]
    root = scope.get("root_path", "")
    return root + path if root and not path.startswith(root) else path


_installed_apps: weakref.WeakSet[Any] = weakref.WeakSet()
"""The apps ``install`` added the adapter to (for mounted sub-apps and the guards' probe)."""
_mounted_integrations: weakref.WeakKeyDictionary[Any, Integration] = weakref.WeakKeyDictionary()
"""Sub-apps without the adapter -> the integration of the app that mounts them."""

_STATE = "restate_web.request"
"""The scope key of a request's ``_AsgiRequest`` (made when a dependency first asks)."""


class _AsgiRequest(RequestState):
    __slots__ = ("scope",)
    framework = "FastAPI"
    client_hint = _CLIENT_HINT

    def __init__(self, integration: Integration, found: KeyFound, scope: Scope) -> None:
        super().__init__(integration, found)
        self.scope = scope

    def view_name(self) -> str | None:
        return callable_name(self.scope.get("endpoint"))

    def make_binding(self) -> RequestBinding:
        scope = self.scope
        principal = self.integration.settings.principal
        return RequestBinding(
            self.integration,
            framework=self.framework,
            method=scope["method"],
            path=_path(scope),
            incoming_key=self.incoming_key,
            get_header=_header_getter(scope),
            **principal_resolvers(principal, lambda: Request(scope)),
            view_name=self.view_name,
            client_hint=self.client_hint,
        )


def read_key(integration: Integration, scope: Scope) -> KeyFound | Problem:
    """The request's idempotency key as ``RestateMiddleware`` reads it (see ``KeyFound``), or
    the problem to answer with."""
    header = integration.key_header_asgi
    raw = None
    several = False
    for name, value in scope["headers"]:
        if name == header:
            several = raw is not None
            raw = value
    if raw is None:
        return None
    if not several:
        found = integration.screen_key_bytes(raw)
        if found is not None:
            return found
    # Not the usual shape (escapes, spaces, empty, several lines...): the parser decides.
    return integration.read_key([v.decode("latin-1") for n, v in scope["headers"] if n == header])


class RestateMiddleware:
    """Pure ASGI middleware: checks the idempotency header of every HTTP request.

    A malformed header is answered with 400 problem+json before the app runs. Nothing else
    happens per request: the dependencies read the key again when a view asks for a client
    (a Restate call costs milliseconds; every request pays for what is done here), and the
    guards find the view on the stack when they raise (``_probe``).
    """

    def __init__(self, app: ASGIApp, integration: Integration) -> None:
        self.app = app
        self.integration = integration

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            found = read_key(self.integration, scope)
            if isinstance(found, Problem):
                await _send_problem(send, found)
                return
        await self.app(scope, receive, send)


def install(app: Any, settings: RestateSettings | Mapping[str, Any] | None = None) -> Integration:
    """Add Restate to a FastAPI or Starlette ``app``; returns its ``Integration``.

    ``settings`` uses the names of the README's Settings section (``{"INGRESS_URL": ...}``);
    unset ones come from ``RESTATE_*`` environment variables. Call before the app starts.
    """
    if getattr(app.state, "restate", None) is not None:
        raise RuntimeError("restate_web is already installed on this app")
    integration = Integration(settings)
    app.state.restate = integration
    app.add_middleware(RestateMiddleware, integration=integration)
    _installed_apps.add(app)

    async def handle_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ProblemException)
        return problem_response(exc.problem)

    app.add_exception_handler(ProblemException, handle_problem)

    user_lifespan = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(lifespan_app: Any) -> AsyncIterator[Any]:
        integration.async_client()  # the app's client, bound to the server's event loop
        try:
            async with user_lifespan(lifespan_app) as state:
                yield state
        finally:
            await integration.aclose_loop_client()
            integration.close()

    app.router.lifespan_context = lifespan
    return integration


def get_integration(app_or_connection: Any) -> Integration:
    """The ``Integration`` of an app (or of the app serving a request), or of the app with the
    adapter that mounts it (a sub-application reached through ``app.mount``)."""
    app = app_or_connection
    if isinstance(app_or_connection, HTTPConnection):
        app = app_or_connection.app
    integration = getattr(getattr(app, "state", None), "restate", None)
    if isinstance(integration, Integration):
        return integration
    with contextlib.suppress(TypeError):  # an app that cannot be weakly referenced
        mounted = _mounted_integrations.get(app)
        if mounted is not None:
            return mounted
    for parent in list(_installed_apps):
        if any(node is app for node in _route_tree(parent)):
            found: Integration = parent.state.restate
            with contextlib.suppress(TypeError):
                _mounted_integrations[app] = found
            return found
    raise RuntimeError(
        "restate_web is not installed on this app: call "
        "restate_web.adapters.fastapi.install(app) before it starts"
    )


def binding_of(connection: HTTPConnection) -> RequestBinding:
    """The ``RequestBinding`` of the request being handled (made when first asked for)."""
    scope = connection.scope
    state = scope.get(_STATE)
    if isinstance(state, _AsgiRequest):
        return state.binding()
    integration = get_integration(connection)
    found = read_key(integration, scope)
    if isinstance(found, Problem):  # only when RestateMiddleware did not see the request
        raise ProblemException(found)
    state = scope[_STATE] = _AsgiRequest(integration, found, scope)
    return state.binding()


# --- the guards' view of a request ---------------------------------------------------------------

# Where routers keep their routes: Starlette's routers and mounts (``routes``, ``app``), FastAPI's
# included routers (``original_router`` since 0.12x; older versions copy the routes instead).
_ROUTE_CONTAINERS = ("routes", "original_router", "router", "app")


def _route_tree(app: Any) -> Iterator[Any]:
    """Every route, router and mounted app reachable from ``app``'s router."""
    seen: set[int] = set()
    pending: list[tuple[Any, int]] = [(getattr(app, "router", None), 0)]
    while pending:
        node, depth = pending.pop()
        if node is None or id(node) in seen or depth > 32:
            continue
        seen.add(id(node))
        if isinstance(node, (list, tuple)):
            pending.extend((item, depth + 1) for item in node)
            continue
        yield node
        for name in _ROUTE_CONTAINERS:
            child = getattr(node, name, None)
            if child is not None and not isinstance(child, types.FunctionType):
                pending.append((child, depth + 1))


def _endpoints_by_code() -> dict[types.CodeType, Any]:
    """The code object of every endpoint of the apps with the adapter (unwrapping decorators)."""
    found: dict[types.CodeType, Any] = {}
    for app in list(_installed_apps):
        for node in _route_tree(app):
            endpoint = getattr(node, "endpoint", None)
            func = endpoint
            while func is not None:
                code = getattr(func, "__code__", None)
                if isinstance(code, types.CodeType):
                    found.setdefault(code, endpoint)
                func = getattr(func, "__wrapped__", None)
    return found


def _probe() -> guards.WebRequestInfo | None:
    """The view whose call led here, if one of an app with the adapter (the guards' probe).

    Asked only when a guard raises. An endpoint is on the stack of whatever it calls: async
    ones up the chain of awaiting coroutines, sync ones on the worker thread that runs them.
    """
    if not _installed_apps:
        return None
    endpoints = _endpoints_by_code()

    def match(frame: types.FrameType) -> Any:
        return endpoints.get(frame.f_code)

    endpoint = guards.find_in_frames(match)
    if endpoint is None:
        return None
    return WebView("FastAPI", _CLIENT_HINT, callable_name(endpoint))


guards.register_web_request_probe(_probe)


# The dependencies are coroutines so that FastAPI runs them on the event loop, not in a thread.


async def get_binding(request: Request) -> RequestBinding:
    """Dependency: the current request's ``RequestBinding`` (e.g. to ``set_principal``)."""
    return binding_of(request)


async def get_restate(request: Request) -> AsyncIngressClient:
    """Dependency: the app's ``AsyncIngressClient`` bound to the current request."""
    binding = binding_of(request)
    return binding.integration.async_client().with_binding(binding)


async def get_restate_sync(request: Request) -> IngressClient:
    """Dependency for sync (``def``) views: the blocking client bound to the request."""
    binding = binding_of(request)
    return binding.integration.sync_client().with_binding(binding)


async def require_idempotency_key(request: Request) -> str:
    """Dependency: the request's idempotency key; without one, 400 problem+json."""
    binding = binding_of(request)
    problem = binding.require_key()
    if problem is not None:
        raise ProblemException(problem)
    assert binding.incoming_key is not None
    return binding.incoming_key


RestateIngress = Annotated[AsyncIngressClient, Depends(get_restate)]
"""``restate: RestateIngress`` in an async view: the request-bound async client."""

RestateIngressSync = Annotated[IngressClient, Depends(get_restate_sync)]
"""``restate: RestateIngressSync`` in a sync view: the request-bound blocking client."""

RestateBinding = Annotated[RequestBinding, Depends(get_binding)]

IdempotencyKey = Annotated[str, Depends(require_idempotency_key)]
"""``key: IdempotencyKey`` makes the header required for the route (and gives its value)."""

RequireIdempotencyKey = Depends(require_idempotency_key)
"""For ``dependencies=[RequireIdempotencyKey]`` on a route or router."""


# --- webhooks ----------------------------------------------------------------------------------


def webhook_router(endpoints: Mapping[str, EndpointSpec] | None = None) -> APIRouter:
    """An ``APIRouter`` serving ``POST /{name}`` for each webhook endpoint.

    ``endpoints`` maps URL names to ``WebhookEndpoint``/``CallbackEndpoint`` objects (or
    ``"module:name"`` references, or factories); without it, the app's ``WEBHOOKS`` setting is
    used. Mount it with ``app.include_router(webhook_router(...), prefix="/webhooks")``.
    """
    router = APIRouter()
    mounts = WebhookMounts(endpoints)

    @router.post("/{name}", include_in_schema=False)
    async def restate_webhook(name: str, request: Request) -> Response:
        mount = mounts.for_app(get_integration(request))
        result = await mount.dispatch_async(
            name, request.method, str(request.url), request.headers.raw, request.stream()
        )
        return Response(result.body, status_code=result.status, headers=dict(result.headers))

    return router
