"""Flask adapter: the ``Restate`` extension.

>>> from flask import Flask
>>> from restate_web.adapters.flask import Restate
>>> restate = Restate()
>>> app = Flask(__name__)
>>> app.config["RESTATE_INGRESS_URL"] = "http://localhost:8080"
>>> restate.init_app(app)
>>> @app.post("/orders/<order_id>")
... def create(order_id):
...     return restate.client.object("Order", order_id).call("create")

Settings are the ``RESTATE_*`` config keys (same names as the environment variables).
``app.extensions["restate"]`` is the app's ``Integration``. ``restate.client`` is the blocking
client bound to the current request; in async views use ``restate.async_client``, an
``AsyncIngressClient`` of the view's own event loop (Flask runs each async view in a new loop),
closed when that loop ends.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any, TypeVar, cast

from .._optional import require

require("flask", "flask", "restate_web.adapters.flask")

from flask import (  # noqa: E402
    Blueprint,
    Flask,
    Response,
    current_app,
    request,
)

from .. import guards  # noqa: E402
from ..ingress import AsyncIngressClient, IngressClient  # noqa: E402
from ._core import (  # noqa: E402
    Integration,
    RequestBinding,
    binding_kept_in,
    callable_name,
    current_binding,
    wsgi_path,
)
from ._idempotency import KeyFound, Problem  # noqa: E402
from ._settings import ENV_PREFIX, RestateSettings  # noqa: E402
from ._webhooks import ROUTED_METHODS, EndpointSpec, WebhookMounts, wsgi_body_unbounded  # noqa: E402

__all__ = [
    "Restate",
    "RestateMiddleware",
    "idempotency_key_required",
    "webhook_blueprint",
]

EXTENSION = "restate"
_enter_request = guards._enter  # guards.enter_web_request, without a call of its own
_exit_request = guards._exit
F = TypeVar("F", bound=Callable[..., Any])


def _problem_response(problem: Problem) -> Response:
    return Response(problem.body(), status=problem.status, headers=problem.headers())


def _integration() -> Integration:
    integration = current_app.extensions.get(EXTENSION)
    if not isinstance(integration, Integration):
        raise RuntimeError(
            "the Restate extension is not initialised on this app: call Restate(app) or "
            "restate.init_app(app)"
        )
    return integration


class _WsgiBinding(RequestBinding):
    """A request as a WSGI environ (Flask's request object is in it once Flask made it)."""

    framework = "Flask"
    client_hint = "restate.client (or restate.async_client)"

    def __init__(
        self, integration: Integration, found: KeyFound, environ: dict[str, Any], app: Any
    ) -> None:
        super().__init__(integration, found)
        self.environ = environ
        self.app = app

    @property
    def method(self) -> str:
        return str(self.environ.get("REQUEST_METHOD", "GET")).upper()

    @property
    def path(self) -> str:
        return wsgi_path(self.environ)

    def header(self, name: str) -> str | None:
        value = self.environ.get("HTTP_" + name.upper().replace("-", "_"))
        return None if value is None else str(value)

    def _request(self) -> Any:
        return self.environ.get("werkzeug.request")

    def view_name(self) -> str | None:
        endpoint = getattr(self._request(), "endpoint", None)
        if endpoint is None:
            return None
        views = getattr(self.app, "view_functions", {})
        return callable_name(views.get(endpoint)) or str(endpoint)

    def principal_argument(self) -> Any:
        found = self._request()
        return found if found is not None else request._get_current_object()  # type: ignore[attr-defined]

    def run_coroutine(self, function: Any, arg: Any) -> Any:
        from asgiref.sync import async_to_sync  # Flask's own bridge to async code

        return async_to_sync(function)(arg)


def _environ_binding(
    integration: Integration, found: KeyFound, environ: dict[str, Any], app: Any
) -> RequestBinding:
    """The request's binding, kept in its WSGI environ (``guards.RequestMark``)."""
    return binding_kept_in(environ, lambda: _WsgiBinding(integration, found, environ, app))


class RestateMiddleware:
    """Wraps ``app.wsgi_app`` (``Restate`` adds it): binds every request before Flask
    dispatches it.

    A malformed idempotency header, or a forwarded header httpx could not send, is answered
    with 400 problem+json and Flask never sees the request. Otherwise the request is the current
    web request (a context variable) while Flask handles it; its ``RequestBinding`` is made when
    the app first asks for it.
    """

    def __init__(self, wsgi_app: Any, integration: Integration, app: Any = None) -> None:
        self.wsgi_app = wsgi_app
        self.integration = integration
        self.app = app
        self._environ_key = integration.key_environ_key

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        integration = self.integration
        raw = environ.get(self._environ_key)
        found = (
            None
            if raw is None
            else (integration.match_usual_key(raw) or integration.screen_key(raw))
        )
        if isinstance(found, Problem):
            return _refuse(found, start_response)
        app = self.app
        if integration.forward_headers:
            problem = _environ_binding(integration, found, environ, app).entry_problem()
            if problem is not None:
                return _refuse(problem, start_response)
        token = _enter_request((_environ_binding, integration, found, environ, app))
        try:
            return self.wsgi_app(environ, start_response)
        finally:
            _exit_request(token)


def _refuse(problem: Problem, start_response: Any) -> list[bytes]:
    body = problem.body()
    start_response(
        f"{problem.status} {HTTPStatus(problem.status).phrase}",
        [*problem.headers(), ("content-length", str(len(body)))],
    )
    return [body]


class Restate:
    """The Flask extension: ``Restate(app)`` or ``Restate()`` then ``init_app(app)``.

    ``settings`` (same names as the config keys, without ``RESTATE_``) override the config.
    Initialising one app twice raises ``RuntimeError``.
    """

    def __init__(
        self,
        app: Flask | None = None,
        settings: RestateSettings | Mapping[str, Any] | None = None,
    ) -> None:
        self._settings = settings
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> Integration:
        if EXTENSION in app.extensions:
            raise RuntimeError(
                "Restate is already initialised on this app: call Restate(app) or "
                "restate.init_app(app) once per app"
            )
        if isinstance(self._settings, RestateSettings):
            integration = Integration(self._settings)
        else:
            values = {
                key[len(ENV_PREFIX) :]: value
                for key, value in app.config.items()
                if key.startswith(ENV_PREFIX)
            }
            values.update(self._settings or {})
            integration = Integration(values)
        app.extensions[EXTENSION] = integration
        app.wsgi_app = RestateMiddleware(app.wsgi_app, integration, app)  # type: ignore[method-assign]
        return integration

    @property
    def integration(self) -> Integration:
        """The current app's ``Integration`` (settings and clients)."""
        return _integration()

    @property
    def binding(self) -> RequestBinding | None:
        """The current request's binding (None outside a request)."""
        return current_binding()

    @property
    def client(self) -> IngressClient:
        """The app's blocking client, bound to the current request (when there is one)."""
        binding = current_binding()
        return _integration().sync_client() if binding is None else binding.sync_client()

    @property
    def async_client(self) -> AsyncIngressClient:
        """The async client of the running event loop, bound to the current request."""
        binding = current_binding()
        return _integration().async_client() if binding is None else binding.async_client()


def idempotency_key_required(view: F) -> F:
    """Decorator: the view answers 400 problem+json unless the request has an idempotency key."""

    def problem() -> Response | None:
        binding = current_binding()
        if binding is None:
            raise RuntimeError(
                "the Restate extension is not initialised on this app: call Restate(app) or "
                "restate.init_app(app)"
            )
        found = binding.require_key()
        return None if found is None else _problem_response(found)

    if inspect.iscoroutinefunction(view):

        @functools.wraps(view)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            answer = problem()
            if answer is not None:
                return answer
            return await view(*args, **kwargs)

        return cast(F, async_wrapper)

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        answer = problem()
        if answer is not None:
            return answer
        return view(*args, **kwargs)

    return cast(F, wrapper)


# --- webhooks ----------------------------------------------------------------------------------


def webhook_blueprint(
    endpoints: Mapping[str, EndpointSpec] | None = None, *, name: str = "restate_webhooks"
) -> Blueprint:
    """A ``Blueprint`` serving ``POST /<name>`` for each webhook endpoint.

    ``endpoints`` maps URL names to ``WebhookEndpoint``/``CallbackEndpoint`` objects (or
    ``"module:name"`` references, or factories); without it, the app's ``RESTATE_WEBHOOKS``
    config is used. Register it with
    ``app.register_blueprint(webhook_blueprint(...), url_prefix="/webhooks")``.
    """
    blueprint = Blueprint(name, __name__)
    mounts = WebhookMounts(endpoints)

    # Flask adds HEAD and OPTIONS answers of its own unless told not to.
    @blueprint.route("/<name>", methods=ROUTED_METHODS, provide_automatic_options=False)
    def restate_webhook(name: str) -> Response:
        mount = mounts.for_app(_integration())
        result = mount.dispatch(
            name,
            request.method,
            request.url,
            list(request.headers.items()),
            request.stream.read,
            body_unbounded=wsgi_body_unbounded(request.environ),
        )
        return Response(result.body, status=result.status, headers=dict(result.headers))

    return blueprint
