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


def test_the_flask_sample_reads_its_settings_as_the_readme_says():
    """RESTATE_* environment variables reach the extension without being copied into
    app.config under other names (``from_prefixed_env("RESTATE")`` made ``INGRESS_URL``)."""
    import json
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    code = (
        "import json\n"
        "from sample_apps.flask_checkout.app import app\n"
        "print(json.dumps([app.extensions['restate'].settings.ingress_url,\n"
        "                  sorted(k for k in app.config if 'INGRESS' in k)]))\n"
    )
    env = {**os.environ, "RESTATE_INGRESS_URL": "http://127.0.0.1:18080"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(out) == ["http://127.0.0.1:18080", []]
