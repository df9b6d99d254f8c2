"""Defect 5: a webhook mount answers 503 within its own short budget when Restate is down or
does not answer, instead of holding a worker for the ingress client's 30 s retry budget.

Every mount (FastAPI, Flask, Django under WSGI and ASGI) runs in a real server process with
``RESTATE_WEBHOOK_TIMEOUT=1``, its ingress URL pointing at a port of this test's choosing:

- nothing listens there: connections are refused (on main: ~8 s of retries, then 503);
- a listening socket that accepts connections but never answers (a "black hole": a stalled
  proxy, a frozen host). A real restate-server cannot be made to do that on demand, so this
  one fault is produced by a plain socket, and said so here. On main the mount waited forever.

The provider's patience is the HTTP client's timeout below: Shopify, Paddle and Razorpay give up
after 5 s, and a delivery they gave up on is a failure they retry, whatever we answer later.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from restate_web.testing import HarnessError, ServiceProcess, free_port
from tests.conftest import ROOT
from tests.webhooks.test_webhook_mounts import (
    CALLBACK_SECRET,
    STRIPE_SECRET,
    TARGETS,
    signed,
    stripe_event,
)

PROVIDER_PATIENCE = 5.0  # seconds: Shopify's, Paddle's and Razorpay's delivery timeout


@pytest.fixture(scope="module")
def ingress_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def apps(ingress_port: int) -> Iterator[dict[str, ServiceProcess]]:
    env = {
        "RESTATE_INGRESS_URL": f"http://127.0.0.1:{ingress_port}",
        "RESTATE_WEBHOOK_TIMEOUT": "1",
        "TEST_STRIPE_SECRET": STRIPE_SECRET,
        "TEST_CALLBACK_SECRET": CALLBACK_SECRET,
        "DJANGO_SETTINGS_MODULE": "tests.webhooks.mount_apps.django_site.settings",
    }
    started: dict[str, ServiceProcess] = {}
    try:
        for name, (kind, target) in TARGETS.items():
            started[name] = ServiceProcess.start(target, server=kind, cwd=ROOT, env=env)
    except HarnessError as error:
        for process in started.values():
            process.close()
        pytest.fail(f"could not start the webhook mounts: {error}", pytrace=False)
    try:
        yield started
    finally:
        for process in started.values():
            process.close()


def deliver(app: ServiceProcess) -> httpx.Response:
    body = json.dumps(stripe_event("sign_1PEb6Gk7gg1sBXmZmgZIy5UwAAAAAQ")).encode()
    return httpx.post(
        f"{app.url}/webhooks/stripe",
        content=body,
        headers=signed(body),
        timeout=PROVIDER_PATIENCE,
    )


def answers(apps: dict[str, ServiceProcess]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name, app in apps.items():
        try:
            response = deliver(app)
        except httpx.TimeoutException:
            found[name] = "provider gave up"
        else:
            found[name] = (response.status_code, response.json())
    return found


RETRY = (503, {"status": "retry", "reason": "restate_unavailable"})


def test_connection_refused_is_503_before_the_provider_gives_up(
    apps: dict[str, ServiceProcess],
) -> None:
    assert answers(apps) == dict.fromkeys(TARGETS, RETRY)


def test_restate_that_never_answers_is_503_before_the_provider_gives_up(
    apps: dict[str, ServiceProcess], ingress_port: int
) -> None:
    black_hole = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    black_hole.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        black_hole.bind(("127.0.0.1", ingress_port))
        black_hole.listen(64)  # the kernel completes connections; nobody ever reads or answers
        assert answers(apps) == dict.fromkeys(TARGETS, RETRY)
    finally:
        black_hole.close()
