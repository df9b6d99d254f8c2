"""The blocking and asyncio shells that run the outbox plans (``_core``) against a database
and Restate: they only move statements, rows and answers around."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import dataclasses
from collections.abc import Callable, Generator, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any, Protocol, TypeVar

from ..ingress import AsyncIngressClient, IngressClient
from ..ingress._clients import BaseClient
from ..ingress._core import RequestContext, RetryPolicy, to_timeout
from ._core import Delivered, Failed, OutboxRow, Outcome, SendGroups, Sql, Step

R = TypeVar("R")
C = TypeVar("C", bound=BaseClient)


# The fast path runs right after the web request's commit, inside the request: it tries once
# more at most and gives up within seconds (the relay delivers what it leaves).
FAST_PATH_RETRY = RetryPolicy(max_attempts=2, max_duration=2.0)
FAST_PATH_DEADLINE = 10.0
# Groups (keys) are independent: the relay sends up to this many at once.
SEND_CONCURRENCY = 16

Execute = Callable[[Sql], Any]


class SyncDatabase(Protocol):
    """Where outbox rows live, for blocking code: ``transaction()`` runs statements in one
    transaction (committed when the block ends without an exception)."""

    dialect: str

    def transaction(self) -> contextlib.AbstractContextManager[Execute]: ...


class AsyncDatabase(Protocol):
    dialect: str

    def transaction(self) -> contextlib.AbstractAsyncContextManager[Any]: ...


def quick_client(client: C) -> C:
    """A view of ``client`` for the fast path: few retries, a short deadline, no binding."""
    config = dataclasses.replace(
        client._config,
        retry=FAST_PATH_RETRY,
        deadline=FAST_PATH_DEADLINE,
        timeout=to_timeout(FAST_PATH_DEADLINE),
    )
    view = copy.copy(client)
    view._config = config
    view._context = RequestContext(config, None)
    view._owns_http = False
    return view


def _send_arguments(row: OutboxRow) -> dict[str, Any]:
    options: dict[str, Any] = {"content_type": row.content_type}
    if row.headers:
        options["headers"] = dict(row.headers)
    if row.delay_ms:
        options["delay"] = timedelta(milliseconds=row.delay_ms)
    if row.kind != "workflow-run":
        options["idempotency_key"] = row.idempotency_key
    return options


def _target(client: Any, row: OutboxRow) -> Any:
    if row.kind == "service":
        return client.service(row.service)
    if row.kind == "object":
        return client.object(row.service, row.object_key)
    return client.workflow(row.service, row.object_key, run_handler=row.handler)


def send_row(client: IngressClient, row: OutboxRow) -> str:
    """Send one row; the invocation id (the same one for every re-send of the row)."""
    target = _target(client, row)
    if row.kind == "workflow-run":
        return str(target.submit(row.body, **_send_arguments(row)).invocation_id)
    return str(target.send(row.handler, row.body, **_send_arguments(row)).invocation_id)


async def asend_row(client: AsyncIngressClient, row: OutboxRow) -> str:
    target = _target(client, row)
    if row.kind == "workflow-run":
        handle = await target.submit(row.body, **_send_arguments(row))
    else:
        handle = await target.send(row.handler, row.body, **_send_arguments(row))
    return str(handle.invocation_id)


def _send_group(client: IngressClient, group: tuple[OutboxRow, ...]) -> dict[int, Outcome]:
    outcomes: dict[int, Outcome] = {}
    for row in group:
        try:
            outcomes[row.seq or 0] = Delivered(send_row(client, row))
        except Exception as error:  # recorded on the row and logged once per round
            outcomes[row.seq or 0] = Failed(error)
            break
    return outcomes


async def _asend_group(
    client: AsyncIngressClient, group: tuple[OutboxRow, ...]
) -> dict[int, Outcome]:
    outcomes: dict[int, Outcome] = {}
    for row in group:
        try:
            outcomes[row.seq or 0] = Delivered(await asend_row(client, row))
        except Exception as error:  # recorded on the row and logged once per round
            outcomes[row.seq or 0] = Failed(error)
            break
    return outcomes


def send_groups(client: IngressClient, step: SendGroups) -> dict[int, Outcome]:
    if len(step.groups) == 1:
        return _send_group(client, step.groups[0])
    outcomes: dict[int, Outcome] = {}
    workers = min(SEND_CONCURRENCY, len(step.groups))
    with ThreadPoolExecutor(workers, thread_name_prefix="restate-outbox") as pool:
        for found in pool.map(lambda group: _send_group(client, group), step.groups):
            outcomes.update(found)
    return outcomes


async def asend_groups(client: AsyncIngressClient, step: SendGroups) -> dict[int, Outcome]:
    limit = asyncio.Semaphore(SEND_CONCURRENCY)

    async def one(group: tuple[OutboxRow, ...]) -> dict[int, Outcome]:
        async with limit:
            return await _asend_group(client, group)

    outcomes: dict[int, Outcome] = {}
    for found in await asyncio.gather(*(one(group) for group in step.groups)):
        outcomes.update(found)
    return outcomes


def drive(
    plan: Generator[Step, Any, R],
    execute: Execute,
    send: Callable[[SendGroups], Mapping[int, Outcome]],
) -> R:
    """Run ``plan`` to its end: statements through ``execute``, sends through ``send``."""
    answer: Any = None
    while True:
        try:
            step = plan.send(answer)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        answer = execute(step) if isinstance(step, Sql) else send(step)


async def adrive(
    plan: Generator[Step, Any, R],
    execute: Callable[[Sql], Any],
    send: Callable[[SendGroups], Any],
) -> R:
    answer: Any = None
    while True:
        try:
            step = plan.send(answer)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        answer = await (execute(step) if isinstance(step, Sql) else send(step))


def run_plan(database: SyncDatabase, client: IngressClient, plan: Generator[Step, Any, R]) -> R:
    """``plan`` in one transaction of ``database``, its sends through ``client``."""
    with database.transaction() as execute:
        return drive(plan, execute, lambda step: send_groups(client, step))


async def arun_plan(
    database: AsyncDatabase, client: AsyncIngressClient, plan: Generator[Step, Any, R]
) -> R:
    async with database.transaction() as execute:
        return await adrive(plan, execute, lambda step: asend_groups(client, step))


def qmark(sql: str) -> str:
    """``%s`` placeholders as ``?`` (sqlite3's paramstyle)."""
    return sql.replace("%s", "?")
