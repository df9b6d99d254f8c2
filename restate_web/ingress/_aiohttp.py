"""An httpx async transport over aiohttp's connection pool: ``transport="aiohttp"``.

Only the bytes move through aiohttp: requests are still ``httpx.Request``s and answers
``httpx.Response``s, and the sans-I/O core (``_core``) still decides what a failure means and
whether it is retried. ``AsyncIngressClient`` calls ``send_and_read`` directly; as an ordinary
httpx transport (``handle_async_request``) it serves any ``httpx.AsyncClient``.
What this module must get exactly right is which httpx error an aiohttp failure becomes, because
the core retries a call without an idempotency key only after ``httpx.ConnectError`` /
``ConnectTimeout`` / ``PoolTimeout`` ("the request never left"):

- not sent: aiohttp could not get a connection (``ClientConnectorError``: DNS, refused, TLS
  handshake; ``ConnectionTimeoutError``: connecting or waiting for a pooled connection);
- may have been sent: everything after a connection was obtained. ``ServerDisconnectedError``
  (the server closed the connection, possibly after reading the whole request, or a pooled
  connection went stale under the request) becomes ``httpx.RemoteProtocolError``, a reset
  ``ReadError``, a read timeout ``ReadTimeout`` - never a "connect" error, or a keyless call
  would be sent twice.

aiohttp is imported lazily (``pip install 'restate-web[aiohttp]'``); it speaks HTTP/1.1 only.
"""

from __future__ import annotations

import asyncio
import ssl
import urllib.request
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import httpx

from .._optional import require

if TYPE_CHECKING:  # pragma: no cover
    import aiohttp

# Headers aiohttp would add on its own; httpx already sends the ones it wants (and no
# Content-Type unless the operation set one: Restate reads a missing one as "no JSON").
_SKIP_AUTO_HEADERS = ("Accept", "Accept-Encoding", "User-Agent", "Content-Type")


def load_aiohttp() -> Any:
    """The aiohttp module, or ``MissingDependencyError`` naming the extra to install."""
    return require("aiohttp", "aiohttp", 'the aiohttp transport (transport="aiohttp")')


