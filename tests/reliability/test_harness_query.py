"""RestateServer.query (the invocation counts the reliability suite relies on) answers JSON rows.

Regression: without ``Accept: application/json`` the admin API answers /query in Arrow IPC and
``query`` failed with UnicodeDecodeError.
"""

from __future__ import annotations

import uuid

from restate_web.ingress import IngressClient


def test_query_counts_invocations(restate_server, ingress_url):
    sql = (
        "select count(*) as n from sys_invocation "
        "where target_service_name = 'Greeter' and target_handler_name = 'greet'"
    )
    before = restate_server.query(sql)[0]["n"]
    with IngressClient(ingress_url) as client:
        # With a key the completed invocation is kept (idempotency retention) to be counted.
        client.service("Greeter").call("greet", "query", idempotency_key=uuid.uuid4().hex)
    after = restate_server.query(sql)[0]["n"]
    print(f"\n[harness query] greet invocations before={before} after={after}")
    assert isinstance(before, int)
    assert after >= before + 1
