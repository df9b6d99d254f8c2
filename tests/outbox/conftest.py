"""The outbox proofs' stack: a restate-server of their own (tests stop and restart it) with
tests/outbox/services.py registered, a PostgreSQL server, and the shops (web apps in child
processes) on a fresh database each: Django and SQLAlchemy (FastAPI), SQLite and PostgreSQL.
Nothing here skips: a server that cannot start fails the tests that need it.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from restate_web.ingress import IngressClient
from restate_web.testing import HarnessError, PostgresServer, RestateServer, ServiceProcess

ROOT = Path(__file__).resolve().parents[2]
SHOPS = [
    ("django", "sqlite"),
    ("django", "postgresql"),
    ("sqlalchemy", "sqlite"),
    ("sqlalchemy", "postgresql"),
]
SHOP_IDS = [f"{framework}-{backend}" for framework, backend in SHOPS]


@pytest.fixture(scope="session")
def outbox_restate() -> Iterator[RestateServer]:
    with contextlib.ExitStack() as stack:
        try:
            server = stack.enter_context(RestateServer.start())
            services = stack.enter_context(
                ServiceProcess.start("tests.outbox.services:app", cwd=ROOT)
            )
            server.register(services.url)
        except HarnessError as error:
            pytest.fail(f"could not start restate-server for the outbox: {error}", pytrace=False)
        yield server


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    try:
        server = PostgresServer.start()
    except HarnessError as error:
        pytest.fail(f"could not start PostgreSQL: {error}", pytrace=False)
    try:
        yield server
    finally:
        server.close()


def wait_for(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout:.0f}s")
        time.sleep(0.1)


class Database:
    """A fresh database: its SQLAlchemy URLs and what the Django shop's settings need."""

    def __init__(self, backend: str, postgres: PostgresServer | None, folder: Path) -> None:
        self.backend = backend
        if backend == "sqlite":
            path = folder / f"shop-{uuid.uuid4().hex[:8]}.db"
            self.sync_url = f"sqlite:///{path}"
            self.async_url = f"sqlite+aiosqlite:///{path}"
            self.django = f"sqlite:{path}"
        else:
            assert postgres is not None
            name = postgres.create_database(f"shop_{uuid.uuid4().hex[:12]}")
            postgres.create_database(f"{name}_other")  # the Django shop's "other" alias
            self.sync_url = postgres.url(name)
            self.async_url = postgres.url(name)
            self.django = f"postgresql:{postgres.port}:{name}"
        self.engine = sa.create_engine(self.sync_url)

    def rows(self) -> list[Any]:
        with self.engine.connect() as connection:
            return list(
                connection.exec_driver_sql(
                    "SELECT seq, id, state, ordering_key, invocation_id, attempts, body "
                    "FROM restate_web_outbox ORDER BY seq"
                )
            )

    def count(self, state: str) -> int:
        return sum(1 for row in self.rows() if row.state == state)

    def close(self) -> None:
        self.engine.dispose()


