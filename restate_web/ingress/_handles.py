"""What the sync and async handles share: turning handle method arguments into operations.

The public handle classes (in ``_sync`` and ``_async``) only add the one line that executes the
operation, blocking or awaiting.
"""

from __future__ import annotations

import difflib
import sys
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, Protocol

import httpx

from . import _core
from ._core import UNSET, Operation, SendReceipt, Target
from ._serde import Codec, HandlerRef, handler_ref

if sys.version_info >= (3, 11):
    from typing import TypedDict, Unpack
else:  # pragma: no cover - exercised on 3.10 only
    from typing_extensions import TypedDict, Unpack

if TYPE_CHECKING:
    from ._clients import BaseClient

HandlerArg = str | Callable[..., Any]
"""A handler name, or (with restate-sdk installed) the decorated handler function itself."""


class OutboxSession(Protocol):
    """A SQLAlchemy ``Session`` (what ``outbox=`` takes besides True), as type checkers see it."""

    def get_bind(self, *args: Any, **kwargs: Any) -> Any: ...

    def execute(self, *args: Any, **kwargs: Any) -> Any: ...


class AsyncOutboxSession(Protocol):
    """A SQLAlchemy ``AsyncSession`` (what an async client's ``outbox=`` takes besides True)."""

    @property
    def sync_session(self) -> Any: ...

    async def execute(self, *args: Any, **kwargs: Any) -> Any: ...


class CallOptions(TypedDict, total=False):
    idempotency_key: str | None
    """Restate runs the handler once per key; later calls with it get the first result."""
    headers: Mapping[str, str] | None
    """Extra headers for this call (stored in Restate's journal: never pass secrets)."""
    timeout: float | httpx.Timeout | None
    """Deadline of this call in seconds, retries included (None: none). Default: the client's."""
    response_type: Any
    """Decode the result into this type: a dataclass, pydantic model, bytes, str, list[...]..."""
    content_type: str | None
    """Content type of the argument; needed for raw ``bytes`` that are not octet-stream."""


class SendOptions(TypedDict, total=False):
    delay: timedelta | None
    """Run the handler this much later."""
    idempotency_key: str | None
    headers: Mapping[str, str] | None
    timeout: float | httpx.Timeout | None
    content_type: str | None


class SubmitOptions(TypedDict, total=False):
    delay: timedelta | None
    headers: Mapping[str, str] | None
    timeout: float | httpx.Timeout | None
    content_type: str | None


class ResultOptions(TypedDict, total=False):
    timeout: float | httpx.Timeout | None
    response_type: Any


CALL_OPTIONS = frozenset(CallOptions.__annotations__)
SEND_OPTIONS = frozenset(SendOptions.__annotations__)
# idempotency_key is accepted to be refused with the reason (the workflow key makes a run unique).
SUBMIT_OPTIONS = frozenset(SubmitOptions.__annotations__) | {"idempotency_key"}
RESULT_OPTIONS = frozenset(ResultOptions.__annotations__)


