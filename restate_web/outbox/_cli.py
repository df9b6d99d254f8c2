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
    Policy,
)
from ._relay import Relay, RelayStats
from ._runner import SyncDatabase

DATABASE_URL_ENV = "RESTATE_OUTBOX_DATABASE_URL"


def _duration(text: str) -> timedelta:
    try:
        return parse_duration(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from error


def _add_relay_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--once", action="store_true", help="deliver what is ready, then exit")
    parser.add_argument(
        "--interval", type=float, default=1.0, help="seconds between rounds (default 1)"
    )
    parser.add_argument("--batch-size", type=int, default=100, help="rows per round")
    parser.add_argument(
        "--database-url",
        help=f"SQLAlchemy URL of the database with the outbox table (default ${DATABASE_URL_ENV};"
        " Django: the project's database, Flask: SQLALCHEMY_DATABASE_URI)",
    )
    parser.add_argument("--database", default=None, help="Django: the database alias")
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

    return EngineDatabase(sqlalchemy.create_engine(url))


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
    with IngressClient(
        args.ingress_url or settings.ingress_url, token=settings.ingress_token
    ) as client:
        relay = Relay(database, client, policy=policy, interval=args.interval)
        if args.once:
            stats = relay.run_once()
        else:
            stop = threading.Event()
            with _stop_on_signals(stop):
                stats = relay.run_forever(stop)
    _report(args, stats)
    return 0
