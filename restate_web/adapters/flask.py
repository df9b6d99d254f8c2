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
    has_request_context,
    request,
)

from .. import guards  # noqa: E402
from ..ingress import AsyncIngressClient, IngressClient  # noqa: E402
from ._core import (  # noqa: E402
    Integration,
    RequestBinding,
    RequestState,
    callable_name,
    environ_header_getter,
    principal_resolvers,
)
from ._idempotency import KeyFound, Problem  # noqa: E402
from ._settings import ENV_PREFIX, RestateSettings  # noqa: E402
from ._webhooks import EndpointSpec, WebhookMounts, wsgi_body_unbounded  # noqa: E402

__all__ = [
    "Restate",
    "RestateWSGIMiddleware",
    "idempotency_key_required",
    "problem_response",
    "webhook_blueprint",
]

EXTENSION = "restate"
_CLIENT_HINT = "restate.client (or restate.async_client)"
F = TypeVar("F", bound=Callable[..., Any])


def problem_response(problem: Problem) -> Response:
    return Response(problem.body(), status=problem.status, headers=problem.headers())


def _integration() -> Integration:
    integration = current_app.extensions.get(EXTENSION)
    if not isinstance(integration, Integration):
        raise RuntimeError(
            "the Restate extension is not initialised on this app: call Restate(app) or "
            "restate.init_app(app)"
        )
    return integration


_MARK = "restate_web.key"
"""The environ key ``RestateWSGIMiddleware`` sets on every request: ``(integration, found)``."""
_STATE = "restate_web.request"
"""The environ key of the request's ``_WsgiRequest`` (made when first asked for)."""


def _state() -> _WsgiRequest | None:
    """The current request's state, when ``RestateWSGIMiddleware`` saw the request.

    Flask's own request context marks the request for the guards (see ``_probe``): the
    middleware only leaves the key in the environ, and the rest is made on first use.
    """
    if not has_request_context():
        return None
    environ = request.environ
    state = environ.get(_STATE)
    if isinstance(state, _WsgiRequest):
        return state
    mark = environ.get(_MARK)
    if mark is None:
        return None
    state = environ[_STATE] = _WsgiRequest(mark[0], mark[1], environ)
    return state


def _binding() -> RequestBinding | None:
    state = _state()
    return None if state is None else state.binding()


def _view_name() -> str | None:
    if not has_request_context() or request.endpoint is None:
        return None
    return callable_name(current_app.view_functions.get(request.endpoint)) or request.endpoint


class _WsgiRequest(RequestState):
    __slots__ = ("environ",)
    framework = "Flask"
    client_hint = _CLIENT_HINT

    def __init__(self, integration: Integration, found: KeyFound, environ: Any) -> None:
        super().__init__(integration, found)
        self.environ = environ

    def view_name(self) -> str | None:
        return _view_name()

    def make_binding(self) -> RequestBinding:
        environ = self.environ
        principal = self.integration.settings.principal
        req = request._get_current_object() if principal is not None else None  # type: ignore[attr-defined]
        raw_path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")

        return RequestBinding(
            self.integration,
            framework=self.framework,
            method=environ.get("REQUEST_METHOD", "GET"),
            path=raw_path.encode("latin-1").decode("utf-8", "replace"),
            incoming_key=self.incoming_key,
            get_header=environ_header_getter(environ),
            **principal_resolvers(principal, lambda: req),
            view_name=_view_name,
            client_hint=self.client_hint,
        )


class RestateWSGIMiddleware:
    """Wraps ``app.wsgi_app``: reads the idempotency header before Flask dispatches.

    A malformed header is answered with 400 problem+json and Flask never sees the request.
    (A WSGI middleware rather than ``before_request``/``teardown_request`` hooks: it costs a
    fraction of a Flask hook per request.)
    """

    def __init__(self, wsgi_app: Any, integration: Integration) -> None:
        self.wsgi_app = wsgi_app
        self.integration = integration
        self._environ_key = integration.key_environ_key
        self._screen = integration.screen_key
        self._no_key = (integration, None)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        # Every request's hot path: no settings looked up, no context variable (the guards ask
        # Flask's request context), at most one C-level match of the key and one tuple.
        raw = environ.get(self._environ_key)
        if raw is None:
            environ[_MARK] = self._no_key
        else:
            found: KeyFound = self._screen(raw)
            if found is None:
                parsed = self.integration.read_one_key(raw)
                if isinstance(parsed, Problem):
                    body = parsed.body()
                    start_response(
                        f"{parsed.status} {HTTPStatus(parsed.status).phrase}",
                        [*parsed.headers(), ("content-length", str(len(body)))],
                    )
                    return [body]
                found = parsed
            environ[_MARK] = (self.integration, found)
        return self.wsgi_app(environ, start_response)


def _probe() -> _WsgiRequest | None:
    """The guards' view of the current Flask request (registered below)."""
    return _state()


guards.register_web_request_probe(_probe)


class Restate:
    """The Flask extension: ``Restate(app)`` or ``Restate()`` then ``init_app(app)``.

    ``settings`` (same names as the config keys, without ``RESTATE_``) override the config.
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
        app.wsgi_app = RestateWSGIMiddleware(app.wsgi_app, integration)  # type: ignore[method-assign]
        return integration

    @property
    def integration(self) -> Integration:
        """The current app's ``Integration`` (settings and clients)."""
        return _integration()

    @property
    def binding(self) -> RequestBinding | None:
        """The current request's binding (None outside a request)."""
        return _binding() if has_request_context() else None

    @property
    def client(self) -> IngressClient:
        """The app's blocking client, bound to the current request (when there is one)."""
        client = _integration().sync_client()
        binding = self.binding
        return client if binding is None else client.with_binding(binding)

    @property
    def async_client(self) -> AsyncIngressClient:
        """The async client of the running event loop, bound to the current request."""
        client = _integration().async_client()
        binding = self.binding
        return client if binding is None else client.with_binding(binding)


def idempotency_key_required(view: F) -> F:
    """Decorator: the view answers 400 problem+json unless the request has an idempotency key."""

    def problem() -> Response | None:
        binding = _binding()
        if binding is None:
            raise RuntimeError("the Restate extension is not initialised on this app")
        found = binding.require_key()
        return None if found is None else problem_response(found)

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

    @blueprint.post("/<name>")
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
