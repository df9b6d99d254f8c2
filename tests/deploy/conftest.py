"""The deploy tests' own restate-server (prune and forced overwrites must not touch the
session server other tests use) and a runner for the three command-line entry points."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from restate_web.testing import HarnessError, RestateServer, ServiceProcess

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

# How each entry point is started; all three read the admin URL from their own settings.
ENTRY_POINTS = {
    "restate-web": lambda args: [str(BIN / "restate-web"), *args],
    "django": lambda args: [sys.executable, "-m", "django", "restate", *args],
    "flask": lambda args: [str(BIN / "flask"), "--app", "tests.deploy.flask_app", "restate", *args],
}


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


@pytest.fixture(scope="session")
def deploy_server() -> Iterator[RestateServer]:
    try:
        server = RestateServer.start()
    except HarnessError as error:
        pytest.fail(f"restate-server could not start: {error}", pytrace=False)
    with server:
        yield server


def run_entry(
    entry: str, args: list[str], admin_url: str, env: dict[str, str] | None = None
) -> Run:
    environment = {
        **os.environ,
        "RESTATE_ADMIN_URL": admin_url,
        "DEPLOY_TEST_ADMIN_URL": admin_url,
        "DJANGO_SETTINGS_MODULE": "tests.deploy.django_site.settings",
        **(env or {}),
    }
    process = subprocess.run(
        ENTRY_POINTS[entry](args),
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    return Run(process.returncode, process.stdout, process.stderr)


@pytest.fixture(params=sorted(ENTRY_POINTS))
def entry(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def cli(deploy_server: RestateServer) -> Callable[..., Run]:
    def run(entry: str, *args: str, env: dict[str, str] | None = None) -> Run:
        return run_entry(entry, list(args), deploy_server.admin_url, env)

    return run


@pytest.fixture
def prefix() -> str:
    """A service-name prefix of this test's own (they share one restate-server)."""
    return "T" + uuid.uuid4().hex[:8]


@pytest.fixture
def serve(prefix: str) -> Iterator[Callable[..., ServiceProcess]]:
    """Serve tests/deploy/deploy_services.py in a variant; stopped when the test ends."""
    started: list[ServiceProcess] = []

    def start(variant: str = "v1", *, port: int | None = None, **env: str) -> ServiceProcess:
        process = ServiceProcess.start(
            "tests.deploy.deploy_services:app",
            cwd=ROOT,
            port=port,
            env={"DEPLOY_PREFIX": prefix, "DEPLOY_VARIANT": variant, **env},
        )
        started.append(process)
        return process

    yield start
    # SIGKILL to every process group at once (each started its own, see ServiceProcess): a
    # graceful stop would wait for the streams of suspended invocations.
    for process in started:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    for process in started:
        process.kill()
        process.close()
