"""Serving refusals and warnings that need no restate-server: WSGI apps are refused with what
to do instead; services without identity keys warn when reached on a non-loopback address."""

from __future__ import annotations

import asyncio
import logging

import pytest
from django.core.handlers.wsgi import WSGIHandler
from fastapi import FastAPI
from flask import Flask

from restate_web.serving import (
    WSGIServingError,
    mount_services,
    services_app,
    with_services,
)
from tests.deploy.signed_services import signed_greeter


def wsgi_function(environ, start_response):
    start_response("200 OK", [])
    return [b""]


@pytest.mark.parametrize(
    "app",
    [Flask(__name__), WSGIHandler.__new__(WSGIHandler), wsgi_function],
    ids=["flask", "django-wsgi", "wsgi-callable"],
)
@pytest.mark.parametrize("serve", [mount_services, with_services])
def test_wsgi_apps_are_refused_with_what_to_do_instead(app, serve):
    with pytest.raises(WSGIServingError) as raised:
        serve(app, [signed_greeter], path="/restate", identity_keys=[])
    message = str(raised.value)
    assert "WSGI" in message and "ASGI-only" in message
    assert "RT0012" in message
    assert "beside the app" in message
    assert "hypercorn" in message and "restate-web register" in message


def test_identity_keys_must_be_restate_public_keys():
    with pytest.raises(ValueError, match="publickeyv1_"):
        mount_services(FastAPI(), [signed_greeter], identity_keys=["-----BEGIN PRIVATE KEY"])


def health(app, host: str) -> int:
    """GET <mount>/health on ``app`` as a request that arrived on ``host``."""
    sent: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": "GET",
        "path": "/restate/health",
        "root_path": "",
        "headers": [],
        "query_string": b"",
        "server": (host, 8000),
    }
    asyncio.run(app(scope, receive, send))
    return next(m["status"] for m in sent if m["type"] == "http.response.start")


def test_unsigned_services_warn_once_when_reached_beyond_loopback(caplog, monkeypatch):
    monkeypatch.delenv("RESTATE_IDENTITY_KEYS", raising=False)
    caplog.set_level(logging.WARNING, logger="restate_web.serving")
    app = services_app([signed_greeter])
    assert health(app, "127.0.0.1") == 200
    assert health(app, "::1") == 200
    assert not caplog.records
    assert health(app, "10.1.2.3") == 200
    assert health(app, "10.1.2.3") == 200
    (record,) = caplog.records
    assert "without identity keys" in record.getMessage()
    assert "10.1.2.3" in record.getMessage()

    caplog.clear()
    signed = services_app([signed_greeter], identity_keys=["publickeyv1_" + "2" * 44])
    assert health(signed, "10.1.2.3") == 200  # /health is not authenticated (documented)
    assert not caplog.records


def test_with_services_routes_only_its_prefix():
    seen: list[str] = []

    async def other(scope, receive, send):
        seen.append(scope["path"])
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    app = with_services(other, [signed_greeter], path="/restate/", identity_keys=[])
    assert health(app, "127.0.0.1") == 200  # /restate/health: the services
    assert seen == []

    async def call(path: str) -> None:
        async def receive():
            return {"type": "http.request", "body": b""}

        async def send(message):
            return None

        await app({"type": "http", "path": path, "headers": [], "server": None}, receive, send)

    asyncio.run(call("/restatement"))
    asyncio.run(call("/"))
    assert seen == ["/restatement", "/"]
