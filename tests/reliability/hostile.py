"""Generated malformed and hostile requests, and raw ASGI / WSGI drivers to deliver them.

Each ``Case`` carries what a server could hand an app (method, path, query, header bytes, body)
and the statuses it may be answered with. The drivers call the app directly with a raw ASGI
scope or WSGI environ, not through a test client: a client library refuses some of these
requests itself (CR/LF in a header value, non-ASCII header bytes, a body that contradicts its
Content-Length) and would test the client instead of the app.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import io
import json
import random
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from restate_web.webhooks import make_callback_url, make_reject_callback_url

MAX_BODY = 1024 * 1024
Headers = list[tuple[bytes, bytes]]


@dataclass(frozen=True)
class Case:
    kind: str  # what is wrong with it, for the printed counts
    method: str
    path: str
    query: bytes
    headers: Headers
    body: bytes
    expected: frozenset[int]


def _case(
    kind: str,
    path: str,
    headers: Headers,
    body: bytes = b"",
    expected: tuple[int, ...] = (400,),
    *,
    method: str = "POST",
    query: bytes = b"",
    content_length: bool = True,
) -> Case:
    all_headers = list(headers)
    if content_length and not any(name == b"content-length" for name, _ in all_headers):
        all_headers.append((b"content-length", str(len(body)).encode()))
    return Case(kind, method, path, query, all_headers, body, frozenset(expected))


def stripe_header(payload: bytes, secret: str, timestamp: int) -> bytes:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}".encode()


class Generator:
    """Hostile requests for the three routes of tests/reliability/webapp.py."""

    def __init__(self, seed: int, stripe_secret: str, callback_secret: str) -> None:
        self.rng = random.Random(seed)
        self.stripe_secret = stripe_secret
        self.callback_secret = callback_secret
        self.now = int(time.time())
        # Every genuine signature and token made here: none may appear in a log.
        self.genuine: set[str] = set()

    # -- pieces

    def text(self, low: int = 1, high: int = 40) -> str:
        alphabet = "abcdefghijklmnopqrstuvwxyz0123456789_-./%\\\"'{}[]<>;:=,é€\u202e\x00\x7f"
        return "".join(self.rng.choice(alphabet) for _ in range(self.rng.randint(low, high)))

    def awakeable_id(self) -> str:
        raw = base64.urlsafe_b64encode(self.rng.randbytes(24)).decode().rstrip("=")
        return "sign_1" + raw

    def event(self, *, kind: str | None = None, awakeable: Any = None) -> dict[str, Any]:
        metadata: dict[str, Any] = {}
        if awakeable is not None:
            metadata["restate_awakeable_id"] = awakeable
        return {
            "id": f"evt_{self.rng.getrandbits(64):x}",
            "object": "event",
            "type": kind or "payment_intent.succeeded",
            "created": self.now,
            "data": {"object": {"id": "pi_x", "metadata": metadata}},
        }

    def signed(self, body: bytes, timestamp: int | None = None, secret: str | None = None) -> bytes:
        header = stripe_header(body, secret or self.stripe_secret, timestamp or int(time.time()))
        if secret is None:
            self.genuine.add(header.decode().split("v1=")[1])
        return header

    # -- /webhooks/stripe

    def webhook(self) -> Case:
        path = "/webhooks/stripe"
        json_ct = (b"content-type", b"application/json")
        event = json.dumps(self.event(awakeable=self.awakeable_id())).encode()
        pick = self.rng.randrange(22)
        if pick == 0:
            sig = f"t={self.now},v1={self.rng.randbytes(32).hex()}".encode()
            return _case(
                "webhook: bad signature", path, [json_ct, (b"stripe-signature", sig)], event
            )
        if pick == 1:
            sig = self.signed(event, secret="whsec_" + self.text(8, 30))
            return _case(
                "webhook: other secret", path, [json_ct, (b"stripe-signature", sig)], event
            )
        if pick == 2:
            stale = self.now - self.rng.randint(301, 10**9)
            sig = self.signed(event, timestamp=stale)
            return _case("webhook: stale timestamp", path, [(b"stripe-signature", sig)], event)
        if pick == 3:
            future = self.now + self.rng.randint(301, 10**9)
            sig = self.signed(event, timestamp=future)
            return _case("webhook: future timestamp", path, [(b"stripe-signature", sig)], event)
        if pick == 4:
            sig = self.signed(event)
            cut = sig[: self.rng.randint(0, len(sig) - 1)]
            return _case("webhook: truncated signature", path, [(b"stripe-signature", cut)], event)
        if pick == 5:
            return _case("webhook: no signature", path, [json_ct], event)
        if pick == 6:
            junk = self.text(0, 200).encode("utf-8", "surrogatepass")
            return _case("webhook: garbage signature", path, [(b"stripe-signature", junk)], event)
        if pick == 7:
            sig = self.signed(event) + b"\r\nX-Injected: yes\r\n\r\n" + event[:20]
            return _case("webhook: header injection", path, [(b"stripe-signature", sig)], event)
        if pick == 8:
            sig = self.signed(event)
            headers = [(b"stripe-signature", sig), (b"stripe-signature", self.signed(event))]
            return _case("webhook: two signature headers", path, headers, event)
        if pick == 9:
            sig = self.signed(event) + b"," + self.rng.randbytes(20000).hex().encode()
            return _case(
                "webhook: huge signature header", path, [(b"stripe-signature", sig)], event
            )
        if pick == 10:
            body = self.rng.randbytes(self.rng.randint(1, 400)) + b"\xff\xfe"
            sig = self.signed(body)
            return _case("webhook: signed non-UTF-8 body", path, [(b"stripe-signature", sig)], body)
        if pick == 11:
            body = self.rng.randbytes(self.rng.randint(1, 400)) + b"\xc3"
            sig = f"t={self.now},v1={'0' * 64}".encode()
            return _case(
                "webhook: unsigned non-UTF-8 body", path, [(b"stripe-signature", sig)], body
            )
        if pick == 12:
            body = self.rng.choice(
                [b"[]", b"null", b"1", b'"x"', b"{", b"{}", b'{"type": "a"}', b"[" * 50000]
            )
            sig = self.signed(body)
            return _case("webhook: signed malformed JSON", path, [(b"stripe-signature", sig)], body)
        if pick == 13 and self.rng.random() < 0.2:
            # The parser reads a number as the id or type: an event type nobody routes.
            body = b'{"id": 1, "type": 2}'
            sig = self.signed(body)
            return _case(
                "webhook: numeric id and type (ignored)",
                path,
                [(b"stripe-signature", sig)],
                body,
                (200,),
            )
        if pick == 13:
            body = json.dumps(
                self.event(kind=self.text(1, 60), awakeable=self.awakeable_id())
            ).encode()
            sig = self.signed(body)
            return _case(
                "webhook: unknown event type", path, [(b"stripe-signature", sig)], body, (200,)
            )
        if pick == 14:
            weird = self.rng.choice([None, "", 17, [], {"a": 1}, True])
            body = json.dumps(self.event(awakeable=weird)).encode()
            sig = self.signed(body)
            return _case(
                "webhook: routed, no usable awakeable id",
                path,
                [(b"stripe-signature", sig)],
                body,
                (200,),
            )
        if pick == 15:
            sig = self.signed(event)
            method = self.rng.choice(["GET", "PUT", "DELETE", "PATCH"])
            return _case(
                "webhook: wrong method",
                path,
                [(b"stripe-signature", sig)],
                event,
                (405,),
                method=method,
            )
        if pick == 16:
            length = self.rng.choice([b"-1", b"abc", b"1e9", b"99999999999999999999"])
            headers = [(b"stripe-signature", self.signed(event)), (b"content-length", length)]
            return _case("webhook: bad content-length", path, headers, event, (400, 413))
        if pick == 17 and self.rng.random() < 0.02:
            body = b"{" + b" " * MAX_BODY + b"}"
            sig = f"t={self.now},v1={'0' * 64}".encode()
            chunked = self.rng.random() < 0.5
            return _case(
                "webhook: oversized body",
                path,
                [(b"stripe-signature", sig)],
                body,
                # Without Content-Length a WSGI app reads no body at all: then it is 400.
                (400, 413) if chunked else (413,),
                content_length=not chunked,
            )
        if pick == 18:
            sig = self.signed(event).replace(b"t=", b"t=" + str(self.now).encode() + b",t=", 1)
            return _case("webhook: two timestamps", path, [(b"stripe-signature", sig)], event)
        if pick == 19:
            sig = self.signed(event).upper().replace(b"T=", b"t=").replace(b"V1=", b"v0=")
            return _case("webhook: v0 scheme only", path, [(b"stripe-signature", sig)], event)
        if pick == 20:
            sig = self.signed(event).decode().encode("utf-16")
            return _case("webhook: UTF-16 header", path, [(b"stripe-signature", sig)], event)
        body = event + b" " * self.rng.randint(1, 5)  # signed, then the body changed
        sig = self.signed(event)
        return _case(
            "webhook: body changed after signing", path, [(b"stripe-signature", sig)], body
        )

    # -- /callbacks

    def callback(self) -> Case:
        path = "/callbacks"
        base = "http://testserver/callbacks"
        target = self.awakeable_id()
        make = make_reject_callback_url if self.rng.random() < 0.3 else make_callback_url
        url = make(base, target, self.callback_secret, ttl=600)
        params = dict(parse_qsl(urlsplit(url).query))
        self.genuine.add(params["token"])
        body = json.dumps({"ok": self.rng.random()}).encode()
        expected: tuple[int, ...] = (403,)
        pick = self.rng.randrange(12)
        if pick == 0:
            params["token"] = base64.urlsafe_b64encode(self.rng.randbytes(32)).decode().rstrip("=")
            kind = "callback: forged token"
        elif pick == 1:
            params["awakeable"] = self.awakeable_id()
            kind = "callback: token moved to another awakeable"
        elif pick == 2:
            params["action"] = "reject" if params["action"] == "resolve" else "resolve"
            kind = "callback: action flipped"
        elif pick == 3:
            old = make(base, target, self.callback_secret, ttl=60, now=self.now - 3600)
            params = dict(parse_qsl(urlsplit(old).query))
            self.genuine.add(params["token"])
            kind, expected = "callback: expired genuine token", (410,)
        elif pick == 4:
            params["token"] = params["token"][: self.rng.randint(0, len(params["token"]) - 1)]
            kind = "callback: truncated token"
        elif pick == 5:
            del params[self.rng.choice(list(params))]
            kind = "callback: missing parameter"
        elif pick == 6:
            params["expires"] = self.rng.choice(
                [str(int(params["expires"]) + 3600), "-1", "1e12", "", "9" * 400, self.text()]
            )
            kind = "callback: expiry changed"
        elif pick == 7:
            other = make(base, target, "another-secret-" + self.text(16, 20), ttl=600)
            params = dict(parse_qsl(urlsplit(other).query))
            kind = "callback: token of another secret"
        elif pick == 8:
            params["awakeable"] = self.text(1, 300)
            kind = "callback: weird awakeable id"
        elif pick == 9:
            query = urlencode(params) + "&token=" + params["token"]
            return _case(
                "callback: duplicated parameter", path, [], body, (403,), query=query.encode()
            )
        elif pick == 10:
            params["token"] = params["token"] + "=" * self.rng.randint(1, 3) + "A"
            kind = "callback: non-canonical token"
        else:
            params["action"] = self.text(1, 20)
            kind = "callback: unknown action"
        query = urlencode(params).encode()
        return _case(
            kind, path, [(b"content-type", b"application/json")], body, expected, query=query
        )

    # -- /orders

    def order(self) -> Case:
        path = "/orders"
        good_body = json.dumps({"item": "book"}).encode()
        json_ct = (b"content-type", b"application/json")
        pick = self.rng.randrange(14)
        if pick == 0:
            return _case("orders: no key", path, [json_ct], good_body)
        if pick == 1:
            key = b'"' + b"k" * self.rng.randint(256, 100_000) + b'"'
            return _case("orders: huge key", path, [json_ct, (b"idempotency-key", key)], good_body)
        if pick == 2:
            key = self.rng.choice([b"a\x00b", b"\x01", b"a\tb c", b"x\x7f", b'"a\nb"'])
            return _case(
                "orders: control characters in key",
                path,
                [json_ct, (b"idempotency-key", key)],
                good_body,
            )
        if pick == 3:
            key = self.rng.choice(["clé", "ключ", "键", "\u202ekey"]).encode()
            return _case(
                "orders: non-ASCII key", path, [json_ct, (b"idempotency-key", key)], good_body
            )
        if pick == 4:
            key = self.rng.choice([b'"a", "b"', b'"a";p=1', b"a, b", b"(a)", b'"a"b"', b'"a'])
            return _case(
                "orders: list or parameters in key",
                path,
                [json_ct, (b"idempotency-key", key)],
                good_body,
            )
        if pick == 5:
            key = self.rng.choice([b'"a\\b"', b'"a\\"', b'"\\x41"'])
            return _case(
                "orders: bad escape in key", path, [json_ct, (b"idempotency-key", key)], good_body
            )
        if pick == 6:
            headers = [json_ct, (b"idempotency-key", b'"one"'), (b"idempotency-key", b'"two"')]
            return _case("orders: two keys", path, headers, good_body)
        if pick == 7:
            key = b'"k\r\nX-Injected: yes"'
            return _case(
                "orders: header injection in key",
                path,
                [json_ct, (b"idempotency-key", key)],
                good_body,
            )
        # A well-formed (often odd) key with a body that must be refused before any call.
        key = self.rng.choice(
            [
                b'"'
                + self.text(1, 40).replace("\\", "").replace('"', "").encode("ascii", "ignore")
                + b'"',
                b'"a\\"b"',
                b"8e03978e-40d5",
                b'"x"',
                b"a:b/c=",
            ]
        )
        if key in (b'""', b""):
            key = b'"k"'
        body = self.rng.choice(
            [
                b"",
                b"not json",
                b"\xff\xfe\x00",
                b"[]",
                b'{"item": ""}',
                b'{"item": 17}',
                json.dumps({"item": "x" * 101}).encode(),
                b'{"item": "a", "seconds": 31}',
                b'{"item": "a", "seconds": "NaN"}',
                b"[" * 100_000,
                b'{"item": "a"' + b" " * 10,
            ]
        )
        return _case(
            "orders: valid key, invalid body", path, [json_ct, (b"idempotency-key", key)], body
        )

    def cases(self, count: int) -> Iterator[Case]:
        makers: list[Callable[[], Case]] = [self.webhook, self.callback, self.order]
        for i in range(count):
            yield makers[i % len(makers)]()


# ------------------------------------------------------------------------------- drivers


async def asgi_call(app: Any, case: Case) -> int:
    """One request through an ASGI app, as a server would deliver it; an exception is 500."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": case.method,
        "scheme": "http",
        "path": case.path,
        "raw_path": case.path.encode(),
        "query_string": case.query,
        "root_path": "",
        "headers": [(b"host", b"testserver"), *[(n.lower(), v) for n, v in case.headers]],
        "client": ("127.0.0.1", 40000),
        "server": ("testserver", 80),
        "state": {},
    }
    chunks = [case.body[i : i + 65536] for i in range(0, len(case.body), 65536)] or [b""]
    messages = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks)
    ]
    status: list[int] = []

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop(0)
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])

    try:
        await app(scope, receive, send)
    except Exception:
        return 500
    return status[0] if status else 500


def wsgi_call(app: Any, case: Case) -> int:
    """One request through a WSGI app, with the environ a WSGI server would build."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": case.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": case.path,
        "QUERY_STRING": case.query.decode("latin-1"),
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "testserver",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(case.body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for name, value in case.headers:
        key = name.decode("latin-1").upper().replace("-", "_")
        key = key if key in ("CONTENT_LENGTH", "CONTENT_TYPE") else "HTTP_" + key
        text = value.decode("latin-1")
        environ[key] = f"{environ[key]},{text}" if key in environ and key != "HTTP_HOST" else text
    status: list[int] = []

    def start_response(line: str, headers: Any, exc_info: Any = None) -> Any:
        status.append(int(line.split(" ", 1)[0]))
        return lambda data: None

    try:
        result = app(environ, start_response)
        try:
            for _ in result:
                pass
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
    except Exception:
        return 500
    return status[0] if status else 500
