"""The framework-neutral view of an incoming webhook request.

Adapters (FastAPI, Flask, Django) translate their request objects into a
:class:`WebhookRequest`; everything in :mod:`restate_web.webhooks` works on that
value only, so verification and routing never depend on a web framework.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Union

HeaderPairs = Iterable[tuple[str | bytes, str | bytes]]
"""Header ``(name, value)`` pairs as ASGI (bytes) or WSGI/Django (str) provide them."""

HeadersInput = Union["Headers", Mapping[str, str], HeaderPairs]


def _as_text(value: str | bytes) -> str:
    # HTTP header bytes are ISO-8859-1 on the wire (ASGI and WSGI both hand them
    # over that way), so latin-1 round-trips every byte without raising.
    return value.decode("latin-1") if isinstance(value, bytes) else value


class Headers(Mapping[str, str]):
    """Immutable, case-insensitive HTTP headers that keep repeated fields.

    ``headers["X-Name"]`` and ``headers.get("x-name")`` return the *first* value;
    :meth:`get_all` returns every value in arrival order.
    """

    __slots__ = ("_fields",)

    _fields: dict[str, list[str]]

    def __init__(self, headers: HeadersInput | None = None) -> None:
        fields: dict[str, list[str]] = {}
        if headers is None:
            pairs: Iterable[tuple[str | bytes, str | bytes]] = ()
        elif isinstance(headers, Headers):
            pairs = headers.items_all()
        elif isinstance(headers, Mapping):
            pairs = headers.items()
        else:
            pairs = headers
        for name, value in pairs:
            fields.setdefault(_as_text(name).lower(), []).append(_as_text(value))
        self._fields = fields

    def __getitem__(self, name: str) -> str:
        return self._fields[name.lower()][0]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._fields

    def __iter__(self) -> Iterator[str]:
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def get_all(self, name: str) -> list[str]:
        """Every value of header ``name`` (any case), in arrival order; ``[]`` if absent."""
        return list(self._fields.get(name.lower(), ()))

    def items_all(self) -> Iterator[tuple[str, str]]:
        """Every ``(lower-case name, value)`` pair, repeated fields included."""
        for name, values in self._fields.items():
            for value in values:
                yield name, value

    def __repr__(self) -> str:
        # Names only: values include signatures, and those never go to logs.
        return f"Headers({sorted(self._fields)!r})"


class WebhookRequest:
    """An incoming webhook exactly as received.

    ``url`` is the full URL the sender used (scheme, host, path and query) —
    Square signs it, and signed callback URLs carry their token in the query.
    ``body`` must be the raw bytes: re-serialised JSON does not verify.
    """

    __slots__ = ("body", "headers", "method", "url")

    method: str
    url: str
    headers: Headers
    body: bytes

    def __init__(
        self,
        method: str,
        url: str,
        headers: HeadersInput | None,
        body: bytes | bytearray | memoryview,
    ) -> None:
        self.method = method.upper()
        self.url = url
        self.headers = headers if isinstance(headers, Headers) else Headers(headers)
        self.body = bytes(body)

    def __repr__(self) -> str:
        # The query is dropped: signed callback URLs carry a bearer token there.
        url = self.url.split("?", 1)[0]
        return (
            f"WebhookRequest(method={self.method!r}, url={url!r}, "
            f"headers={self.headers!r}, body=<{len(self.body)} bytes>)"
        )
