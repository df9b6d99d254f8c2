"""A three-node Restate cluster behind the web apps, with nodes killed under load.

The cluster (``restate_cluster``: three nodes on loopback, replication 2, four partitions) runs
tests/reliability/services.py. Two web apps serve as real processes, FastAPI under uvicorn (the
async client) and Flask under hypercorn (the blocking client), both configured with every
node's ingress in ``RESTATE_INGRESS_URL``, so their calls spread over the three nodes.

(a) 300 orders (web requests with an Idempotency-Key; the app calls ``RelOnce/make`` with the
    key it derives) and 300 signed Stripe webhook deliveries (10 % of them twice) that resolve
    the awakeables of 300 ``PaymentWait`` workflows, while the node leading the most partitions
    is SIGKILLed and, a few seconds later, restarted on its data. A user retries an order with
    the same key on any non-2xx; the provider redelivers an event on any non-2xx. Every order
    is answered, every workflow is resolved with its own event, and nothing runs twice.
(b) Two of the three nodes SIGKILLed: the survivor's ingress does not answer, so calls end by
    their deadline (``IngressTimeout`` / ``IngressUnavailable``; the apps answer 503) and the
    webhooks answer 503. After both nodes are back the provider's redeliveries complete, and the
    users' retries of the orders (same keys) get the invocations that ran while they had given
    up, without running anything twice.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from restate_web.ingress import AsyncIngressClient, IngressTimeout, IngressUnavailable
from restate_web.testing import HarnessError, RestateCluster, ServiceProcess
from tests.conftest import ROOT

from .conftest import stripe_event, stripe_signature
from .webapp import CALLBACK_SECRET_ENV, STRIPE_SECRET_ENV

ORDERS = 300
WORKFLOWS = 300
DUPLICATE_SHARE = 0.10
KILL_AFTER = 120  # acknowledged orders and deliveries (of 600) before the SIGKILL
RESTART_AFTER = 300  # acknowledged (of 600) that restart the killed node (or OUTAGE_SECONDS)
OUTAGE_SECONDS = 6.0
LAUNCH_INTERVAL = 0.01
IN_FLIGHT = 16  # per stream
APP_TIMEOUT = 4.0  # RESTATE_TIMEOUT of the apps: the deadline of each of their calls
GIVE_UP_AFTER = 120.0  # a user or the provider gives up on one order or event after this

APPS = {
    "fastapi": ("uvicorn", "tests.reliability.cluster_app:fastapi_app"),
    "flask": ("hypercorn", "wsgi:tests.reliability.cluster_app:flask_app"),
}

pytestmark = pytest.mark.timeout(600)


def progress(message: str) -> None:
    print(f"[cluster {time.strftime('%H:%M:%S')}] {message}", flush=True)


@pytest.fixture(scope="module")
def stack(restate_cluster: RestateCluster) -> Iterator[dict[str, Any]]:
    """The cluster with the services registered, and the two web apps pointed at every node."""
    stripe_secret = "whsec_" + uuid.uuid4().hex
    env = {
        "RESTATE_INGRESS_URL": ",".join(restate_cluster.ingress_urls),
        "RESTATE_TIMEOUT": str(APP_TIMEOUT),
        STRIPE_SECRET_ENV: stripe_secret,
        CALLBACK_SECRET_ENV: "cb_" + uuid.uuid4().hex,
    }
    processes: list[ServiceProcess] = []
    try:
        services = ServiceProcess.start("tests.reliability.services:app", cwd=ROOT)
        processes.append(services)
        restate_cluster.register(services.url)
        apps = {}
        for name, (server, app) in APPS.items():
            processes.append(ServiceProcess.start(app, server=server, cwd=ROOT, env=env))
            apps[name] = processes[-1]
    except HarnessError as error:
        for process in processes:
            process.close()
        pytest.fail(f"could not start the cluster test stack: {error}", pytrace=False)
    try:
        yield {"cluster": restate_cluster, "apps": apps, "secret": stripe_secret}
    finally:
        for process in processes:
            process.close()


def count(cluster: RestateCluster, service: str, handler: str, status: str | None = None) -> int:
    where = f"target_service_name = '{service}' and target_handler_name = '{handler}'"
    if status is not None:
        where += f" and status = '{status}'"
    rows = cluster.query(f"select count(*) as n from sys_invocation where {where}")
    return int(rows[0]["n"]) if rows else 0


@dataclass
class Traffic:
    """The users placing orders and the Stripe-like provider: both retry every non-2xx."""

    http: httpx.AsyncClient
    secret: str
    answers: dict[str, Any] = field(default_factory=dict)  # order key -> the app's answer
    acknowledged_events: int = 0
    duplicates_acknowledged: int = 0
    attempts: int = 0
    refused: dict[str, int] = field(default_factory=dict)  # status or error -> count
    given_up: list[str] = field(default_factory=list)
    spans: list[tuple[float, float]] = field(default_factory=list)  # first try, 2xx
    active: int = 0
    enough: asyncio.Event = field(default_factory=asyncio.Event)
    kill_after: int = KILL_AFTER

    @property
    def acknowledged(self) -> int:
        return len(self.answers) + self.acknowledged_events

    def _note(self, status: int | str) -> None:
        self.refused[str(status)] = self.refused.get(str(status), 0) + 1

    async def _post(self, url: str, **kwargs: Any) -> tuple[int | str, httpx.Response | None]:
        self.attempts += 1
        try:
            response = await self.http.post(url, **kwargs)
        except httpx.HTTPError as error:
            return type(error).__name__, None
        return response.status_code, response

    async def order(self, app_url: str, key: str, item: str, *, once: bool = False) -> Any:
        """POST /orders until 2xx (a user pressing "retry", same key); ``once``: one try."""
        self.active += 1
        first, delay = time.monotonic(), 0.1
        try:
            while time.monotonic() - first < GIVE_UP_AFTER:
                status, response = await self._post(
                    app_url + "/orders",
                    json={"item": item},
                    headers={"idempotency-key": key, "x-user": "cluster-tester"},
                )
                if isinstance(status, int) and 200 <= status < 300 and response is not None:
                    self.answers[key] = response.json()
                    self.spans.append((first, time.monotonic()))
                    self._check_enough()
                    return response.json()
                self._note(status)
                if once:
                    return status
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)
            self.given_up.append(key)
            return None
        finally:
            self.active -= 1

    async def deliver(
        self, app_url: str, payload: bytes, *, duplicate: bool = False, once: bool = False
    ) -> int | str:
        """POST a signed event until 2xx, as Stripe redelivers; ``once``: one try."""
        self.active += 1
        first, delay = time.monotonic(), 0.1
        try:
            while time.monotonic() - first < GIVE_UP_AFTER:
                status, _ = await self._post(
                    app_url + "/webhooks/stripe",
                    content=payload,
                    headers={
                        "content-type": "application/json",
                        "stripe-signature": stripe_signature(payload, self.secret),
                    },
                )
                if isinstance(status, int) and 200 <= status < 300:
                    self.spans.append((first, time.monotonic()))
                    if duplicate:
                        self.duplicates_acknowledged += 1
                    else:
                        self.acknowledged_events += 1
                        self._check_enough()
                    return status
                self._note(status)
                if once:
                    return status
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)
            self.given_up.append(payload.decode()[:40])
            return "given up"
        finally:
            self.active -= 1

    def _check_enough(self) -> None:
        if self.acknowledged >= self.kill_after:
            self.enough.set()


async def start_workflows(
    restate: AsyncIngressClient, keys: list[str], gate: asyncio.Semaphore
) -> list[str]:
    async def start(key: str, amount: int) -> str:
        async with gate:
            await restate.workflow("PaymentWait", key).submit(amount)
            awakeable_id: str = await restate.workflow("PaymentWait", key).call("awakeable_id")
            return awakeable_id

    return list(await asyncio.gather(*(start(k, i) for i, k in enumerate(keys))))


async def outcomes(
    restate: AsyncIngressClient, keys: list[str], gate: asyncio.Semaphore
) -> list[Any]:
    async def outcome(key: str) -> Any:
        async with gate:
            return await restate.workflow("PaymentWait", key).attach(timeout=60)

    return list(await asyncio.gather(*(outcome(k) for k in keys)))


def resolved_with_own_event(keys: list[str], events: dict[str, str], results: list[Any]) -> int:
    return sum(
        1
        for key, result in zip(keys, results, strict=True)
        if result.get("paid") is True and result.get("result", {}).get("id") == events[key]
    )


async def kill_busiest_under_load(
    cluster: RestateCluster, traffic: Traffic, outage: dict[str, Any]
) -> None:
    await traffic.enough.wait()
    while traffic.active == 0:  # noqa: ASYNC110 - polling a counter, 1 ms
        await asyncio.sleep(0.001)
    victim = cluster.busiest_leader()
    outage["victim"] = victim.name
    outage["victim_led"] = sorted(
        p for p, node in cluster.partition_leaders().items() if node is victim
    )
    outage["acknowledged_at_kill"] = traffic.acknowledged
    outage["start"] = time.monotonic()
    await asyncio.to_thread(cluster.kill, victim)  # SIGKILL by pid
    await asyncio.to_thread(cluster.wait_for_leaders)
    outage["failover_s"] = time.monotonic() - outage["start"]
    # The node comes back mid-stream: when the streams are half through (a quiet machine gets
    # there within the failover) or after OUTAGE_SECONDS, whichever is first.
    while (  # noqa: ASYNC110 - polling a counter and a clock
        traffic.acknowledged < RESTART_AFTER and time.monotonic() - outage["start"] < OUTAGE_SECONDS
    ):
        await asyncio.sleep(0.01)
    outage["acknowledged_at_restart"] = traffic.acknowledged
    await asyncio.to_thread(cluster.restart, victim)
    outage["end"] = time.monotonic()


async def leader_kill_scenario(stack: dict[str, Any]) -> dict[str, Any]:
    cluster: RestateCluster = stack["cluster"]
    app_urls = [app.url for app in stack["apps"].values()]
    run = uuid.uuid4().hex[:8]
    rng = random.Random(run)
    workflow_keys = [f"cl-{run}-{i}" for i in range(WORKFLOWS)]
    events = {key: f"evt_{run}_{i:04d}" for i, key in enumerate(workflow_keys)}
    order_keys = [f"ord-{run}-{i}" for i in range(ORDERS)]
    duplicated = set(rng.sample(range(WORKFLOWS), int(WORKFLOWS * DUPLICATE_SHARE)))
    gate = asyncio.Semaphore(32)
    async with AsyncIngressClient(cluster.ingress_urls, timeout=30) as restate:
        t0 = time.monotonic()
        awakeables = await start_workflows(restate, workflow_keys, gate)
        progress(f"{WORKFLOWS} workflows waiting after {time.monotonic() - t0:.1f}s")
        assert len(set(awakeables)) == WORKFLOWS

        limits = httpx.Limits(max_connections=4 * IN_FLIGHT, max_keepalive_connections=IN_FLIGHT)
        async with httpx.AsyncClient(timeout=60, limits=limits) as http:
            traffic = Traffic(http, stack["secret"])
            orders_gate, events_gate = asyncio.Semaphore(IN_FLIGHT), asyncio.Semaphore(IN_FLIGHT)
            outage: dict[str, Any] = {}

            async def one_order(i: int) -> None:
                async with orders_gate:
                    await traffic.order(app_urls[i % 2], order_keys[i], f"item-{i}")

            async def one_event(i: int) -> None:
                url = app_urls[(i + 1) % 2]
                payload = stripe_event(events[workflow_keys[i]], awakeables[i])
                async with events_gate:
                    copies = [traffic.deliver(url, payload)]
                    if i in duplicated and i % 2 == 0:  # the copy at the same moment
                        copies.append(traffic.deliver(app_urls[i % 2], payload, duplicate=True))
                    await asyncio.gather(*copies)
                if i in duplicated and i % 2 == 1:  # the copy later, once the first was taken
                    await asyncio.sleep(rng.uniform(0.1, 2.0))
                    await traffic.deliver(url, payload, duplicate=True)

            t0 = time.monotonic()
            tasks = [asyncio.create_task(kill_busiest_under_load(cluster, traffic, outage))]
            for i in range(max(ORDERS, WORKFLOWS)):
                if i < ORDERS:
                    tasks.append(asyncio.create_task(one_order(i)))
                if i < WORKFLOWS:
                    tasks.append(asyncio.create_task(one_event(i)))
                await asyncio.sleep(LAUNCH_INTERVAL)
            await asyncio.gather(*tasks)
            stream_s = time.monotonic() - t0
            progress(f"streams done in {stream_s:.1f}s: outage {outage}")

        results = await outcomes(restate, workflow_keys, gate)
    return {
        "traffic": traffic,
        "outage": outage,
        "order_keys": order_keys,
        "resolved_own": resolved_with_own_event(workflow_keys, events, results),
        "duplicated": len(duplicated),
        "stream_s": stream_s,
    }


def test_leader_sigkill_under_orders_and_webhooks_loses_and_doubles_nothing(stack):
    cluster: RestateCluster = stack["cluster"]
    orders_before = count(cluster, "RelOnce", "make")
    runs_before = count(cluster, "PaymentWait", "run")
    started = time.monotonic()
    found = asyncio.run(leader_kill_scenario(stack))
    traffic: Traffic = found["traffic"]
    outage = found["outage"]
    orders_run = count(cluster, "RelOnce", "make") - orders_before
    runs = count(cluster, "PaymentWait", "run") - runs_before
    answers = {a["answer"] for a in traffic.answers.values()}
    in_flight = sum(1 for first, done in traffic.spans if first < outage["start"] < done)
    lost = WORKFLOWS - found["resolved_own"]
    print(
        f"\n[cluster leader kill] orders={ORDERS} answered={len(traffic.answers)} "
        f"distinct_answers={len(answers)} order_invocations={orders_run} "
        f"workflows={WORKFLOWS} delivered={traffic.acknowledged_events} "
        f"resolved_with_own_event={found['resolved_own']} lost={lost} "
        f"doubled={(orders_run - ORDERS) + (runs - WORKFLOWS)} "
        f"duplicates_sent={found['duplicated']} "
        f"duplicates_acknowledged={traffic.duplicates_acknowledged} "
        f"attempts={traffic.attempts} refused={traffic.refused} given_up={traffic.given_up} "
        f"victim={outage.get('victim')} led={outage.get('victim_led')} "
        f"acknowledged_at_kill={outage.get('acknowledged_at_kill')} in_flight_at_kill={in_flight} "
        f"failover_s={outage.get('failover_s', 0):.1f} "
        f"outage_s={outage.get('end', 0) - outage.get('start', 0):.1f} "
        f"stream_s={found['stream_s']:.1f} total_s={time.monotonic() - started:.1f}"
    )
    assert outage["acknowledged_at_kill"] < ORDERS + WORKFLOWS, "killed mid-stream"
    assert outage["acknowledged_at_restart"] < ORDERS + WORKFLOWS, "restarted mid-stream"
    assert in_flight > 0
    assert traffic.given_up == []
    assert len(traffic.answers) == ORDERS, "every order answered"
    assert len(answers) == ORDERS and orders_run == ORDERS, "each order ran exactly once"
    assert traffic.acknowledged_events == WORKFLOWS
    assert traffic.duplicates_acknowledged == found["duplicated"]
    assert lost == 0, "every awakeable resolved with its own event"
    assert runs == WORKFLOWS
    assert count(cluster, "PaymentWait", "run", "completed") >= WORKFLOWS


async def majority_down_scenario(stack: dict[str, Any]) -> dict[str, Any]:
    cluster: RestateCluster = stack["cluster"]
    app_urls = [app.url for app in stack["apps"].values()]
    run = uuid.uuid4().hex[:8]
    workflow_keys = [f"maj-{run}-{i}" for i in range(10)]
    events = {key: f"evt_{run}_{i:02d}" for i, key in enumerate(workflow_keys)}
    order_keys = [f"maj-ord-{run}-{i}" for i in range(10)]
    gate = asyncio.Semaphore(10)
    found: dict[str, Any] = {"workflow_keys": workflow_keys}
    async with AsyncIngressClient(cluster.ingress_urls, timeout=30) as restate:
        awakeables = await start_workflows(restate, workflow_keys, gate)
        pairs = zip(workflow_keys, awakeables, strict=True)
        payloads = [stripe_event(events[key], awakeable) for key, awakeable in pairs]
        survivor = cluster.busiest_leader()
        victims = [node for node in cluster.nodes if node is not survivor]
        for node in victims:
            await asyncio.to_thread(cluster.kill, node)
        found["victims"] = [n.name for n in victims]
        progress(f"killed {found['victims']}; {survivor.name} is alone")

        async with httpx.AsyncClient(timeout=60) as http:
            traffic = Traffic(http, stack["secret"], kill_after=10**9)

            # The client itself: a call ends by its deadline with a documented error.
            direct: list[tuple[str, float]] = []
            for kind in ("keyless", "keyed"):
                t0 = time.monotonic()
                key = None if kind == "keyless" else f"maj-direct-{run}"
                try:
                    await restate.service("RelOnce").call(
                        "make", {"item": kind}, idempotency_key=key, timeout=3
                    )
                    direct.append(("answered", time.monotonic() - t0))
                except (IngressTimeout, IngressUnavailable) as error:
                    direct.append((type(error).__name__, time.monotonic() - t0))
            found["direct"] = direct

            # Web requests and webhooks while the majority is down: one try each.
            async def timed(coro: Any) -> tuple[Any, float]:
                t0 = time.monotonic()
                result = await coro
                return result, time.monotonic() - t0

            found["orders_down"] = await asyncio.gather(
                *(
                    timed(traffic.order(app_urls[i % 2], key, f"maj-{i}", once=True))
                    for i, key in enumerate(order_keys)
                )
            )
            found["webhooks_down"] = await asyncio.gather(
                *(
                    timed(traffic.deliver(app_urls[i % 2], payload, once=True))
                    for i, payload in enumerate(payloads)
                )
            )

            t0 = time.monotonic()
            for node in victims:
                await asyncio.to_thread(cluster.restart, node)
            await asyncio.to_thread(cluster.wait_for_leaders)
            found["recovery_s"] = time.monotonic() - t0
            progress(f"{found['victims']} back after {found['recovery_s']:.1f}s")

            # The provider's redeliveries, then the users' retries with the same keys.
            found["redelivered"] = await asyncio.gather(
                *(traffic.deliver(app_urls[(i + 1) % 2], p) for i, p in enumerate(payloads))
            )
            found["ran_while_given_up"] = await ran_while_given_up(cluster, found)
            found["orders_after"] = await asyncio.gather(
                *(
                    traffic.order(app_urls[(i + 1) % 2], key, f"maj-{i}")
                    for i, key in enumerate(order_keys)
                )
            )
        found["results"] = await outcomes(restate, workflow_keys, gate)
        found["events"] = events
        found["traffic"] = traffic
    return found


async def ran_while_given_up(cluster: RestateCluster, found: dict[str, Any]) -> int:
    """How many order invocations exist before any user retried (work the ingress went on
    with after the app's calls had timed out), once the count has settled."""
    last, stable_since = -1, time.monotonic()
    while time.monotonic() - stable_since < 2.0:
        now = await asyncio.to_thread(count, cluster, "RelOnce", "make", "completed")
        if now != last:
            last, stable_since = now, time.monotonic()
        await asyncio.sleep(0.2)
    return last


def test_majority_down_ends_by_the_deadline_and_recovers_without_doubling(stack):
    cluster: RestateCluster = stack["cluster"]
    make_before = count(cluster, "RelOnce", "make")
    runs_before = count(cluster, "PaymentWait", "run")
    started = time.monotonic()
    found = asyncio.run(majority_down_scenario(stack))
    traffic: Traffic = found["traffic"]
    make_after = count(cluster, "RelOnce", "make")
    runs = count(cluster, "PaymentWait", "run") - runs_before
    resolved = resolved_with_own_event(found["workflow_keys"], found["events"], found["results"])
    order_statuses = [status for status, _ in found["orders_down"]]
    webhook_statuses = [status for status, _ in found["webhooks_down"]]
    slowest_order = max(seconds for _, seconds in found["orders_down"])
    slowest_webhook = max(seconds for _, seconds in found["webhooks_down"])
    ran_before_retry = found["ran_while_given_up"] - make_before
    print(
        f"\n[cluster majority down] killed={found['victims']} direct={found['direct']} "
        f"order_statuses={order_statuses} slowest_order_s={slowest_order:.1f} "
        f"webhook_statuses={webhook_statuses} slowest_webhook_s={slowest_webhook:.1f} "
        f"recovery_s={found['recovery_s']:.1f} "
        f"make_invocations_before_user_retries={ran_before_retry} "
        f"make_invocations_added={make_after - make_before} "
        f"redelivered={found['redelivered']} resolved_with_own_event={resolved} "
        f"run_invocations={runs} total_s={time.monotonic() - started:.1f}"
    )
    # The client: each call ended by its 3 s deadline with a documented error.
    for outcome, seconds in found["direct"]:
        assert outcome in ("IngressTimeout", "IngressUnavailable")
        assert seconds < 3 + 2
    # The apps: 503 by their deadline (APP_TIMEOUT), for orders and webhooks alike.
    assert order_statuses == [503] * 10
    assert webhook_statuses == [503] * 10
    assert slowest_order < APP_TIMEOUT + 4 and slowest_webhook < APP_TIMEOUT + 4
    # After recovery: every redelivery taken, every workflow resolved with its own event.
    assert found["redelivered"] == [200] * 10
    assert resolved == 10 and runs == 10
    # Work went on after the clients had given up (a timeout never means "did not run") ...
    assert ran_before_retry >= 1
    # ... and the users' retries got answers without running it again.
    assert all(answer is not None for answer in found["orders_after"])
    keyed_runs = make_after - make_before
    direct_runs = keyed_runs - 10
    assert 10 <= keyed_runs <= 12, "10 orders once each, plus the two direct calls at most"
    assert direct_runs <= 2
    assert traffic.given_up == []
