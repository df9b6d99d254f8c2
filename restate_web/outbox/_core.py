"""The transactional outbox, without I/O: the row, the SQL, and the delivery rounds.

A send made with ``outbox=`` is written as a row in the caller's database transaction instead
of going to Restate. After the commit the row is delivered (the fast path); a relay delivers
what the fast path missed. Every delivery carries the row's idempotency key, so delivering a
row twice starts one invocation.

The integrations (Django, SQLAlchemy) only insert rows and run the plans here: a plan is a
generator that yields ``Sql`` and ``SendGroups`` steps and receives their results, so one plan
serves blocking and asyncio shells alike (``_runner``).

Ordering: rows of one Virtual Object or workflow key (their ``ordering_key``) are sent in
commit order. Writers make ``seq`` follow commit order per key (PostgreSQL: a transaction-level
advisory lock on the key before the insert; SQLite: one writer at a time anyway), and a
deliverer sends a key's rows only as the unbroken prefix of that key's pending rows it holds.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import time
import uuid
from collections.abc import Generator, Iterator, Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal

from ..ingress._core import IDEMPOTENCY_HEADER

if TYPE_CHECKING:
    from ..ingress._handles import HandlerArg, TargetHandleBase

logger = logging.getLogger("restate_web.outbox")

TABLE = "restate_web_outbox"
PENDING = "pending"
DELIVERED = "delivered"
DEAD = "dead"

Dialect = Literal["sqlite", "postgresql"]

# Restate's default idempotency retention (1 day): a row is only sent while a re-send is still
# recognised as the same invocation, with a margin for clocks and the send itself.
DEFAULT_IDEMPOTENCY_RETENTION = timedelta(days=1)
DEFAULT_DEAD_LETTER_MARGIN = timedelta(hours=1)
DEFAULT_DELIVERED_RETENTION = timedelta(days=1)
MAX_BACKOFF = 30.0

COLUMNS = (
    "seq",
    "id",
    "kind",
    "service",
    "object_key",
    "handler",
    "ordering_key",
    "body",
    "content_type",
    "headers",
    "delay_ms",
    "idempotency_key",
    "created_at",
    "attempts",
)
_SELECT = ", ".join(COLUMNS)


class OutboxError(RuntimeError):
    """The outbox was used in a way that cannot work; the message says what to do instead."""


def missing_table_hint(error: BaseException) -> str | None:
    """What to do when a database ``error`` says the outbox table does not exist, else None.

    Read from the message: the drivers' errors (sqlite3, psycopg, Django's) share no class.
    """
    text = str(error)
    lowered = text.lower()
    if TABLE in text and ("no such table" in lowered or "does not exist" in lowered):
        return (
            f"the database has no table {TABLE}: create it with outbox_table(Base.metadata) "
            "and metadata.create_all(engine) (or an Alembic migration), or under Django with "
            "`manage.py migrate`"
        )
    return None


@contextlib.contextmanager
def table_must_exist(errors: type[Exception] | tuple[type[Exception], ...]) -> Iterator[None]:
    """Around an outbox write: a database error saying the outbox table does not exist becomes
    an ``OutboxError`` that says how to create it (the driver's error is its cause)."""
    try:
        yield
    except errors as error:
        hint = missing_table_hint(error)
        if hint is None:
            raise
        raise OutboxError(f"cannot write to the outbox: {hint}") from error


@dataclasses.dataclass(frozen=True)
class OutboxRow:
    """One send waiting in (or read back from) the outbox table."""

    seq: int | None
    id: str
    kind: str  # "service" | "object" | "workflow" | "workflow-run"
    service: str
    object_key: str | None
    handler: str
    ordering_key: str | None
    body: bytes | None
    content_type: str | None
    headers: Mapping[str, str]
    delay_ms: int | None
    idempotency_key: str | None
    created_at: float
    attempts: int = 0

    @property
    def target(self) -> str:
        key = "" if self.object_key is None else f"[{self.object_key!r}]"
        return f"{self.service}{key}/{self.handler}"

    def values(self) -> dict[str, Any]:
        """The columns of a new row (``seq`` is assigned by the database)."""
        return {
            "id": self.id,
            "kind": self.kind,
            "service": self.service,
            "object_key": self.object_key,
            "handler": self.handler,
            "ordering_key": self.ordering_key,
            "body": self.body,
            "content_type": self.content_type,
            "headers": json.dumps(dict(self.headers), separators=(",", ":")),
            "delay_ms": self.delay_ms,
            "idempotency_key": self.idempotency_key,
            "created_at": self.created_at,
            "state": PENDING,
            "attempts": 0,
            "next_attempt_at": self.created_at,
        }

    @classmethod
    def from_db(cls, record: Sequence[Any]) -> OutboxRow:
        values = dict(zip(COLUMNS, record, strict=True))
        body = values["body"]
        values["body"] = None if body is None else bytes(body)
        values["headers"] = json.loads(values["headers"] or "{}")
        values["seq"] = int(values["seq"])
        values["created_at"] = float(values["created_at"])
        values["attempts"] = int(values["attempts"] or 0)
        return cls(**values)


class PendingKey:
    """A derived key still to be resolved (the request's principal may need an await)."""

    __slots__ = ("reserved",)

    def __init__(self, reserved: Any) -> None:
        self.reserved = reserved


def prepare_row(
    handle: TargetHandleBase,
    handler: HandlerArg,
    arg: Any,
    options: Mapping[str, Any],
    *,
    workflow_run: bool = False,
) -> tuple[OutboxRow, PendingKey | None]:
    """The row a send becomes, built exactly as the send itself would be (same checks, same
    encoding, same forwarded headers, the same derived idempotency key reserved in program
    order). The second value is a derived key the caller resolves (``get``/``aget``)."""
    op, _codec = handle._send_op(handler, arg, options, workflow_run=workflow_run)  # type: ignore[arg-type]
    target, _ref = handle._target(handler)
    spec = op.request
    headers = {
        name: value
        for name, value in spec.headers.items()
        if name not in (IDEMPOTENCY_HEADER, "content-type")
    }
    delay = spec.params.get("delay")
    delay_ms = int(delay[:-2]) if delay else None
    row_id = str(uuid.uuid4())
    if workflow_run:
        kind, key = "workflow-run", None
    else:
        kind = target.kind
        key = op.idempotency_key or (None if op.reserved_key else f"outbox:{row_id}")
    ordering = None if target.key is None else f"{target.service}/{target.key}"
    row = OutboxRow(
        seq=None,
        id=row_id,
        kind=kind,
        service=target.service,
        object_key=target.key,
        handler=target.handler,
        ordering_key=ordering,
        body=spec.content,
        content_type=spec.headers.get("content-type"),
        headers=headers,
        delay_ms=delay_ms,
        idempotency_key=key,
        created_at=time.time(),
    )
    pending = PendingKey(op.reserved_key) if op.reserved_key is not None else None
    return row, pending


def with_key(row: OutboxRow, key: str) -> OutboxRow:
    return dataclasses.replace(row, idempotency_key=key)


def order_lock(dialect: str, row: OutboxRow) -> tuple[str, tuple[Any, ...]] | None:
    """The statement a writer runs before inserting a keyed row, so that rows of one key get
    their ``seq`` in commit order (PostgreSQL; SQLite has one writer at a time)."""
    if dialect != "postgresql" or row.ordering_key is None:
        return None
    digest = hashlib.blake2b(row.ordering_key.encode(), digest_size=8).digest()
    return "SELECT pg_advisory_xact_lock(%s)", (int.from_bytes(digest, "big", signed=True),)


# --- the delivery plan ----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Sql:
    """Run ``sql`` (``%s`` placeholders) in the plan's transaction; ``fetch``: send back rows."""

    sql: str
    params: tuple[Any, ...] = ()
    fetch: bool = False


@dataclasses.dataclass(frozen=True)
class Delivered:
    invocation_id: str


@dataclasses.dataclass(frozen=True)
class Failed:
    error: BaseException


Outcome = Delivered | Failed


@dataclasses.dataclass(frozen=True)
class SendGroups:
    """Send each group's rows in order, stopping a group at its first failure; groups are
    independent (the shell may send them concurrently). The result maps seq -> ``Outcome``
    for every row that was attempted."""

    groups: tuple[tuple[OutboxRow, ...], ...]


Step = Sql | SendGroups


@dataclasses.dataclass
class RoundResult:
    delivered: int = 0
    failed: int = 0
    dead: int = 0
    held: int = 0
    """Rows this round looked at (0: nothing was ready)."""
    delivered_ids: dict[str, str] = dataclasses.field(default_factory=dict)
    """row id -> invocation id of the rows delivered in this round."""


@dataclasses.dataclass(frozen=True)
class Policy:
    """When rows are given up on, kept, and retried."""

    idempotency_retention: timedelta = DEFAULT_IDEMPOTENCY_RETENTION
    dead_letter_margin: timedelta = DEFAULT_DEAD_LETTER_MARGIN
    delivered_retention: timedelta = DEFAULT_DELIVERED_RETENTION
    batch_size: int = 100

    def __post_init__(self) -> None:
        if self.dead_letter_margin >= self.idempotency_retention:
            raise ValueError(
                "the dead-letter margin must be shorter than the idempotency retention "
                f"({self.dead_letter_margin} >= {self.idempotency_retention})"
            )
        if self.batch_size < 1:
            raise ValueError("batch_size must be at least 1")

    def dead_before(self, now: float) -> float:
        """Rows created before this are too old to send: a re-send might run twice."""
        return now - (self.idempotency_retention - self.dead_letter_margin).total_seconds()


def backoff(attempts: int) -> float:
    return float(min(MAX_BACKOFF, 0.5 * 2 ** min(attempts, 12)))


def _placeholders(count: int) -> str:
    return ", ".join(["%s"] * count)


def _write_lock(dialect: str) -> Sql | None:
    # SQLite: take the database's write lock first (a transaction that reads first could not
    # upgrade and would fail with "database is locked"), so deliverers take turns.
    if dialect == "postgresql":
        return None
    return Sql(f"UPDATE {TABLE} SET state = state WHERE seq = 0")  # noqa: S608


def delivery_round(
    dialect: str,
    policy: Policy,
    *,
    seqs: Sequence[int] | None = None,
    now: float | None = None,
) -> Generator[Step, Any, RoundResult]:
    """One transaction of delivery: the rows ``seqs`` (the fast path after a commit), or the
    oldest ready rows (the relay). Rows another deliverer holds are skipped, never waited for
    (PostgreSQL ``FOR UPDATE SKIP LOCKED``); a key's rows go out only as the prefix of its
    pending rows that this round holds, so a later row never overtakes an earlier one."""
    now = time.time() if now is None else now
    pg = dialect == "postgresql"
    skip_locked = " FOR UPDATE SKIP LOCKED" if pg else ""
    lock = _write_lock(dialect)
    if lock is not None:
        yield lock
    if seqs is not None:
        if not seqs:
            return RoundResult()
        records = yield Sql(
            f"SELECT {_SELECT} FROM {TABLE} WHERE state = %s AND seq IN "  # noqa: S608
            f"({_placeholders(len(seqs))}) ORDER BY seq{skip_locked}",
            (PENDING, *seqs),
            fetch=True,
        )
    else:
        records = yield Sql(
            f"SELECT {_SELECT} FROM {TABLE} WHERE state = %s AND next_attempt_at <= %s "  # noqa: S608
            f"ORDER BY seq LIMIT %s{skip_locked}",
            (PENDING, now, policy.batch_size),
            fetch=True,
        )
    held: dict[int, OutboxRow] = {}
    for record in records:
        row = OutboxRow.from_db(record)
        assert row.seq is not None
        held[row.seq] = row
    result = RoundResult(held=len(held))
    if not held:
        return result

    groups: list[tuple[OutboxRow, ...]] = []
    keys_seen: set[str] = set()
    for row in sorted(held.values(), key=lambda r: r.seq or 0):
        key = row.ordering_key
        if key is None:
            groups.append((row,))
            continue
        if key in keys_seen:
            continue
        keys_seen.add(key)
        last = max(seq for seq, r in held.items() if r.ordering_key == key)
        # Earlier rows of the key that nobody holds (a crashed app's, a failed fast path's)
        # are taken along, so the key's rows go out in order.
        earlier = yield Sql(
            f"SELECT {_SELECT} FROM {TABLE} WHERE ordering_key = %s AND state = %s "  # noqa: S608
            f"AND seq < %s ORDER BY seq{skip_locked}",
            (key, PENDING, last),
            fetch=True,
        )
        for record in earlier:
            extra = OutboxRow.from_db(record)
            assert extra.seq is not None
            held.setdefault(extra.seq, extra)
        pending = yield Sql(
            f"SELECT seq, next_attempt_at FROM {TABLE} WHERE ordering_key = %s "  # noqa: S608
            "AND state = %s ORDER BY seq",
            (key, PENDING),
            fetch=True,
        )
        if seqs is None and pending and float(pending[0][1]) > now:
            continue  # the key's oldest row is backing off: its later rows wait for it
        prefix: list[OutboxRow] = []
        for seq, _next in pending:
            found = held.get(int(seq))
            if found is None:
                break  # another deliverer holds this one: what follows must wait for it
            prefix.append(found)
        if prefix:
            groups.append(tuple(prefix))

    dead_before = policy.dead_before(now)
    sendable: list[tuple[OutboxRow, ...]] = []
    for group in groups:
        keep: list[OutboxRow] = []
        for row in group:
            if row.created_at < dead_before:
                yield _dead_letter(row, now)
                result.dead += 1
            else:
                keep.append(row)
        if keep:
            sendable.append(tuple(keep))
    if not sendable:
        return result

    outcomes: Mapping[int, Outcome] = yield SendGroups(tuple(sendable))
    first_error: BaseException | None = None
    for group in sendable:
        for row in group:
            outcome = outcomes.get(row.seq or 0)
            if isinstance(outcome, Delivered):
                yield Sql(
                    f"UPDATE {TABLE} SET state = %s, invocation_id = %s, delivered_at = %s, "  # noqa: S608
                    "attempts = attempts + 1, last_error = NULL WHERE seq = %s",
                    (DELIVERED, outcome.invocation_id, now, row.seq),
                )
                result.delivered += 1
                result.delivered_ids[row.id] = outcome.invocation_id
                logger.debug("outbox: delivered row %s as %s", row.id, outcome.invocation_id)
            elif isinstance(outcome, Failed):
                # The fast path's failure does not delay the relay: only the relay backs off.
                backoff_until = now if seqs is not None else now + backoff(row.attempts)
                yield Sql(
                    f"UPDATE {TABLE} SET attempts = attempts + 1, last_error = %s, "  # noqa: S608
                    "next_attempt_at = %s WHERE seq = %s",
                    (_describe(outcome.error), backoff_until, row.seq),
                )
                result.failed += 1
                first_error = first_error or outcome.error
    if first_error is not None:
        logger.warning(
            "outbox: %d row(s) not delivered %s (%s); %s",
            result.failed,
            "after the commit" if seqs is not None else "by the relay",
            first_error,
            "the relay will deliver them" if seqs is not None else "retrying with backoff",
        )
    return result


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:1000]


