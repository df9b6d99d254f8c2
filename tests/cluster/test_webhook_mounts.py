"""Webhook mounts build their clients from INGRESS_URL: with a cluster's nodes listed (one of
them dead), a signed Stripe event resolves its workflow's awakeable through a live node, in
FastAPI (``webhook_router``, the async client) and Flask (``webhook_blueprint``, the blocking
client); with every listed node dead, the mount answers 503 so the provider redelivers."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from restate_web.ingress import IngressClient
from restate_web.testing import RestateCluster, free_port
from restate_web.webhooks import ResolveAwakeable, WebhookEndpoint, stripe_webhooks
from tests.reliability.conftest import stripe_event, stripe_signature

SECRET = "whsec_" + uuid.uuid4().hex


def endpoint() -> WebhookEndpoint:
    return WebhookEndpoint(
        stripe_webhooks(SECRET), routes={"payment_intent.succeeded": ResolveAwakeable()}
    )


def fastapi_post(urls: list[str], payload: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from restate_web.adapters.fastapi import Restate, webhook_router

    app = FastAPI()
    Restate(app, {"INGRESS_URL": urls})
    app.include_router(webhook_router({"stripe": endpoint()}), prefix="/webhooks")
    with TestClient(app) as client:
        answer = client.post("/webhooks/stripe", content=payload, headers=headers)
        return answer.status_code, answer.json()


def flask_post(urls: list[str], payload: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    from flask import Flask

    from restate_web.adapters.flask import Restate, webhook_blueprint

    app = Flask(__name__)
    app.config["RESTATE_INGRESS_URL"] = ",".join(urls)
    Restate(app)
    app.register_blueprint(webhook_blueprint({"stripe": endpoint()}), url_prefix="/webhooks")
    answer = app.test_client().post("/webhooks/stripe", data=payload, headers=headers)
    return answer.status_code, answer.get_json()


POST = {"fastapi": fastapi_post, "flask": flask_post}


def signed(payload: bytes) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "stripe-signature": stripe_signature(payload, SECRET),
    }


@pytest.mark.parametrize("framework", sorted(POST))
def test_mount_resolves_through_a_live_node_when_one_listed_is_dead(
    cluster: RestateCluster, framework: str
):
    key = f"mount-{framework}-{uuid.uuid4().hex[:8]}"
    with IngressClient(cluster.ingress_urls, timeout=30) as restate:
        restate.workflow("PaymentWait", key).submit(1)
        awakeable_id = restate.workflow("PaymentWait", key).call("awakeable_id")
        payload = stripe_event(f"evt_{key}", awakeable_id)
        dead = f"http://127.0.0.1:{free_port()}"

        status, _ = POST[framework]([dead, *cluster.ingress_urls], payload, signed(payload))
        assert status == 200

        result: Any = restate.workflow("PaymentWait", key).attach()
    assert result["paid"] is True
    assert result["result"]["id"] == f"evt_{key}"


@pytest.mark.parametrize("framework", sorted(POST))
def test_mount_answers_503_when_every_listed_node_is_down(framework: str):
    payload = stripe_event(f"evt_down_{framework}", "sign_1E4R3tyA9NFkBEM1XlRmTIT3LdNadQ3COAAAAEQ")
    dead = [f"http://127.0.0.1:{free_port()}" for _ in range(3)]
    status, body = POST[framework](dead, payload, signed(payload))
    assert (status, body["status"]) == (503, "retry")
