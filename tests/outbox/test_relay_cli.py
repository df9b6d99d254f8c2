"""``restate-web outbox relay`` as an operator meets it before the first row: a database
without the outbox table, a database that is down, a database the outbox does not support.
Each ends with exit 1 and a sentence that says what to do, never a traceback."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from restate_web.testing import PostgresServer, free_port

from .conftest import ROOT


def relay(*arguments: str) -> subprocess.CompletedProcess[str]:
    """``restate-web outbox relay ARGUMENTS`` in a fresh interpreter."""
    return subprocess.run(
        [sys.executable, "-m", "restate_web.cli", "outbox", "relay", *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def relay_once(database_url: str) -> subprocess.CompletedProcess[str]:
    # No row is ever sent in these tests: the ingress is never reached.
    ingress_url = f"http://127.0.0.1:{free_port()}"
    return relay("--once", "--database-url", database_url, "--ingress-url", ingress_url)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_database_without_the_outbox_table_says_how_to_create_it(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'shop.db'}"
    else:
        postgres: PostgresServer = request.getfixturevalue("postgres")
        url = postgres.url(postgres.create_database(f"bare_{uuid.uuid4().hex[:12]}"))
    done = relay_once(url)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "restate_web_outbox" in done.stderr
    assert "outbox_table(" in done.stderr and "manage.py migrate" in done.stderr


def test_a_database_that_is_down_fails_the_round_cleanly() -> None:
    # A real psycopg connection to a port nothing listens on: PostgreSQL is down.
    done = relay_once(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/shop")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "could not use the database" in done.stderr
    assert "rows stay" in done.stderr


def test_a_database_the_outbox_does_not_support_is_named() -> None:
    done = relay_once("mysql://app@127.0.0.1/shop")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "SQLite and PostgreSQL" in done.stderr and "mysql" in done.stderr


@pytest.mark.parametrize(
    ("option", "value"),
    [("--interval", "0"), ("--interval", "-1"), ("--interval", "inf"), ("--batch-size", "0")],
)
def test_a_bad_interval_or_batch_size_is_a_bad_argument(
    option: str, value: str, tmp_path: Path
) -> None:
    done = relay("--database-url", f"sqlite:///{tmp_path / 'shop.db'}", option, value)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert option in done.stderr


def test_database_alias_outside_django_is_refused(tmp_path: Path) -> None:
    # `--database` names a Django database alias; outside manage.py it would be ignored
    # silently and the relay would drain another database than the one meant.
    done = relay(
        "--once", "--database", "orders", "--database-url", f"sqlite:///{tmp_path / 'shop.db'}"
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "manage.py restate outbox-relay --database" in done.stderr
