"""500 concurrent web requests with random rollbacks while a relay runs, is SIGKILLed halfway
and started again: every committed row becomes exactly one invocation, none of the rolled-back
ones does, and the rows of each Virtual Object key arrive in commit order.

Keys: each client thread owns one key and sends to it one request after the other (its commit
order is the order the thread sent them in); four shared keys are written by every thread at
once (their commit order is the rows' ``seq``, which the writers' per-key lock makes follow
commit order). The counts are printed.
"""

from __future__ import annotations

import collections
import json
import os
import random
import signal
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from .conftest import ledger, wait_for

REQUESTS = 500
THREADS = 16
SHARED_KEYS = 4
ROLLBACK_RATE = 0.2

CASES = [
    ("django", "postgresql", "async"),
    ("sqlalchemy", "postgresql", "sync"),
    ("django", "sqlite", "sync"),
    ("sqlalchemy", "sqlite", "async"),
]


@pytest.mark.timeout(300)
@pytest.mark.parametrize(
    ("framework", "backend", "mode"), CASES, ids=["-".join(case) for case in CASES]
)
def test_concurrent_requests_rollbacks_and_a_killed_relay(
    shops, restate, tmp_path, framework, backend, mode
):
    shop = shops(framework, backend, fresh=True)
    run = uuid.uuid4().hex[:6]
    own_keys = [f"{run}-own-{t}" for t in range(THREADS)]
    shared_keys = [f"{run}-shared-{j}" for j in range(SHARED_KEYS)]
    committed_own: dict[str, list[str]] = collections.defaultdict(list)
    committed_shared: set[str] = set()
    rolled_back: set[str] = set()
    errors: list[str] = []
    done = 0
    lock = threading.Lock()
    halfway = threading.Event()

    def client_thread(t: int) -> None:
        nonlocal done
        for i in range(t, REQUESTS, THREADS):
            shared = i % 2 == 1
            key = shared_keys[i % SHARED_KEYS] if shared else own_keys[t]
            order = f"{key}-{i}"
            rollback = random.Random(f"{run}-{i}").random() < ROLLBACK_RATE
            response = shop.order(mode, order=order, key=key, rollback=rollback)
            with lock:
                done += 1
                if done >= REQUESTS // 2:
                    halfway.set()
                if response.status_code == 409:
                    rolled_back.add(order)
                elif response.status_code == 200:
                    (
                        committed_own[key].append(order)
                        if not shared
                        else committed_shared.add(order)
                    )
                else:
                    errors.append(f"{order}: {response.status_code} {response.text[:200]}")

    started = time.monotonic()
    relay = shop.start_relay(tmp_path / "relay-1.log")
    relay_restarted = None
    try:
        with ThreadPoolExecutor(THREADS) as pool:
            futures = [pool.submit(client_thread, t) for t in range(THREADS)]
            halfway.wait(120)
            os.kill(relay.pid, signal.SIGKILL)
            relay.wait(30)
            relay_restarted = shop.start_relay(tmp_path / "relay-2.log")
            for future in futures:
                future.result()
        requests_took = time.monotonic() - started
        wait_for(lambda: shop.database.count("pending") == 0, 90, "the relay delivering every row")
    finally:
        for process in (relay, relay_restarted):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(30)
    assert not errors, errors[:5]

    rows = shop.database.rows()
    committed = sum(len(orders) for orders in committed_own.values()) + len(committed_shared)
    received = {key: ledger(restate, key) for key in own_keys + shared_keys}
    everything = [item for items in received.values() for item in items]
    counts = collections.Counter(everything)
    invocations = len(everything)
    doubled = sum(n - 1 for n in counts.values() if n > 1)
    all_committed = committed_shared | {o for orders in committed_own.values() for o in orders}
    lost = len(all_committed - set(everything))
    sent_rolled_back = len(rolled_back & set(everything))
    out_of_order = 0
    for key in own_keys:  # commit order: the order the key's one thread sent them in
        out_of_order += received[key] != committed_own[key]
    for key in shared_keys:  # commit order: the rows' seq
        in_seq = [
            json.loads(bytes(r.body)) for r in rows if r.ordering_key == f"OutboxLedger/{key}"
        ]
        out_of_order += received[key] != in_seq
    delivered = all(r.state == "delivered" for r in rows)
    print(
        f"\n[outbox concurrency {framework}/{backend}/{mode}] requests={REQUESTS} "
        f"committed={committed} rolled_back={len(rolled_back)} rows={len(rows)} "
        f"invocations={invocations} doubled={doubled} lost={lost} "
        f"rolled_back_sent={sent_rolled_back} out_of_order_keys={out_of_order} "
        f"requests_took={requests_took:.1f}s relay_killed_after={REQUESTS // 2}"
    )
    assert len(rows) == committed and delivered
    assert invocations == committed
    assert doubled == 0 and lost == 0 and sent_rolled_back == 0
    assert out_of_order == 0
