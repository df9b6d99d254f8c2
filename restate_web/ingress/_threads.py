"""One HTTP/2 connection per thread for the blocking client.

httpcore's blocking HTTP/2 connection is not safe to share between threads: its threads
allocate stream ids, encode headers and read frames without one lock around the h2 state, and
switch the shared socket's timeout under each other. Shared by a thread pool, it sends two
requests on one stream or half a frame, and Restate closes the connection (PROTOCOL_ERROR, a
broken pipe, EAGAIN; pydantic/httpx2#1153 fixes it upstream). So each thread gets its own
transport, and so its own connection, used by one thread at a time as httpcore expects.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable

import httpx


class _Slot:
    """The transport of one thread, kept in a ``threading.local``: when the thread ends, the
    slot is collected and a finalizer closes the transport's connection."""

    __slots__ = ("__weakref__", "transport")

    def __init__(self, transport: httpx.BaseTransport) -> None:
        self.transport = transport


class PerThreadTransport(httpx.BaseTransport):
    """Sends each request through a transport of the calling thread, made by ``make``."""

    def __init__(self, make: Callable[[], httpx.BaseTransport]) -> None:
        self._make = make
        self._local = threading.local()
        self._lock = threading.Lock()
        self._closers: set[weakref.finalize[[], _Slot]] = set()
        self._closed = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        slot: _Slot | None = getattr(self._local, "slot", None)
        if slot is None:
            slot = self._open_slot()
        return slot.transport.handle_request(request)

    def _open_slot(self) -> _Slot:
        with self._lock:
            if self._closed:
                raise RuntimeError("the ingress client is closed; make a new one")
            transport = self._make()
            slot = _Slot(transport)
            self._closers = {closer for closer in self._closers if closer.alive}
            self._closers.add(weakref.finalize(slot, transport.close))
        self._local.slot = slot
        return slot

    def close(self) -> None:
        with self._lock:
            self._closed = True
            closers, self._closers = self._closers, set()
        for closer in closers:
            closer()
