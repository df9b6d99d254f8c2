"""The checkout story, step by step, against a running stack; each step checks its outcome."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from .config import CARD_DECLINED, CARD_OK

FINAL = {"paid", "payment failed", "rejected"}


class StepFailed(AssertionError):
    pass


@dataclass
class StepResult:
    number: int
    title: str
    ok: bool
    detail: str


def check(condition: bool, message: str) -> None:
    if not condition:
        raise StepFailed(message)


class Walkthrough:
    def __init__(self, app_url: str, simulator_url: str, print_fn: Callable[[str], None] = print):
        self.app = httpx.Client(base_url=app_url, timeout=30)
        self.simulator = httpx.Client(base_url=simulator_url, timeout=10)
        self.print = print_fn
        self.run_id = uuid.uuid4().hex[:8]
        self.results: list[StepResult] = []

    def close(self) -> None:
        self.app.close()
        self.simulator.close()

    # --- helpers -----------------------------------------------------------------------------

    def place_order(self, key: str, **order: Any) -> httpx.Response:
        return self.app.post("/orders", json=order, headers={"Idempotency-Key": f'"{key}"'})

    def wait_final(self, order_id: str, timeout: float = 45) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        status: dict[str, Any] = {}
        while time.monotonic() < deadline:
            response = self.app.get(f"/orders/{order_id}")
            if response.status_code == 200:
                status = response.json()
                if status.get("status") in FINAL:
                    return status
            time.sleep(0.2)
        raise StepFailed(f"order {order_id} did not finish in {timeout:.0f}s (last: {status})")

    def stock(self, sku: str) -> int:
        response = self.app.get(f"/stock/{sku}")
        check(response.status_code == 200, f"GET /stock/{sku} answered {response.status_code}")
        return int(response.json()["available"])

    def deliveries(self, order_id: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self.simulator.get(
            "/v1/deliveries", params={"order_id": order_id}
        ).json()
        return rows

    # --- steps --------------------------------------------------------------------------------

    def step(self, title: str, body: Callable[[], str]) -> bool:
        number = len(self.results) + 1
        try:
            detail = body()
            ok = True
        except (StepFailed, httpx.HTTPError, KeyError, ValueError) as error:
            detail, ok = f"{type(error).__name__}: {error}", False
        self.results.append(StepResult(number, title, ok, detail))
        mark = "PASS" if ok else "FAIL"
        self.print(f"  [{mark}] {number}. {title}\n         {detail}")
        return ok

    def replayed_order(self) -> str:
        sku = f"book-{self.run_id}"
        key = f"demo-{self.run_id}-replay"
        first = self.place_order(key, sku=sku, quantity=1, card=CARD_OK, amount=2500)
        second = self.place_order(key, sku=sku, quantity=1, card=CARD_OK, amount=2500)
        check(first.status_code == 200, f"POST /orders answered {first.status_code}: {first.text}")
        check(second.status_code == 200, f"the replay answered {second.status_code}")
        order_id = first.json()["order_id"]
        check(second.json()["order_id"] == order_id, "the replay started a second order")
        status = self.wait_final(order_id)
        check(status["status"] == "paid", f"expected paid, got {status}")
        left = self.stock(sku)
        check(left == 99, f"stock should drop by exactly one reservation, it is {left}")
        return (
            f"same Idempotency-Key twice -> one order {order_id}, paid via the signed "
            f"payment_intent.succeeded webhook; stock of {sku}: 100 -> {left}"
        )

    def paid_order(self) -> str:
        sku = f"mug-{self.run_id}"
        response = self.place_order(f"demo-{self.run_id}-paid", sku=sku, quantity=2, card=CARD_OK)
        order_id = response.json()["order_id"]
        status = self.wait_final(order_id)
        check(status["status"] == "paid", f"expected paid, got {status}")
        check(bool(status.get("paid_event")), "the paid order records the webhook event id")
        delivered = self.deliveries(order_id)
        check([d["status"] for d in delivered] == [200], f"deliveries: {delivered}")
        return f"order {order_id} paid by event {status['paid_event']} (webhook answered 200)"

    def declined_card(self) -> str:
        sku = f"lamp-{self.run_id}"
        response = self.place_order(
            f"demo-{self.run_id}-declined", sku=sku, quantity=3, card=CARD_DECLINED
        )
        order_id = response.json()["order_id"]
        status = self.wait_final(order_id)
        check(status["status"] == "payment failed", f"expected payment failed, got {status}")
        check(status["reason"] == "Your card was declined.", f"reason: {status['reason']!r}")
        left = self.stock(sku)
        check(left == 100, f"the reservation must be released, stock is {left}")
        return (
            f"order {order_id}: payment_intent.payment_failed rejected the awakeable -> "
            f"'{status['reason']}', stock released (100)"
        )

    def duplicated_webhook(self) -> str:
        sku = f"pen-{self.run_id}"
        response = self.place_order(
            f"demo-{self.run_id}-dup", sku=sku, quantity=1, card=CARD_OK, duplicate_webhook=True
        )
        order_id = response.json()["order_id"]
        status = self.wait_final(order_id)
        check(status["status"] == "paid", f"expected paid, got {status}")
        deadline = time.monotonic() + 10
        delivered = self.deliveries(order_id)
        while len([d for d in delivered if d["status"] == 200]) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
            delivered = self.deliveries(order_id)
        copies = [d for d in delivered if d["status"] == 200]
        check(len(copies) == 2, f"expected the event delivered twice with 200, got {delivered}")
        check(len({d["event"] for d in copies}) == 1, "both copies are the same event")
        check(self.stock(sku) == 99, "the duplicate must not reserve or pay twice")
        return (
            f"event {copies[0]['event']} delivered twice, both answered 200; "
            f"order {order_id} paid once, stock 99"
        )

    def guard(self) -> str:
        response = self.app.get("/debug/misuse")
        check(response.status_code == 500, f"expected 500, got {response.status_code}")
        body = response.text
        check("DurableContextOutsideHandler" in body, f"the guard's message is missing: {body}")
        check("ingress" in body.lower(), "the message says to go through the ingress client")
        return f"GET /debug/misuse -> 500: {response.json().get('detail', body)[:160]}"

    def run_all(self) -> bool:
        steps = [
            ("an order replayed with the same Idempotency-Key", self.replayed_order),
            ("a paid order", self.paid_order),
            ("a declined card", self.declined_card),
            ("a duplicated webhook", self.duplicated_webhook),
            ("a guard firing on misuse", self.guard),
        ]
        return all([self.step(title, body) for title, body in steps])
