"""How long each webhook provider keeps redelivering one event (the README's table).

An idempotency key Restate forgot before the provider's last redelivery lets that delivery run
the handler a second time, so the idempotency retention of services that receive webhook events
must outlast these windows. Values from the providers' documentation (late 2026); where sources
disagree we take the longer one.
"""

from __future__ import annotations

from datetime import timedelta

REDELIVERY_WINDOWS: dict[str, tuple[timedelta, str]] = {
    "stripe": (timedelta(days=3), "live mode retries for up to 3 days"),
    "standard-webhooks": (
        timedelta(hours=75),
        "the spec's example schedule spans about 75 hours (Svix's own: about 28 hours)",
    ),
    "adyen": (timedelta(days=30), "retry queue for up to 30 days"),
    "paddle": (timedelta(days=3), "retries over about 3 days in live mode"),
    "square": (timedelta(hours=72), "up to 24 hours on one docs page, 72 on another"),
    "razorpay": (timedelta(hours=24), "exponential backoff for 24 hours"),
    "github": (
        timedelta(days=3),
        "no automatic redelivery, but deliveries from the past 3 days can be redelivered",
    ),
    "shopify": (timedelta(hours=4), "8 retries over 4 hours"),
    "lemonsqueezy": (timedelta(minutes=3), "3 retries at about 5 s, 25 s and 125 s"),
    "paypal": (timedelta(days=3), "up to 25 retries over 3 days"),
}
