"""FastAPI / Starlette adapter: the ``Restate`` extension.

>>> from fastapi import FastAPI
>>> from restate_web.adapters.fastapi import AsyncRestateClient, Restate
>>> app = FastAPI()
>>> Restate(app, {"INGRESS_URL": "http://localhost:8080"})
>>> @app.post("/orders/{order_id}")
... async def create(order_id: str, restate: AsyncRestateClient):
...     return await restate.object("Order", order_id).call("create")

``Restate(app)`` (or ``Restate(settings=...)`` then ``init_app(app)``) wraps the app's lifespan
(never replaces it) to create the app's ``AsyncIngressClient`` and close it at shutdown, and
adds ``RestateMiddleware``, a pure ASGI middleware (not Starlette's base HTTP middleware class,
which breaks context variables) that reads the ``Idempotency-Key`` header and binds each
request. Apps mounted in the app (``app.mount``) are served by the same middleware: they need
no ``Restate`` of their own.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping, MutableMapping
from typing import Annotated, Any

from .._optional import require

require("fastapi", "fastapi", "restate_web.adapters.fastapi")

from fastapi import APIRouter, Depends  # noqa: E402
from starlette.exceptions import HTTPException  # noqa: E402
from starlette.requests import HTTPConnection, Request  # noqa: E402
from starlette.responses import Response  # noqa: E402

from .. import guards  # noqa: E402
from ..ingress import AsyncIngressClient, IngressClient  # noqa: E402
from ._core import (  # noqa: E402
    Integration,
    RequestBinding,
    binding_kept_in,
    callable_name,
    current_binding,
)
from ._idempotency import KeyFound, Problem  # noqa: E402
from ._settings import RestateSettings  # noqa: E402
from ._webhooks import ROUTED_METHODS, EndpointSpec, WebhookMounts  # noqa: E402

__all__ = [
    "AsyncRestateClient",
    "IdempotencyKey",
    "Restate",
    "RestateBinding",
    "RestateClient",
    "RestateMiddleware",
    "get_integration",
    "idempotency_key_required",
    "webhook_router",
]

Scope = MutableMapping[str, Any]
_enter_request = guards._enter  # guards.enter_web_request, without a call of its own
_exit_request = guards._exit
Receive = Any
Send = Any
ASGIApp = Any


class _ProblemException(HTTPException):
    """Raised by dependencies to answer with an RFC 9457 problem (the view does not run).

    An ``HTTPException``: where the problem handler is not registered (an app mounted after the
    app started), FastAPI's own handler still answers with its status, never a 500.
    """

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.status, problem.detail, {"cache-control": "no-store"})
        self.problem = problem


async def _handle_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, _ProblemException)
    return _problem_response(exc.problem)


def _add_problem_handler(app: Any, depth: int = 0) -> None:
    """Register the problem handler on ``app`` and the apps mounted in it (which are served by
    ``app``'s middleware and need no ``Restate`` of their own, but have their own handlers)."""
    handlers = getattr(app, "exception_handlers", None)
    if not isinstance(handlers, dict) or depth > 8:
        return
    if _ProblemException not in handlers:
        app.add_exception_handler(_ProblemException, _handle_problem)
    for route in getattr(app, "routes", ()):
        mounted = getattr(route, "app", None)
        if mounted is not None and mounted is not app:
            _add_problem_handler(mounted, depth + 1)


def _problem_response(problem: Problem) -> Response:
    return Response(problem.body(), status_code=problem.status, headers=dict(problem.headers()))


async def _send_problem(send: Send, problem: Problem) -> None:
    body = problem.body()
    headers = [(k.encode(), v.encode()) for k, v in problem.headers()]
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": problem.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class _AsgiBinding(RequestBinding):
    """A request as an ASGI scope."""

    framework = "FastAPI"
    client_hint = "the RestateClient / AsyncRestateClient dependency"

    def __init__(self, integration: Integration, found: KeyFound, scope: Scope) -> None:
        super().__init__(integration, found)
        self.scope = scope

    @property
    def method(self) -> str:
        return str(self.scope["method"]).upper()

    @property
    def path(self) -> str:
        scope = self.scope
        path: str = scope["path"]
        root = scope.get("root_path", "")
        return root + path if root and not path.startswith(root) else path

    def header(self, name: str) -> str | None:
        wanted = name.encode("latin-1")
        for key, value in self.scope["headers"]:
            if key == wanted:
                return str(value.decode("latin-1"))
        return None

    def view_name(self) -> str | None:
        # Starlette's router adds the matched endpoint to the request's scope.
        return callable_name(self.scope.get("endpoint"))

    def principal_argument(self) -> Any:
        return Request(self.scope)

    def run_coroutine(self, function: Any, arg: Any) -> Any:
        # A def view runs in a worker thread of the app's event loop: run it there.
        import anyio.from_thread

        try:
            return anyio.from_thread.run(function, arg)
        except RuntimeError:  # not in a thread started by the event loop
            return super().run_coroutine(function, arg)


def _scope_binding(integration: Integration, found: KeyFound, scope: Scope) -> RequestBinding:
    """The request's binding, kept in its ASGI scope (``guards.RequestMark``)."""
    return binding_kept_in(scope, lambda: _AsgiBinding(integration, found, scope))


class RestateMiddleware:
    """Pure ASGI middleware: binds every HTTP request (``Restate`` adds it).

    A malformed idempotency header, or a forwarded header httpx could not send, is answered
    with 400 problem+json before the app runs. Otherwise the request is the current web request
    (a context variable) while the app handles it; its ``RequestBinding`` is made when the app
    first asks for it.
    """

    def __init__(self, app: ASGIApp, integration: Integration) -> None:
        self.app = app
        self.integration = integration
        self._header = integration.key_header_asgi

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        header = self._header
        raw = None
        several = False
        for name, value in scope["headers"]:
            if name == header:
                several = raw is not None
                raw = value
        integration = self.integration
        if several:
            found = integration.screen_keys([v for n, v in scope["headers"] if n == header])
        elif raw is None:
            found = None
        else:
            found = integration.match_usual_key_bytes(raw) or integration.screen_key(raw)
        if isinstance(found, Problem):
            await _send_problem(send, found)
            return
        if integration.forward_headers:
            problem = _scope_binding(integration, found, scope).entry_problem()
            if problem is not None:
                await _send_problem(send, problem)
                return
        token = _enter_request((_scope_binding, integration, found, scope))
        try:
            await self.app(scope, receive, send)
        finally:
            _exit_request(token)


class Restate:
    """The FastAPI/Starlette extension: ``Restate(app, settings)``, or ``Restate(settings=...)``
    and then ``init_app(app)``.

    ``settings`` uses the names of the README's Settings section (``{"INGRESS_URL": ...}``);
    unset ones come from ``RESTATE_*`` environment variables. Install it before the app starts,
    once per app (twice raises ``RuntimeError``).
    """

    def __init__(
        self,
        app: Any | None = None,
        settings: RestateSettings | Mapping[str, Any] | None = None,
    ) -> None:
        self._settings = settings
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Any) -> Integration:
        """Add Restate to ``app``; returns its ``Integration``."""
        if getattr(app.state, "restate", None) is not None:
            raise RuntimeError(
                "Restate is already installed on this app: create one Restate(app) per app "
                "(apps mounted in it need none of their own)"
            )
        integration = Integration(self._settings)
        app.state.restate = integration
        app.add_middleware(RestateMiddleware, integration=integration)
        _add_problem_handler(app)

        user_lifespan = app.router.lifespan_context

        @contextlib.asynccontextmanager
        async def lifespan(lifespan_app: Any) -> AsyncIterator[Any]:
            _add_problem_handler(app)  # apps mounted since Restate(app)
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
    """The ``Integration`` (settings and clients) of an app, or of the app serving a request.

    For an app mounted in an app with ``Restate`` (no ``Restate`` of its own), the mounting
    app's, found through the request being handled.
    """
    app = app_or_connection
    if isinstance(app_or_connection, HTTPConnection):
        app = app_or_connection.app
    integration = getattr(getattr(app, "state", None), "restate", None)
    if isinstance(integration, Integration):
        return integration
    binding = current_binding()
    if binding is not None:
        return binding.integration
    raise RuntimeError(
        "Restate is not installed on this app: call "
        "restate_web.adapters.fastapi.Restate(app) before it starts"
    )


