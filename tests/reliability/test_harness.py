"""The harness the reliability suite relies on (restate_web.testing), where it had bugs.

- ``RestateServer.query`` answered Arrow IPC instead of JSON rows (no ``Accept`` header).
- ``ServiceProcess.kill`` SIGKILLed hypercorn's supervisor only: its worker process lived on,
  kept the port and answered requests after the "crash".
"""

from __future__ import annotations

import os
import socket
import uuid
from pathlib import Path

import httpx
import pytest

from restate_web.ingress import IngressClient
from restate_web.testing import ServiceProcess, free_port
from tests.conftest import ROOT


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


@pytest.mark.parametrize("server", ["hypercorn", "uvicorn"])
def test_kill_stops_the_workers_too(server):
    app = (
        "wsgi:tests.reliability.flask_app:app"
        if server == "hypercorn"
        else ("tests.reliability.fastapi_app:app")
    )
    process = ServiceProcess.start(app, server=server, cwd=ROOT)
    try:
        assert httpx.post(f"{process.url}/orders").status_code == 400  # it serves
        process.kill()
        with pytest.raises(ProcessLookupError):
            os.killpg(process.pid, 0)  # no process of its group is left
        with socket.socket() as sock:
            assert sock.connect_ex(("127.0.0.1", process.port)) != 0  # nothing answers
    finally:
        process.close()


def test_free_ports_are_outside_the_range_outgoing_connections_take_theirs_from():
    # A port from the ephemeral range could be taken by any client's connection before the
    # server binds it (a cluster node failed to start with "Address in use" in CI).
    ephemeral = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text()
    first, last = (int(n) for n in ephemeral.split())
    ports = {free_port() for _ in range(50)}
    assert len(ports) > 40  # picked at random, not one port over and over
    for port in ports:
        assert not first <= port <= last
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", port))  # and free
