"""A FastAPI app serving Restate services under two paths, signed (key from the environment)."""

from __future__ import annotations

import os

from fastapi import FastAPI

from restate_web.serving import mount_services
from tests.deploy.signed_services import request_response, signed_greeter

KEYS = [os.environ["SIGNED_TEST_IDENTITY_KEY"]]

app = FastAPI()


@app.get("/ping")
async def ping() -> dict[str, str]:
    return {"app": "fastapi"}


# HTTP/2 (hypercorn, h2c): bidirectional streaming. HTTP/1.1: request-response.
mount_services(app, [signed_greeter], path="/restate/v1", identity_keys=KEYS)
mount_services(
    app, [request_response], path="/restate/rr", identity_keys=KEYS, protocol="request_response"
)
