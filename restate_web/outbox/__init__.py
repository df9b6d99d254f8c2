"""A transactional outbox: send to Restate when the database transaction commits, exactly once.

Inside a transaction, ``send(..., outbox=True)`` (Django) or ``send(..., outbox=session)``
(SQLAlchemy ``Session``/``AsyncSession``) writes a row instead of calling Restate and returns
an ``OutboxHandle``. After the commit the row is sent with its idempotency key
(``outbox:<row id>``, or the web request's derived key); a rollback leaves nothing to send.
A relay (``restate-web outbox relay``) sends the rows the fast path missed. See the README's
"Transactional outbox".
"""

from ._core import OutboxError
from ._core import Policy as OutboxPolicy
from ._handle import OutboxHandle
from ._relay import Relay, RelayStats

__all__ = [
    "EngineDatabase",
    "OutboxError",
    "OutboxHandle",
    "OutboxPolicy",
    "Relay",
    "RelayStats",
    "outbox_table",
]


def __getattr__(name: str) -> object:
    # SQLAlchemy is optional: imported when its outbox table is asked for.
    if name == "outbox_table":
        from ._sqlalchemy import outbox_table

        return outbox_table
    if name in ("EngineDatabase", "AsyncEngineDatabase"):
        from . import _sqlalchemy

        return getattr(_sqlalchemy, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
