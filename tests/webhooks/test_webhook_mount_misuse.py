"""README "Webhooks": the FastAPI and Flask mounts need the app's Restate extension; without it
a webhook request raises RuntimeError that says to install it (misuse: an exception that says
what to do). No Restate call is made, so no server is needed."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from flask import Flask

from restate_web.adapters.fastapi import webhook_router
from restate_web.adapters.flask import webhook_blueprint
from restate_web.webhooks import ResolveAwakeable, WebhookEndpoint, stripe_webhooks

ENDPOINT = WebhookEndpoint(stripe_webhooks("whsec_x"), {"invoice.paid": ResolveAwakeable()})


def test_fastapi_mount_without_restate_says_to_install_it() -> None:
    app = FastAPI()
    app.include_router(webhook_router({"stripe": ENDPOINT}), prefix="/webhooks")
    with TestClient(app) as client, pytest.raises(RuntimeError, match=r"Restate\(app\)"):
        client.post("/webhooks/stripe", content=b"{}")


def test_flask_mount_without_restate_says_to_install_it() -> None:
    app = Flask(__name__)
    app.config["PROPAGATE_EXCEPTIONS"] = True
    app.register_blueprint(webhook_blueprint({"stripe": ENDPOINT}), url_prefix="/webhooks")
    with pytest.raises(RuntimeError, match=r"Restate\(app\)"):
        app.test_client().post("/webhooks/stripe", data=b"{}")