class Shop:
    """One web app (Django or FastAPI+SQLAlchemy) on its own database, served by uvicorn."""

    def __init__(self, framework: str, database: Database, server: RestateServer) -> None:
        self.framework = framework
        self.database = database
        self.server = server
        self.env = {
            "RESTATE_INGRESS_URL": server.ingress_url,
            "OUTBOX_SYNC_URL": database.sync_url,
            "OUTBOX_ASYNC_URL": database.async_url,
            "OUTBOX_DJANGO_DB": database.django,
            "DJANGO_SETTINGS_MODULE": "tests.outbox.django_site.settings",
            "PYTHONPATH": str(ROOT),
        }
        if framework == "django":
            self.manage("migrate", "-v", "0")
            self.manage("migrate", "-v", "0", "--database", "other")
        self.app: ServiceProcess | None = None
        self.start()

    @property
    def asgi(self) -> str:
        if self.framework == "django":
            return "tests.outbox.django_site.asgi:application"
        return "tests.outbox.sa_app:app"

    def start(self) -> None:
        port = None
        if self.app is not None:  # again, after a test killed it: on the same port
            port = self.app.port
            self.app.close()  # (removes its log folder; it is stopped already)
        self.app = ServiceProcess.start(
            self.asgi, server="uvicorn", cwd=ROOT, env=self.env, port=port, timeout=60
        )

    @property
    def url(self) -> str:
        assert self.app is not None
        return self.app.url

    def order(self, mode: str, **body: Any) -> httpx.Response:
        return httpx.post(f"{self.url}/{mode}/orders", json=body, timeout=60)

    def manage(self, *argv: str) -> subprocess.CompletedProcess[str]:
        return self._run([sys.executable, "-m", "tests.outbox.django_site.manage", *argv])

    def _run(self, argv: list[str]) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            argv,
            cwd=ROOT,
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, f"{argv} failed:\n{done.stdout}\n{done.stderr}"
        return done

    def relay_argv(self, entry: str | None = None) -> list[str]:
        """The relay command of this shop: manage.py under Django, else restate-web (or
        ``flask restate`` with ``entry="flask"``)."""
        entry = entry or ("django" if self.framework == "django" else "restate-web")
        if entry == "django":
            return [sys.executable, "-m", "tests.outbox.django_site.manage", "restate"]
        if entry == "flask":
            return [sys.executable, "-m", "flask", "--app", "tests.outbox.flask_app", "restate"]
        return [
            sys.executable,
            "-m",
            "restate_web.cli",
            "outbox",
            "relay",
            "--database-url",
            self.database.sync_url,
        ]

    def relay_once(self, entry: str | None = None) -> str:
        argv = self.relay_argv(entry)
        relay = "outbox-relay" if argv[-1] == "restate" else None
        done = self._run([*argv, *([relay] if relay else []), "--once", "-v"])
        return done.stdout + done.stderr

    def relay_once_argv(self, *extra: str) -> str:
        """``manage.py restate outbox-relay --once`` with ``extra`` arguments (Django)."""
        done = self.manage("restate", "outbox-relay", "--once", "-v", *extra)
        return done.stdout + done.stderr

    def start_relay(self, log: Path, interval: float = 0.05) -> subprocess.Popen[bytes]:
        """A relay loop in a child process (stop it by its pid)."""
        argv = self.relay_argv()
        if argv[-1] == "restate":
            argv.append("outbox-relay")
        with open(log, "ab") as out:
            return subprocess.Popen(
                [*argv, "--interval", str(interval), "-v"],
                cwd=ROOT,
                env={**os.environ, **self.env},
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )

    def close(self) -> None:
        if self.app is not None:
            self.app.close()
        self.database.close()


@pytest.fixture(scope="session")
def shop_folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="restate-web-outbox-") as folder:
        yield Path(folder)


@pytest.fixture(scope="session")
def shops(
    outbox_restate: RestateServer, postgres: PostgresServer, shop_folder: Path
) -> Iterator[Callable[..., Shop]]:
    """``shops(framework, backend)``: that shop, started once for the session;
    ``shops(..., fresh=True)``: a new one on a new database (closed at the end)."""
    started: dict[tuple[str, str], Shop] = {}
    extra: list[Shop] = []

    def get(framework: str, backend: str, *, fresh: bool = False) -> Shop:
        if fresh or (framework, backend) not in started:
            database = Database(backend, postgres if backend == "postgresql" else None, shop_folder)
            shop = Shop(framework, database, outbox_restate)
            if fresh:
                extra.append(shop)
                return shop
            started[(framework, backend)] = shop
        return started[(framework, backend)]

    try:
        yield get
    finally:
        for shop in [*started.values(), *extra]:
            shop.close()


@pytest.fixture
def restate(outbox_restate: RestateServer) -> Iterator[IngressClient]:
    with IngressClient(outbox_restate.ingress_url) as client:
        yield client


def ledger(client: IngressClient, key: str) -> list[Any]:
    return list(client.object("OutboxLedger", key).call("items"))


def invocations_with_key(server: RestateServer, service: str, idempotency_key: str) -> int:
    rows = server.query(
        "SELECT count(*) AS n FROM sys_invocation WHERE target_service_name = "
        f"'{service}' AND idempotency_key = '{idempotency_key}'"
    )
    return int(rows[0]["n"]) if rows else 0


def workflow_runs(server: RestateServer, workflow_key: str) -> int:
    rows = server.query(
        "SELECT count(*) AS n FROM sys_invocation WHERE target_service_name = 'OutboxOrder' "
        f"AND target_service_key = '{workflow_key}' AND target_handler_name = 'run'"
    )
    return int(rows[0]["n"]) if rows else 0
