"""``send(..., outbox=session)`` with SQLAlchemy: the row joins the session's transaction, and
the session's ``after_commit`` event delivers it (sync ``Session`` and ``AsyncSession``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

from .._optional import require

require("sqlalchemy", "sqlalchemy", "the Restate outbox with SQLAlchemy (outbox=session)")

import sqlalchemy as sa  # noqa: E402
from sqlalchemy import event  # noqa: E402
from sqlalchemy.engine import Connection, Engine  # noqa: E402
from sqlalchemy.orm import scoped_session  # noqa: E402

from ..ingress import AsyncIngressClient, IngressClient  # noqa: E402
from ..ingress._clients import BaseClient  # noqa: E402
from ._core import (  # noqa: E402
    TABLE,
    OutboxError,
    OutboxRow,
    Policy,
    Sql,
    delivery_round,
    order_lock,
    table_must_exist,
)
from ._handle import OutboxHandle  # noqa: E402
from ._runner import Execute, arun_plan, qmark, quick_client, run_plan  # noqa: E402

logger = logging.getLogger("restate_web.outbox")

_INFO_KEY = "restate_web.outbox"


def outbox_table(metadata: sa.MetaData) -> sa.Table:
    """The outbox ``Table`` in ``metadata`` (added once; the same table Django's migration
    creates), so that ``metadata.create_all()`` and Alembic autogenerate include it."""
    existing = metadata.tables.get(TABLE)
    if existing is not None:
        return existing
    return sa.Table(
        TABLE,
        metadata,
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("id", sa.String(36), nullable=False, unique=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("service", sa.String(255), nullable=False),
        sa.Column("object_key", sa.Text()),
        sa.Column("handler", sa.String(255), nullable=False),
        sa.Column("ordering_key", sa.Text()),
        sa.Column("body", sa.LargeBinary()),
        sa.Column("content_type", sa.String(255)),
        sa.Column("headers", sa.Text(), nullable=False, server_default="{}"),
        sa.Column("delay_ms", sa.BigInteger()),
        sa.Column("idempotency_key", sa.String(512)),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("state", sa.String(10), nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.Float(), nullable=False),
        sa.Column("last_error", sa.Text()),
        sa.Column("invocation_id", sa.String(255)),
        sa.Column("delivered_at", sa.Float()),
        sa.Index("restate_web_outbox_ready", "state", "next_attempt_at", "seq"),
        sa.Index("restate_web_outbox_order", "ordering_key", "state", "seq"),
    )


_table = outbox_table(sa.MetaData())


def dialect_of(bind: Engine | Connection) -> str:
    name = bind.dialect.name
    if name not in ("sqlite", "postgresql"):
        raise OutboxError(f"the Restate outbox supports SQLite and PostgreSQL, not {name}")
    return name


def _statement(dialect: str, step: Sql) -> str:
    return qmark(step.sql) if dialect == "sqlite" else step.sql


class EngineDatabase:
    """The outbox table reached through a SQLAlchemy ``Engine`` (blocking)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = dialect_of(engine)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Execute]:
        with self.engine.begin() as connection:

            def execute(step: Sql) -> Any:
                result = connection.exec_driver_sql(_statement(self.dialect, step), step.params)
                return result.fetchall() if step.fetch else result.rowcount

            yield execute


