"""The Django side of the outbox proofs: the same routes and body as tests/outbox/sa_app.py.

POST /sync/orders   a sync view: ``transaction.atomic()`` and ``request.restate`` (blocking)
POST /async/orders  an async view; the ORM work (and so the outbox row) runs in a worker thread
                    with ``sync_to_async``, where ``request.restate`` is the blocking client
"""

from __future__ import annotations

import json
import os
import signal
from typing import Any

from asgiref.sync import sync_to_async
from django.db import transaction
from django.http import HttpRequest, JsonResponse

from tests.outbox.django_site.shop.models import Order


class Rollback(Exception):
    pass


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _send(restate: Any, body: dict[str, Any]) -> Any:
    order, target = body["order"], body.get("target", "object")
    if target == "service":
        return restate.service("OutboxNotes").send("note", order, outbox=True)
    if target == "workflow":
        return restate.workflow("OutboxOrder", order).submit(order, outbox=True)
    return restate.object("OutboxLedger", body.get("key", "k")).send("append", order, outbox=True)


def _place(request: HttpRequest, body: dict[str, Any]) -> JsonResponse:
    try:
        with transaction.atomic():
            Order.objects.create(id=body["order"], ledger_key=body.get("key", "k"))
            if body.get("crash"):
                transaction.on_commit(_die)  # runs before the outbox's own on_commit below
            handle = _send(request.restate, body)
            if body.get("rollback"):
                raise Rollback
    except Rollback:
        return JsonResponse({"rolled_back": True}, status=409)
    return JsonResponse(
        {
            "row_id": handle.row_id,
            "idempotency_key": handle.idempotency_key,
            "invocation_id": handle.invocation_id,
        }
    )


def sync_order(request: HttpRequest) -> JsonResponse:
    return _place(request, json.loads(request.body))


async def async_order(request: HttpRequest) -> JsonResponse:
    body = json.loads(request.body)
    # Each request in a thread of its own (its own connection): real concurrent transactions.
    return await sync_to_async(_place, thread_sensitive=False)(request, body)


async def autocommit_order(request: HttpRequest) -> JsonResponse:
    """An async view, no transaction: ``await ...send(..., outbox=True)`` (autocommit)."""
    body = json.loads(request.body)
    handle = await request.restate.object("OutboxLedger", body["key"]).send(
        "append", body["order"], outbox=True
    )
    return JsonResponse({"row_id": handle.row_id, "invocation_id": handle.invocation_id})


def other_database_order(request: HttpRequest) -> JsonResponse:
    """A sync view writing to the database alias ``other``: ``using="other"``."""
    body = json.loads(request.body)
    with transaction.atomic(using="other"):
        handle = request.restate.object("OutboxLedger", body["key"]).send(
            "append", body["order"], outbox=True, using="other"
        )
    return JsonResponse({"row_id": handle.row_id, "invocation_id": handle.invocation_id})
