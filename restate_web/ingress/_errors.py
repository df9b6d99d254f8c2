"""Errors raised by the ingress clients. All are importable from ``restate_web.ingress``."""

from __future__ import annotations

from typing import Any


class IngressError(Exception):
    """A request to the Restate ingress did not produce a result.

    Attributes:
        status: HTTP status of Restate's answer, or None when there was no answer.
        code: Restate's error code from the JSON error body (often equal to ``status``).
        message: the error message Restate (or the handler) gave.
        source: ``"ingress"`` when Restate itself refused the request, ``"invocation"`` when the
            handler failed; None when unknown (older servers do not send the header).
        invocation_id: the ``inv_...`` id, when Restate told us one.
        idempotency_key: the idempotency key the request carried (explicit, derived from the web
            request, or generated), None without one. With it, ``attach(handler,
            idempotency_key=...)`` picks up the same invocation after a timeout or an outage.
        body: the raw response body, for diagnostics.
        operation: what was attempted, e.g. ``"call Greeter/greet"``.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: int | None = None,
        source: str | None = None,
        invocation_id: str | None = None,
        idempotency_key: str | None = None,
        body: bytes = b"",
        operation: str = "",
    ) -> None:
        self.message = message
        self.status = status
        self.code = code
        self.source = source
        self.invocation_id = invocation_id
        self.idempotency_key = idempotency_key
        self.body = body
        self.operation = operation
        # The raw httpx response, when there was one (Retry-After and other headers live here).
        self.response: Any = None
        super().__init__(self._describe())

    def _describe(self) -> str:
        detail = []
        if self.status is not None:
            detail.append(f"HTTP {self.status}")
        if self.code is not None and self.code != self.status:
            detail.append(f"code {self.code}")
        head = self.operation + " failed" if self.operation else ""
        if detail:
            head = f"{head} ({', '.join(detail)})".strip()
        text = f"{head}: {self.message}" if head else self.message
        if self.invocation_id:
            text += f" [invocation {self.invocation_id}]"
        return text


class InvocationFailed(IngressError):
    """The handler ended with a terminal error; ``code`` and ``message`` are the handler's own.

    Never retried: the invocation is finished and would fail the same way again.
    """


class NotFound(IngressError):
    """Restate does not know the service, handler, invocation or workflow (HTTP 404)."""


class NotReady(IngressError):
    """The invocation has not finished yet, so it has no output (HTTP 470).

    Use ``attach()`` to wait for the result instead of ``output()``.
    """


class IngressUnavailable(IngressError):
    """Restate could not be reached, or kept answering 'try later', for the whole retry budget."""


class IngressTimeout(IngressError):
    """The call's deadline (``timeout``) passed before Restate answered.

    The invocation may still be running. When ``idempotency_key`` is set, attach to it with
    ``client.service(name).attach(handler, idempotency_key=error.idempotency_key)`` instead of
    calling again: inside a web request a second call derives a new key and starts a second
    invocation.
    """


class IngressInHandlerError(IngressError):
    """The ingress client was used inside a running Restate handler.

    Inside a handler every call must go through the durable context (``ctx.service_call``,
    ``ctx.object_send``, ...) so that it is journaled and not repeated on replay.
    """
