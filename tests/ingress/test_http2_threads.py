"""The blocking client over HTTP/2, shared by many threads, against the real restate-server.

httpcore's blocking HTTP/2 connection is not safe to share between threads (see
``restate_web/ingress/_threads.py``); before each thread had its own connection, the pool test
below lost calls to a broken pipe, EAGAIN or a protocol error in about one run in five.
"""

from __future__ import annotations

import gc
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

from restate_web.ingress import IngressClient

ESTABLISHED = "01"


def connections_to(port: int) -> set[str]:
    """This process's TCP sockets connected to ``port`` (their inodes): compared as sets, a
    connection some other client closes meanwhile changes nothing."""
    ours = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            ours.add(target[len("socket:[") : -1])
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as lines:
            next(lines)
            for line in lines:
                fields = line.split()
                remote_port = int(fields[2].rsplit(":", 1)[1], 16)
                if remote_port == port and fields[3] == ESTABLISHED and fields[9] in ours:
                    found.add(fields[9])
    return found


def greet_from_a_new_thread(restate: IngressClient, name: str) -> str:
    with ThreadPoolExecutor(1) as one_thread:  # a thread of its own, ended on leaving
        return one_thread.submit(restate.service("Greeter").call, "greet", name).result()


def test_a_thread_pool_sharing_one_http2_client_gets_every_answer(ingress_url, caplog):
    caplog.set_level(logging.DEBUG, logger="httpcore.http2")
    with IngressClient(ingress_url, http2=True) as restate, ThreadPoolExecutor(16) as pool:
        greeter = restate.service("Greeter")
        results = list(pool.map(lambda i: greeter.call("greet", str(i)), range(400)))
    assert results == [f"Hello {i}" for i in range(400)]
    sent = [r for r in caplog.records if r.getMessage().startswith("send_request_headers.complete")]
    assert len(sent) == 400  # every call went over HTTP/2


def test_the_http2_connection_of_a_thread_that_ended_is_closed(ingress_url):
    port = urlsplit(ingress_url).port
    assert port is not None
    before = connections_to(port)
    with IngressClient(ingress_url, http2=True) as restate:
        for name in ("a", "b", "c"):
            assert greet_from_a_new_thread(restate, name) == f"Hello {name}"
        gc.collect()
        assert connections_to(port) - before == set()
        assert restate.service("Greeter").call("greet", "main") == "Hello main"
        assert len(connections_to(port) - before) == 1
    assert connections_to(port) - before == set()
