"""``send(..., outbox=True)`` with Django's ORM: the row joins the transaction of ``using``
(``transaction.atomic``), and ``transaction.on_commit`` delivers it."""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Iterator
from typing import Any

from asgiref.sync import sync_to_async
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction

from ...ingress import IngressClient
from ...ingress._clients import BaseClient
from ...outbox._core import (
    OutboxError,
    OutboxRow,
    Policy,
    Sql,
    delivery_round,
    order_lock,
    table_must_exist,
)
from ...outbox._handle import OutboxHandle
from ...outbox._runner import Execute, quick_client, run_plan

logger = logging.getLogger("restate_web.outbox")


def dialect_of(alias: str) -> str:
    vendor = connections[alias].vendor
    if vendor not in ("sqlite", "postgresql"):
        raise OutboxError(
            f"the Restate outbox supports SQLite and PostgreSQL; database {alias!r} is {vendor}"
        )
    return str(vendor)


class DjangoDatabase:
    """The outbox table of one Django database alias, for the delivery plans."""

    def __init__(self, alias: str = DEFAULT_DB_ALIAS, *, long_running: bool = False) -> None:
        self.alias = alias
        self.dialect = dialect_of(alias)
        self.long_running = long_running

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Execute]:
        connection = connections[self.alias]
        if self.long_running and not connection.in_atomic_block:
            # A long-running relay outlives connections (a database restart): as Django does
            # between requests, drop a broken one so this round opens a new one.
            connection.close_if_unusable_or_obsolete()
        with transaction.atomic(using=self.alias), connection.cursor() as cursor:

            def execute(step: Sql) -> Any:
                cursor.execute(step.sql, step.params)
                return cursor.fetchall() if step.fetch else cursor.rowcount

            yield execute


def _blocking_client(client: BaseClient) -> IngressClient:
    if isinstance(client, IngressClient):
        return client
    binding = client.binding
    integration = getattr(binding, "integration", None)
    if integration is not None:
        return integration.sync_client()  # type: ignore[no-any-return]
    from ._runtime import get_integration

    return get_integration().sync_client()


def write(row: OutboxRow, client: BaseClient, using: str | None) -> OutboxHandle:
    from .models import OutboxMessage

    alias = using or DEFAULT_DB_ALIAS
    dialect = dialect_of(alias)
    handle = OutboxHandle(row)
    # Outside atomic() this is the row's own transaction (autocommit: delivered at once);
    # inside, it joins the caller's and on_commit waits for the outermost commit.
    with table_must_exist(DatabaseError), transaction.atomic(using=alias, savepoint=False):
        lock = order_lock(dialect, row)
        if lock is not None:
            with connections[alias].cursor() as cursor:
                cursor.execute(*lock)
        message = OutboxMessage.objects.using(alias).create(
            **{("row_id" if name == "id" else name): value for name, value in row.values().items()}
        )
        transaction.on_commit(
            functools.partial(_deliver, alias, int(message.seq), handle, _blocking_client(client)),
            using=alias,
        )
    return handle


async def awrite(row: OutboxRow, client: BaseClient, using: str | None) -> OutboxHandle:
    # The ORM is blocking: the write (and the delivery after its commit) runs in Django's
    # thread for sync work, as any ORM call from async code does.
    return await sync_to_async(write)(row, client, using)


def _deliver(alias: str, seq: int, handle: OutboxHandle, client: IngressClient) -> None:
    """The fast path, after the commit. Never raises: the row is committed, and whatever
    happens here the relay delivers it."""
    try:
        database = DjangoDatabase(alias)
        result = run_plan(
            database, quick_client(client), delivery_round(database.dialect, Policy(), seqs=[seq])
        )
    except Exception:
        logger.warning(
            "outbox: delivering row %s after the commit failed; the relay will deliver it",
            handle.row_id,
            exc_info=True,
        )
        return
    invocation = result.delivered_ids.get(handle.row_id)
    if invocation is not None:
        handle._mark_delivered(invocation)


__all__ = ["DjangoDatabase", "awrite", "write"]
