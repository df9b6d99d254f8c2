"""Defect 12: Django under ASGI read a whole oversized webhook body (to a temporary file)
before answering 413. ``restate_web.adapters.django.asgi.get_asgi_application()`` answers
before the body is sent: the test declares ``Content-Length: 50 GB``, sends no body at all,
and must get the endpoint's 413 from real ASGI servers (uvicorn and hypercorn)."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest

from restate_web.testing import HarnessError, ServiceProcess
from tests.conftest import ROOT

MAX_BODY = 64 * 1024  # tests/webhooks/mount_apps/endpoints.py
APP = "tests.webhooks.mount_apps.django_site.asgi:application"


@pytest.fixture(scope="module", params=["uvicorn", "hypercorn"])
def django_asgi(request: pytest.FixtureRequest) -> Iterator[ServiceProcess]:
    env = {
        "DJANGO_SETTINGS_MODULE": "tests.webhooks.mount_apps.django_site.settings",
        "TEST_STRIPE_SECRET": "whsec_unused",
        "TEST_CALLBACK_SECRET": "unused-callback-secret-0123456789",
    }
    try:
        process = ServiceProcess.start(APP, server=request.param, cwd=ROOT, env=env)
    except HarnessError as error:
        pytest.fail(f"could not start Django under {request.param}: {error}", pytrace=False)
    with process:
        yield process


def head_only(port: int, path: str, length: int) -> bytes:
    """Send a request's head declaring ``length`` body bytes, send none, read the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {length}\r\n\r\n".encode()
        )
        answer = b""
        try:
            while b"}" not in answer:  # the JSON body of the answer ends the read
                chunk = conn.recv(65536)
                if not chunk:
                    break
                answer += chunk
        except TimeoutError:
            pass  # Django is still waiting for the body: the assertion below says so
        return answer


def test_fifty_gigabytes_declared_are_refused_before_any_body_byte(
    django_asgi: ServiceProcess,
) -> None:
    answer = head_only(django_asgi.port, "/webhooks/stripe", 50 * 1000**3)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413"), answer[:200]
    assert json.loads(body) == {"error": "payload_too_large", "max_body_size": MAX_BODY}


def test_other_urls_are_left_to_django(django_asgi: ServiceProcess) -> None:
    # Not a webhook URL: Django answers (404 from its resolver), the wrapper does not interfere.
    with socket.create_connection(("127.0.0.1", django_asgi.port), timeout=10) as conn:
        conn.sendall(b"GET /elsewhere HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        answer = conn.recv(65536)
    assert answer.startswith(b"HTTP/1.1 404")
