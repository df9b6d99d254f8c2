"""The call to the payment provider. Durable-only: it must run inside a Restate handler (in
``ctx.run``), where its result is journaled and a retry cannot charge twice."""

from __future__ import annotations

from typing import Any

import httpx

from restate_web.guards import durable_only

from .config import simulator_url


@durable_only
async def create_payment_intent(
    order_id: str, amount: int, card: str, awakeable_id: str, duplicate_webhook: bool = False
) -> dict[str, Any]:
    """Ask the provider for a payment; it answers now and confirms later with a webhook that
    carries ``awakeable_id`` in the PaymentIntent's metadata."""
    async with httpx.AsyncClient(base_url=simulator_url(), timeout=10) as http:
        response = await http.post(
            "/v1/payment_intents",
            # The provider deduplicates on this key, so a retried ctx.run never double-charges.
            headers={"Idempotency-Key": f"order-{order_id}"},
            json={
                "amount": amount,
                "currency": "eur",
                "payment_method": card,
                "metadata": {
                    "order_id": order_id,
                    "restate_awakeable_id": awakeable_id,
                    "simulate_duplicate": "true" if duplicate_webhook else "false",
                },
            },
        )
        response.raise_for_status()
        intent: dict[str, Any] = response.json()
        return intent