def check_options(options: Mapping[str, Any], accepted: frozenset[str], method: str) -> None:
    """TypeError for a keyword the method does not take: a misspelt ``idempotency_kye=`` would
    otherwise send without a key (the TypedDicts are checked by type checkers only)."""
    if accepted.issuperset(options):
        return
    unknown = sorted(set(options) - accepted)[0]
    close = difflib.get_close_matches(unknown, accepted, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise TypeError(
        f"{method}() got an unexpected keyword argument {unknown!r}{hint} "
        f"(it takes {', '.join(sorted(accepted))})"
    )


def _timeout(options: Mapping[str, Any]) -> Any:
    timeout = options.get("timeout", UNSET)
    if timeout is not UNSET:
        _core.deadline_of(timeout)  # TypeError/ValueError now, at the call
    return timeout


def check_no_using(using: str | None) -> None:
    """``using=`` names the database of an outbox write; without ``outbox=True`` it would be
    ignored, and the send would go to Restate at once."""
    if using is not None:
        raise TypeError("using= goes with outbox=True (the database the row is written to)")


class TargetHandleBase:
    """A service, virtual object or workflow instance that calls and sends go to."""

    _kind: Literal["service", "object", "workflow"]

    def __init__(self, client: BaseClient, service: str, key: str | None = None) -> None:
        self._client = client
        self._service = service
        self._key = key

    @property
    def name(self) -> str:
        return self._service

    @property
    def key(self) -> str | None:
        return self._key

    def __repr__(self) -> str:
        key = "" if self._key is None else f", {self._key!r}"
        return f"<{type(self).__name__} {self._service!r}{key}>"

    def _target(self, handler: HandlerArg) -> tuple[Target, HandlerRef | None]:
        ref = handler_ref(handler)
        if ref is not None:
            if ref.service != self._service:
                raise ValueError(
                    f"handler {ref.service}/{ref.handler} does not belong to {self._service!r}; "
                    f"use restate.{self._kind}({ref.service!r}, ...) for it"
                )
            name = ref.handler
        elif isinstance(handler, str) and handler:
            name = handler
        else:
            raise TypeError(
                f"expected a handler name or a restate-sdk handler function, got {handler!r}"
            )
        return Target(self._kind, self._service, name, self._key), ref

    def _call_op(self, handler: HandlerArg, arg: Any, options: CallOptions) -> Operation[Any]:
        check_options(options, CALL_OPTIONS, "call")
        target, ref = self._target(handler)
        return _core.call_operation(
            self._client._context,
            target,
            arg,
            idempotency_key=options.get("idempotency_key"),
            headers=options.get("headers"),
            timeout=_timeout(options),
            response_type=options.get("response_type"),
            content_type=options.get("content_type"),
            input_codec=ref.input_codec if ref else None,
            output_codec=ref.output_codec if ref else None,
        )

    def _send_op(
        self,
        handler: HandlerArg,
        arg: Any,
        options: SendOptions | SubmitOptions,
        *,
        workflow_run: bool = False,
    ) -> tuple[Operation[SendReceipt], Codec | None]:
        if workflow_run:
            check_options(options, SUBMIT_OPTIONS, "submit")
        else:
            check_options(options, SEND_OPTIONS, "send")
        target, ref = self._target(handler)
        op = _core.send_operation(
            self._client._context,
            target,
            arg,
            delay=options.get("delay"),
            idempotency_key=options.get("idempotency_key"),  # type: ignore[arg-type]
            headers=options.get("headers"),
            timeout=_timeout(options),
            content_type=options.get("content_type"),
            input_codec=ref.input_codec if ref else None,
            workflow_run=workflow_run,
        )
        return op, ref.output_codec if ref else None

    def _keyed_result_op(
        self,
        what: Literal["attach", "output"],
        handler: HandlerArg,
        idempotency_key: str,
        options: ResultOptions,
    ) -> Operation[Any]:
        check_options(options, RESULT_OPTIONS, what)
        target, ref = self._target(handler)
        return _core.result_operation(
            self._client._context,
            f"/restate/{what}",
            f"{what} {target} by idempotency key",
            timeout=_timeout(options),
            response_type=options.get("response_type"),
            output_codec=ref.output_codec if ref else None,
            idempotency_key=idempotency_key,
            find_body=_core.keyed_invocation_body(target, idempotency_key),
        )


class WorkflowHandleBase(TargetHandleBase):
    _kind = "workflow"

    def __init__(
        self, client: BaseClient, service: str, key: str, run_handler: HandlerArg = "run"
    ) -> None:
        super().__init__(client, service, key)
        self._run_handler = run_handler

    def _result_op(
        self, what: Literal["attach", "output"], options: ResultOptions
    ) -> Operation[Any]:
        check_options(options, RESULT_OPTIONS, what)
        assert self._key is not None
        ref = handler_ref(self._run_handler)
        return _core.result_operation(
            self._client._context,
            _core.workflow_path(self._service, self._key, what),
            f"{what} workflow {self._service}[{self._key!r}]",
            timeout=_timeout(options),
            response_type=options.get("response_type"),
            output_codec=ref.output_codec if ref else None,
        )


class InvocationHandleBase:
    """An invocation known by its id: its result can be awaited (attach) or fetched (output)."""

    def __init__(
        self, client: BaseClient, invocation_id: str, output_codec: Codec | None = None
    ) -> None:
        self._client = client
        self._invocation_id = invocation_id
        self._output_codec = output_codec

    @property
    def invocation_id(self) -> str:
        return self._invocation_id

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._invocation_id}>"

    def _result_op(
        self, what: Literal["attach", "output"], options: ResultOptions
    ) -> Operation[Any]:
        check_options(options, RESULT_OPTIONS, what)
        return _core.result_operation(
            self._client._context,
            _core.invocation_path(self._invocation_id, what),
            f"{what} invocation {self._invocation_id}",
            timeout=_timeout(options),
            response_type=options.get("response_type"),
            output_codec=self._output_codec,
        )


class SendHandleBase(InvocationHandleBase):
    """The answer to a send: which invocation it started (or found) and when it will run."""

    def __init__(
        self, client: BaseClient, receipt: SendReceipt, output_codec: Codec | None = None
    ) -> None:
        super().__init__(client, receipt.invocation_id, output_codec)
        self._receipt = receipt

    @property
    def status(self) -> str:
        """``"Accepted"`` for a new invocation, ``"PreviouslyAccepted"`` for a repeated key."""
        return self._receipt.status

    @property
    def execution_time(self) -> datetime | None:
        """When a delayed send will run, as Restate reported it."""
        return self._receipt.execution_time

    @property
    def attachable(self) -> bool:
        """Whether ``attach()``/``output()`` can work: the send had an idempotency key."""
        return self._receipt.attachable

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.invocation_id} {self.status}>"

    def _result_op(
        self, what: Literal["attach", "output"], options: ResultOptions
    ) -> Operation[Any]:
        if not self._receipt.attachable:
            raise ValueError(
                f"cannot {what} invocation {self.invocation_id}: Restate only keeps the result of "
                "sends made with an idempotency key. Pass idempotency_key= to send() to get one"
            )
        return super()._result_op(what, options)


class AwakeableHandleBase:
    """An awakeable created by a durable handler, completed from outside by its id."""

    def __init__(self, client: BaseClient, awakeable_id: str) -> None:
        self._client = client
        self._awakeable_id = awakeable_id

    @property
    def id(self) -> str:
        return self._awakeable_id

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._awakeable_id}>"

    def _resolve_op(self, payload: Any, content_type: str | None, timeout: Any) -> Operation[None]:
        _timeout({"timeout": timeout})
        return _core.awakeable_operation(
            self._client._context,
            self._awakeable_id,
            "resolve",
            payload,
            content_type=content_type,
            timeout=timeout,
        )

    def _reject_op(self, reason: str, timeout: Any) -> Operation[None]:
        _timeout({"timeout": timeout})
        return _core.awakeable_operation(
            self._client._context,
            self._awakeable_id,
            "reject",
            reason,
            content_type=None,
            timeout=timeout,
        )


__all__ = [
    "AsyncOutboxSession",
    "AwakeableHandleBase",
    "CallOptions",
    "HandlerArg",
    "InvocationHandleBase",
    "OutboxSession",
    "ResultOptions",
    "SendHandleBase",
    "SendOptions",
    "SubmitOptions",
    "TargetHandleBase",
    "Unpack",
    "WorkflowHandleBase",
]
