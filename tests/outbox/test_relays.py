"""Two relays at once: on PostgreSQL each row is held by one of them (``FOR UPDATE SKIP
LOCKED``), on SQLite they take turns through the database's write lock. Either way no row is
sent twice and each key's rows arrive in order.

The rows are written while Restate cannot be reached (the writers' client points at a closed
port), so the fast path fails and every row waits for the relays; then two
``restate-web outbox relay`` processes start together against the real restate-server. Each
logs the rows it delivered (``-v``); the logs are compared.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from restate_web.ingress import IngressClient, RetryPolicy
from restate_web.outbox import outbox_table
from restate_web.testing import free_port

from .conftest import ROOT, Database, ledger, wait_for

KEYS = 30
ROWS_PER_KEY = 10
SERVICE_ROWS = 30
DELIVERED = re.compile(r"delivered row ([0-9a-f-]{36}) as")


@pytest.mark.timeout(240)
@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_two_relays_at_once_send_nothing_twice(
    outbox_restate, postgres, shop_folder, restate, tmp_path, backend
):
    database = Database(backend, postgres if backend == "postgresql" else None, shop_folder)
    metadata = sa.MetaData()
    outbox_table(metadata)
    metadata.create_all(database.engine)
    run = uuid.uuid4().hex[:6]
    keys = [f"relays-{backend}-{run}-{k}" for k in range(KEYS)]
    unreachable = IngressClient(f"http://127.0.0.1:{free_port()}", retry=RetryPolicy.disabled())
    try:
        for n in range(ROWS_PER_KEY):
            with Session(database.engine) as session, session.begin():
                for key in keys:
                    unreachable.object("OutboxLedger", key).send(
                        "append", f"{key}-{n}", outbox=session
                    )
                for s in range(SERVICE_ROWS // ROWS_PER_KEY):
                    unreachable.service("OutboxNotes").send("note", f"{n}-{s}", outbox=session)
    finally:
        unreachable.close()
    total = KEYS * ROWS_PER_KEY + SERVICE_ROWS
    assert database.count("pending") == total

    logs = [tmp_path / f"relay-{n}.log" for n in (1, 2)]
    relays = []
    for log in logs:
        with open(log, "wb") as out:
            relays.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "restate_web.cli",
                        "outbox",
                        "relay",
                        "--database-url",
                        database.sync_url,
                        "--ingress-url",
                        outbox_restate.ingress_url,
                        "--interval",
                        "0.05",
                        "--batch-size",
                        "20",
                        "-v",
                    ],
                    cwd=ROOT,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                )
            )
    try:
        wait_for(lambda: database.count("pending") == 0, 120, "the two relays delivering all")
    finally:
        for relay in relays:
            if relay.poll() is None:
                relay.send_signal(signal.SIGTERM)
            relay.wait(30)
    # SIGTERM ends the loop after the round in flight: a clean exit with the totals.
    assert [relay.returncode for relay in relays] == [0, 0]
    assert all("outbox relay: delivered" in log.read_text() for log in logs)
    delivered = [DELIVERED.findall(log.read_text()) for log in logs]
    everything = delivered[0] + delivered[1]
    twice = len(everything) - len(set(everything))
    print(
        f"\n[two relays {backend}] rows={total} relay1={len(delivered[0])} "
        f"relay2={len(delivered[1])} sent_twice={twice}"
    )
    assert twice == 0
    assert len(everything) == total
    rows = database.rows()
    assert {row.id for row in rows} == set(everything)
    for key in keys:
        in_seq = [
            json.loads(bytes(r.body)) for r in rows if r.ordering_key == f"OutboxLedger/{key}"
        ]
        assert in_seq == [f"{key}-{n}" for n in range(ROWS_PER_KEY)]
        assert ledger(restate, key) == in_seq
    database.close()
