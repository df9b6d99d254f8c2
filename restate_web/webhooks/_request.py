"""The framework-neutral view of an incoming webhook request.

Adapters (FastAPI, Flask, Django) translate their request objects into a
:class:`WebhookRequest`; everything in :mod:`restate_web.webhooks` works on that
value only, so verification and routing never depend on a web framework.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TypeVar, Union, overload

HeaderPairs = Iterable[tuple[str | bytes, str | bytes]]
"""Header ``(name, value)`` pairs as ASGI (bytes) or WSGI/Django (str) provide them."""

HeadersInput = Union["Headers", Mapping[str, str], HeaderPairs]

_T = TypeVar("_T")


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
        # HTTP header bytes are ISO-8859-1 on the wire (ASGI and WSGI both hand them
        # over that way), so latin-1 round-trips every byte without raising.
        for name, value in pairs:
            key = (name if isinstance(name, str) else name.decode("latin-1")).lower()
            text = value if isinstance(value, str) else value.decode("latin-1")
            values = fields.get(key)
            if values is None:
                fields[key] = [text]
            else:
                values.append(text)
        self._fields = fields

    def __getitem__(self, name: str) -> str:
        return self._fields[name.lower()][0]

    @overload
    def get(self, name: str, /) -> str | None: ...

    @overload
    def get(self, name: str, /, default: str | _T) -> str | _T: ...

    def get(self, name: str, /, default: object = None) -> object:
        # Mapping.get would go through __getitem__ and a KeyError per absent header;
        # extractors probe absent headers on every event (svix-id before webhook-id).
        values = self._fields.get(name.lower())
        return values[0] if values else default

    def get_lowercase(self, name: str) -> str | None:
        """``get(name)`` for a ``name`` already in lower case (parsers that prepare theirs)."""
        values = self._fields.get(name)
        return values[0] if values else None

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


def header_values(headers: Headers, lower_name: str) -> Sequence[str]:
    """The values of a header whose name is already lower case, not copied (verifiers' hot path)."""
    return headers._fields.get(lower_name, ())


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
