"""The adapters' TIMEOUT is the deadline of each ingress call a view makes, retries included
(issue #10, defect 2), and a view can pick up a timed-out call by its key (defect 3).

FastAPI through the real middleware and dependencies, against the session's restate-server.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from restate_web.adapters.fastapi import AsyncRestateClient, Restate, RestateClient
from restate_web.ingress import AsyncIngressClient, IngressClient, IngressTimeout

HANDLER_SECONDS = 2


def make_app(ingress_url: str) -> Any:
    from fastapi import FastAPI
    from fastapi.responses import JSONResponse

    app = FastAPI()
    Restate(app, {"INGRESS_URL": ingress_url, "TIMEOUT": 1})

    def timed_out(error: IngressTimeout) -> JSONResponse:
        return JSONResponse({"key": error.idempotency_key}, status_code=504)

    @app.post("/sync/slow")
    def sync_slow(restate: RestateClient) -> Any:
        client: IngressClient = restate
        try:
            return client.service("Greeter").call("slow", HANDLER_SECONDS)
        except IngressTimeout as error:
            return timed_out(error)

    @app.post("/async/slow")
    async def async_slow(restate: AsyncRestateClient) -> Any:
        client: AsyncIngressClient = restate
        try:
            return await client.service("Greeter").call("slow", HANDLER_SECONDS)
        except IngressTimeout as error:
            return timed_out(error)

    @app.post("/async/slow-recovered")
    async def async_recovered(restate: AsyncRestateClient) -> Any:
        client: AsyncIngressClient = restate
        greeter = client.service("Greeter")
        try:
            return {"result": await greeter.call("slow", HANDLER_SECONDS), "recovered": False}
        except IngressTimeout as error:
            assert error.idempotency_key is not None
            result = await greeter.attach("slow", idempotency_key=error.idempotency_key, timeout=30)
            return {"result": result, "recovered": True}

    return app


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_timeout_setting_is_a_deadline_for_a_keyed_request(ingress_url, kind):
    from fastapi.testclient import TestClient

    with TestClient(make_app(ingress_url)) as web:
        reply = web.post(f"/{kind}/slow", headers={"Idempotency-Key": uuid.uuid4().hex})
    # Before: the keyed call was retried with a fresh second per attempt until the 2 s handler
    # finished, and the view answered 200.
    assert reply.status_code == 504
    assert reply.json()["key"], "the derived key the call used is on the error"


def test_a_view_picks_up_its_timed_out_call_by_key(ingress_url):
    from fastapi.testclient import TestClient

    with TestClient(make_app(ingress_url)) as web:
        reply = web.post("/async/slow-recovered", headers={"Idempotency-Key": uuid.uuid4().hex})
    assert reply.status_code == 200
    assert reply.json() == {"result": f"slept {HANDLER_SECONDS}", "recovered": True}
