"""A FastAPI shop on SQLAlchemy for the outbox proofs (served by uvicorn in a child process).

POST /sync/orders   a ``def`` view: a sync ``Session``, the request's ``IngressClient``
POST /async/orders  an ``async def`` view: an ``AsyncSession``, the ``AsyncIngressClient``

Body: {"order": id, "key": ledger key, "target": "object"|"service"|"workflow",
"rollback": bool, "crash": bool}. Each inserts the order row and sends with ``outbox=session``
in one transaction; ``rollback`` raises inside it; ``crash`` SIGKILLs this process right after
the commit, before the outbox's fast path (an ``after_commit`` listener put first).
Databases: $OUTBOX_SYNC_URL and $OUTBOX_ASYNC_URL (SQLAlchemy URLs of the same database).
"""

from __future__ import annotations

import os
import signal
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import Session

from restate_web.adapters.fastapi import AsyncRestateClient, Restate, RestateClient
from restate_web.outbox import outbox_table

metadata = sa.MetaData()
orders = sa.Table(
    "shop_orders",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("ledger_key", sa.String(64), nullable=False),
)
outbox_table(metadata)

SQLITE_ARGS = {"timeout": 60}
sync_url = os.environ["OUTBOX_SYNC_URL"]
async_url = os.environ["OUTBOX_ASYNC_URL"]
engine = sa.create_engine(
    sync_url, connect_args=SQLITE_ARGS if sync_url.startswith("sqlite") else {}, pool_size=20
)
async_engine = create_async_engine(
    async_url, connect_args=SQLITE_ARGS if async_url.startswith("sqlite") else {}, pool_size=20
)
metadata.create_all(engine)

app = FastAPI()
Restate(app)


class OrderIn(BaseModel):
    order: str
    key: str = "k"
    target: str = "object"
    rollback: bool = False
    crash: bool = False


class Rollback(Exception):
    pass


def _die(_session: Any) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _answer(handle: Any) -> dict[str, Any]:
    return {
        "row_id": handle.row_id,
        "idempotency_key": handle.idempotency_key,
        "invocation_id": handle.invocation_id,
    }


def _send(restate: Any, body: OrderIn, session: Any) -> Any:
    if body.target == "service":
        return restate.service("OutboxNotes").send("note", body.order, outbox=session)
    if body.target == "workflow":
        return restate.workflow("OutboxOrder", body.order).submit(body.order, outbox=session)
    return restate.object("OutboxLedger", body.key).send("append", body.order, outbox=session)


@app.post("/sync/orders")
def sync_order(body: OrderIn, restate: RestateClient) -> Any:
    with Session(engine) as session:
        try:
            with session.begin():
                session.execute(orders.insert().values(id=body.order, ledger_key=body.key))
                handle = _send(restate, body, session)
                if body.crash:
                    event.listen(session, "after_commit", _die, insert=True)
                if body.rollback:
                    raise Rollback
        except Rollback:
            return JSONResponse({"rolled_back": True}, status_code=409)
    return _answer(handle)


@app.post("/async/orders")
async def async_order(body: OrderIn, restate: AsyncRestateClient) -> Any:
    async with AsyncSession(async_engine) as session:
        try:
            async with session.begin():
                await session.execute(orders.insert().values(id=body.order, ledger_key=body.key))
                handle = await _send(restate, body, session)
                if body.crash:
                    event.listen(session.sync_session, "after_commit", _die, insert=True)
                if body.rollback:
                    raise Rollback
        except Rollback:
            return JSONResponse({"rolled_back": True}, status_code=409)
    return _answer(handle)
