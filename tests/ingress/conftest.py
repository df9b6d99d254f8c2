"""The ``fake_client`` fixture: both clients over a scripted transport (see fakes.py).

``make_client`` (and so ``restate``) is overridden here with a third kind, "aiohttp": every
ingress behaviour test against the real server also runs ``AsyncIngressClient`` with
``transport="aiohttp"``, which must give the same results, errors and deadlines.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from restate_web.ingress import AsyncIngressClient, IngressClient
from tests.conftest import Blocking, ClientFactory, LoopThread, client_factory
from tests.ingress.fakes import FAST, Fake, Script


@pytest.fixture(params=["sync", "async"])
def fake_client(request: pytest.FixtureRequest, loop_thread: LoopThread) -> Iterator[Any]:
    clients: list[Any] = []

    def make(script: Script, **kwargs: Any) -> tuple[Any, Fake]:
        fake = Fake(script)
        kwargs.setdefault("retry", FAST)
        if request.param == "sync":
            client = IngressClient(
                "http://restate.test", transport=httpx.MockTransport(fake), **kwargs
            )
            clients.append(client)
            return client, fake

        async def build() -> AsyncIngressClient:
            return AsyncIngressClient(
                "http://restate.test", transport=httpx.MockTransport(fake), **kwargs
            )

        aclient = loop_thread.run(build())
        clients.append(aclient)
        return Blocking(aclient, loop_thread), fake

    yield make
    for c in clients:
        if isinstance(c, AsyncIngressClient):
            loop_thread.run(c.aclose())
        else:
            c.close()


@pytest.fixture(params=["sync", "async", "aiohttp"])
def make_client(
    request: pytest.FixtureRequest, ingress_url: str, loop_thread: LoopThread
) -> Iterator[ClientFactory]:
    """Builds an ingress client of the parametrized kind; all are closed after the test."""
    yield from client_factory(request.param, ingress_url, loop_thread)
