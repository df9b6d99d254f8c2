"""The asyncio client: ``AsyncIngressClient``, the same API as ``IngressClient`` with ``await``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Literal, TypeVar

import httpx
import tenacity

from . import _core
from ._clients import DEFAULT_ASYNC_LIMITS, BaseClient
from ._core import UNSET, Operation, RetryPolicy
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
)
from ._serde import service_name
from ._sync import _check_key

T = TypeVar("T")


class AsyncIngressClient(BaseClient):
    """Calls Restate handlers from asyncio code through the HTTP ingress.

    Takes the same arguments as ``IngressClient`` (with an ``httpx.AsyncBaseTransport``). Bind
    it to one event loop: create it in your app's lifespan, not at import time.
    """

    _http: httpx.AsyncClient

    def __init__(
        self,
        base_url: str | None = None,
        *,
        token: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | httpx.Timeout | None = UNSET,
        retry: RetryPolicy | bool | None = True,
        limits: httpx.Limits = DEFAULT_ASYNC_LIMITS,
        auto_idempotency_keys: bool = False,
        http2: bool = False,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(
            base_url,
            token=token,
            headers=headers,
            timeout=timeout,
            retry=retry,
            limits=limits,
            auto_idempotency_keys=auto_idempotency_keys,
            http2=http2,
        )
        self._http = httpx.AsyncClient(**self._http_kwargs(transport))

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
            response = await self._http.send(request)
        except httpx.TransportError as exc:
            raise _core.transport_failure(exc, op, self.base_url) from exc
        return op.parse(response)

    async def _prepare_binding(self) -> None:
        """Let the request binding finish asynchronous work (e.g. load the user that scopes its
        keys) before an operation that may derive a key is built."""
        binding = self._context.binding
        if binding is not None:
            prepare = getattr(binding, "aprepare", None)
            if prepare is not None:
                await prepare()

    async def _execute(self, op: Operation[T]) -> T:
        request = self._build_request(op)
        started = time.monotonic()
        try:
            return await self._attempt(request, op)
        except IngressError as error:
            plan = self._retry_after_first(error, op, started)
            if plan is None:
                final = self._final_error(error, 1, started)
                if final is error:
                    raise
                raise final from error
        first_wait, retry_kwargs = plan
        await asyncio.sleep(first_wait)
        attempts = 1
        try:
            async for attempt in tenacity.AsyncRetrying(**retry_kwargs):
                with attempt:
                    attempts += 1
                    return await self._attempt(request, op)
        except IngressError as error:
            final = self._final_error(error, attempts, started)
            if final is error:
                raise
            raise final from error
        raise AssertionError("unreachable: tenacity re-raises the last error")  # pragma: no cover


async def _call(
    handle: AsyncServiceHandle | AsyncWorkflowHandle,
    handler: HandlerArg,
    arg: Any,
    options: CallOptions,
) -> Any:
    """``call`` of service, object and workflow handles. The binding (if any) finishes its async
    work first (e.g. loading the user its keys depend on): the key is derived as the op is built."""
    await handle._client._prepare_binding()
    return await handle._client._execute(handle._call_op(handler, arg, options))


async def _send(
    handle: AsyncServiceHandle | AsyncWorkflowHandle,
    handler: HandlerArg,
    arg: Any,
    options: SendOptions,
) -> AsyncSendHandle:
    """``send`` of service, object and workflow handles (see ``_call``)."""
    await handle._client._prepare_binding()
    op, codec = handle._send_op(handler, arg, options)
    return AsyncSendHandle(handle._client, await handle._client._execute(op), codec)


class AsyncServiceHandle(TargetHandleBase):
    _kind: Literal["service", "object", "workflow"]
    _client: AsyncIngressClient
    _kind = "service"

    async def call(
        self, handler: HandlerArg, arg: Any = None, **options: Unpack[CallOptions]
    ) -> Any:
        """Run ``handler`` with ``arg`` and return its result (waits for it)."""
        return await _call(self, handler, arg, options)

    async def send(
        self, handler: HandlerArg, arg: Any = None, **options: Unpack[SendOptions]
    ) -> AsyncSendHandle:
        """Start ``handler`` with ``arg`` without waiting; optionally ``delay`` it."""
        return await _send(self, handler, arg, options)


class AsyncObjectHandle(AsyncServiceHandle):
    _kind = "object"


class AsyncWorkflowHandle(WorkflowHandleBase):
    _client: AsyncIngressClient

    async def submit(self, arg: Any = None, **options: Unpack[SubmitOptions]) -> AsyncSendHandle:
        """Start the workflow's run handler; submitting again finds the first run."""
        op, codec = self._send_op(self._run_handler, arg, options, workflow_run=True)
        return AsyncSendHandle(self._client, await self._client._execute(op), codec)

    async def call(
        self, handler: HandlerArg, arg: Any = None, **options: Unpack[CallOptions]
    ) -> Any:
        """Call a shared handler of this workflow (e.g. a status query or a signal)."""
        return await _call(self, handler, arg, options)

    async def send(
        self, handler: HandlerArg, arg: Any = None, **options: Unpack[SendOptions]
    ) -> AsyncSendHandle:
        """Start a shared handler of this workflow without waiting."""
        return await _send(self, handler, arg, options)

    async def attach(self, **options: Unpack[ResultOptions]) -> Any:
        """Wait for the workflow to finish and return its result."""
        return await self._client._execute(self._result_op("attach", options))

    async def output(self, **options: Unpack[ResultOptions]) -> Any:
        """The workflow's result now; raises ``NotReady`` while it runs."""
        return await self._client._execute(self._result_op("output", options))


class AsyncInvocationHandle(InvocationHandleBase):
    _client: AsyncIngressClient

    async def attach(self, **options: Unpack[ResultOptions]) -> Any:
        """Wait for the invocation to finish and return its result."""
        return await self._client._execute(self._result_op("attach", options))

    async def output(self, **options: Unpack[ResultOptions]) -> Any:
        """The invocation's result now; raises ``NotReady`` while it runs."""
        return await self._client._execute(self._result_op("output", options))


class AsyncSendHandle(SendHandleBase, AsyncInvocationHandle):
    _client: AsyncIngressClient


class AsyncAwakeableHandle(AwakeableHandleBase):
    _client: AsyncIngressClient

    async def resolve(
        self,
        payload: Any = None,
        *,
        content_type: str | None = None,
        timeout: float | httpx.Timeout | None = UNSET,
    ) -> None:
        """Complete the awakeable with ``payload``; the durable handler waiting on it resumes."""
        await self._client._execute(self._resolve_op(payload, content_type, timeout))

    async def reject(self, reason: str, *, timeout: float | httpx.Timeout | None = UNSET) -> None:
        """Fail the awakeable; the waiting handler gets a TerminalError with ``reason``."""
        await self._client._execute(self._reject_op(reason, timeout))
