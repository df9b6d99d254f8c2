"""The asyncio client: ``AsyncIngressClient``, the same API as ``IngressClient`` with ``await``."""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Coroutine, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

import httpx
import tenacity

from . import _core
from ._aiohttp import AiohttpTransport, uses_proxy
from ._clients import DEFAULT_ASYNC_LIMITS, BaseClient
from ._core import UNSET, Operation, RetryPlan, RetryPolicy, SendReceipt
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
from ._serde import Codec, service_name
from ._sync import _check_key

if TYPE_CHECKING:
    from ..outbox import OutboxHandle
    from ._handles import AsyncOutboxSession

T = TypeVar("T")


class AsyncIngressClient(BaseClient):
    """Calls Restate handlers from asyncio code through the HTTP ingress.

    Takes the same arguments as ``IngressClient``; ``transport`` is an
    ``httpx.AsyncBaseTransport``, or ``"aiohttp"`` for aiohttp's connection pool (faster under
    many concurrent calls; ``pip install 'restate-web[aiohttp]'``, HTTP/1.1 only; same retry
    safety), or ``"httpx"`` / None for httpx's own. Bind it to one event loop: create it in your
    app's lifespan, not at import time.

    Handle methods (``call``, ``send``, ``attach``, ...) are plain methods that return a
    coroutine: the arguments are checked and a request-derived idempotency key is reserved when
    the method is called (so ``asyncio.gather`` keeps program order); the request goes out when
    the coroutine is awaited. Called in a thread without a running event loop they raise
    ``RuntimeError`` at once: a coroutine that is never awaited would silently never send.
    """

    _http: httpx.AsyncClient

    def __init__(
        self,
        base_url: str | Sequence[str] | None = None,
        *,
        token: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | httpx.Timeout | None = UNSET,
        retry: RetryPolicy | bool | None = True,
        limits: httpx.Limits = DEFAULT_ASYNC_LIMITS,
        generate_idempotency_keys: bool = False,
        http2: bool = False,
        transport: httpx.AsyncBaseTransport | AsyncTransportName | None = None,
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
        chosen = async_transport(transport, self)
        self._http = httpx.AsyncClient(**self._http_kwargs(chosen))
        self._direct = direct_sender(chosen, self.base_urls)

    async def __aenter__(self) -> AsyncIngressClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    def service(self, service: Any) -> AsyncServiceHandle:
        """A stateless service, by name or restate-sdk ``Service`` definition."""
        return AsyncServiceHandle(self, service_name(service))

    def object(self, service: Any, key: str) -> AsyncObjectHandle:
        """The virtual object ``service`` with key ``key``."""
        return AsyncObjectHandle(self, service_name(service), _check_key(key))

    def workflow(
        self, service: Any, key: str, *, run_handler: HandlerArg = "run"
    ) -> AsyncWorkflowHandle:
        """The workflow instance ``key`` of ``service``."""
        return AsyncWorkflowHandle(self, service_name(service), _check_key(key), run_handler)

    def awakeable(self, awakeable_id: str) -> AsyncAwakeableHandle:
        return AsyncAwakeableHandle(self, awakeable_id)

    def invocation(self, invocation_id: str) -> AsyncInvocationHandle:
        return AsyncInvocationHandle(self, invocation_id)

    async def _attempt(self, request: httpx.Request, op: Operation[T]) -> T:
        try:
            if self._direct is not None:
                response = await self._direct.send_and_read(request)
            else:
                response = await self._http.send(request)
        except httpx.TransportError as exc:
            raise _core.transport_failure(exc, op, self.base_url) from exc
        return op.parse(response)

    async def _execute(self, op: Operation[T]) -> T:
        _core.guard_not_in_handler(op)
        key = op.idempotency_key if op.reserved_key is None else await op.reserved_key.aget()
        node = self._nodes.pick()
        request = self._build_request(op, key, node)
        started = time.monotonic()
        try:
            return await self._attempt(request, op)
        except IngressError as error:
            plan = RetryPlan(op, self._config, started, key, self._nodes, node)
            if not plan.should_retry(error):
                final = plan.final_error(error)
                if final is error:
                    raise
                raise final from error
        await asyncio.sleep(plan.next_wait)
        try:
            async for attempt in tenacity.AsyncRetrying(**self._retrying_kwargs(plan)):
                with attempt:
                    request = self._retry_request(plan, request, op, key)
                    return await self._attempt(request, op)
        except IngressError as error:
            final = plan.final_error(error)
            if final is error:
                raise
            raise final from error
        raise AssertionError("unreachable: tenacity re-raises the last error")  # pragma: no cover

    def _run(self, op: Operation[T], method: str) -> Coroutine[Any, Any, T]:
        _require_loop(method)
        return self._execute(op)

    async def _send(self, op: Operation[SendReceipt], codec: Codec | None) -> AsyncSendHandle:
        return AsyncSendHandle(self, await self._execute(op), codec)


AsyncTransportName = Literal["httpx", "aiohttp"]


def async_transport(
    transport: httpx.AsyncBaseTransport | str | None,
    client: BaseClient,
    verify: ssl.SSLContext | bool = True,
) -> httpx.AsyncBaseTransport | None:
    """The httpx transport ``transport`` names (None: httpx's own, built by httpx)."""
    if transport is None or transport == "httpx" or isinstance(transport, httpx.AsyncBaseTransport):
        return transport if isinstance(transport, httpx.AsyncBaseTransport) else None
    if transport != "aiohttp":
        raise ValueError(
            f"transport: expected an httpx.AsyncBaseTransport, 'httpx' or 'aiohttp', "
            f"got {transport!r}"
        )
    if client._http2:
        raise ValueError(
            "transport='aiohttp' speaks HTTP/1.1 only; drop http2=True, or use the httpx "
            "transport for HTTP/2"
        )
    if verify is True and any(url.startswith("https://") for url in client.base_urls):
        verify = httpx.create_ssl_context()  # the certificates httpx would trust (certifi)
    return AiohttpTransport(limits=client._limits, verify=verify)


def direct_sender(
    transport: httpx.AsyncBaseTransport | None, base_urls: Sequence[str]
) -> AiohttpTransport | None:
    """``transport`` when it is the aiohttp one, to be called directly (None: send through the
    httpx client). Not when a proxy from the environment applies: httpx routes those requests
    through a transport of its own."""
    if isinstance(transport, AiohttpTransport) and not any(uses_proxy(u) for u in base_urls):
        return transport
    return None


def _require_loop(method: str) -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        raise RuntimeError(
            f"AsyncIngressClient.{method}() was called in a thread without a running event "
            "loop, so its coroutine could never be awaited (and nothing would be sent). In sync "
            "code use the blocking IngressClient (in a web view: the request's sync client, "
            "e.g. request.restate in Django)"
        ) from None


def _send(
    handle: AsyncServiceHandle | AsyncWorkflowHandle,
    handler: HandlerArg,
    arg: Any,
    options: SendOptions | SubmitOptions,
    outbox: Any,
    using: str | None,
    *,
    workflow_run: bool = False,
) -> Coroutine[Any, Any, Any]:
    """``send``/``submit`` of every async handle: to Restate, or to the outbox."""
    if outbox is not False:
        from ..outbox._handle import aoutbox_send

        return aoutbox_send(handle, handler, arg, options, outbox, using, workflow_run=workflow_run)
    check_no_using(using)
    op, codec = handle._send_op(handler, arg, options, workflow_run=workflow_run)
    return handle._client._send(op, codec)


class AsyncServiceHandle(TargetHandleBase):
    _kind: Literal["service", "object", "workflow"]
    _client: AsyncIngressClient
    _kind = "service"

    def call(
        self, handler: HandlerArg, arg: Any = None, **options: Unpack[CallOptions]
    ) -> Coroutine[Any, Any, Any]:
        """Run ``handler`` with ``arg`` and return its result (waits for it)."""
        _require_loop("call")
        return self._client._execute(self._call_op(handler, arg, options))

    @overload
    def send(
        self,
        handler: HandlerArg,
        arg: Any = None,
        *,
        outbox: Literal[False] = False,
        **options: Unpack[SendOptions],
    ) -> Coroutine[Any, Any, AsyncSendHandle]: ...

    @overload
    def send(
        self,
        handler: HandlerArg,
        arg: Any = None,
        *,
        outbox: Literal[True] | AsyncOutboxSession,
        using: str | None = None,
        **options: Unpack[SendOptions],
    ) -> Coroutine[Any, Any, OutboxHandle]: ...

    def send(
        self,
        handler: HandlerArg,
        arg: Any = None,
        *,
        outbox: Any = False,
        using: str | None = None,
        **options: Unpack[SendOptions],
    ) -> Coroutine[Any, Any, AsyncSendHandle] | Coroutine[Any, Any, OutboxHandle]:
        """Start ``handler`` with ``arg`` without waiting; optionally ``delay`` it.

        ``outbox=True`` (Django) or ``outbox=session`` (SQLAlchemy ``AsyncSession``) writes
        the send to the outbox table in the current transaction instead (see
        ``restate_web.outbox``)."""
        _require_loop("send")
        return _send(self, handler, arg, options, outbox, using)

    def attach(
        self, handler: HandlerArg, *, idempotency_key: str, **options: Unpack[ResultOptions]
    ) -> Coroutine[Any, Any, Any]:
        """Wait for the invocation of ``handler`` made with ``idempotency_key`` and return its
        result: how to pick up a call after ``IngressTimeout`` or ``IngressUnavailable``
        (``error.idempotency_key``) without starting a second invocation."""
        op = self._keyed_result_op("attach", handler, idempotency_key, options)
        return self._client._run(op, "attach")

    def output(
        self, handler: HandlerArg, *, idempotency_key: str, **options: Unpack[ResultOptions]
    ) -> Coroutine[Any, Any, Any]:
        """The result of the invocation of ``handler`` made with ``idempotency_key``, now;
        raises ``NotReady`` while it runs."""
        op = self._keyed_result_op("output", handler, idempotency_key, options)
        return self._client._run(op, "output")


class AsyncObjectHandle(AsyncServiceHandle):
    _kind = "object"


class AsyncWorkflowHandle(WorkflowHandleBase):
    _client: AsyncIngressClient

    @overload
    def submit(
        self, arg: Any = None, *, outbox: Literal[False] = False, **options: Unpack[SubmitOptions]
    ) -> Coroutine[Any, Any, AsyncSendHandle]: ...

    @overload
    def submit(
        self,
        arg: Any = None,
        *,
        outbox: Literal[True] | AsyncOutboxSession,
        using: str | None = None,
        **options: Unpack[SubmitOptions],
    ) -> Coroutine[Any, Any, OutboxHandle]: ...

    def submit(
        self,
        arg: Any = None,
        *,
        outbox: Any = False,
        using: str | None = None,
        **options: Unpack[SubmitOptions],
    ) -> Coroutine[Any, Any, AsyncSendHandle] | Coroutine[Any, Any, OutboxHandle]:
        """Start the workflow's run handler; submitting again finds the first run.
        ``outbox=``: written in the current transaction, sent after the commit."""
        _require_loop("submit")
        return _send(self, self._run_handler, arg, options, outbox, using, workflow_run=True)

    def call(
        self, handler: HandlerArg, arg: Any = None, **options: Unpack[CallOptions]
    ) -> Coroutine[Any, Any, Any]:
        """Call a shared handler of this workflow (e.g. a status query or a signal)."""
        _require_loop("call")
        return self._client._execute(self._call_op(handler, arg, options))

    @overload
    def send(
        self,
        handler: HandlerArg,
        arg: Any = None,
        *,
        outbox: Literal[False] = False,
        **options: Unpack[SendOptions],
    ) -> Coroutine[Any, Any, AsyncSendHandle]: ...

    @overload
    def send(
        self,
        handler: HandlerArg,
        arg: Any = None,
        *,
        outbox: Literal[True] | AsyncOutboxSession,
        using: str | None = None,
        **options: Unpack[SendOptions],
    ) -> Coroutine[Any, Any, OutboxHandle]: ...

    def send(
        self,
        handler: HandlerArg,
        arg: Any = None,
        *,
        outbox: Any = False,
        using: str | None = None,
        **options: Unpack[SendOptions],
    ) -> Coroutine[Any, Any, AsyncSendHandle] | Coroutine[Any, Any, OutboxHandle]:
        """Start a shared handler of this workflow without waiting (``outbox=``: see
        ``AsyncServiceHandle.send``)."""
        _require_loop("send")
        return _send(self, handler, arg, options, outbox, using)

    def attach(self, **options: Unpack[ResultOptions]) -> Coroutine[Any, Any, Any]:
        """Wait for the workflow to finish and return its result."""
        return self._client._run(self._result_op("attach", options), "attach")

    def output(self, **options: Unpack[ResultOptions]) -> Coroutine[Any, Any, Any]:
        """The workflow's result now; raises ``NotReady`` while it runs."""
        return self._client._run(self._result_op("output", options), "output")


class AsyncInvocationHandle(InvocationHandleBase):
    _client: AsyncIngressClient

    def attach(self, **options: Unpack[ResultOptions]) -> Coroutine[Any, Any, Any]:
        """Wait for the invocation to finish and return its result."""
        return self._client._run(self._result_op("attach", options), "attach")

    def output(self, **options: Unpack[ResultOptions]) -> Coroutine[Any, Any, Any]:
        """The invocation's result now; raises ``NotReady`` while it runs."""
        return self._client._run(self._result_op("output", options), "output")


class AsyncSendHandle(SendHandleBase, AsyncInvocationHandle):
    _client: AsyncIngressClient


class AsyncAwakeableHandle(AwakeableHandleBase):
    _client: AsyncIngressClient

    def resolve(
        self,
        payload: Any = None,
        *,
        content_type: str | None = None,
        timeout: float | httpx.Timeout | None = UNSET,
    ) -> Coroutine[Any, Any, None]:
        """Complete the awakeable with ``payload``; the durable handler waiting on it resumes."""
        return self._client._run(self._resolve_op(payload, content_type, timeout), "resolve")

    def reject(
        self, reason: str, *, timeout: float | httpx.Timeout | None = UNSET
    ) -> Coroutine[Any, Any, None]:
        """Fail the awakeable; the waiting handler gets a TerminalError with ``reason``."""
        return self._client._run(self._reject_op(reason, timeout), "reject")
