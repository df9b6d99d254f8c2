"""Fakes for faults a real restate-server cannot produce on demand: answers 503/429 with
Retry-After, a connection dropped after the request was read, a connection refused once and
accepted next. An httpx.MockTransport plays a script where the network would be; everything
else is the real client code."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

from restate_web.ingress import RetryPolicy

FAST = RetryPolicy(max_attempts=4, max_duration=10, initial_interval=0.01, max_interval=0.02)
Script = list[Callable[[httpx.Request], httpx.Response]]


def answer(
    status: int, body: Any = None, **headers: str
) -> Callable[[httpx.Request], httpx.Response]:
    def respond(request: httpx.Request) -> httpx.Response:
        content = json.dumps(body).encode() if body is not None else b""
        return httpx.Response(status, content=content, headers=headers)

    return respond


def unavailable(request: httpx.Request) -> httpx.Response:
    return answer(
        503, {"code": 503, "message": "overloaded"}, **{"x-restate-error-source": "ingress"}
    )(request)


def refuse(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


def drop_after_sending(request: httpx.Request) -> httpx.Response:
    raise httpx.RemoteProtocolError("server disconnected without a response", request=request)


class Fake:
    """Plays a script of answers, one per request, and records what was sent."""

    def __init__(self, script: Script) -> None:
        self.script = list(script)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        return step(request)

    @property
    def keys(self) -> list[str | None]:
        return [r.headers.get("idempotency-key") for r in self.requests]


OK = answer(200, "done", **{"content-type": "application/json"})
