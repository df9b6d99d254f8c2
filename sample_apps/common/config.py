"""Environment names the sample processes agree on (each process reads its own)."""

from __future__ import annotations

import os

SIMULATOR_URL_ENV = "CHECKOUT_SIMULATOR_URL"
WEBHOOK_URL_ENV = "CHECKOUT_WEBHOOK_URL"
WEBHOOK_SECRET_ENV = "STRIPE_WEBHOOK_SECRET"
DUPLICATE_RATE_ENV = "CHECKOUT_DUPLICATE_RATE"
PAYMENT_DEADLINE_ENV = "CHECKOUT_PAYMENT_DEADLINE_SECONDS"

# Test cards, as Stripe documents them.
CARD_OK = "4242424242424242"
CARD_DECLINED = "4000000000000002"
CARD_NO_ANSWER = "4000000000000077"  # the simulator never answers: the deadline cancels the order


def simulator_url() -> str:
    return os.environ.get(SIMULATOR_URL_ENV, "http://127.0.0.1:8099").rstrip("/")


def webhook_secret() -> str:
    secret = os.environ.get(WEBHOOK_SECRET_ENV)
    if not secret:
        raise RuntimeError(
            f"set {WEBHOOK_SECRET_ENV} (the whsec_... secret the simulator signs with)"
        )
    return secret


def payment_deadline_seconds() -> float:
    return float(os.environ.get(PAYMENT_DEADLINE_ENV, "30"))
