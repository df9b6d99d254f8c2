"""Configuration and retry plumbing shared by the sync and async clients."""

from __future__ import annotations

import copy
import sys
from collections.abc import Mapping
from typing import Any

import httpx
import tenacity

from . import _core
from ._core import UNSET, CallBinding, Operation, RequestContext, RetryPolicy

if sys.version_info >= (3, 11):
    from typing import Self
else:  # pragma: no cover
    from typing_extensions import Self

DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=32)


class BaseClient:
    """Settings every ingress client has; see ``IngressClient`` for the parameters."""

    _http: httpx.Client | httpx.AsyncClient

    def __init__(
        self,
        base_url: str | None = None,
        *,
        token: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | httpx.Timeout | None = UNSET,
        retry: RetryPolicy | bool | None = True,
        limits: httpx.Limits = DEFAULT_LIMITS,
        auto_idempotency_keys: bool = False,
    ) -> None:
        self._config = _core.make_config(
            base_url,
            token=token,
            headers=headers,
            timeout=timeout,
            retry=retry,
            auto_idempotency_keys=auto_idempotency_keys,
        )
        self._context = RequestContext(self._config)
        self._limits = limits
        self._owns_http = True

    @property
    def base_url(self) -> str:
        return self._config.base_url

    @property
    def retry_policy(self) -> RetryPolicy:
        return self._config.retry

    @property
    def binding(self) -> CallBinding | None:
        return self._context.binding

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._config.base_url}>"

    def with_binding(self, binding: CallBinding | None) -> Self:
        """A view of this client that shares its connections but uses ``binding`` per call.

        Web adapters bind one per request to derive idempotency keys and forward trace context.
        Closing the view does not close the shared connections.
        """
        view = copy.copy(self)
        view._context = RequestContext(self._config, binding)
        view._owns_http = False
        return view

    def _http_kwargs(self, transport: Any) -> dict[str, Any]:
        return {
            "base_url": self._config.base_url,
            "headers": dict(self._config.headers),
            "timeout": self._config.timeout,
            "limits": self._limits,
            "transport": transport,
            # Redirects would re-send idempotency keys and bodies to another place: never follow.
            "follow_redirects": False,
        }

    def _build_request(self, op: Operation[Any]) -> httpx.Request:
        _core.guard_not_in_handler(op)
        spec = op.request
        timeout: Any = (
            httpx.USE_CLIENT_DEFAULT if spec.timeout is UNSET else _core.to_timeout(spec.timeout)
        )
        return self._http.build_request(
            spec.method,
            spec.path,
            params=spec.params or None,
            headers=spec.headers,
            content=spec.content,
            timeout=timeout,
        )

    def _retry_kwargs(self, op: Operation[Any]) -> dict[str, Any]:
        policy = self._config.retry

        def wait(state: tenacity.RetryCallState) -> float:
            error = state.outcome.exception() if state.outcome else None
            backoff = policy.backoff(state.attempt_number)
            if policy.respect_retry_after and error is not None:
                after = _core.retry_after_seconds(error)
                if after is not None:
                    return max(after, backoff)
            return backoff

        return {
            "stop": tenacity.stop_after_attempt(policy.max_attempts)
            | tenacity.stop_before_delay(policy.max_duration),
            "wait": wait,
            "retry": tenacity.retry_if_exception(
                lambda error: _core.is_retryable(error, op, policy)
            ),
            "reraise": True,
        }
