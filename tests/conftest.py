"""Shared fixtures: a real restate-server and real restate-sdk services, for the whole session.

If the server cannot start, every test that needs it FAILS with the reason: nothing here skips.
`make test` installs the pinned server first; see restate_web.testing for how it is found.
The server and the services come from restate-web's pytest plugin (restate_web.testing).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import threading
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from restate_web.ingress import AsyncIngressClient, IngressClient, RetryPolicy
from restate_web.ingress._aiohttp import AiohttpTransport
from restate_web.testing import HarnessError, RestateServer, RestateServices, ServiceProcess

ROOT = Path(__file__).resolve().parent.parent


# `restate_server` (session) and `restate_services` come from restate-web's own pytest plugin
# (restate_web.testing, the pytest11 entry point): the suite uses what users get.


@pytest.fixture(scope="session")
def ingress_url(restate_server: RestateServer, restate_services: RestateServices) -> str:
    """The session server's ingress, with tests/restate_services.py served and registered."""
    restate_services("tests.restate_services:app", cwd=ROOT)
    return restate_server.ingress_url


@contextlib.contextmanager
def own_restate_stack(purpose: str) -> Iterator[RestateServer]:
    """A restate-server of a test module's own (one it may stop, kill and restart without
    disturbing the session's) with tests/restate_services.py registered. Fails, never skips."""
    with contextlib.ExitStack() as stack:
        try:
            server = stack.enter_context(RestateServer.start())
            services = stack.enter_context(
                ServiceProcess.start("tests.restate_services:app", cwd=ROOT)
            )
            server.register(services.url)
        except HarnessError as error:
            pytest.fail(f"could not start restate-server for {purpose}: {error}", pytrace=False)
        yield server


class LoopThread:
    """One event loop in a background thread, so sync test code can drive async clients."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, Any], timeout: float | None = 120) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@pytest.fixture(scope="session")
def loop_thread() -> Iterator[LoopThread]:
    runner = LoopThread()
    yield runner
    runner.close()


class Blocking:
    """Presents an async client (and every handle it returns) with the blocking API.

    The same test body then runs against IngressClient and AsyncIngressClient: the async
    client really runs, on the loop thread; only the waiting is done here.
    """

    def __init__(self, target: Any, runner: LoopThread) -> None:
        self._target = target
        self._runner = runner

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if not callable(value):
            return value

        def call(*args: Any, **kwargs: Any) -> Any:
            # Called on the loop's thread: async client methods refuse a thread without a loop.
            result = self._runner.run(_invoke(value, args, kwargs))
            if type(result).__module__.startswith("restate_web.ingress"):
                return Blocking(result, self._runner)
            return result

        return call

    def __repr__(self) -> str:
        return f"Blocking({self._target!r})"


async def _invoke(method: Any, args: Any, kwargs: Any) -> Any:
    result = method(*args, **kwargs)
    if inspect.isawaitable(result):
        result = await result
    return result


ClientFactory = Callable[..., Any]


@pytest.fixture(params=["sync", "async"])
def make_client(
    request: pytest.FixtureRequest, ingress_url: str, loop_thread: LoopThread
) -> Iterator[ClientFactory]:
    """Builds an ingress client of the parametrized kind; all are closed after the test."""
    yield from client_factory(request.param, ingress_url, loop_thread)


def client_factory(kind: str, ingress_url: str, loop_thread: LoopThread) -> Iterator[ClientFactory]:
    """``make_client`` for one kind: "sync", "async" (httpx's transport) or "aiohttp"
    (``AsyncIngressClient(transport="aiohttp")``)."""
    created: list[Any] = []

    def factory(
        base_url: str | None = None, *, record: list[httpx.Request] | None = None, **kwargs: Any
    ) -> Any:
        """``record``: a list that receives every HTTP request the client really sends."""
        kwargs.setdefault("retry", RetryPolicy(max_attempts=3, max_duration=5))
        url = base_url or ingress_url
        if kind == "aiohttp":
            kwargs.setdefault("transport", "aiohttp")
        if record is not None:
            kwargs["transport"] = {
                "sync": RecordingTransport,
                "async": AsyncRecordingTransport,
                "aiohttp": AiohttpRecordingTransport,
            }[kind](record)
        if kind == "sync":
            client: Any = IngressClient(url, **kwargs)
            created.append(client)
            return client
        async_client = loop_thread.run(_make_async(url, kwargs))
        created.append(async_client)
        return Blocking(async_client, loop_thread)

    yield factory
    for client in created:
        if isinstance(client, AsyncIngressClient):
            loop_thread.run(client.aclose())
        else:
            client.close()


class RecordingTransport(httpx.HTTPTransport):
    def __init__(self, record: list[httpx.Request]) -> None:
        super().__init__()
        self.record = record

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.record.append(request)
        return super().handle_request(request)


class AsyncRecordingTransport(httpx.AsyncHTTPTransport):
    def __init__(self, record: list[httpx.Request]) -> None:
        super().__init__()
        self.record = record

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.record.append(request)
        return await super().handle_async_request(request)


class AiohttpRecordingTransport(AiohttpTransport):
    def __init__(self, record: list[httpx.Request]) -> None:
        super().__init__()
        self.record = record

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.record.append(request)
        return await super().handle_async_request(request)

    async def send_and_read(self, request: httpx.Request) -> httpx.Response:
        self.record.append(request)
        return await super().send_and_read(request)


async def _make_async(url: str, kwargs: dict[str, Any]) -> AsyncIngressClient:
    return AsyncIngressClient(url, **kwargs)


@pytest.fixture
def client_kind(make_client: ClientFactory, request: pytest.FixtureRequest) -> str:
    return str(request.node.callspec.params["make_client"])


@pytest.fixture
def restate(make_client: ClientFactory) -> Any:
    """An ingress client (sync or async, by parameter) pointed at the test server."""
    return make_client()
