"""Rollback: nothing sent. Commit: sent once. For every shop (Django and SQLAlchemy on SQLite
and PostgreSQL), from sync and async views, to a Virtual Object, a service and a workflow.

Each view inserts an order row and sends with ``outbox=`` in one transaction (tests/outbox/
sa_app.py and django_site/views.py); the answers come from the real restate-server.
"""

from __future__ import annotations

import uuid

import pytest

from .conftest import (
    SHOP_IDS,
    SHOPS,
    invocations_with_key,
    ledger,
    wait_for,
    workflow_runs,
)


@pytest.mark.timeout(240)
@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize(("framework", "backend"), SHOPS, ids=SHOP_IDS)
def test_rollback_sends_nothing_and_commit_sends_once(
    shops, restate, outbox_restate, framework, backend, mode
):
    shop = shops(framework, backend)
    key = f"{framework}-{backend}-{mode}-{uuid.uuid4().hex[:6]}"
    rows_before = len(shop.database.rows())

    rolled = shop.order(mode, order=f"{key}-rolled", key=key, rollback=True)
    assert rolled.status_code == 409
    committed = shop.order(mode, order=f"{key}-1", key=key)
    assert committed.status_code == 200, committed.text
    answer = committed.json()
    assert answer["idempotency_key"] == f"outbox:{answer['row_id']}"

    service = shop.order(mode, order=f"{key}-note", key=key, target="service").json()
    workflow = shop.order(mode, order=f"{key}-wf", key=key, target="workflow").json()
    assert workflow["idempotency_key"] is None  # a workflow run: its key makes it unique

    # Delivered right after the commit (the async SQLAlchemy view's fast path is a task that
    # may finish after the answer): no relay runs in this test.
    rows = wait_for(
        lambda: (
            [r for r in shop.database.rows()[rows_before:] if r.state == "delivered"]
            if all(r.state == "delivered" for r in shop.database.rows()[rows_before:])
            else None
        ),
        30,
        "the fast path delivering the committed rows",
    )
    assert len(rows) == 3, "the rolled-back send left a row"
    assert ledger(restate, key) == [f"{key}-1"]
    assert invocations_with_key(outbox_restate, "OutboxNotes", service["idempotency_key"]) == 1
    assert workflow_runs(outbox_restate, f"{key}-wf") == 1
    by_id = {r.id: r for r in rows}
    if answer["invocation_id"] is not None:  # the fast path ran before the view answered
        assert by_id[answer["row_id"]].invocation_id == answer["invocation_id"]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_django_async_view_autocommit_and_another_database(shops, restate, backend):
    """``await request.restate...send(..., outbox=True)`` from an async view without a
    transaction delivers at once; ``using="other"`` writes the row to that database, where
    ``manage.py restate outbox-relay --database other`` finds it."""
    import httpx

    shop = shops("django", backend)
    key = f"django-extra-{backend}-{uuid.uuid4().hex[:6]}"
    auto = httpx.post(f"{shop.url}/autocommit/orders", json={"order": f"{key}-a", "key": key})
    assert auto.status_code == 200, auto.text
    assert auto.json()["invocation_id"] is not None  # autocommit: delivered before the answer
    other = httpx.post(f"{shop.url}/other/orders", json={"order": f"{key}-b", "key": key})
    assert other.status_code == 200, other.text
    assert other.json()["invocation_id"] is not None
    assert other.json()["row_id"] not in {row.id for row in shop.database.rows()}
    assert "delivered 0," in shop.relay_once_argv("--database", "other")
    assert ledger(restate, key) == [f"{key}-a", f"{key}-b"]