def _dead_letter(row: OutboxRow, now: float) -> Sql:
    age = timedelta(seconds=int(now - row.created_at))
    logger.error(
        "outbox row %s (%s, idempotency key %r) was not delivered within the idempotency "
        "retention (age %s): dead-lettered instead of sent, because Restate may no longer "
        "recognise a re-send and the handler could run twice. Check whether the invocation "
        "exists (restate invocations list) and send it again by hand if it does not",
        row.id,
        row.target,
        row.idempotency_key,
        age,
    )
    return Sql(
        f"UPDATE {TABLE} SET state = %s, last_error = %s WHERE seq = %s",  # noqa: S608
        (DEAD, f"dead-lettered after {age}: older than the idempotency retention", row.seq),
    )


def housekeeping(
    dialect: str, policy: Policy, *, now: float | None = None
) -> Generator[Step, Any, tuple[int, int]]:
    """Delete delivered rows past their retention and dead-letter pending rows too old to send.
    Returns (deleted, dead-lettered)."""
    now = time.time() if now is None else now
    lock = _write_lock(dialect)
    if lock is not None:
        yield lock
    skip_locked = " FOR UPDATE SKIP LOCKED" if dialect == "postgresql" else ""
    stale = yield Sql(
        f"SELECT {_SELECT} FROM {TABLE} WHERE state = %s AND created_at < %s "  # noqa: S608
        f"ORDER BY seq{skip_locked}",
        (PENDING, policy.dead_before(now)),
        fetch=True,
    )
    for record in stale:
        yield _dead_letter(OutboxRow.from_db(record), now)
    deleted = yield Sql(
        f"DELETE FROM {TABLE} WHERE state = %s AND delivered_at < %s",  # noqa: S608
        (DELIVERED, now - policy.delivered_retention.total_seconds()),
    )
    return int(deleted or 0), len(stale)
