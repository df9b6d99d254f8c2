"""The scenario app for FastAPI (served by TestClient in-process, or by uvicorn)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, FastAPI

from restate_web.adapters.fastapi import (
    AsyncRestateClient,
    IdempotencyKey,
    Restate,
    RestateClient,
)

from . import common


def create_app(settings: dict[str, Any] | None = None) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.user_lifespan = "started"  # the adapter must wrap this, not replace it
        yield
        app.state.user_lifespan = "stopped"

    app = FastAPI(lifespan=lifespan)
    Restate(
        app,
        {
            "FORWARD_HEADERS": common.FORWARD_HEADERS,
            "PRINCIPAL": common.principal_from_header,
            **(settings or {}),
        },
    )

    sync = APIRouter(prefix="/sync")
    aio = APIRouter(prefix="/async")

    @sync.post("/count/{key}")
    def sync_count(key: str, restate: RestateClient) -> Any:
        return common.count(restate, key)

    @aio.post("/count/{key}")
    async def async_count(key: str, restate: AsyncRestateClient) -> Any:
        return await common.acount(restate, key)

    @sync.post("/count-twice/{key}")
    def sync_count_twice(key: str, restate: RestateClient) -> Any:
        return common.count_twice(restate, key)

    @aio.post("/count-twice/{key}")
    async def async_count_twice(key: str, restate: AsyncRestateClient) -> Any:
        return await common.acount_twice(restate, key)

    @sync.post("/required/{key}")
    def sync_required(key: str, restate: RestateClient, _: IdempotencyKey) -> Any:
        return common.count(restate, key)

    @aio.post("/required/{key}")
    async def async_required(key: str, restate: AsyncRestateClient, _: IdempotencyKey) -> Any:
        return await common.acount(restate, key)

    @sync.post("/explicit/{key}")
    def sync_explicit(key: str, restate: RestateClient) -> Any:
        return common.explicit(restate, key)

    @aio.post("/explicit/{key}")
    async def async_explicit(key: str, restate: AsyncRestateClient) -> Any:
        return await common.aexplicit(restate, key)

    @sync.post("/headers")
    def sync_headers(restate: RestateClient) -> Any:
        return common.journaled_headers(restate)

    @aio.post("/headers")
    async def async_headers(restate: AsyncRestateClient) -> Any:
        return await common.ajournaled_headers(restate)

    @sync.post("/derived-keys/{rest:path}")
    def sync_derived(restate: RestateClient) -> Any:
        return common.derived_keys(restate)

    @aio.post("/derived-keys/{rest:path}")
    async def async_derived(restate: AsyncRestateClient) -> Any:
        return common.derived_keys(restate)

    @sync.post("/durable-only")
    def sync_durable_only() -> Any:
        return common.durable_only_from_view()

    @aio.post("/durable-only")
    async def async_durable_only() -> Any:
        return common.durable_only_from_view()

    @sync.post("/durable-only-spawned")
    def sync_durable_only_spawned() -> Any:
        return common.durable_only_spawned()

    @aio.post("/durable-only-spawned")
    async def async_durable_only_spawned() -> Any:
        return await common.adurable_only_spawned()

    @sync.post("/use-leaked/{name}")
    def sync_use_leaked(name: str) -> Any:
        return common.use_leaked(name)

    @aio.post("/use-leaked/{name}")
    async def async_use_leaked(name: str) -> Any:
        return common.use_leaked(name)

    @app.get("/lifespan")
    async def lifespan_state() -> Any:
        return {"user_lifespan": getattr(app.state, "user_lifespan", None)}

    app.include_router(sync)
    app.include_router(aio)
    return app


app = create_app()
