"""The checkout in Flask. Run it with `make sample FRAMEWORK=flask`."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, request

from restate_web.adapters.flask import Restate, idempotency_key_required, webhook_blueprint
from restate_web.guards import DurableContextOutsideHandler

from ..common.web import misuse_durable_helper, order_request, stripe_endpoint

app = Flask(__name__)
# Settings are RESTATE_* config keys; the extension falls back to RESTATE_* environment variables
# (RESTATE_INGRESS_URL=...), so nothing needs copying into app.config here.
restate = Restate(app)
# POST /webhooks/stripe: verified, then resolves or rejects the order's awakeable.
app.register_blueprint(webhook_blueprint({"stripe": stripe_endpoint}), url_prefix="/webhooks")


@app.post("/orders")
@idempotency_key_required
def create_order() -> Any:
    try:
        order = order_request(request.get_json(silent=True))
    except ValueError as error:
        return jsonify(detail=str(error)), 400
    # The extension derives this call's idempotency key from the client's Idempotency-Key.
    return jsonify(restate.client.service("Checkout").call("start", order))


@app.get("/orders/<order_id>")
def get_order(order_id: str) -> Any:
    return jsonify(restate.client.workflow("Order", order_id).call("status"))


@app.get("/stock/<sku>")
def get_stock(sku: str) -> Any:
    return jsonify(sku=sku, available=restate.client.object("Inventory", sku).call("available"))


@app.get("/debug/misuse")
async def debug_misuse() -> Any:
    await misuse_durable_helper()  # raises: durable-only code in a web view


@app.errorhandler(DurableContextOutsideHandler)
def show_misuse(error: DurableContextOutsideHandler) -> Any:
    return jsonify(error=type(error).__name__, detail=str(error)), 500
