"""``AsyncIngressClient(transport="aiohttp")``: retry safety, settings and the extra.

Every behaviour test against the real restate-server already runs with this transport (the
"aiohttp" kind of ``make_client`` in tests/ingress/conftest.py). This module covers what the real
server cannot be made to do on demand. FAKED FAULT: a TCP server of the test's own reads a whole
request and then closes the connection, resets it, or never answers, because restate-server
never drops a connection after reading a request. A failure like that may come after Restate
started the invocation, so a call without an idempotency key must not be sent again (the public
httpx-aiohttp transport reports aiohttp's ServerDisconnectedError as a connect timeout, which
would be read as "never sent" and retried into a duplicate); a keyed call may be.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import sys
import threading
from collections.abc import Iterator
from typing import Any

import aiohttp
import httpx
import pytest

from restate_web._optional import MissingDependencyError
from restate_web.adapters._core import Integration
from restate_web.adapters._settings import check_settings
from restate_web.ingress import (
    AsyncIngressClient,
    IngressClient,
    IngressTimeout,
    IngressUnavailable,
    RetryPolicy,
)
from restate_web.ingress._aiohttp import AiohttpTransport, _request_error
from tests.conftest import LoopThread

QUICK = RetryPolicy(max_attempts=4, max_duration=10, initial_interval=0.01, max_interval=0.05)


class FaultyServer:
    """Reads each request completely (headers and Content-Length body), counts it, then does
    ``fault``: "close" (FIN, nothing answered), "reset" (RST), "silent" (keeps the connection
    open and never answers) or "answer" (a 200 JSON answer that also sets a cookie)."""

    def __init__(self, fault: str) -> None:
        self.fault = fault
        self.requests: list[bytes] = []
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self._open: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self._open.append(conn)
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        buffer = b""
        with contextlib.suppress(OSError):
            while True:
                while b"\r\n\r\n" not in buffer:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buffer += chunk
                head, _, rest = buffer.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value.strip())
                while len(rest) < length:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    rest += chunk
                self.requests.append(head)
                buffer = rest[length:]
                if self.fault == "close":
                    conn.close()
                    return
                if self.fault == "reset":
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    conn.close()
                    return
                if self.fault == "silent":
                    continue
                body = b'"ok"'
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                    b"set-cookie: session=secret; Path=/\r\n"
                    b"content-length: %d\r\n\r\n%s" % (len(body), body)
                )

    def close(self) -> None:
        self._sock.close()
        for conn in self._open:
            with contextlib.suppress(OSError):
                conn.close()


@pytest.fixture
def faulty() -> Iterator[Any]:
    servers: list[FaultyServer] = []

    def start(fault: str) -> FaultyServer:
        server = FaultyServer(fault)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def call(loop_thread: LoopThread, url: str, transport: str, **options: Any) -> Any:
    """One ``Greeter/greet`` call through a fresh client with ``transport``."""
    client_options = {"retry": options.pop("retry", QUICK)}
    if "timeout" in options:
        client_options["timeout"] = options.pop("timeout")

    async def run() -> Any:
        async with AsyncIngressClient(url, transport=transport, **client_options) as client:
            return await client.service("Greeter").call("greet", "Ada", **options)

    return loop_thread.run(run())


TRANSPORTS = ["aiohttp", "httpx"]  # httpx's own transport: the rules both must follow


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("fault", ["close", "reset"])
def test_connection_lost_after_the_request_is_not_retried_without_a_key(
    loop_thread, faulty, transport, fault
):
    server = faulty(fault)
    with pytest.raises(IngressUnavailable) as caught:
        call(loop_thread, server.url, transport)
    assert len(server.requests) == 1, "a keyless call that may have reached Restate was resent"
    cause = caught.value.__cause__.__cause__
    assert isinstance(cause, httpx.TransportError)
    assert not isinstance(cause, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))
    assert caught.value.idempotency_key is None


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("fault", ["close", "reset"])
def test_connection_lost_after_the_request_is_retried_with_a_key(
    loop_thread, faulty, transport, fault
):
    server = faulty(fault)
    with pytest.raises(IngressUnavailable) as caught:
        call(loop_thread, server.url, transport, idempotency_key="order-1")
    assert len(server.requests) == QUICK.max_attempts
    assert all(b"idempotency-key: order-1" in head for head in server.requests)
    assert caught.value.idempotency_key == "order-1"
    assert f"after {QUICK.max_attempts} attempts" in str(caught.value)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_refused_connection_is_retried_without_a_key(loop_thread, transport, caplog):
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    with (
        caplog.at_level("INFO", logger="restate_web.ingress"),
        pytest.raises(IngressUnavailable) as caught,
    ):
        call(loop_thread, url, transport)
    assert f"after {QUICK.max_attempts} attempts" in str(caught.value)
    retries = [r for r in caplog.records if r.getMessage().startswith("retrying")]
    assert len(retries) == QUICK.max_attempts - 1
    assert all("ConnectError" in r.getMessage() for r in retries)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_silence_after_the_request_ends_at_the_deadline_and_is_not_resent(
    loop_thread, faulty, transport
):
    server = faulty("silent")
    with pytest.raises(IngressTimeout) as caught:
        call(loop_thread, server.url, transport, idempotency_key="slow-1", timeout=0.5)
    assert len(server.requests) == 1, "a timed-out answer is not retried: the deadline passed"
    assert caught.value.idempotency_key == "slow-1"


def test_a_full_pool_is_never_sent_and_is_retried(loop_thread, faulty):
    """Waiting for a pooled connection runs out: nothing was written, so even a keyless call is
    tried again (and ends as unavailable, not as a timeout)."""
    server = faulty("silent")

    async def run() -> tuple[BaseException | None, BaseException | None]:
        limits = httpx.Limits(max_connections=1)
        async with AsyncIngressClient(
            server.url, transport="aiohttp", limits=limits, retry=QUICK
        ) as client:
            hold = asyncio.ensure_future(
                client.service("Greeter").call("greet", "first", timeout=3)
            )
            await asyncio.sleep(0.2)  # the only connection is now taken
            try:
                await client.service("Greeter").call(
                    "greet", "second", timeout=httpx.Timeout(2, pool=0.1)
                )
            except Exception as exc:
                second: BaseException | None = exc
            else:
                second = None
            hold.cancel()
            with contextlib.suppress(BaseException):
                await hold
            return second, None

    second, _ = loop_thread.run(run())
    assert isinstance(second, IngressUnavailable)
    assert not isinstance(second, IngressTimeout)
    assert f"after {QUICK.max_attempts} attempts" in str(second)
    assert len(server.requests) == 1, "only the first call reached the server"


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_cookies_a_response_sets_are_never_sent_back(loop_thread, faulty, transport):
    """Restate stores request headers in its journal: no cookie may travel there."""
    server = faulty("answer")

    async def run() -> list[Any]:
        async with AsyncIngressClient(server.url, transport=transport) as client:
            return [await client.service("Greeter").call("greet", str(i)) for i in range(2)]

    assert loop_thread.run(run()) == ["ok", "ok"]
    assert len(server.requests) == 2
    assert not any(b"\r\ncookie:" in head.lower() for head in server.requests)


def test_the_blocking_client_keeps_no_cookies_either(faulty):
    server = faulty("answer")
    with IngressClient(server.url) as client:
        assert [client.service("Greeter").call("greet", str(i)) for i in range(2)] == ["ok", "ok"]
    assert not any(b"\r\ncookie:" in head.lower() for head in server.requests)


@pytest.mark.parametrize(
    ("aiohttp_error", "httpx_error"),
    [
        (aiohttp.ConnectionTimeoutError("connect"), httpx.ConnectTimeout),
        (
            aiohttp.ClientConnectorError(
                aiohttp.client_reqrep.ConnectionKey("h", 1, False, True, None, None, None),
                OSError(111, "refused"),
            ),
            httpx.ConnectError,
        ),
        (aiohttp.ServerDisconnectedError(), httpx.RemoteProtocolError),
        (aiohttp.SocketTimeoutError("read"), httpx.ReadTimeout),
        (asyncio.TimeoutError(), httpx.ReadTimeout),
        (aiohttp.ClientOSError(104, "reset"), httpx.ReadError),
        (aiohttp.ClientPayloadError("cut"), httpx.RemoteProtocolError),
    ],
)
def test_error_mapping_says_never_sent_only_before_a_connection(aiohttp_error, httpx_error):
    request = httpx.Request("POST", "http://restate.test/Greeter/greet")
    error = _request_error(aiohttp, aiohttp_error, request)
    assert type(error) is httpx_error


def test_http2_is_refused_with_the_alternative():
    with pytest.raises(ValueError, match=r"HTTP/1\.1 only"):
        AsyncIngressClient("http://restate.test", transport="aiohttp", http2=True)


def test_unknown_transport_name_is_refused():
    with pytest.raises(ValueError, match="'httpx' or 'aiohttp'"):
        AsyncIngressClient("http://restate.test", transport="curl")  # type: ignore[arg-type]


def test_missing_aiohttp_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "aiohttp", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'restate-web\[aiohttp\]'"):
        AsyncIngressClient("http://restate.test", transport="aiohttp")
    monkeypatch.setattr("importlib.util.find_spec", lambda name, *a: None)
    _, problems = check_settings({"ASYNC_TRANSPORT": "aiohttp"}, env={})
    assert [p.id for p in problems] == ["E002"]
    assert "restate-web[aiohttp]" in problems[0].message


def test_async_transport_setting_is_checked():
    settings, problems = check_settings({}, env={"RESTATE_ASYNC_TRANSPORT": "aiohttp"})
    assert settings.async_transport == "aiohttp" and not problems
    assert check_settings({}, env={})[0].async_transport == "httpx"
    _, problems = check_settings({"ASYNC_TRANSPORT": "urllib3"}, env={})
    assert [p.id for p in problems] == ["E002"]


def test_adapters_async_client_uses_the_configured_transport(loop_thread, ingress_url):
    """What async views and async webhook mounts get (``Integration.async_client``)."""
    integration = Integration({"INGRESS_URL": ingress_url, "ASYNC_TRANSPORT": "aiohttp"})

    async def run() -> Any:
        client = integration.async_client()
        assert isinstance(client._http._transport, AiohttpTransport)
        result = await client.service("Greeter").call("greet", "Ada")
        await integration.aclose_loop_client()
        return result

    assert loop_thread.run(run()) == "Hello Ada"
    integration.close()


def test_as_a_plain_httpx_transport(loop_thread, ingress_url):
    """The transport also serves an ordinary ``httpx.AsyncClient`` (the path the ingress client
    takes when an environment proxy applies is httpx's own; this one is for other code)."""

    async def run() -> tuple[int, Any, bytes]:
        async with httpx.AsyncClient(transport=AiohttpTransport(), base_url=ingress_url) as http:
            answer = await http.post("/Greeter/greet", json="Ada")
            async with http.stream(
                "POST",
                "/Greeter/echoBytes",
                content=bytes(range(256)),
                headers={"content-type": "application/octet-stream"},
            ) as streamed:
                body = b"".join([chunk async for chunk in streamed.aiter_bytes()])
            return answer.status_code, answer.json(), body

    assert loop_thread.run(run()) == (200, "Hello Ada", bytes(range(256)))


def test_environment_proxy_is_left_to_httpx(monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "localhost")
    client = AsyncIngressClient("http://restate.internal:8080", transport="aiohttp")
    assert client._direct is None, "httpx must route through the proxy"
    local = AsyncIngressClient("http://localhost:8080", transport="aiohttp")
    assert isinstance(local._direct, AiohttpTransport)


def test_a_refused_node_is_skipped_with_the_aiohttp_transport(loop_thread, ingress_url):
    """Several ingress URLs (a cluster): a node refusing connections never received the
    request, so even a keyless call moves on to the next node."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"

    async def run() -> list[Any]:
        async with AsyncIngressClient(
            [dead, ingress_url], transport="aiohttp", retry=QUICK
        ) as client:
            assert isinstance(client._direct, AiohttpTransport)
            return [await client.service("Greeter").call("greet", str(i)) for i in range(4)]

    assert loop_thread.run(run()) == [f"Hello {i}" for i in range(4)]
