"""The blocking client: ``IngressClient``. Safe to share between threads."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

import httpx
import tenacity

from . import _core
from ._clients import DEFAULT_LIMITS, BaseClient
from ._core import UNSET, Operation, RetryPlan, RetryPolicy
from ._errors import IngressError
from ._handles import (
    AwakeableHandleBase,
    CallOptions,
    HandlerArg,
    InvocationHandleBase,
    ResultOptions,
    SendHandleBase,
    SendOptions,
    SubmitOptions,
    TargetHandleBase,
    Unpack,
    WorkflowHandleBase,
    check_no_using,
)
from ._serde import service_name
from ._threads import PerThreadTransport

if TYPE_CHECKING:
    from ..outbox import OutboxHandle
    from ._handles import OutboxSession

T = TypeVar("T")


class IngressClient(BaseClient):
    """Calls Restate handlers from ordinary (blocking) Python code through the HTTP ingress.

    Args:
        base_url: the ingress URL; default ``RESTATE_INGRESS_URL`` or ``http://localhost:8080``.
            Several (a list, or comma-separated like the variable): the ingresses of a Restate
            cluster's nodes. Calls go round-robin over them; a node that does not answer is set
            aside for a few seconds and the call goes on to another node, under the same rules
            as retries (a call without an idempotency key moves only when its connection never
            opened). A 404 from a node's ingress that does not know the service is asked of the
            other nodes once each (a freshly restarted node answers that until its copy of the
            registered services catches up). See the README's "Running against a cluster".
        token: bearer token (Restate Cloud); default ``RESTATE_INGRESS_TOKEN``.
        headers: headers sent with every request.
        timeout: the deadline of every call in seconds: the whole call, retries and the waits
            between them included, ends with ``IngressTimeout`` (or ``IngressUnavailable`` when
            Restate could not be reached) once it has passed; per call with ``timeout=``. None
            (the default): no deadline, because handlers may run for minutes; connecting still
            gives up after 5 s and retries stop after ``RetryPolicy.max_duration``. An
            ``httpx.Timeout`` sets the network timeouts of each attempt instead (no deadline).
        retry: a ``RetryPolicy``, True (the default policy) or False/None (no retries).
        limits: connection pool limits.
        generate_idempotency_keys: give every call and send without a key a generated one, so
            that it can be retried safely after a failure in flight.
        http2: talk HTTP/2 to the ingress (needs the ``http2`` extra): one HTTP/2
            connection per thread that calls, closed when the thread ends, because httpcore's
            blocking HTTP/2 connection is not safe to share between threads. Not faster than
            the default HTTP/1.1 pool (bench/ingress.py); for when something on the way to
            Restate requires HTTP/2.
        transport: an httpx transport (for tests, proxies, or ASGI apps).
    """

    _http: httpx.Client

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
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(
            base_url,
            token=token,
            headers=headers,
            timeout=timeout,
            retry=retry,
            limits=limits,
            generate_idempotency_keys=generate_idempotency_keys,
            http2=http2,
        )
        if http2 and transport is None:
            protocol, limits = self._protocol(), self._limits
            transport = PerThreadTransport(lambda: httpx.HTTPTransport(**protocol, limits=limits))
        self._http = httpx.Client(**self._http_kwargs(transport))

    def __enter__(self) -> IngressClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def service(self, service: Any) -> ServiceHandle:
        """A stateless service, by name or restate-sdk ``Service`` definition."""
        return ServiceHandle(self, service_name(service))

    def object(self, service: Any, key: str) -> ObjectHandle:
        """The virtual object ``service`` with key ``key``."""
        return ObjectHandle(self, service_name(service), _check_key(key))

    def workflow(
        self, service: Any, key: str, *, run_handler: HandlerArg = "run"
    ) -> WorkflowHandle:
        """The workflow instance ``key`` of ``service``."""
        return WorkflowHandle(self, service_name(service), _check_key(key), run_handler)

    def awakeable(self, awakeable_id: str) -> AwakeableHandle:
        return AwakeableHandle(self, awakeable_id)

    def invocation(self, invocation_id: str) -> InvocationHandle:
        return InvocationHandle(self, invocation_id)

    def _attempt(self, request: httpx.Request, op: Operation[T]) -> T:
        try:
            response = self._http.send(request)
        except httpx.TransportError as exc:
            raise _core.transport_failure(exc, op, self.base_url) from exc
        return op.parse(response)

    def _execute(self, op: Operation[T]) -> T:
        _core.guard_not_in_handler(op)
        key = op.idempotency_key if op.reserved_key is None else op.reserved_key.get()
        node = self._nodes.pick()
        request = self._build_request(op, key, node)
        started = time.monotonic()
        try:
            return self._attempt(request, op)
        except IngressError as error:
            plan = RetryPlan(op, self._config, started, key, self._nodes, node)
            if not plan.should_retry(error):
                final = plan.final_error(error)
                if final is error:
                    raise
                raise final from error
        time.sleep(plan.next_wait)
        try:
            for attempt in tenacity.Retrying(**self._retrying_kwargs(plan)):
                with attempt:
                    request = self._retry_request(plan, request, op, key)
                    return self._attempt(request, op)
        except IngressError as error:
            final = plan.final_error(error)
            if final is error:
                raise
            raise final from error
        raise AssertionError("unreachable: tenacity re-raises the last error")  # pragma: no cover


def _check_key(key: str) -> str:
    if not isinstance(key, str):
        raise TypeError(f"an object or workflow key is a string, got {type(key).__name__}")
    return key


def _send(
    handle: ServiceHandle | WorkflowHandle,
    handler: HandlerArg,
    arg: Any,
    options: SendOptions | SubmitOptions,
    outbox: Any,
    using: str | None,
    *,
    workflow_run: bool = False,
) -> SendHandle | OutboxHandle:
    """``send``/``submit`` of every blocking handle: to Restate now, or to the outbox."""
    if outbox is not False:
        from ..outbox._handle import outbox_send

        return outbox_send(handle, handler, arg, options, outbox, using, workflow_run=workflow_run)
    check_no_using(using)
    op, codec = handle._send_op(handler, arg, options, workflow_run=workflow_run)
    return SendHandle(handle._client, handle._client._execute(op), codec)


class ServiceHandle(TargetHandleBase):
    _kind: Literal["service", "object", "workflow"]
    _client: IngressClient
    _kind = "service"

    def call(self, handler: HandlerArg, arg: Any = None, **options: Unpack[CallOptions]) -> Any:
        """Run ``handler`` with ``arg`` and return its result (waits for it)."""
        return self._client._execute(self._call_op(handler, arg, options))

    @overload
    def send(
        self,
        handler: HandlerArg,
        arg: Any = None,
        *,
        outbox: Literal[False] = False,
        **options: Unpack[SendOptions],
    ) -> SendHandle: ...

    @overload
    def send(
        self,
        handler: HandlerArg,
        arg: Any = None,
        *,
        outbox: Literal[True] | OutboxSession,
        using: str | None = None,
        **options: Unpack[SendOptions],
    ) -> OutboxHandle: ...

    def send(
        self,
        handler: HandlerArg,
        arg: Any = None,
        *,
        outbox: Any = False,
        using: str | None = None,
        **options: Unpack[SendOptions],
    ) -> SendHandle | OutboxHandle:
        """Start ``handler`` with ``arg`` without waiting; optionally ``delay`` it.

        ``outbox=True`` (Django; ``using=`` another database) or ``outbox=session``
        (SQLAlchemy) writes the send to the outbox table in the current transaction instead,
        to be sent once the transaction commits (see ``restate_web.outbox``)."""
        return _send(self, handler, arg, options, outbox, using)

    def attach(
        self, handler: HandlerArg, *, idempotency_key: str, **options: Unpack[ResultOptions]
    ) -> Any:
        """Wait for the invocation of ``handler`` made with ``idempotency_key`` and return its
        result: how to pick up a call after ``IngressTimeout`` or ``IngressUnavailable``
        (``error.idempotency_key``) without starting a second invocation."""
        return self._client._execute(
            self._keyed_result_op("attach", handler, idempotency_key, options)
        )

    def output(
        self, handler: HandlerArg, *, idempotency_key: str, **options: Unpack[ResultOptions]
    ) -> Any:
        """The result of the invocation of ``handler`` made with ``idempotency_key``, now;
        raises ``NotReady`` while it runs."""
        return self._client._execute(
            self._keyed_result_op("output", handler, idempotency_key, options)
        )


class ObjectHandle(ServiceHandle):
    _kind = "object"


class WorkflowHandle(WorkflowHandleBase):
    _client: IngressClient

    @overload
    def submit(
        self, arg: Any = None, *, outbox: Literal[False] = False, **options: Unpack[SubmitOptions]
    ) -> SendHandle: ...

    @overload
    def submit(
        self,
        arg: Any = None,
        *,
        outbox: Literal[True] | OutboxSession,
        using: str | None = None,
        **options: Unpack[SubmitOptions],
    ) -> OutboxHandle: ...

    def submit(
        self,
        arg: Any = None,
        *,
        outbox: Any = False,
        using: str | None = None,
        **options: Unpack[SubmitOptions],
    ) -> SendHandle | OutboxHandle:
        """Start the workflow's run handler; submitting again finds the first run.
        ``outbox=``: written in the current transaction, sent after the commit."""
        return _send(self, self._run_handler, arg, options, outbox, using, workflow_run=True)

    def call(self, handler: HandlerArg, arg: Any = None, **options: Unpack[CallOptions]) -> Any:
        """Call a shared handler of this workflow (e.g. a status query or a signal)."""
        return self._client._execute(self._call_op(handler, arg, options))

    @overload
    def send(
        self,
        handler: HandlerArg,
        arg: Any = None,
        *,
        outbox: Literal[False] = False,
        **options: Unpack[SendOptions],
    ) -> SendHandle: ...

    @overload
    def send(
        self,
        handler: HandlerArg,
        arg: Any = None,
        *,
        outbox: Literal[True] | OutboxSession,
        using: str | None = None,
        **options: Unpack[SendOptions],
    ) -> OutboxHandle: ...

    def send(
        self,
        handler: HandlerArg,
        arg: Any = None,
        *,
        outbox: Any = False,
        using: str | None = None,
        **options: Unpack[SendOptions],
    ) -> SendHandle | OutboxHandle:
        """Send to a shared handler of this workflow (``outbox=``: as ``ServiceHandle.send``)."""
        return _send(self, handler, arg, options, outbox, using)

    def attach(self, **options: Unpack[ResultOptions]) -> Any:
        """Wait for the workflow to finish and return its result."""
        return self._client._execute(self._result_op("attach", options))

    def output(self, **options: Unpack[ResultOptions]) -> Any:
        """The workflow's result now; raises ``NotReady`` while it runs."""
        return self._client._execute(self._result_op("output", options))


class InvocationHandle(InvocationHandleBase):
    _client: IngressClient

    def attach(self, **options: Unpack[ResultOptions]) -> Any:
        """Wait for the invocation to finish and return its result."""
        return self._client._execute(self._result_op("attach", options))

    def output(self, **options: Unpack[ResultOptions]) -> Any:
        """The invocation's result now; raises ``NotReady`` while it runs."""
        return self._client._execute(self._result_op("output", options))


class SendHandle(SendHandleBase, InvocationHandle):
    _client: IngressClient


class AwakeableHandle(AwakeableHandleBase):
    _client: IngressClient

    def resolve(
        self,
        payload: Any = None,
        *,
        content_type: str | None = None,
        timeout: float | httpx.Timeout | None = UNSET,
    ) -> None:
        """Complete the awakeable with ``payload``; the durable handler waiting on it resumes."""
        self._client._execute(self._resolve_op(payload, content_type, timeout))

    def reject(self, reason: str, *, timeout: float | httpx.Timeout | None = UNSET) -> None:
        """Fail the awakeable; the waiting handler gets a TerminalError with ``reason``."""
        self._client._execute(self._reject_op(reason, timeout))
