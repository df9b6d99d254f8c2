"""The rules around delivery, in-process on SQLite with the real restate-server: rows too old
to send are dead-lettered at ERROR (never sent), delivered rows are deleted after their
retention, ``outbox_table`` is added once, and misuse says what to do instead."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from restate_web.ingress import AsyncIngressClient, IngressClient, RetryPolicy
from restate_web.outbox import EngineDatabase, OutboxError, OutboxPolicy, Relay, outbox_table
from restate_web.testing import free_port

from .conftest import ledger


@pytest.fixture
def engine(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'rules.db'}")
    metadata = sa.MetaData()
    outbox_table(metadata)
    metadata.create_all(engine)
    yield engine
    engine.dispose()


def _write_unsent(engine, key: str, items: list[str]) -> None:
    """Rows whose fast path could not reach Restate (its client points at a closed port)."""
    unreachable = IngressClient(f"http://127.0.0.1:{free_port()}", retry=False)
    with unreachable, Session(engine) as session, session.begin():
        for item in items:
            unreachable.object("OutboxLedger", key).send("append", item, outbox=session)


def _age(engine, seconds: float, column: str = "created_at") -> None:
    with engine.begin() as connection:
        connection.exec_driver_sql(
            f"UPDATE restate_web_outbox SET {column} = ?", (time.time() - seconds,)
        )


def _states(engine) -> list[str]:
    with engine.connect() as connection:
        return [r[0] for r in connection.exec_driver_sql("SELECT state FROM restate_web_outbox")]


@pytest.mark.timeout(60)
def test_rows_older_than_the_retention_minus_the_margin_are_dead_lettered_not_sent(
    engine, restate, outbox_restate, caplog
):
    key = f"old-{uuid.uuid4().hex[:6]}"
    _write_unsent(engine, key, ["too-old"])
    policy = OutboxPolicy(
        idempotency_retention=timedelta(hours=1), dead_letter_margin=timedelta(minutes=10)
    )
    _age(engine, 51 * 60)  # older than 1h - 10min: a re-send might no longer be recognised
    with IngressClient(outbox_restate.ingress_url) as client, caplog.at_level(logging.ERROR):
        stats = Relay(EngineDatabase(engine), client, policy=policy).run_once()
    assert (stats.delivered, stats.dead_lettered) == (0, 1)
    assert _states(engine) == ["dead"]
    assert ledger(restate, key) == []
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "dead-lettered" in errors[0].getMessage()


@pytest.mark.timeout(60)
def test_rows_within_the_retention_are_sent_and_delivered_rows_are_deleted_later(
    engine, restate, outbox_restate
):
    key = f"young-{uuid.uuid4().hex[:6]}"
    _write_unsent(engine, key, ["a", "b"])
    policy = OutboxPolicy(
        idempotency_retention=timedelta(hours=1),
        dead_letter_margin=timedelta(minutes=10),
        delivered_retention=timedelta(minutes=5),
    )
    _age(engine, 49 * 60)
    with IngressClient(outbox_restate.ingress_url) as client:
        relay = Relay(EngineDatabase(engine), client, policy=policy)
        assert relay.run_once().delivered == 2
        assert _states(engine) == ["delivered", "delivered"]
        assert ledger(restate, key) == ["a", "b"]
        assert relay.run_once().deleted == 0  # delivered just now: kept
        _age(engine, 6 * 60, column="delivered_at")
        assert relay.run_once().deleted == 2
    assert _states(engine) == []


def test_the_margin_must_be_shorter_than_the_retention():
    with pytest.raises(ValueError, match="margin"):
        OutboxPolicy(
            idempotency_retention=timedelta(hours=1), dead_letter_margin=timedelta(hours=1)
        )


def test_outbox_table_is_added_once_to_the_users_metadata():
    metadata = sa.MetaData()
    table = outbox_table(metadata)
    assert outbox_table(metadata) is table
    assert metadata.tables["restate_web_outbox"] is table
    assert {"seq", "id", "idempotency_key", "state", "ordering_key"} <= set(table.c.keys())


def test_misuse_is_refused_with_what_to_do(engine):
    with IngressClient("http://127.0.0.1:9", retry=RetryPolicy.disabled()) as client:
        target = client.object("OutboxLedger", "k")
        with pytest.raises(TypeError, match="using= goes with outbox=True"):
            target.send("append", 1, using="other")
        with pytest.raises(TypeError, match="outbox= takes True"):
            target.send("append", 1, outbox="yes")
        with Session(engine) as session, pytest.raises(TypeError, match="using= names the Django"):
            target.send("append", 1, outbox=session, using="other")
        with pytest.raises(TypeError, match="idempotency_kye"), Session(engine) as session:
            target.send("append", 1, outbox=session, idempotency_kye="x")
    assert _states(engine) == []


@pytest.mark.timeout(30)
def test_an_async_client_needs_an_async_session(engine):
    async def misuse() -> None:
        async with AsyncIngressClient("http://127.0.0.1:9") as client:
            with Session(engine) as session, pytest.raises(OutboxError, match="AsyncSession"):
                client.object("OutboxLedger", "k").send("append", 1, outbox=session)

    asyncio.run(misuse())


@pytest.mark.timeout(60)
def test_a_scoped_session_is_the_current_threads_session(engine, restate, outbox_restate):
    """Flask-SQLAlchemy's ``db.session`` is a ``scoped_session``: the row joins the thread's
    session, and repeated requests do not pile up event listeners."""
    from sqlalchemy import event
    from sqlalchemy.orm import scoped_session, sessionmaker

    factory = sessionmaker(engine)
    db_session = scoped_session(factory)
    key = f"scoped-{uuid.uuid4().hex[:6]}"
    with IngressClient(outbox_restate.ingress_url) as client:
        for n in range(3):
            with db_session.begin():
                handle = client.object("OutboxLedger", key).send("append", n, outbox=db_session)
            assert handle.delivered
            db_session.remove()  # the end of a request
    assert ledger(restate, key) == [0, 1, 2]
    assert not event.contains(factory, "after_commit", _after_commit_listener())


def _after_commit_listener():
    from restate_web.outbox import _sqlalchemy

    return _sqlalchemy._after_commit


def test_without_sqlalchemy_the_error_names_the_extra():
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['sqlalchemy'] = None\n"
        "from restate_web.outbox import OutboxHandle\n"  # the core imports without SQLAlchemy
        "try:\n"
        "    from restate_web.outbox import outbox_table\n"
        "except ImportError as error:\n"
        "    print(type(error).__name__, error)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert "MissingDependencyError" in done.stdout
    assert "pip install 'restate-web[sqlalchemy]'" in done.stdout


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_database_without_the_outbox_table_says_how_to_create_it(
    backend, tmp_path, request, outbox_restate
):
    """The table was never created (no create_all, no migration): the write raises
    OutboxError saying how to create it, with the driver's error as its cause, and nothing
    reaches Restate."""
    if backend == "sqlite":
        sync_url = f"sqlite:///{tmp_path / 'empty.db'}"
        async_url = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    else:
        postgres = request.getfixturevalue("postgres")
        sync_url = async_url = postgres.url(postgres.create_database(f"e_{uuid.uuid4().hex[:12]}"))
    key = f"no-table-{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(sync_url)
    with (
        IngressClient(outbox_restate.ingress_url) as client,
        Session(engine) as session,
        pytest.raises(OutboxError, match=r"outbox_table\(Base\.metadata\)") as raised,
    ):
        client.object("OutboxLedger", key).send("append", 1, outbox=session)
    assert isinstance(raised.value.__cause__, sa.exc.DBAPIError)
    assert "manage.py migrate" in str(raised.value)
    engine.dispose()

    async def write_async() -> None:
        from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

        async_engine = create_async_engine(async_url)
        try:
            async with (
                AsyncIngressClient(outbox_restate.ingress_url) as client,
                AsyncSession(async_engine) as session,
            ):
                with pytest.raises(OutboxError, match="has no table restate_web_outbox"):
                    await client.object("OutboxLedger", key).send("append", 2, outbox=session)
        finally:
            await async_engine.dispose()

    asyncio.run(write_async())
    with IngressClient(outbox_restate.ingress_url) as client:
        assert ledger(client, key) == []


def test_django_without_migrations_says_how_to_create_the_table(tmp_path):
    """Django configured with the app but never migrated: outbox=True raises OutboxError that
    says to run `manage.py migrate` (in a child process: Django's settings are process-wide)."""
    import subprocess
    import sys

    code = f"""
import django
from django.conf import settings
settings.configure(
    INSTALLED_APPS=["restate_web.adapters.django"],
    DATABASES={{"default": {{"ENGINE": "django.db.backends.sqlite3",
                             "NAME": {str(tmp_path / "unmigrated.db")!r}}}}},
    RESTATE={{"INGRESS_URL": "http://127.0.0.1:{free_port()}"}},
)
django.setup()
from restate_web.adapters.django import get_integration
from restate_web.outbox import OutboxError
try:
    get_integration().sync_client().object("OutboxLedger", "k").send("append", 1, outbox=True)
except OutboxError as error:
    print("OutboxError:", error, "| cause:", type(error.__cause__).__name__)
"""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "OutboxError:" in done.stdout and "manage.py migrate" in done.stdout
    assert "cause: OperationalError" in done.stdout
