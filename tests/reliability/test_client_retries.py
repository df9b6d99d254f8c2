"""200 web requests, each replayed 1 to 5 times with the same Idempotency-Key.

The requests go to the three web apps (FastAPI, Flask, Django; real processes, one key in three
each) on POST /orders, which calls ``RelOnce/make``: every invocation of it answers with a fresh
uuid, so a replay that reached Restate as a second invocation would get a different answer.
Some replays are sent at the same moment as the original, the rest after every web app was
restarted (a deploy: SIGTERM by pid, the same port).

Checked: exactly one ``RelOnce/make`` invocation per key, every request and replay answered 200
with the same answer for its key, no two keys sharing an answer.
"""

from __future__ import annotations

import random
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from .conftest import FRAMEWORKS, count_invocations

REQUESTS = 200


@pytest.mark.timeout(240)
def test_replayed_requests_make_one_invocation_each(rel_server, rel_apps):
    run = uuid.uuid4().hex[:8]
    rng = random.Random(run)
    replays = {i: rng.randint(1, 5) for i in range(REQUESTS)}
    together = {i: rng.randint(0, replays[i]) for i in range(REQUESTS)}  # sent with the first
    answers: dict[int, list[tuple[int, Any]]] = {i: [] for i in range(REQUESTS)}
    before = count_invocations(rel_server, "RelOnce", "make")
    started = time.monotonic()

    with httpx.Client(timeout=60, limits=httpx.Limits(max_connections=64)) as http:

        def post(i: int) -> None:
            app = rel_apps[FRAMEWORKS[i % len(FRAMEWORKS)]]
            response = http.post(
                f"{app.url}/orders",
                json={"item": f"item-{run}-{i}"},
                headers={"Idempotency-Key": f'"{run}-{i}"', "X-User": "alice"},
            )
            body = response.json() if response.status_code == 200 else response.text
            answers[i].append((response.status_code, body))

        with ThreadPoolExecutor(24) as pool:
            # The originals, each with 0..n of its replays at the same moment.
            list(pool.map(post, [i for i in range(REQUESTS) for _ in range(1 + together[i])]))
        for app in rel_apps.values():
            app.restart()
        later = [i for i in range(REQUESTS) for _ in range(replays[i] - together[i])]
        rng.shuffle(later)
        with ThreadPoolExecutor(24) as pool:
            list(pool.map(post, later))

    invocations = count_invocations(rel_server, "RelOnce", "make") - before
    sent = sum(len(found) for found in answers.values())
    failed = [(i, found) for i, found in answers.items() if any(s != 200 for s, _ in found)]
    differing = [i for i, found in answers.items() if len({str(b) for _, b in found}) != 1]
    distinct = {str(found[0][1]) for found in answers.values()}
    print(
        f"\n[client retries] keys={REQUESTS} requests_sent={sent} "
        f"replays={sum(replays.values())} concurrent_with_original={sum(together.values())} "
        f"after_restart={sum(replays[i] - together[i] for i in range(REQUESTS))} "
        f"invocations={invocations} non_200={len(failed)} differing_answers={len(differing)} "
        f"distinct_answers={len(distinct)} duplicates_suppressed={sent - invocations} "
        f"total_s={time.monotonic() - started:.1f}"
    )
    assert sent == REQUESTS + sum(replays.values())
    assert failed == []
    assert differing == []
    assert len(distinct) == REQUESTS
    assert invocations == REQUESTS
