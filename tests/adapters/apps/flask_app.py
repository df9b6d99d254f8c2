"""The scenario app for Flask (test client in-process, or a real WSGI server process)."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask

from restate_web.adapters.flask import Restate, idempotency_key_required

from . import common

restate = Restate()


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.config["RESTATE_FORWARD_HEADERS"] = common.FORWARD_HEADERS
    app.config["RESTATE_PRINCIPAL"] = common.principal_from_header
    if os.environ.get("RESTATE_INGRESS_URL"):
        app.config["RESTATE_INGRESS_URL"] = os.environ["RESTATE_INGRESS_URL"]
    app.config.update(config or {})
    restate.init_app(app)

    @app.post("/sync/count/<key>")
    def sync_count(key: str) -> Any:
        return common.count(restate.client, key)

    @app.post("/async/count/<key>")
    async def async_count(key: str) -> Any:
        return await common.acount(restate.async_client, key)

    @app.post("/sync/count-twice/<key>")
    def sync_count_twice(key: str) -> Any:
        return common.count_twice(restate.client, key)

    @app.post("/async/count-twice/<key>")
    async def async_count_twice(key: str) -> Any:
        return await common.acount_twice(restate.async_client, key)

    @app.post("/sync/required/<key>")
    @idempotency_key_required
    def sync_required(key: str) -> Any:
        return common.count(restate.client, key)

    @app.post("/async/required/<key>")
    @idempotency_key_required
    async def async_required(key: str) -> Any:
        return await common.acount(restate.async_client, key)

    @app.post("/sync/explicit/<key>")
    def sync_explicit(key: str) -> Any:
        return common.explicit(restate.client, key)

    @app.post("/async/explicit/<key>")
    async def async_explicit(key: str) -> Any:
        return await common.aexplicit(restate.async_client, key)

    @app.post("/sync/headers")
    def sync_headers() -> Any:
        return common.journaled_headers(restate.client)

    @app.post("/async/headers")
    async def async_headers() -> Any:
        return await common.ajournaled_headers(restate.async_client)

    @app.post("/sync/derived-keys/<path:rest>")
    def sync_derived(rest: str) -> Any:
        return common.derived_keys(restate.client)

    @app.post("/async/derived-keys/<path:rest>")
    async def async_derived(rest: str) -> Any:
        return common.derived_keys(restate.async_client)

    @app.post("/sync/durable-only")
    def sync_durable_only() -> Any:
        return common.durable_only_from_view()

    @app.post("/async/durable-only")
    async def async_durable_only() -> Any:
        return common.durable_only_from_view()

    @app.post("/sync/durable-only-spawned")
    def sync_durable_only_spawned() -> Any:
        return common.durable_only_spawned()

    @app.post("/async/durable-only-spawned")
    async def async_durable_only_spawned() -> Any:
        return await common.adurable_only_spawned()

    @app.post("/sync/use-leaked/<name>")
    def sync_use_leaked(name: str) -> Any:
        return common.use_leaked(name)

    @app.post("/async/use-leaked/<name>")
    async def async_use_leaked(name: str) -> Any:
        return common.use_leaked(name)

    return app


app = create_app()