class AiohttpTransport(httpx.AsyncBaseTransport):
    """Sends httpx requests with one ``aiohttp.ClientSession``, created on first use in the
    running event loop (like every async client, it is bound to that loop).

    ``limits.max_connections`` bounds the pool and ``limits.keepalive_expiry`` how long an idle
    connection is kept; ``verify`` is the SSL context for https (True: aiohttp's default).
    Honours httpx's per-request timeouts: ``connect`` bounds opening a connection, ``pool``
    obtaining one (waiting for a free slot included), ``read`` each wait for data. aiohttp has
    no write timeout (its read timeout starts once the body is written), so with both a read
    and a write timeout the whole exchange is bounded by their sum: a body that never gets
    through cannot hang a call that has a deadline.
    Cookies are never kept (nothing a response sets reaches Restate's journal), redirects are
    never followed and bodies are not decompressed here (httpx decodes them).
    """

    def __init__(
        self,
        *,
        limits: httpx.Limits | None = None,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        self._aiohttp = load_aiohttp()
        self._url_type = require("yarl", "aiohttp", "the aiohttp transport").URL
        limits = limits or httpx.Limits()
        self._limit = limits.max_connections or 0  # aiohttp: 0 means no limit
        self._keepalive = limits.keepalive_expiry
        self._verify = verify
        self._session: aiohttp.ClientSession | None = None
        self._timeouts: dict[tuple[float | None, ...], aiohttp.ClientTimeout] = {}

    def _open_session(self) -> aiohttp.ClientSession:
        aio = self._aiohttp
        connector_kwargs: dict[str, Any] = {
            "limit": self._limit,
            "limit_per_host": 0,
            "ssl": self._verify,
        }
        if self._keepalive is not None:
            connector_kwargs["keepalive_timeout"] = self._keepalive
        else:  # pragma: no cover - httpx.Limits always has a keepalive_expiry by default
            connector_kwargs["force_close"] = True
        self._session = aio.ClientSession(
            connector=aio.TCPConnector(**connector_kwargs),
            cookie_jar=aio.DummyCookieJar(),
            auto_decompress=False,
            skip_auto_headers=_SKIP_AUTO_HEADERS,
            timeout=aio.ClientTimeout(total=None),
        )
        return self._session

    def _timeout(self, request: httpx.Request) -> aiohttp.ClientTimeout:
        given = request.extensions.get("timeout") or {}
        key = (given.get("connect"), given.get("read"), given.get("write"), given.get("pool"))
        timeout = self._timeouts.get(key)
        if timeout is None:
            connect, read, write, pool = key
            total = None if read is None or write is None else read + write
            timeout = self._aiohttp.ClientTimeout(
                total=total, connect=pool, sock_connect=connect, sock_read=read
            )
            if len(self._timeouts) < 64:  # a deadline makes a new triple per retried attempt
                self._timeouts[key] = timeout
        return timeout

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._send(request)
        return httpx.Response(
            response.status,
            headers=list(response.raw_headers),
            stream=_ResponseStream(self._aiohttp, response, request),
            extensions=_extensions(response),
            request=request,
        )

    async def send_and_read(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` and read the whole answer: what ``AsyncIngressClient`` does with
        every request, without the httpx client's layers it does not use (auth, redirects,
        cookies, event hooks: none of them apply to ingress calls)."""
        response = await self._send(request)
        try:
            body = await response.read()
        except (self._aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise _request_error(self._aiohttp, exc, request) from exc
        finally:
            response.release()
        return httpx.Response(
            response.status,
            headers=list(response.raw_headers),
            content=body,
            extensions=_extensions(response),
            request=request,
        )

    async def _send(self, request: httpx.Request) -> aiohttp.ClientResponse:
        session = self._session or self._open_session()
        aio = self._aiohttp
        try:
            content = request.content
        except httpx.RequestNotRead:  # a streamed body: the ingress client never makes one
            content = await request.aread()
        raw_headers = request.headers.raw
        try:
            response = await session.request(
                request.method,
                # Already encoded by httpx: '%2F' in an object key must stay '%2F'.
                self._url_type(str(request.url), encoded=True),
                headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in raw_headers],
                data=content or None,
                allow_redirects=False,
                timeout=self._timeout(request),
            )
        except (aio.ClientError, asyncio.TimeoutError) as exc:
            raise _request_error(aio, exc, request) from exc
        return response

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()


def _extensions(response: aiohttp.ClientResponse) -> dict[str, Any]:
    return {
        "http_version": b"HTTP/%d.%d" % tuple(response.version or (1, 1)),
        "reason_phrase": (response.reason or "").encode("latin-1", "replace"),
    }


def uses_proxy(url: str) -> bool:
    """Would httpx send requests to ``url`` through a proxy from the environment
    (``HTTP_PROXY``/``HTTPS_PROXY``/``ALL_PROXY``, minus ``NO_PROXY``)?"""
    parsed = httpx.URL(url)
    proxies = urllib.request.getproxies()
    if not (proxies.get(parsed.scheme) or proxies.get("all")):
        return False
    return not urllib.request.proxy_bypass(parsed.host)


class _ResponseStream(httpx.AsyncByteStream):
    """The response body, read in one piece when httpx asks for it; errors mapped like the
    request's (the request was sent: no failure here is a "never sent" one)."""

    def __init__(self, aio: Any, response: aiohttp.ClientResponse, request: httpx.Request) -> None:
        self._aio = aio
        self._response = response
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            body = await self._response.read()
        except (self._aio.ClientError, asyncio.TimeoutError) as exc:
            raise _request_error(self._aio, exc, self._request) from exc
        if body:
            yield body

    async def aclose(self) -> None:
        self._response.release()


def _request_error(aio: Any, exc: BaseException, request: httpx.Request) -> httpx.TransportError:
    """The httpx error that says as much as ``exc`` proves about whether the request left."""
    message = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    error: httpx.TransportError
    # Never sent: raised only while aiohttp obtains a connection, before a byte is written.
    if isinstance(exc, aio.ConnectionTimeoutError):
        error = httpx.ConnectTimeout(message, request=request)
    elif isinstance(exc, aio.ClientConnectorError):
        error = httpx.ConnectError(message, request=request)
    # May have been sent: the connection was there and the request (partly) written.
    elif isinstance(exc, asyncio.TimeoutError):  # aiohttp's ServerTimeoutError included
        error = httpx.ReadTimeout(message, request=request)
    elif isinstance(exc, (aio.ServerDisconnectedError, aio.ClientPayloadError)):
        error = httpx.RemoteProtocolError(message, request=request)
    elif isinstance(exc, aio.InvalidURL):
        error = httpx.UnsupportedProtocol(message, request=request)
    else:  # a reset (ClientOSError) or anything else aiohttp raises after connecting
        error = httpx.ReadError(message, request=request)
    return error
