"""Restate stopped and restarted: a real restate-server of this module's own (so the session's
server stays up for everything else), with the test services registered."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest

from restate_web.ingress import IngressUnavailable, RetryPolicy
from restate_web.testing import RestateServer
from tests.conftest import own_restate_stack

BOUND = RetryPolicy(max_attempts=4, max_duration=3, initial_interval=0.1, max_interval=0.5)


@pytest.fixture(scope="module")
def own_server() -> Iterator[RestateServer]:
    with own_restate_stack("the outage test") as server:
        yield server


def test_stopped_server_gives_unavailable_within_the_bound_then_recovers(own_server, make_client):
    restate = make_client(own_server.ingress_url, retry=BOUND)
    counter = restate.object("Counter", f"outage-{uuid.uuid4().hex}")
    assert counter.call("add", 1) == 1

    own_server.stop()
    started = time.monotonic()
    with pytest.raises(IngressUnavailable) as caught:
        counter.call("add", 1)
    waited = time.monotonic() - started
    assert "could not reach Restate" in str(caught.value)
    assert "after" in str(caught.value), "the message says how long it tried"
    # The retry budget (3 s) bounds the wait; connect errors are immediate on loopback.
    assert waited < BOUND.max_duration + 2

    own_server.start_again()
    # The same server, with its data: the deployment and the object's state survived.
    assert counter.call("add", 1) == 2
