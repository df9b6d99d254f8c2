"""10,000+ malformed or hostile requests per framework: no 5xx, nothing forwarded to Restate.

The apps of tests/reliability/webapp.py (a WebhookEndpoint, a CallbackEndpoint and an
idempotency-keyed route), each framework's own, in this process, pointed at the suite's real
restate-server. The requests (tests/reliability/hostile.py) have bad, stale, future, truncated
or duplicated signatures, bodies that are oversized, non-UTF-8 or not the JSON they claim,
CR/LF in headers, huge, non-ASCII, listed or badly escaped idempotency keys, unknown event
types, forged, moved, flipped, expired or truncated callback tokens. They are delivered with a
raw ASGI scope / WSGI environ, as a server hands them over (a test client refuses some).

Checked, per framework: every answer is the documented 4xx (or 200 for an event that is
acknowledged and ignored), zero 5xx, zero HTTP requests sent to Restate's ingress (every httpx
transport records them), no new invocation in the server (sys_invocation), and neither the
secrets nor any genuine signature or token appear in the logs or on stdout/stderr. A last valid
request per framework proves the recorder and the count do see a forwarded call.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import os
import time
import uuid
import zlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from .hostile import Case, Generator, asgi_call, wsgi_call
from .webapp import (
    DEFAULT_CALLBACK_SECRET,
    DEFAULT_STRIPE_SECRET,
    create_fastapi_app,
    create_flask_app,
)

CASES = 10_500
STRIPE = DEFAULT_STRIPE_SECRET  # the Django urls module builds its endpoints with the defaults
CALLBACK = DEFAULT_CALLBACK_SECRET


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def sent_to_ingress(monkeypatch: pytest.MonkeyPatch, rel_server: Any) -> list[str]:
    """Every request any httpx client sends to the suite's restate-server ingress."""
    seen: list[str] = []
    prefix = rel_server.ingress_url
    sync_handle = httpx.HTTPTransport.handle_request
    async_handle = httpx.AsyncHTTPTransport.handle_async_request

    def handle(self: httpx.HTTPTransport, request: httpx.Request) -> httpx.Response:
        if str(request.url).startswith(prefix):
            seen.append(f"{request.method} {request.url}")
        return sync_handle(self, request)

    async def ahandle(self: httpx.AsyncHTTPTransport, request: httpx.Request) -> httpx.Response:
        if str(request.url).startswith(prefix):
            seen.append(f"{request.method} {request.url}")
        return await async_handle(self, request)

    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", handle)
    monkeypatch.setattr(httpx.AsyncHTTPTransport, "handle_async_request", ahandle)
    return seen


@pytest.fixture
def logs() -> Iterator[Records]:
    handler = Records()
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)


class Driver:
    """Delivers cases to one framework's app, in-process."""

    def __init__(self, framework: str, ingress_url: str) -> None:
        self.framework = framework
        self._override: Any = None
        if framework == "fastapi":
            self.app = create_fastapi_app(
                {"INGRESS_URL": ingress_url}, stripe=STRIPE, callback=CALLBACK
            )
        elif framework == "flask":
            self.app = create_flask_app(
                {"RESTATE_INGRESS_URL": ingress_url}, stripe=STRIPE, callback=CALLBACK
            )
        else:
            os.environ.setdefault(
                "DJANGO_SETTINGS_MODULE", "tests.adapters.apps.django_project.settings"
            )
            import django
            from django.core.handlers.wsgi import WSGIHandler
            from django.test.utils import override_settings

            django.setup()
            self._override = override_settings(
                ROOT_URLCONF="tests.reliability.django_site.urls",
                ALLOWED_HOSTS=["testserver"],
                MIDDLEWARE=[
                    "tests.adapters.apps.django_project.auth.HeaderUserMiddleware",
                    "restate_web.adapters.django.middleware.RestateMiddleware",
                ],
                RESTATE={"INGRESS_URL": ingress_url},
            )
            self._override.enable()
            self.app = WSGIHandler()

    def run(self, cases: list[Case]) -> list[int]:
        if self.framework == "fastapi":
            return asyncio.run(self._run_asgi(cases))
        return [wsgi_call(self.app, case) for case in cases]

    async def _run_asgi(self, cases: list[Case]) -> list[int]:
        from restate_web.adapters.fastapi import get_integration

        try:
            return [await asgi_call(self.app, case) for case in cases]
        finally:
            await get_integration(self.app).aclose_loop_client()

    def close(self) -> None:
        if self._override is not None:
            self._override.disable()


def all_invocations(server: Any) -> int:
    return int(server.query("select count(*) as n from sys_invocation")[0]["n"])


@pytest.mark.timeout(240)
@pytest.mark.parametrize("framework", ["fastapi", "flask", "django"])
def test_hostile_requests_get_4xx_and_reach_nothing(
    framework, rel_server, sent_to_ingress, logs, capfd
):
    generator = Generator(zlib.crc32(framework.encode()), STRIPE, CALLBACK)
    cases = list(generator.cases(CASES))
    driver = Driver(framework, rel_server.ingress_url)
    try:
        before = all_invocations(rel_server)
        started = time.monotonic()
        statuses = driver.run(cases)
        elapsed = time.monotonic() - started
        after = all_invocations(rel_server)
        forwarded = list(sent_to_ingress)

        # Positive control: a valid request is seen by both the recorder and the count.
        control = Case(
            "control",
            "POST",
            "/orders",
            b"",
            [
                (b"idempotency-key", f'"{uuid.uuid4()}"'.encode()),
                (b"content-type", b"application/json"),
                (b"content-length", b"16"),
            ],
            b'{"item": "book"}',
            frozenset({200}),
        )
        control_status = driver.run([control])[0]
        control_forwarded = len(sent_to_ingress) - len(forwarded)
        control_invocations = all_invocations(rel_server) - after
    finally:
        driver.close()

    by_kind: dict[str, collections.Counter[int]] = collections.defaultdict(collections.Counter)
    unexpected: list[tuple[str, int]] = []
    for case, status in zip(cases, statuses, strict=True):
        by_kind[case.kind][status] += 1
        if status not in case.expected:
            unexpected.append((case.kind, status))
    server_errors = [s for s in statuses if s >= 500]
    out, err = capfd.readouterr()
    text = "\n".join([*logs.lines, out, err])
    leaked = [s for s in generator.genuine if s in text]
    print(
        f"\n[bad input {framework}] requests={len(cases)} kinds={len(by_kind)} "
        f"statuses={dict(sorted(collections.Counter(statuses).items()))} "
        f"5xx={len(server_errors)} unexpected={len(unexpected)} forwarded={len(forwarded)} "
        f"new_invocations={after - before} log_lines={len(logs.lines)} "
        f"genuine_signatures_and_tokens={len(generator.genuine)} leaked={len(leaked)} "
        f"control=({control_status}, forwarded={control_forwarded}, "
        f"invocations={control_invocations}) seconds={elapsed:.1f}"
    )
    for kind, counts in sorted(by_kind.items()):
        print(f"    {kind}: {dict(counts)}")
    assert len(cases) >= 10_000
    assert server_errors == []
    assert unexpected == [], collections.Counter(unexpected).most_common(10)
    assert forwarded == []
    assert after == before
    assert (control_status, control_forwarded, control_invocations) == (200, 1, 1)
    assert STRIPE not in text and CALLBACK not in text
    assert leaked == [], f"{len(leaked)} genuine signatures or tokens in the logs"