def _binding() -> RequestBinding:
    binding = current_binding()
    if binding is None:
        raise RuntimeError(
            "no Restate binding for this request: install Restate(app) on the app (or on the "
            "app that mounts it) before it starts"
        )
    return binding


# The dependencies are coroutines so that FastAPI runs them on the event loop, not in a thread.


async def _request_binding() -> RequestBinding:
    return _binding()


async def _async_client() -> AsyncIngressClient:
    return _binding().async_client()


async def _sync_client() -> IngressClient:
    return _binding().sync_client()


async def _required_key() -> str:
    binding = _binding()
    problem = binding.require_key()
    if problem is not None:
        raise _ProblemException(problem)
    key = binding.incoming_key
    assert key is not None
    return key


AsyncRestateClient = Annotated[AsyncIngressClient, Depends(_async_client)]
"""``restate: AsyncRestateClient`` in an ``async def`` view: the request-bound async client."""

RestateClient = Annotated[IngressClient, Depends(_sync_client)]
"""``restate: RestateClient`` in a ``def`` view: the request-bound blocking client."""

RestateBinding = Annotated[RequestBinding, Depends(_request_binding)]
"""``binding: RestateBinding``: the request's binding (``binding.set_principal(user.id)``)."""

IdempotencyKey = Annotated[str, Depends(_required_key)]
"""``key: IdempotencyKey`` makes the header required for the route (and gives its value)."""

idempotency_key_required = Depends(_required_key)
"""``dependencies=[idempotency_key_required]`` on a route or router: the header is required."""


# --- webhooks ----------------------------------------------------------------------------------


def webhook_router(endpoints: Mapping[str, EndpointSpec] | None = None) -> APIRouter:
    """An ``APIRouter`` serving ``POST /{name}`` for each webhook endpoint.

    ``endpoints`` maps URL names to ``WebhookEndpoint``/``CallbackEndpoint`` objects (or
    ``"module:name"`` references, or factories); without it, the app's ``WEBHOOKS`` setting is
    used. Mount it with ``app.include_router(webhook_router(...), prefix="/webhooks")``.
    """
    router = APIRouter()
    mounts = WebhookMounts(endpoints)

    @router.api_route("/{name}", methods=list(ROUTED_METHODS), include_in_schema=False)
    async def restate_webhook(name: str, request: Request) -> Response:
        mount = mounts.for_app(get_integration(request))
        result = await mount.dispatch_async(
            name, request.method, str(request.url), request.headers.raw, request.stream()
        )
        return Response(result.body, status_code=result.status, headers=dict(result.headers))

    return router
