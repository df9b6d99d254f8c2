"""``OutboxHandle``: what a send with ``outbox=`` returns, and the dispatch to the database
integration (Django for ``outbox=True``, SQLAlchemy for ``outbox=session``)."""

from __future__ import annotations

from collections.abc import Coroutine, Mapping
from typing import TYPE_CHECKING, Any

from ._core import OutboxError, OutboxRow, prepare_row, with_key

if TYPE_CHECKING:
    from ..ingress._handles import HandlerArg, TargetHandleBase


class OutboxHandle:
    """A send written to the outbox table in the caller's transaction.

    ``row_id`` is known at once; ``idempotency_key`` is the key every delivery of the row
    carries (``outbox:<row id>``, the request's derived key, or the one passed), the key to
    attach with. ``invocation_id`` is set once the fast path has delivered the row in this
    process (None while it waits for the commit, after a rollback, or when the relay delivers
    it instead).
    """

    __slots__ = ("_invocation_id", "_row")

    def __init__(self, row: OutboxRow) -> None:
        self._row = row
        self._invocation_id: str | None = None

    @property
    def row_id(self) -> str:
        return self._row.id

    @property
    def idempotency_key(self) -> str | None:
        """None only for a workflow's run, which its workflow key makes unique."""
        return self._row.idempotency_key

    @property
    def target(self) -> str:
        return self._row.target

    @property
    def invocation_id(self) -> str | None:
        return self._invocation_id

    @property
    def delivered(self) -> bool:
        return self._invocation_id is not None

    def _mark_delivered(self, invocation_id: str) -> None:
        self._invocation_id = invocation_id

    def __repr__(self) -> str:
        state = self._invocation_id or "pending"
        return f"<OutboxHandle {self._row.id} {self.target} {state}>"


def _is_sqlalchemy_session(value: Any) -> bool:
    return type(value).__module__.startswith("sqlalchemy.")


def _require_django() -> None:
    """``outbox=True`` writes the row with Django's ORM: Django must be set up here."""
    from .._optional import require

    require("django", "django", "send(..., outbox=True)")
    from django.apps import apps
    from django.conf import settings

    if (
        not settings.configured
        or not apps.ready
        or not apps.is_installed("restate_web.adapters.django")
    ):
        raise OutboxError(
            "send(..., outbox=True) writes the row with Django's ORM, and Django is not set up "
            "here: it needs configured settings with 'restate_web.adapters.django' in "
            "INSTALLED_APPS (and django.setup()). Without Django pass the SQLAlchemy Session "
            "or AsyncSession of your transaction: send(..., outbox=session)"
        )


def _check(outbox: Any, using: str | None) -> None:
    if outbox is True:
        _require_django()
        return
    if using is not None and outbox is not True:
        raise TypeError(
            "using= names the Django database of outbox=True; with SQLAlchemy pass the session "
            "itself (outbox=session)"
        )
    if not _is_sqlalchemy_session(outbox):
        raise TypeError(
            "outbox= takes True (Django: the row joins the current transaction of the database "
            f"using=, default 'default') or a SQLAlchemy Session or AsyncSession, got {outbox!r}"
        )


def outbox_send(
    handle: TargetHandleBase,
    handler: HandlerArg,
    arg: Any,
    options: Mapping[str, Any],
    outbox: Any,
    using: str | None,
    *,
    workflow_run: bool = False,
) -> OutboxHandle:
    """``send(..., outbox=...)`` of a blocking client: write the row now."""
    _check(outbox, using)
    row, pending = prepare_row(handle, handler, arg, options, workflow_run=workflow_run)
    if pending is not None:
        row = with_key(row, pending.reserved.get())
    client = handle._client
    if outbox is True:
        from ..adapters.django import _outbox as django_outbox

        return django_outbox.write(row, client, using)
    if type(outbox).__name__ == "AsyncSession":
        raise OutboxError(
            "outbox= got an AsyncSession from the blocking client: use the AsyncIngressClient "
            "(await ...send(..., outbox=session)), or pass a sync Session"
        )
    from . import _sqlalchemy

    return _sqlalchemy.write(outbox, row, client)


def aoutbox_send(
    handle: TargetHandleBase,
    handler: HandlerArg,
    arg: Any,
    options: Mapping[str, Any],
    outbox: Any,
    using: str | None,
    *,
    workflow_run: bool = False,
) -> Coroutine[Any, Any, OutboxHandle]:
    """``send(..., outbox=...)`` of an async client: checked (and a derived key reserved)
    now, in program order; written when awaited."""
    _check(outbox, using)
    if outbox is not True and type(outbox).__name__ not in ("AsyncSession", "async_scoped_session"):
        raise OutboxError(
            "outbox= got a sync SQLAlchemy Session from the async client: pass an AsyncSession, "
            "or use the blocking IngressClient with a sync Session"
        )
    row, pending = prepare_row(handle, handler, arg, options, workflow_run=workflow_run)
    return _awrite(handle, row, pending, outbox, using)


async def _awrite(
    handle: TargetHandleBase, row: OutboxRow, pending: Any, outbox: Any, using: str | None
) -> OutboxHandle:
    if pending is not None:
        row = with_key(row, await pending.reserved.aget())
    client = handle._client
    if outbox is True:
        from ..adapters.django import _outbox as django_outbox

        return await django_outbox.awrite(row, client, using)
    from . import _sqlalchemy

    return await _sqlalchemy.awrite(outbox, row, client)
