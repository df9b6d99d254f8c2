"""Fixtures for the webhook tests: the session's real restate-server with real SDK services,
and a runner that drives an endpoint with a real ingress client (sync or async).

``hook_url`` adds tests/webhooks/webhook_services.py to the session server. ``Deliver``
runs ``handle`` with an ``IngressClient`` or ``handle_async`` with an ``AsyncIngressClient``
and records every HTTP request those clients really send, so "nothing was forwarded" is
observed on the wire.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from restate_web.ingress import AsyncIngressClient, IngressClient, RetryPolicy
from restate_web.testing import RestateServer, RestateServices, free_port
from restate_web.webhooks._pipeline import Endpoint, WebhookResponse
from restate_web.webhooks._request import WebhookRequest
from tests.conftest import AsyncRecordingTransport, RecordingTransport

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def hook_url(restate_server: RestateServer, restate_services: RestateServices) -> str:
    """The session server's ingress, with tests/webhooks/webhook_services.py (``HookInbox``,
    ``HookCustomers``, ``HookBilling``, ``HookWaiter``) served and registered."""
    restate_services("tests.webhooks.webhook_services:app", cwd=ROOT)
    return restate_server.ingress_url


@pytest.fixture(scope="session")
def probe(hook_url: str) -> Iterator[IngressClient]:
    """A client of the test's own, to start waiters and read effects back (never recorded)."""
    with IngressClient(hook_url, retry=RetryPolicy(max_attempts=3, max_duration=10)) as client:
        yield client


def new_id(prefix: str = "evt") -> str:
    """A fresh id: the session server outlives every test, so event ids must never repeat."""
    return f"{prefix}_{uuid.uuid4().hex[:16]}"


def closed_port_url() -> str:
    """Restate down: a port on 127.0.0.1 nothing listens on."""
    return f"http://127.0.0.1:{free_port()}"


class Deliver:
    """Runs an endpoint with a new real ingress client of one kind per request.

    ``sent`` lists every HTTP request those clients sent. ``retry=False``: one request per
    step, so ``sent`` shows exactly the calls the pipeline made.
    """

    def __init__(self, kind: str, url: str) -> None:
        self.kind = kind
        self.url = url
        self.sent: list[httpx.Request] = []

    def __call__(
        self,
        endpoint: Endpoint,
        request: WebhookRequest,
        *,
        url: str | None = None,
        transport: httpx.MockTransport | None = None,
    ) -> WebhookResponse:
        base = url or self.url
        if self.kind == "sync":
            sync_transport = transport or RecordingTransport(self.sent)
            with IngressClient(base, retry=False, transport=sync_transport) as client:
                return endpoint.handle(request, client)

        async def run() -> WebhookResponse:
            async_transport = transport or AsyncRecordingTransport(self.sent)
            async with AsyncIngressClient(base, retry=False, transport=async_transport) as client:
                return await endpoint.handle_async(request, client)

        return asyncio.run(run())

    def paths(self) -> list[str]:
        return [request.url.path for request in self.sent]

    def answering(self, answer: Callable[[httpx.Request], httpx.Response]) -> httpx.MockTransport:
        """A stand-in for the server (faults a real one cannot produce on demand); the
        requests it receives are recorded in ``sent`` too."""

        def handler(request: httpx.Request) -> httpx.Response:
            self.sent.append(request)
            return answer(request)

        return httpx.MockTransport(handler)


@pytest.fixture(params=["sync", "async"])
def deliver(request: pytest.FixtureRequest, hook_url: str) -> Deliver:
    """Runs endpoints with the real IngressClient (``handle``) or AsyncIngressClient
    (``handle_async``), by parameter, against the session server."""
    return Deliver(str(request.param), hook_url)


class Waiters:
    """``HookWaiter`` workflows: each waits on an awakeable and returns how it was completed."""

    def __init__(self, client: IngressClient) -> None:
        self.client = client

    def start(self) -> tuple[str, str]:
        """Start one; return its key and the id of the awakeable it waits on."""
        key = new_id("wait")
        workflow = self.client.workflow("HookWaiter", key)
        workflow.submit()
        awakeable_id = workflow.call("awakeable_id", timeout=30)
        assert isinstance(awakeable_id, str) and awakeable_id.startswith("sign_")
        return key, awakeable_id

    def outcome(self, key: str) -> Any:
        """``{"resolved": payload}`` or ``{"rejected": reason}``, once it is completed."""
        return self.client.workflow("HookWaiter", key).attach(timeout=30)


@pytest.fixture
def waiters(probe: IngressClient) -> Waiters:
    return Waiters(probe)


def received(
    client: IngressClient, service: str, handler: str, idempotency_key: str, key: str | None = None
) -> Any:
    """What the invocation of ``service/handler`` under ``idempotency_key`` returned (the
    webhook_services handlers return their input): Restate answers a call with the same
    idempotency key with the first invocation's result. Had there been none, the handler would
    run now with the argument ``"probe"`` and the comparison of the caller would fail."""
    target = client.service(service) if key is None else client.object(service, key)
    return target.call(handler, "probe", idempotency_key=idempotency_key, timeout=30)
