"""What the outbox is for: the web app dies between the commit and the send, Restate is down at
the commit, a web request is retried. Each ends with exactly one invocation.

Crashes are real: the view's process SIGKILLs itself right after the commit, before the
outbox's fast path (tests/outbox/sa_app.py, django_site/views.py); Restate is really stopped.
The relay runs as the command users run: ``manage.py restate outbox-relay`` (Django),
``flask restate outbox-relay`` and ``restate-web outbox relay`` (SQLAlchemy).
"""

from __future__ import annotations

import uuid

import httpx
import pytest

from .conftest import SHOP_IDS, SHOPS, invocations_with_key, ledger, wait_for

ENTRY = {("django", "sync"): "django", ("django", "async"): "django"}
ENTRY |= {("sqlalchemy", "sync"): "flask", ("sqlalchemy", "async"): "restate-web"}


def _rows_of(shop, row_id):
    return [row for row in shop.database.rows() if row.id == row_id]


@pytest.mark.timeout(240)
@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize(("framework", "backend"), SHOPS, ids=SHOP_IDS)
def test_app_killed_after_commit_then_relay_delivers_once(shops, restate, framework, backend, mode):
    shop = shops(framework, backend)
    key = f"crash-{framework}-{backend}-{mode}-{uuid.uuid4().hex[:6]}"
    before = {row.id for row in shop.database.rows()}
    with pytest.raises(httpx.HTTPError):
        shop.order(mode, order=f"{key}-1", key=key, crash=True)
    shop.app.kill()
    shop.start()

    new = [row for row in shop.database.rows() if row.id not in before]
    assert [row.state for row in new] == ["pending"], "the commit did not survive the crash"
    assert ledger(restate, key) == [], "something was sent before the process died"

    output = shop.relay_once(ENTRY[(framework, mode)])
    assert "delivered 1," in output, output
    assert _rows_of(shop, new[0].id)[0].state == "delivered"
    assert ledger(restate, key) == [f"{key}-1"]

    # The relay dies after sending and before recording it: the row is sent again with the
    # same idempotency key, and Restate still runs it once.
    with shop.database.engine.begin() as connection:
        connection.exec_driver_sql(
            "UPDATE restate_web_outbox SET state = 'pending' WHERE id = "
            + ("?" if backend == "sqlite" else "%s"),
            (new[0].id,),
        )
    assert "delivered 1," in shop.relay_once(ENTRY[(framework, mode)])
    assert "delivered 0," in shop.relay_once(ENTRY[(framework, mode)])
    assert ledger(restate, key) == [f"{key}-1"]


@pytest.mark.timeout(300)
def test_restate_down_at_commit_rows_wait_then_relay_delivers(shops, restate, outbox_restate):
    cases = [
        (framework, backend, mode) for framework, backend in SHOPS for mode in ("sync", "async")
    ]
    run = uuid.uuid4().hex[:6]
    for framework, backend in SHOPS:
        shops(framework, backend)  # started while Restate is up
    outbox_restate.stop()
    try:
        answers = {}
        for framework, backend, mode in cases:
            key = f"down-{framework}-{backend}-{mode}-{run}"
            response = shops(framework, backend).order(mode, order=f"{key}-1", key=key)
            assert response.status_code == 200, response.text  # the order is taken
            answers[(framework, backend, mode)] = response.json()
            assert response.json()["invocation_id"] is None
        for (framework, backend, _mode), answer in answers.items():
            shop = shops(framework, backend)
            # The async SQLAlchemy fast path finishes after the answer: wait for its attempt.
            row = wait_for(
                lambda shop=shop, answer=answer: next(
                    (r for r in _rows_of(shop, answer["row_id"]) if r.attempts >= 1), None
                ),
                30,
                "the fast path's failed attempt",
            )
            assert row.state == "pending"
    finally:
        outbox_restate.start_again()

    for framework, backend in SHOPS:
        shop = shops(framework, backend)

        def drained(shop=shop):
            shop.relay_once()  # rows may still be backing off after the failed attempt
            return shop.database.count("pending") == 0

        wait_for(drained, 60, f"the relay delivering {framework}-{backend}'s waiting rows")
    for (framework, backend, mode), answer in answers.items():
        key = f"down-{framework}-{backend}-{mode}-{run}"
        assert ledger(restate, key) == [f"{key}-1"]
        assert invocations_with_key(outbox_restate, "OutboxLedger", answer["idempotency_key"]) == 1


@pytest.mark.timeout(120)
@pytest.mark.parametrize("framework", ["django", "sqlalchemy"])
def test_a_retried_web_request_is_one_invocation(shops, restate, framework):
    """With an Idempotency-Key on the web request, the row carries the request's derived key:
    a retry of a request that did commit (its answer was lost) writes a second row, and
    Restate recognises its send as the first one."""
    shop = shops(framework, "sqlite")
    key = f"retry-{framework}-{uuid.uuid4().hex[:6]}"
    headers = {"Idempotency-Key": f'"{key}"'}
    answers = [
        httpx.post(
            f"{shop.url}/sync/orders", json={"order": f"{key}-{n}", "key": key}, headers=headers
        ).json()
        for n in (1, 2)
    ]
    assert answers[0]["idempotency_key"] == answers[1]["idempotency_key"]
    assert not answers[0]["idempotency_key"].startswith("outbox:")
    assert answers[0]["invocation_id"] == answers[1]["invocation_id"] is not None
    assert ledger(restate, key) == [f"{key}-1"]