class AsyncEngineDatabase:
    """The outbox table reached through a SQLAlchemy ``AsyncEngine``."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.dialect = dialect_of(engine.sync_engine)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Any]:
        async with self.engine.begin() as connection:

            async def execute(step: Sql) -> Any:
                result = await connection.exec_driver_sql(
                    _statement(self.dialect, step), step.params
                )
                return result.fetchall() if step.fetch else result.rowcount

            yield execute


def _insert(row: OutboxRow) -> Any:
    return sa.insert(_table).values(**row.values()).returning(_table.c.seq)


def _lock_statement(dialect: str, row: OutboxRow) -> Any:
    lock = order_lock(dialect, row)
    if lock is None:
        return None
    sql, params = lock
    return sa.text(sql.replace("%s", ":key")).bindparams(key=params[0])


_COMMITTED_KEY = "restate_web.outbox.committed"


def _pending(sync_session: Any) -> list[tuple[int, OutboxHandle, Any]]:
    info = sync_session.info
    pending: list[tuple[int, OutboxHandle, Any]] | None = info.get(_INFO_KEY)
    if pending is None:
        pending = info[_INFO_KEY] = []
        event.listen(sync_session, "after_commit", _after_commit)
        event.listen(sync_session, "after_rollback", _after_rollback)
        event.listen(sync_session, "after_transaction_end", _after_transaction_end)
    return pending


def _after_rollback(sync_session: Any) -> None:
    pending = sync_session.info.get(_INFO_KEY)
    if pending:
        pending.clear()  # rolled back: those rows do not exist


def _after_commit(sync_session: Any) -> None:
    pending = sync_session.info.get(_INFO_KEY)
    if pending:
        sync_session.info.setdefault(_COMMITTED_KEY, []).extend(pending)
        pending.clear()


def _after_transaction_end(sync_session: Any, transaction: Any) -> None:
    # Delivered once the session has given its connection back to the pool (after_commit
    # still holds it: delivering there would need a second connection per request).
    if transaction.parent is not None:
        return
    pending = sync_session.info.get(_INFO_KEY)
    if pending:
        pending.clear()  # the transaction ended without a commit (closed, rolled back)
    entries = sync_session.info.pop(_COMMITTED_KEY, None)
    if not entries:
        return
    sync_entries = [entry for entry in entries if not isinstance(entry[2], tuple)]
    async_entries = [entry for entry in entries if isinstance(entry[2], tuple)]
    if sync_entries:
        _deliver(sync_session.get_bind(), sync_entries)
    if async_entries:
        # AsyncSession: the event runs inside its commit, on the event loop; deliver in a task
        # so that the commit returns at once.
        task = asyncio.get_running_loop().create_task(_adeliver(async_entries))
        _tasks.add(task)
        task.add_done_callback(_tasks.discard)


_tasks: set[asyncio.Task[None]] = set()


def write(session: Any, row: OutboxRow, client: BaseClient) -> OutboxHandle:
    """Add ``row`` to the transaction of the sync ``session``."""
    if isinstance(session, scoped_session):
        session = session()  # Flask-SQLAlchemy's db.session: this thread's Session
    if not isinstance(client, IngressClient):
        raise OutboxError(
            "outbox= got a sync Session from the async client: pass an AsyncSession, or use "
            "the blocking IngressClient"
        )
    dialect = dialect_of(session.get_bind())
    lock = _lock_statement(dialect, row)
    with table_must_exist(sa.exc.DBAPIError):
        if lock is not None:
            session.execute(lock)
        seq = session.execute(_insert(row)).scalar_one()
    handle = OutboxHandle(row)
    _pending(session).append((int(seq), handle, quick_client(client)))
    return handle


async def awrite(session: Any, row: OutboxRow, client: BaseClient) -> OutboxHandle:
    """Add ``row`` to the transaction of ``session`` (an ``AsyncSession``)."""
    if not isinstance(client, AsyncIngressClient):
        raise OutboxError(
            "outbox= got an AsyncSession from the blocking client: use an AsyncIngressClient"
        )
    from sqlalchemy.ext.asyncio import AsyncEngine, async_scoped_session

    if isinstance(session, async_scoped_session):
        session = session()
    sync_session = session.sync_session
    engine = AsyncEngine(sync_session.get_bind())
    dialect = dialect_of(engine.sync_engine)
    lock = _lock_statement(dialect, row)
    with table_must_exist(sa.exc.DBAPIError):
        if lock is not None:
            await session.execute(lock)
        seq = (await session.execute(_insert(row))).scalar_one()
    handle = OutboxHandle(row)
    _pending(sync_session).append((int(seq), handle, (engine, quick_client(client))))
    return handle


def _deliver(bind: Any, entries: list[tuple[int, OutboxHandle, Any]]) -> None:
    engine = bind.engine if isinstance(bind, Connection) else bind
    try:
        database = EngineDatabase(engine)
        result = run_plan(
            database,
            entries[0][2],
            delivery_round(database.dialect, Policy(), seqs=[seq for seq, _, _ in entries]),
        )
    except Exception:
        _delivery_failed(entries)
        return
    _mark_delivered(entries, result.delivered_ids)


async def _adeliver(entries: list[tuple[int, OutboxHandle, Any]]) -> None:
    engine, client = entries[0][2]
    try:
        database = AsyncEngineDatabase(engine)
        result = await arun_plan(
            database,
            client,
            delivery_round(database.dialect, Policy(), seqs=[seq for seq, _, _ in entries]),
        )
    except Exception:
        _delivery_failed(entries)
        return
    _mark_delivered(entries, result.delivered_ids)


def _delivery_failed(entries: list[tuple[int, OutboxHandle, Any]]) -> None:
    # The rows are committed: the relay delivers them later, so this is not the caller's error.
    logger.warning(
        "outbox: delivering %d row(s) after the commit failed; the relay will deliver them",
        len(entries),
        exc_info=True,
    )


def _mark_delivered(
    entries: list[tuple[int, OutboxHandle, Any]], delivered_ids: Mapping[str, str]
) -> None:
    for _seq, handle, _client in entries:
        invocation = delivered_ids.get(handle.row_id)
        if invocation is not None:
            handle._mark_delivered(invocation)
