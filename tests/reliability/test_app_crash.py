"""The web app dies (SIGKILL) while it waits for Restate; the client's retry completes once.

For each framework's app (a real process): POST /slow-orders calls ``RelOnce/slow``, which
sleeps durably for 2 s. Once the invocation is running in Restate (seen in sys_invocation) the
app is killed with SIGKILL mid-request, so the client gets a broken connection, no answer. The
app is started again on the same port and the client retries with the same Idempotency-Key.

Checked: the retry (and a second one) answer 200 with the same answer, and there is exactly one
``RelOnce/slow`` invocation for that key.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import httpx
import pytest

from .conftest import FRAMEWORKS, count_invocations


def wait_for(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout:.0f}s")
        time.sleep(0.05)


@pytest.mark.timeout(180)
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_app_killed_mid_request_then_retry_makes_one_invocation(rel_server, rel_apps, framework):
    app = rel_apps[framework]
    key = f"crash-{framework}-{uuid.uuid4().hex[:8]}"
    request = {
        "json": {"item": key, "seconds": 2},
        "headers": {"Idempotency-Key": f'"{key}"', "X-User": "bob"},
    }
    before = count_invocations(rel_server, "RelOnce", "slow")
    first: dict[str, Any] = {}

    def send_first() -> None:
        try:
            first["response"] = httpx.post(f"{app.url}/slow-orders", timeout=30, **request)
        except httpx.HTTPError as error:
            first["error"] = error

    sender = threading.Thread(target=send_first)
    sender.start()
    wait_for(
        lambda: count_invocations(rel_server, "RelOnce", "slow") == before + 1,
        30,
        "the slow invocation reaching Restate",
    )
    app.kill()
    sender.join(30)
    app.start()
    retries = [httpx.post(f"{app.url}/slow-orders", timeout=30, **request) for _ in range(2)]
    invocations = count_invocations(rel_server, "RelOnce", "slow") - before
    print(
        f"\n[app crash {framework}] first_request={type(first.get('error')).__name__} "
        f"retries={[r.status_code for r in retries]} same_answer="
        f"{len({r.text for r in retries}) == 1} invocations={invocations}"
    )
    assert "response" not in first, "the app answered before it was killed"
    assert isinstance(first.get("error"), httpx.HTTPError)
    assert [r.status_code for r in retries] == [200, 200]
    assert retries[0].json() == retries[1].json()
    assert retries[0].json()["item"] == key
    assert invocations == 1
