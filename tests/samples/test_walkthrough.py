"""The `make demo` walkthrough, for every sample app, as part of the test suite."""

from __future__ import annotations

import time

import pytest

from sample_apps.common.stack import checkout_stack
from sample_apps.common.walkthrough import Walkthrough


@pytest.mark.timeout(300)
@pytest.mark.parametrize("framework", ["fastapi", "flask", "django"])
def test_checkout_walkthrough(framework):
    lines: list[str] = []
    with checkout_stack(framework) as stack:
        walkthrough = Walkthrough(stack.app_url, stack.simulator_url, print_fn=lines.append)
        try:
            ok = walkthrough.run_all()
        finally:
            walkthrough.close()
        pids = [pid for pid in stack.processes().values() if pid]
    assert ok, "\n".join(lines)
    assert [r.title for r in walkthrough.results] == [
        "an order replayed with the same Idempotency-Key",
        "a paid order",
        "a declined card",
        "a duplicated webhook",
        "a guard firing on misuse",
    ]
    for pid in pids:  # nothing left running
        with pytest.raises(ProcessLookupError):
            import os

            os.kill(pid, 0)


@pytest.mark.timeout(120)
def test_unpaid_order_is_cancelled_at_the_deadline():
    """The story's delayed send: no webhook ever comes (the simulator never answers this card),
    so Order.expire, sent with a delay, rejects the awakeable and the stock is released."""
    from sample_apps.common.config import CARD_NO_ANSWER

    with checkout_stack("fastapi", payment_deadline=3) as stack:
        walkthrough = Walkthrough(stack.app_url, stack.simulator_url, print_fn=lambda _: None)
        try:
            sku = f"clock-{walkthrough.run_id}"
            response = walkthrough.place_order(
                f"deadline-{walkthrough.run_id}", sku=sku, quantity=4, card=CARD_NO_ANSWER
            )
            order_id = response.json()["order_id"]
            # The workflow runs on its own: wait until it reserved stock and waits for payment.
            deadline = time.monotonic() + 30
            while walkthrough.app.get(f"/orders/{order_id}").json()["status"] != (
                "waiting for payment"
            ):
                assert time.monotonic() < deadline, "the order never started waiting"
                time.sleep(0.05)
            assert walkthrough.stock(sku) == 96
            status = walkthrough.wait_final(order_id, timeout=60)
            assert status["status"] == "payment failed"
            assert status["reason"] == "payment deadline passed"
            assert walkthrough.stock(sku) == 100
            assert walkthrough.deliveries(order_id) == []  # no webhook was involved
        finally:
            walkthrough.close()
