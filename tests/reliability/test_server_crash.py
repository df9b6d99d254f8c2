"""restate-server is SIGKILLed and restarted while 500 payment webhooks stream in.

500 ``PaymentWait`` workflows (tests/restate_services.py) each wait on an awakeable. A simulated
Stripe sends one signed ``payment_intent.succeeded`` per workflow to the three web apps (FastAPI,
Flask, Django, real processes, one in three each), 10 % of the events twice (half of those
copies at the same moment, half later), retrying every non-2xx answer or broken connection with
backoff, as Stripe does. After a fifth of the events are acknowledged the server is killed with
SIGKILL and started again on the same ports and data, while the stream goes on.

Checked afterwards: every workflow completed, exactly one run invocation each, every awakeable
resolved with its own event (its id in the workflow's result), zero lost, zero doubled; and the
web apps' logs hold neither the webhook secret nor any signature that was sent.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from restate_web.ingress import AsyncIngressClient
from restate_web.testing import RestateServer

from .conftest import FRAMEWORKS, WebApp, count_invocations, stripe_event, stripe_signature

WORKFLOWS = 500
DUPLICATE_SHARE = 0.10
KILL_AFTER = 100  # acknowledged first copies before SIGKILL
LAUNCH_INTERVAL = 0.004  # seconds between two events: a stream of about 2 s, plus the outage
IN_FLIGHT = 48
# Down for longer than the web apps' own ingress retry budget (about 8 s of backoff): some
# deliveries are answered 503 and the provider's retries take over.
OUTAGE_SECONDS = 10.0
DELIVERY_DEADLINE = 90.0  # the provider gives up on an event after this (it would be lost)
MAX_CLIENT_ERRORS = 5  # a 4xx answer does not heal: give up on the event (and fail) sooner


def progress(message: str) -> None:
    print(f"[server crash {time.strftime('%H:%M:%S')}] {message}", flush=True)


@dataclass
class Provider:
    """The Stripe-like sender: signs, posts, retries every non-2xx until the deadline."""

    secret: str
    http: httpx.AsyncClient
    signatures: set[str] = field(default_factory=set)
    attempts: int = 0
    refused: dict[str, int] = field(default_factory=dict)  # non-2xx status or error -> count
    acknowledged: int = 0  # first copies answered 2xx
    spans: list[tuple[float, float]] = field(default_factory=list)  # (first attempt, 2xx)
    duplicates_acknowledged: int = 0
    given_up: list[str] = field(default_factory=list)
    kill_now: asyncio.Event = field(default_factory=asyncio.Event)
    active: int = 0  # deliveries under way (sent or waiting to retry)

    async def deliver(self, url: str, event_id: str, payload: bytes, duplicate: bool) -> None:
        self.active += 1
        try:
            await self._deliver(url, event_id, payload, duplicate)
        finally:
            self.active -= 1

    async def _deliver(self, url: str, event_id: str, payload: bytes, duplicate: bool) -> None:
        deadline = time.monotonic() + DELIVERY_DEADLINE
        delay = 0.05
        client_errors = 0
        first = time.monotonic()
        while time.monotonic() < deadline and client_errors < MAX_CLIENT_ERRORS:
            signature = stripe_signature(payload, self.secret)
            self.signatures.add(signature)
            self.attempts += 1
            try:
                response = await self.http.post(
                    url,
                    content=payload,
                    headers={"content-type": "application/json", "stripe-signature": signature},
                )
                status: int | str = response.status_code
            except httpx.HTTPError as error:
                status = type(error).__name__
            if isinstance(status, int) and 200 <= status < 300:
                self.spans.append((first, time.monotonic()))
                if duplicate:
                    self.duplicates_acknowledged += 1
                else:
                    self.acknowledged += 1
                    if self.acknowledged >= KILL_AFTER:
                        self.kill_now.set()
                return
            self.refused[str(status)] = self.refused.get(str(status), 0) + 1
            if isinstance(status, int) and 400 <= status < 500:
                client_errors += 1
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)
        self.given_up.append(event_id)


async def scenario(server: RestateServer, apps: dict[str, WebApp], secret: str) -> dict[str, Any]:
    run = uuid.uuid4().hex[:8]
    keys = [f"crash-{run}-{i}" for i in range(WORKFLOWS)]
    rng = random.Random(run)
    async with AsyncIngressClient(server.ingress_url) as restate:
        # 500 workflows waiting on their awakeables.
        gate = asyncio.Semaphore(32)

        async def start(key: str, amount: int) -> str:
            async with gate:
                await restate.workflow("PaymentWait", key).submit(amount)
                awakeable_id: str = await restate.workflow("PaymentWait", key).call("awakeable_id")
                return awakeable_id

        t0 = time.monotonic()
        awakeables = await asyncio.gather(*(start(k, i) for i, k in enumerate(keys)))
        progress(f"{WORKFLOWS} workflows waiting after {time.monotonic() - t0:.1f}s")
        assert len(set(awakeables)) == WORKFLOWS

        events = {key: f"evt_{run}_{i:04d}" for i, key in enumerate(keys)}
        duplicated = set(rng.sample(range(WORKFLOWS), int(WORKFLOWS * DUPLICATE_SHARE)))
        limits = httpx.Limits(max_connections=IN_FLIGHT * 2, max_keepalive_connections=IN_FLIGHT)
        async with httpx.AsyncClient(timeout=60, limits=limits) as http:
            provider = Provider(secret, http)
            flight = asyncio.Semaphore(IN_FLIGHT)
            outage: dict[str, float] = {}

            async def one(i: int) -> None:
                key = keys[i]
                url = apps[FRAMEWORKS[i % len(FRAMEWORKS)]].url + "/webhooks/stripe"
                payload = stripe_event(events[key], awakeables[i])
                async with flight:
                    copies = [provider.deliver(url, events[key], payload, duplicate=False)]
                    if i in duplicated and i % 2 == 0:  # the copy at the same moment
                        copies.append(provider.deliver(url, events[key], payload, duplicate=True))
                    await asyncio.gather(*copies)
                if i in duplicated and i % 2 == 1:  # the copy later, once the first was taken
                    await asyncio.sleep(rng.uniform(0.1, 2.0))
                    await provider.deliver(url, events[key], payload, duplicate=True)

            async def crash() -> None:
                await provider.kill_now.wait()
                # Kill while deliveries are under way: on a fast, quiet machine the stream can
                # otherwise sit between two deliveries at the moment of the kill.
                while provider.active == 0:  # noqa: ASYNC110 - polling a counter, 1 ms
                    await asyncio.sleep(0.001)
                outage["killed_at_acknowledged"] = provider.acknowledged
                outage["start"] = time.monotonic()
                await asyncio.to_thread(server.kill)  # SIGKILL by pid
                await asyncio.sleep(OUTAGE_SECONDS)
                await asyncio.to_thread(server.start_again)
                outage["end"] = time.monotonic()
                outage["acknowledged_at_restart"] = provider.acknowledged

            tasks = [asyncio.create_task(crash())]
            for i in range(WORKFLOWS):
                tasks.append(asyncio.create_task(one(i)))
                await asyncio.sleep(LAUNCH_INTERVAL)
            await asyncio.gather(*tasks)
            progress(f"stream done: {provider.acknowledged} acknowledged, outage {outage}")

        # Every workflow's outcome, through the restarted server.
        async def outcome(key: str) -> Any:
            async with gate:
                return await restate.workflow("PaymentWait", key).attach(timeout=60)

        results = await asyncio.gather(*(outcome(k) for k in keys))
        progress("outcomes read")

    resolved_own = sum(
        1
        for key, result in zip(keys, results, strict=True)
        if result.get("paid") is True and result.get("result", {}).get("id") == events[key]
    )
    wrong_event = [
        key
        for key, result in zip(keys, results, strict=True)
        if result.get("paid") is True and result.get("result", {}).get("id") != events[key]
    ]
    return {
        "keys": keys,
        "provider": provider,
        "duplicated": len(duplicated),
        "resolved_own": resolved_own,
        "wrong_event": wrong_event,
        "outage": outage,
    }


@pytest.mark.timeout(300)
def test_server_sigkill_mid_stream_loses_and_doubles_nothing(rel_server, rel_apps, rel_secrets):
    before = count_invocations(rel_server, "PaymentWait", "run")
    started = time.monotonic()
    found = asyncio.run(scenario(rel_server, rel_apps, rel_secrets["stripe"]))
    provider: Provider = found["provider"]
    outage = found["outage"]
    runs = count_invocations(rel_server, "PaymentWait", "run") - before
    completed = rel_server.query(
        "select count(*) as n from sys_invocation where target_service_name = 'PaymentWait' "
        "and target_handler_name = 'run' and status = 'completed' "
        f"and target_service_key like '{found['keys'][0].rsplit('-', 1)[0]}-%'"
    )[0]["n"]
    lost = WORKFLOWS - found["resolved_own"]
    # Deliveries already sent when the server died and acknowledged only after that.
    in_flight = sum(1 for first, done in provider.spans if first < outage["start"] < done)
    print(
        f"\n[server crash] workflows={WORKFLOWS} delivered={provider.acknowledged} "
        f"resolved_with_own_event={found['resolved_own']} lost={lost} "
        f"doubled={runs - WORKFLOWS} wrong_event={len(found['wrong_event'])} "
        f"duplicates_sent={found['duplicated']} "
        f"duplicates_suppressed={provider.duplicates_acknowledged} "
        f"attempts={provider.attempts} refused={provider.refused} "
        f"given_up={len(provider.given_up)} run_invocations={runs} completed={completed} "
        f"killed_after_acknowledged={outage.get('killed_at_acknowledged')} "
        f"in_flight_at_kill={in_flight} "
        f"acknowledged_at_restart={outage.get('acknowledged_at_restart')} "
        f"outage_s={outage.get('end', 0) - outage.get('start', 0):.1f} "
        f"total_s={time.monotonic() - started:.1f}"
    )
    # The kill really happened in the middle of the stream.
    assert outage["killed_at_acknowledged"] < WORKFLOWS
    assert in_flight > 0
    assert outage["acknowledged_at_restart"] < WORKFLOWS
    assert provider.given_up == []
    assert provider.acknowledged == WORKFLOWS
    assert provider.duplicates_acknowledged == found["duplicated"]
    assert found["wrong_event"] == []
    assert lost == 0
    assert runs == WORKFLOWS  # one run invocation per workflow: nothing doubled
    assert completed == WORKFLOWS
    logs = "\n".join(app.all_logs() for app in rel_apps.values())
    assert rel_secrets["stripe"] not in logs
    leaked = [s for s in provider.signatures if s.split("v1=")[1] in logs]
    assert leaked == [], f"{len(leaked)} webhook signatures appear in the web apps' logs"
