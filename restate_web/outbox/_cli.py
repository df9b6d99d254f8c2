"""``restate-web outbox relay`` (also ``outbox-relay``, the name ``manage.py restate`` and
``flask restate`` users type): deliver what the outbox's fast path missed.

The database: ``--database-url`` (a SQLAlchemy URL) or ``RESTATE_OUTBOX_DATABASE_URL``;
under Django the project's database ``--database`` (default ``default``); under Flask the
app's ``SQLALCHEMY_DATABASE_URI`` unless a URL is given.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import math
import os
import signal
import sys
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from ..adapters._settings import check_settings
from ..deploy._durations import parse_duration
from ..ingress import IngressClient
from ._core import (
    DEFAULT_DEAD_LETTER_MARGIN,
    DEFAULT_DELIVERED_RETENTION,
    DEFAULT_IDEMPOTENCY_RETENTION,
    TABLE,
    Policy,
    Sql,
    missing_table_hint,
)
from ._relay import Relay, RelayStats
from ._runner import SyncDatabase

DATABASE_URL_ENV = "RESTATE_OUTBOX_DATABASE_URL"


def _duration(text: str) -> timedelta:
    try:
        return parse_duration(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from error


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return value


def _add_relay_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--once", action="store_true", help="deliver what is ready, then exit")
    parser.add_argument(
        "--interval", type=_seconds, default=1.0, help="seconds between rounds (default 1)"
    )
    parser.add_argument(
        "--batch-size", type=_count, default=100, help="rows per round (default 100)"
    )
    parser.add_argument(
        "--database-url",
        help=f"SQLAlchemy URL of the database with the outbox table (default ${DATABASE_URL_ENV};"
        " Django: the project's database, Flask: SQLALCHEMY_DATABASE_URI)",
    )
    parser.add_argument(
        "--database", default=None, help="manage.py restate outbox-relay only: the database alias"
    )
    parser.add_argument("--ingress-url", help="Restate's ingress (default INGRESS_URL setting)")
    parser.add_argument(
        "--idempotency-retention",
        type=_duration,
        default=DEFAULT_IDEMPOTENCY_RETENTION,
        metavar="DURATION",
        help="the services' idempotency retention (Restate's default: 1d)",
    )
    parser.add_argument(
        "--dead-letter-margin",
        type=_duration,
        default=DEFAULT_DEAD_LETTER_MARGIN,
        metavar="DURATION",
        help="rows older than the retention minus this are dead-lettered, not sent (1h)",
    )
    parser.add_argument(
        "--delivered-retention",
        type=_duration,
        default=DEFAULT_DELIVERED_RETENTION,
        metavar="DURATION",
        help="how long delivered rows are kept before they are deleted (1d)",
    )
    parser.add_argument(
        "--verbose", "-v", action="store_true", help="log every delivered row (its id)"
    )
    parser.set_defaults(run=run_relay)


def register(subparsers: Any) -> None:
    """Add ``outbox relay`` and ``outbox-relay`` (see restate_web.cli)."""
    help_text = "deliver outbox rows the fast path missed (crash after commit, Restate down)"
    outbox = subparsers.add_parser(
        "outbox", help="the transactional outbox", description="the transactional outbox"
    )
    commands = outbox.add_subparsers(dest="outbox_command", metavar="COMMAND", required=True)
    _add_relay_arguments(commands.add_parser("relay", help=help_text, description=help_text))
    _add_relay_arguments(
        subparsers.add_parser("outbox-relay", help=help_text, description=help_text)
    )


def _database(args: argparse.Namespace) -> SyncDatabase:
    url = args.database_url or os.environ.get(DATABASE_URL_ENV)
    if not url and getattr(args, "django", False):
        from ..adapters.django._outbox import DjangoDatabase

        return DjangoDatabase(args.database or "default", long_running=True)
    url = url or getattr(args, "sqlalchemy_url", None)
    if not url:
        raise SystemExit(
            f"no database: pass --database-url (a SQLAlchemy URL) or set {DATABASE_URL_ENV} "
            "(under Django the project's database is used; under Flask SQLALCHEMY_DATABASE_URI)"
        )
    import sqlalchemy

    from ._sqlalchemy import EngineDatabase

    try:
        backend = sqlalchemy.engine.make_url(url).get_backend_name()
    except sqlalchemy.exc.ArgumentError:
        # The URL is not echoed: it may carry a password.
        raise SystemExit(
            "outbox relay: --database-url is not a SQLAlchemy database URL "
            "(e.g. postgresql+psycopg://user@host/db or sqlite:///path/to/db)"
        ) from None
    if backend not in ("sqlite", "postgresql"):
        raise SystemExit(
            "outbox relay: the Restate outbox supports SQLite and PostgreSQL "
            f"(postgresql+psycopg://...), not {backend}"
        )
    return EngineDatabase(sqlalchemy.create_engine(url))


def _explain(error: Exception) -> tuple[bool, str]:
    """(the outbox table is missing, what to tell the operator) for a database error."""
    hint = missing_table_hint(error)
    if hint is not None:
        return True, hint
    text = str(error).strip()
    first = text.splitlines()[0] if text else ""
    return False, (
        f"could not use the database ({type(error).__name__}: {first}); rows stay as they "
        "are, and the next round sends them"
    )


def _probe(database: SyncDatabase) -> tuple[bool, str] | None:
    """None when the outbox table can be read, else what `_explain` says about why not."""
    try:
        with database.transaction() as execute:
            execute(Sql(f"SELECT seq FROM {TABLE} WHERE 1 = 0", fetch=True))  # noqa: S608
    except Exception as error:  # the drivers' errors (sqlite3, psycopg, Django) share no base
        return _explain(error)
    return None


@contextlib.contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {
        sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)
    }
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _report(args: argparse.Namespace, stats: RelayStats) -> None:
    out = getattr(args, "stdout", None) or sys.stdout
    out.write(
        f"outbox relay: delivered {stats.delivered}, failed {stats.failed}, dead-lettered "
        f"{stats.dead_lettered}, deleted {stats.deleted}\n"
    )


def _configure_logging(verbose: bool) -> None:
    outbox_logger = logging.getLogger("restate_web.outbox")
    if outbox_logger.handlers or logging.getLogger().handlers:
        if verbose:
            outbox_logger.setLevel(logging.DEBUG)
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    outbox_logger.addHandler(handler)
    outbox_logger.setLevel(logging.DEBUG if verbose else logging.INFO)


def run_relay(args: argparse.Namespace) -> int:
    if args.database and not getattr(args, "django", False):
        err = getattr(args, "stderr", None) or sys.stderr
        err.write(
            "outbox relay: --database names a Django database alias (python manage.py restate "
            "outbox-relay --database ALIAS); here give the database with --database-url\n"
        )
        return 2
    _configure_logging(args.verbose)
    values = getattr(args, "settings_values", None)
    settings, _problems = check_settings(values if isinstance(values, dict) else None)
    try:
        policy = Policy(
            idempotency_retention=args.idempotency_retention,
            dead_letter_margin=args.dead_letter_margin,
            delivered_retention=args.delivered_retention,
            batch_size=args.batch_size,
        )
    except ValueError as error:
        raise SystemExit(f"outbox relay: {error}") from None
    database = _database(args)
    problem = _probe(database)
    if problem is not None:
        missing_table, message = problem
        if missing_table or args.once:
            raise SystemExit(f"outbox relay: {message}")
        # A loop may start before its database does: it retries every round.
        logging.getLogger("restate_web.outbox").warning("outbox relay: %s", message)
    with IngressClient(
        args.ingress_url or settings.ingress_url, token=settings.ingress_token
    ) as client:
        relay = Relay(database, client, policy=policy, interval=args.interval)
        if args.once:
            try:
                stats = relay.run_once()
            except Exception as error:  # as in _probe: the drivers' errors share no base
                raise SystemExit(f"outbox relay: {_explain(error)[1]}") from None
        else:
            stop = threading.Event()
            with _stop_on_signals(stop):
                stats = relay.run_forever(stop)
    _report(args, stats)
    return 0
