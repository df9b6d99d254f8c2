"""One client, several ingress URLs: the nodes of a real three-node Restate cluster.

Calls spread over the nodes; a killed node (SIGKILL to its server process) is set aside and
calls go on through the others; a call whose connection broke after it was sent moves to another
node only when it carries an idempotency key (and then runs once); a 404 from a node that does
not know the service is asked of the other nodes once each. Both clients, sync and async.
"""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from restate_web.ingress import (
    AsyncIngressClient,
    IngressClient,
    IngressUnavailable,
    NotFound,
    RetryPolicy,
)
from restate_web.ingress._core import NODE_SET_ASIDE_SECONDS
from restate_web.testing import RestateCluster, free_port
from tests.conftest import AsyncRecordingTransport, Blocking, RecordingTransport

from .conftest import ports

pytestmark = pytest.mark.timeout(240)


def wait_for(condition: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition did not come true in time"
        time.sleep(0.02)


def test_calls_spread_over_every_node(cluster: RestateCluster, make_client):
    record: list[httpx.Request] = []
    restate = make_client(cluster.ingress_urls, record=record)
    assert restate.base_urls == tuple(cluster.ingress_urls)

    answers = [restate.service("Greeter").call("greet", f"n{i}") for i in range(30)]

    assert answers == [f"Hello n{i}" for i in range(30)]
    seen = ports(record)
    assert len(seen) == 30, "no call needed a second attempt"
    for node in cluster.nodes:
        assert seen.count(node.ingress_port) == 10, f"{node.name} got its share (round-robin)"


def test_one_virtual_object_through_every_node(cluster: RestateCluster, make_client):
    restate = make_client(cluster.ingress_urls)
    counter = restate.object("Counter", f"spread-{uuid.uuid4().hex}")
    assert [counter.call("add", 1) for _ in range(6)] == [1, 2, 3, 4, 5, 6]


def test_unknown_service_is_not_found_after_asking_each_node_once(cluster, make_client):
    record: list[httpx.Request] = []
    restate = make_client(cluster.ingress_urls, record=record)

    with pytest.raises(NotFound) as caught:
        restate.service("NoSuchService").call("run", 1)

    assert caught.value.status == 404
    assert caught.value.source == "ingress"
    assert sorted(ports(record)) == sorted(n.ingress_port for n in cluster.nodes), (
        "each node was asked once, none twice"
    )


def test_a_node_that_does_not_know_the_service_is_skipped(cluster, ingress_url, make_client):
    """A node whose copy of the registered services is behind answers 404 "service not found"
    (seen from a freshly restarted cluster node). Stand-in that answers it every time: the
    session's own restate-server, which never registered ClusterEcho, listed first."""
    record: list[httpx.Request] = []
    restate = make_client([ingress_url, cluster.ingress_urls[0]], record=record)

    # Without an idempotency key too: Restate answered 404 before creating any invocation.
    assert restate.service("ClusterEcho").call("echo", {"a": 1}) == {"a": 1}

    assert [r.url.port for r in record] == [
        httpx.URL(ingress_url).port,
        cluster.nodes[0].ingress_port,
    ]


def test_every_node_down_ends_in_unavailable_by_the_deadline(make_client):
    dead = [f"http://127.0.0.1:{free_port()}" for _ in range(3)]
    restate = make_client(dead, timeout=2.0, retry=RetryPolicy())

    started = time.monotonic()
    with pytest.raises(IngressUnavailable) as caught:
        restate.service("Greeter").call("greet", "nobody")

    assert time.monotonic() - started < 2.0 + 3.0, "bounded by the deadline"
    message = str(caught.value)
    assert "could not reach Restate at http://127.0.0.1:" in message
    assert "3 of the 3 ingress nodes were tried" in message


def test_a_killed_node_is_set_aside_and_calls_go_on(cluster: RestateCluster, make_client):
    record: list[httpx.Request] = []
    restate = make_client(cluster.ingress_urls, record=record)
    victim = cluster.nodes[2]
    cluster.kill(victim)
    try:
        started = time.monotonic()
        answers = [restate.service("Greeter").call("greet", f"k{i}") for i in range(12)]
        elapsed = time.monotonic() - started
        assert answers == [f"Hello k{i}" for i in range(12)], "no call failed"
        to_victim = ports(record).count(victim.ingress_port)
        assert 1 <= to_victim <= 1 + int(elapsed / NODE_SET_ASIDE_SECONDS), (
            "the dead node was tried once, then set aside"
        )
        assert len(record) == 12 + to_victim, "each refused attempt moved to another node"
    finally:
        cluster.restart(victim)
        cluster.wait_for_leaders()

    time.sleep(NODE_SET_ASIDE_SECONDS)  # the set-aside ends: calls go to the restarted node
    record.clear()
    answers = [restate.service("Greeter").call("greet", "back") for _ in range(6)]
    assert answers == ["Hello back"] * 6
    assert victim.ingress_port in ports(record)


def _count_by_key(cluster: RestateCluster, key: str) -> int:
    rows = cluster.query(
        f"select count(*) as n from sys_invocation where idempotency_key = '{key}'"
    )
    return int(rows[0]["n"]) if rows else 0


def test_broken_connection_moves_only_keyed_calls(cluster, client_kind, loop_thread):
    """SIGKILL of the node two calls are waiting on: the keyless call fails (it may have run:
    sending it again could run it twice); the keyed one is answered through the other node,
    by the same single invocation."""
    victim, other = cluster.nodes[0], cluster.nodes[1]
    urls = [victim.ingress_url, other.ingress_url]  # a new client's first call goes to urls[0]
    keyless_record: list[httpx.Request] = []
    keyed_record: list[httpx.Request] = []
    key = f"moved-{uuid.uuid4().hex}"
    made: list[Any] = []

    def client(record: list[httpx.Request]) -> Any:
        if client_kind == "sync":
            made.append(IngressClient(urls, transport=RecordingTransport(record)))
            return made[-1]

        async def build() -> AsyncIngressClient:
            return AsyncIngressClient(urls, transport=AsyncRecordingTransport(record))

        made.append(loop_thread.run(build()))
        return Blocking(made[-1], loop_thread)

    keyless, keyed = client(keyless_record), client(keyed_record)
    try:
        with ThreadPoolExecutor(2) as pool:
            lost = pool.submit(keyless.service("Greeter").call, "slow", 3)
            kept = pool.submit(keyed.service("Greeter").call, "slow", 3, idempotency_key=key)
            wait_for(lambda: keyless_record and keyed_record)
            time.sleep(0.5)  # both requests are with the victim's ingress, waiting
            cluster.kill(victim)

            with pytest.raises(IngressUnavailable):
                lost.result(timeout=60)
            assert kept.result(timeout=90) == "slept 3"
    finally:
        cluster.restart(victim)
        cluster.wait_for_leaders()
        for made_client in made:
            if isinstance(made_client, AsyncIngressClient):
                loop_thread.run(made_client.aclose())
            else:
                made_client.close()

    assert ports(keyless_record) == [victim.ingress_port], "the keyless call was not sent again"
    assert ports(keyed_record)[0] == victim.ingress_port
    assert other.ingress_port in ports(keyed_record), "the keyed call moved to the other node"
    assert _count_by_key(cluster, key) == 1, "one invocation for the key: nothing doubled"


def test_without_retries_a_refused_node_fails_one_call_and_is_set_aside(ingress_url, make_client):
    """retry=False: no attempt is repeated on any node, but the next calls skip the dead one."""
    dead = f"http://127.0.0.1:{free_port()}"
    record: list[httpx.Request] = []
    restate = make_client([dead, ingress_url], record=record, retry=False)

    with pytest.raises(IngressUnavailable) as caught:
        restate.service("Greeter").call("greet", "first")
    assert f"could not reach Restate at {dead}" in str(caught.value)
    assert "1 of the 2 ingress nodes were tried" in str(caught.value)

    answers = [restate.service("Greeter").call("greet", f"next{i}") for i in range(4)]
    assert answers == [f"Hello next{i}" for i in range(4)]
    live = httpx.URL(ingress_url).port
    assert ports(record) == [httpx.URL(dead).port, live, live, live, live]


def test_overloaded_node_answers_move_safe_calls_to_the_next_node():
    """503 from one node (a fake: a real node cannot be made to answer 503 on demand): a keyed
    call is retried on the next node; a keyless one is not retried at all, as with one URL."""
    seen: list[str] = []

    def node(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.host)
        if request.url.host == "n1.test":
            return httpx.Response(
                503,
                json={"code": 503, "message": "busy"},
                headers={"x-restate-error-source": "ingress"},
            )
        return httpx.Response(200, json="ok")

    fast = RetryPolicy(max_attempts=4, initial_interval=0.01, max_interval=0.02)
    urls = ["http://n1.test", "http://n2.test"]
    with IngressClient(urls, transport=httpx.MockTransport(node), retry=fast) as restate:
        assert restate.service("S").call("h", 1, idempotency_key="k1") == "ok"
        assert seen == ["n1.test", "n2.test"]
        seen.clear()
        restate.service("S").call("h", 2)  # round-robin: this one starts on n2
        assert seen == ["n2.test"]
        seen.clear()
        with pytest.raises(IngressUnavailable):
            restate.service("S").call("h", 3)  # n1 again, keyless: not sent twice
        assert seen == ["n1.test"]
