"""Configuration and retry plumbing shared by the sync and async clients."""

from __future__ import annotations

import copy
import http.cookiejar
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import httpx
import tenacity

from .._optional import require
from . import _core
from ._core import (
    UNSET,
    CallBinding,
    Nodes,
    Operation,
    RequestContext,
    RetryPlan,
    RetryPolicy,
)

if sys.version_info >= (3, 11):
    from typing import Self
else:  # pragma: no cover
    from typing_extensions import Self

# httpx's own defaults for the blocking client.
DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)
# The async client keeps fewer idle connections: httpx's async pool slows down with every
# connection it holds, and at 32 concurrent calls keeping 10 measured 1.3x faster than 20 (and
# 2.6x faster than 64) against restate-server (bench/ingress.py, bench/ceiling.py). Over TLS,
# where opening connections costs more, prefer http2=True: one multiplexed connection.
DEFAULT_ASYNC_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=10)


class _NoCookies(http.cookiejar.DefaultCookiePolicy):
    """Keeps no cookie a response sets: httpx would send it back on later calls, and Restate
    stores every ingress request header in its journal."""

    def set_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return False


class BaseClient:
    """Settings every ingress client has; see ``IngressClient`` for the parameters."""

    _http: httpx.Client | httpx.AsyncClient

    def __init__(
        self,
        base_url: str | Sequence[str] | None = None,
        *,
        token: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | httpx.Timeout | None = UNSET,
        retry: RetryPolicy | bool | None = True,
        limits: httpx.Limits = DEFAULT_LIMITS,
        generate_idempotency_keys: bool = False,
        http2: bool = False,
    ) -> None:
        self._http2 = http2
        self._config = _core.make_config(
            base_url,
            token=token,
            headers=headers,
            timeout=timeout,
            retry=retry,
            generate_idempotency_keys=generate_idempotency_keys,
        )
        self._context = RequestContext(self._config)
        # Shared with every view (``with_binding``): what one request learns about a node
        # that did not answer, the next request knows.
        self._nodes = Nodes(self._config.base_urls)
        self._limits = limits
        self._owns_http = True

    @property
    def base_url(self) -> str:
        """The ingress URL (with several: the first; see ``base_urls``)."""
        return self._config.base_url

    @property
    def base_urls(self) -> tuple[str, ...]:
        """Every ingress URL the client spreads its calls over (one, or a cluster's nodes)."""
        return self._config.base_urls

    @property
    def retry_policy(self) -> RetryPolicy:
        return self._config.retry

    @property
    def binding(self) -> CallBinding | None:
        return self._context.binding

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {','.join(self._config.base_urls)}>"

    def with_binding(self, binding: CallBinding | None) -> Self:
        """A view of this client that shares its connections but uses ``binding`` per call.

        Web adapters bind one per request to derive idempotency keys and forward trace context.
        Closing the view does not close the shared connections.
        """
        view = copy.copy(self)
        view._context = RequestContext(self._config, binding)
        view._owns_http = False
        return view

    def _protocol(self) -> dict[str, Any]:
        """httpx's ``http1``/``http2`` arguments for this client's ``http2`` setting."""
        if not self._http2:
            return {}
        require("h2", "http2", "HTTP/2 to the Restate ingress (http2=True)")
        # Over https ALPN picks HTTP/2; over plain http only prior knowledge (h2c) works,
        # which Restate's ingress speaks.
        tls = any(url.startswith("https://") for url in self._config.base_urls)
        return {"http2": True, "http1": tls}

    def _http_kwargs(self, transport: Any) -> dict[str, Any]:
        return {
            **self._protocol(),
            "base_url": self._config.base_url,
            "headers": dict(self._config.headers),
            "timeout": self._config.timeout,
            "limits": self._limits,
            "transport": transport,
            # Redirects would re-send idempotency keys and bodies to another place: never follow.
            "follow_redirects": False,
            "cookies": http.cookiejar.CookieJar(policy=_NoCookies()),
        }

    def _build_request(self, op: Operation[Any], key: str | None, node: int = 0) -> httpx.Request:
        """The request of ``op`` to ingress ``node``, carrying ``key`` (a derived key is
        resolved only now, by the shell, because the async shell awaits it)."""
        spec = op.request
        headers = spec.headers
        if op.reserved_key is not None and key is not None:
            _core.validate_idempotency_key(key, "the derived idempotency key")
            headers = {**headers, _core.IDEMPOTENCY_HEADER: key}
        timeout: Any = (
            httpx.USE_CLIENT_DEFAULT if spec.timeout is UNSET else _core.to_timeout(spec.timeout)
        )
        # One URL: a path relative to the httpx client's base_url; several: the node's own URL.
        url = self._nodes.urls[node] + spec.path if self._nodes.many else spec.path
        return self._http.build_request(
            spec.method,
            url,
            params=spec.params or None,
            headers=headers,
            content=spec.content,
            timeout=timeout,
        )

    # Retrying: the first attempt runs without tenacity and without a plan (most calls succeed,
    # and the hot path should cost no more than raw httpx); a failure builds a ``RetryPlan``,
    # which decides everything, and tenacity runs the remaining attempts for it.

    def _retry_request(
        self, plan: RetryPlan, request: httpx.Request, op: Operation[Any], key: str | None
    ) -> httpx.Request:
        """The request of the next attempt: to the node the plan chose, with what is left of
        the call's deadline as its network timeouts."""
        if self._nodes.many:
            request = self._build_request(op, key, plan.node)
        timeout = plan.next_attempt_timeout()
        if timeout is not None:
            request.extensions["timeout"] = timeout
        return request

    @staticmethod
    def _retrying_kwargs(plan: RetryPlan) -> dict[str, Any]:
        return {
            "stop": tenacity.stop_never,  # the plan's should_retry decides when to stop
            "wait": plan.wait,
            "retry": tenacity.retry_if_exception(plan.should_retry),
            "reraise": True,
        }
