"""The relay: delivers the rows the fast path missed (a crash after the commit, Restate down).

Run it beside the web app (``restate-web outbox relay``, ``manage.py restate outbox-relay``,
``flask restate outbox-relay``), once (``--once``, e.g. from cron) or in a loop. On PostgreSQL
any number of relays may run (``FOR UPDATE SKIP LOCKED``: each row is held by one); on SQLite
deliverers take turns through the database's write lock.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time

from ..ingress import IngressClient
from ._core import Policy, delivery_round, housekeeping
from ._runner import SyncDatabase, run_plan

logger = logging.getLogger("restate_web.outbox")


@dataclasses.dataclass
class RelayStats:
    delivered: int = 0
    failed: int = 0
    dead_lettered: int = 0
    deleted: int = 0
    rounds: int = 0


class Relay:
    """Delivers pending outbox rows of ``database`` through ``client`` (blocking)."""

    def __init__(
        self,
        database: SyncDatabase,
        client: IngressClient,
        *,
        policy: Policy | None = None,
        interval: float = 1.0,
        housekeeping_every: float = 60.0,
    ) -> None:
        if interval <= 0:
            raise ValueError("interval is a positive number of seconds")
        self.database = database
        self.client = client
        self.policy = policy or Policy()
        self.interval = interval
        self.housekeeping_every = housekeeping_every
        self._last_housekeeping = 0.0

    def run_once(self) -> RelayStats:
        """Deliver every row that is ready now, dead-letter what is too old, delete delivered
        rows past their retention."""
        stats = RelayStats()
        deleted, dead = run_plan(
            self.database, self.client, housekeeping(self.database.dialect, self.policy)
        )
        stats.deleted += deleted
        stats.dead_lettered += dead
        self._last_housekeeping = time.monotonic()
        while True:
            result = run_plan(
                self.database, self.client, delivery_round(self.database.dialect, self.policy)
            )
            stats.rounds += 1
            stats.delivered += result.delivered
            stats.failed += result.failed
            stats.dead_lettered += result.dead
            progressed = result.delivered + result.dead
            if result.held < self.policy.batch_size or not progressed or result.failed:
                return stats

    def run_forever(self, stop: threading.Event | None = None) -> RelayStats:
        """``run_once`` every ``interval`` seconds until ``stop`` is set (or the process ends).
        A database or Restate failure is logged and retried on the next tick."""
        stop = stop or threading.Event()
        total = RelayStats()
        while not stop.is_set():
            try:
                stats = self._tick()
            except Exception:
                logger.exception("outbox relay: a round failed; trying again in %ss", self.interval)
            else:
                total.delivered += stats.delivered
                total.failed += stats.failed
                total.dead_lettered += stats.dead_lettered
                total.deleted += stats.deleted
                total.rounds += stats.rounds
                if stats.delivered or stats.dead_lettered:
                    logger.info(
                        "outbox relay: delivered %d, dead-lettered %d",
                        stats.delivered,
                        stats.dead_lettered,
                    )
                if stats.delivered and not stats.failed:
                    continue  # more may be waiting: no pause while there is work
            stop.wait(self.interval)
        return total

    def _tick(self) -> RelayStats:
        if time.monotonic() - self._last_housekeeping >= self.housekeeping_every:
            return self.run_once()
        stats = RelayStats()
        result = run_plan(
            self.database, self.client, delivery_round(self.database.dialect, self.policy)
        )
        stats.rounds = 1
        stats.delivered = result.delivered
        stats.failed = result.failed
        stats.dead_lettered = result.dead
        return stats
