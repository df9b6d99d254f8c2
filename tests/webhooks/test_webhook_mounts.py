"""Webhook endpoints mounted in FastAPI (APIRouter), Flask (Blueprint) and Django (urls, under
WSGI and ASGI), each a real server process, in front of a real restate-server of this module's
own (so it can be stopped and restarted). The same scenarios run against every mount."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from restate_web.ingress import IngressClient, NotReady
from restate_web.testing import HarnessError, RestateServer, ServiceProcess
from restate_web.webhooks import make_callback_url
from tests.conftest import ROOT

STRIPE_SECRET = "whsec_" + secrets.token_urlsafe(24)
CALLBACK_SECRET = secrets.token_urlsafe(32)
MAX_BODY = 64 * 1024  # tests/webhooks/mount_apps/endpoints.py

TARGETS = {
    "fastapi": ("uvicorn", "tests.webhooks.mount_apps.fastapi_app:app"),
    "flask": ("hypercorn", "tests.webhooks.mount_apps.flask_app:app"),
    "django-wsgi": ("hypercorn", "tests.webhooks.mount_apps.django_site.wsgi:application"),
    "django-asgi": ("uvicorn", "tests.webhooks.mount_apps.django_site.asgi:application"),
}


@dataclass
class Stack:
    server: RestateServer
    apps: dict[str, ServiceProcess]


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    processes: list[Any] = []
    try:
        server = RestateServer.start()
        processes.append(server)
        services = ServiceProcess.start("tests.restate_services:app", cwd=ROOT)
        processes.append(services)
        server.register(services.url)
        env = {
            "RESTATE_INGRESS_URL": server.ingress_url,
            "TEST_STRIPE_SECRET": STRIPE_SECRET,
            "TEST_CALLBACK_SECRET": CALLBACK_SECRET,
            # Explicit: the test process may carry another project's DJANGO_SETTINGS_MODULE.
            "DJANGO_SETTINGS_MODULE": "tests.webhooks.mount_apps.django_site.settings",
        }
        apps = {}
        for name, (kind, target) in TARGETS.items():
            apps[name] = ServiceProcess.start(target, server=kind, cwd=ROOT, env=env)
            processes.append(apps[name])
    except HarnessError as error:
        for process in reversed(processes):
            process.close()
        pytest.fail(f"could not start the webhook mount stack: {error}", pytrace=False)
    try:
        yield Stack(server, apps)
    finally:
        for process in reversed(processes):
            process.close()


@pytest.fixture(params=list(TARGETS))
def target(request: pytest.FixtureRequest, stack: Stack) -> str:
    return str(request.param)


def stripe_event(awakeable_id: str, kind: str = "succeeded", **extra: Any) -> dict[str, Any]:
    intent: dict[str, Any] = {
        "id": f"pi_{uuid.uuid4().hex[:16]}",
        "object": "payment_intent",
        "amount": 4200,
        "metadata": {"restate_awakeable_id": awakeable_id},
        **extra,
    }
    if kind == "payment_failed":
        intent["last_payment_error"] = {"message": "Your card was declined."}
    return {
        "id": f"evt_{uuid.uuid4().hex[:16]}",
        "type": f"payment_intent.{kind}",
        "data": {"object": intent},
    }


def signed(
    body: bytes, secret: str = STRIPE_SECRET, timestamp: int | None = None
) -> dict[str, str]:
    """Signed as Stripe's servers sign (independently of restate_web)."""
    ts = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return {"stripe-signature": f"t={ts},v1={digest}", "content-type": "application/json"}


def deliver(app: ServiceProcess, event: dict[str, Any], **kwargs: Any) -> httpx.Response:
    body = json.dumps(event).encode()
    headers = signed(body, **kwargs)
    return httpx.post(f"{app.url}/webhooks/stripe", content=body, headers=headers, timeout=60)


def waiting_payment(stack: Stack) -> tuple[Any, str, IngressClient]:
    client = IngressClient(stack.server.ingress_url)
    workflow = client.workflow("PaymentWait", f"mount-{uuid.uuid4().hex}")
    workflow.submit(4200)
    return workflow, workflow.call("awakeable_id"), client


def test_succeeded_event_completes_the_workflow_with_the_event(stack, target):
    workflow, awakeable_id, client = waiting_payment(stack)
    with client:
        event = stripe_event(awakeable_id)
        response = deliver(stack.apps[target], event)
        assert response.status_code == 200, response.text
        result = workflow.attach()
    assert result["paid"] is True
    assert result["result"] == event  # the waiting handler receives the whole Stripe event


def test_failed_event_fails_the_wait_with_the_reason(stack, target):
    workflow, awakeable_id, client = waiting_payment(stack)
    with client:
        response = deliver(stack.apps[target], stripe_event(awakeable_id, "payment_failed"))
        assert response.status_code == 200, response.text
        assert workflow.attach() == {
            "amount": 4200,
            "paid": False,
            "reason": "Your card was declined.",
        }


