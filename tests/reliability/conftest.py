"""The reliability suite's own stack: a restate-server it may kill, its services, its web apps.

The session's server (tests/conftest.py) serves every other test, so nothing here may take it
down: the fault tests get a server of their own (``rel_server``) and the web apps of
tests/reliability/webapp.py as real processes (``rel_apps``), each restartable on its port.
The bad-input and security tests drive the same apps in-process against the session server.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import time
from collections.abc import Iterator
from typing import Any

import pytest

from restate_web.testing import HarnessError, RestateServer, ServiceProcess, free_port
from tests.conftest import ROOT

from .webapp import CALLBACK_SECRET_ENV, STRIPE_SECRET_ENV

# (server, "module:app") of each framework's web app.
APPS = {
    "fastapi": ("uvicorn", "tests.reliability.fastapi_app:app"),
    "flask": ("hypercorn", "wsgi:tests.reliability.flask_app:app"),
    "django": ("uvicorn", "tests.reliability.django_site.asgi:application"),
}
FRAMEWORKS = tuple(APPS)


class WebApp:
    """One framework's web app in a child process; ``restart`` and ``kill`` keep its port."""

    def __init__(self, framework: str, env: dict[str, str]) -> None:
        self.framework = framework
        self.env = env
        self.port = free_port()
        self.process: ServiceProcess | None = None
        self.logs: list[str] = []
        self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        server, app = APPS[self.framework]
        self.process = ServiceProcess.start(
            app, server=server, cwd=ROOT, env=self.env, port=self.port
        )

    def _collect(self) -> None:
        if self.process is not None:
            self.logs.append(self.process.log())
            self.process.close()
            self.process = None

    def restart(self) -> None:
        """Stop by pid (SIGTERM), start again on the same port."""
        if self.process is not None:
            self.process.stop()
        self._collect()
        self.start()

    def kill(self) -> None:
        """SIGKILL, mid-request: no chance to answer or clean up."""
        if self.process is not None:
            self.process.kill()
        self._collect()

    def all_logs(self) -> str:
        current = [] if self.process is None else [self.process.log()]
        return "\n".join(self.logs + current)

    def close(self) -> None:
        self._collect()


@pytest.fixture(scope="package")
def rel_secrets() -> dict[str, str]:
    return {
        "stripe": "whsec_" + secrets.token_urlsafe(24),
        "callback": "cb_" + secrets.token_urlsafe(24),
    }


@pytest.fixture(scope="package")
def rel_server() -> Iterator[RestateServer]:
    """A restate-server of the suite's own, with tests/reliability/services.py registered."""
    try:
        server = RestateServer.start()
    except HarnessError as error:
        pytest.fail(f"restate-server could not start: {error}", pytrace=False)
    services: ServiceProcess | None = None
    try:
        services = ServiceProcess.start("tests.reliability.services:app", cwd=ROOT)
        server.register(services.url)
        yield server
    finally:
        if services is not None:
            services.close()
        server.close()


@pytest.fixture(scope="package")
def rel_apps(rel_server: RestateServer, rel_secrets: dict[str, str]) -> Iterator[dict[str, WebApp]]:
    env = {
        "RESTATE_INGRESS_URL": rel_server.ingress_url,
        STRIPE_SECRET_ENV: rel_secrets["stripe"],
        CALLBACK_SECRET_ENV: rel_secrets["callback"],
        "DJANGO_SETTINGS_MODULE": "tests.reliability.django_site.settings",
    }
    apps: dict[str, WebApp] = {}
    try:
        for framework in FRAMEWORKS:
            apps[framework] = WebApp(framework, env)
        yield apps
    finally:
        pids = [app.process.pid for app in apps.values() if app.process is not None]
        for app in apps.values():
            app.close()
        for pid in pids:  # nothing left running
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)


def count_invocations(server: RestateServer, service: str, handler: str) -> int:
    rows = server.query(
        "select count(*) as n from sys_invocation "
        f"where target_service_name = '{service}' and target_handler_name = '{handler}'"
    )
    return int(rows[0]["n"]) if rows else 0


def stripe_signature(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """Signed the way Stripe's servers do, independently of restate_web (plain hmac)."""
    stamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={digest}"


def stripe_event(event_id: str, awakeable_id: str | None, kind: str = "succeeded") -> bytes:
    metadata: dict[str, Any] = {"order": event_id}
    if awakeable_id is not None:
        metadata["restate_awakeable_id"] = awakeable_id
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": f"payment_intent.{kind}",
            "created": int(time.time()),
            "data": {"object": {"id": "pi_" + event_id[4:], "metadata": metadata}},
        }
    ).encode()