def test_twenty_deliveries_of_one_event_resolve_once(stack, target):
    workflow, awakeable_id, client = waiting_payment(stack)
    event = stripe_event(awakeable_id)
    app = stack.apps[target]
    with client:
        statuses = [deliver(app, event).status_code for _ in range(5)]
        with ThreadPoolExecutor(15) as pool:
            statuses += list(pool.map(lambda _: deliver(app, event).status_code, range(15)))
        assert statuses == [200] * 20
        # A different event for the same awakeable changes nothing: it was resolved once.
        assert deliver(app, stripe_event(awakeable_id, amount=1)).status_code == 200
        assert workflow.attach()["result"]["id"] == event["id"]


def test_bad_signature_is_400_and_forwards_nothing(stack, target):
    workflow, awakeable_id, client = waiting_payment(stack)
    app = stack.apps[target]
    event = stripe_event(awakeable_id)
    with client:
        assert deliver(app, event, secret="whsec_wrong").status_code == 400
        stale = int(time.time()) - 3600
        assert deliver(app, event, timestamp=stale).status_code == 400
        body = json.dumps(event).encode()
        tampered = httpx.post(
            f"{app.url}/webhooks/stripe",
            content=body.replace(b"4200", b"1"),
            headers=signed(body),
        )
        assert tampered.status_code == 400
        with pytest.raises(NotReady):
            workflow.output()  # still waiting: nothing reached the awakeable


def test_body_limit_is_enforced_with_and_without_content_length(stack, target):
    app = stack.apps[target]
    huge = b"{" + b" " * (MAX_BODY + 10) + b"}"
    declared = httpx.post(f"{app.url}/webhooks/stripe", content=huge, headers=signed(huge))
    assert declared.status_code == 413

    def chunks() -> Iterator[bytes]:  # chunked transfer: no Content-Length to check first
        for _ in range(20):
            yield b" " * 8192

    streamed = httpx.post(f"{app.url}/webhooks/stripe", content=chunks(), headers=signed(b""))
    # WSGI has no end-of-body signal without Content-Length (hypercorn does not set
    # wsgi.input_terminated): those mounts refuse with 411 instead of guessing.
    assert streamed.status_code == (411 if target in ("flask", "django-wsgi") else 413)


def test_unknown_endpoint_name_is_404(stack, target):
    response = httpx.post(f"{stack.apps[target].url}/webhooks/paypal", content=b"{}")
    assert response.status_code == 404
    assert response.json()["error"] == "unknown_webhook"


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_not_a_post_is_405_with_allow_post_in_every_framework(stack, target, method):
    # README "Responses": not a POST -> 405 {"error": "method_not_allowed"}, Allow: POST; the
    # same body everywhere, not the framework's own 405 page (or a WSGI 411 for a GET).
    response = httpx.request(method, f"{stack.apps[target].url}/webhooks/stripe", timeout=30)
    assert response.status_code == 405, response.text
    assert response.json() == {"error": "method_not_allowed"}
    assert response.headers["allow"] == "POST"


def test_signed_callback_url_resolves_and_forgery_is_refused(stack, target):
    workflow, awakeable_id, client = waiting_payment(stack)
    app = stack.apps[target]
    with client:
        url = make_callback_url(f"{app.url}/webhooks/callbacks", awakeable_id, CALLBACK_SECRET, 60)
        forged = url.replace("token=", "token=x")
        assert httpx.post(forged, json={"ok": False}).status_code == 403
        other = make_callback_url(f"{app.url}/webhooks/callbacks", "sign_other", "x" * 32, 60)
        assert httpx.post(other, json={"ok": False}).status_code == 403
        assert httpx.post(url, json={"ok": True}).status_code == 200
        assert workflow.attach()["result"] == {"ok": True}


@pytest.mark.timeout(300)
def test_restate_down_is_503_and_the_redelivery_completes(stack):
    """Every mount answers 503 while restate-server is stopped; redeliveries after the restart
    complete the workflows. One stop for all mounts keeps the test short."""
    waits = {name: waiting_payment(stack) for name in TARGETS}
    events = {name: stripe_event(awakeable_id) for name, (_, awakeable_id, _) in waits.items()}
    stack.server.stop()
    try:
        down = {name: deliver(stack.apps[name], events[name]).status_code for name in TARGETS}
    finally:
        stack.server.start_again()
    assert down == dict.fromkeys(TARGETS, 503)
    for name, (workflow, _, client) in waits.items():
        with client:
            assert deliver(stack.apps[name], events[name]).status_code == 200
            assert workflow.attach()["result"]["id"] == events[name]["id"]
