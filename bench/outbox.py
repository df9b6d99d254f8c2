"""The transactional outbox: what ``outbox=`` costs a request, and how fast the relay drains.

1. Request latency, same view, same database: the view inserts an order row in a transaction
   and starts ``Bench/echo``: either directly (commit, then ``send`` with an idempotency key:
   the usual dual write) or with ``send(..., outbox=session)`` (the row joins the transaction,
   the fast path sends it after the commit and marks it delivered). Run in-process: the web
   framework around the view is the same for both and left out. Rounds interleave the cases;
   ``direct (A/A)`` is the baseline measured again, the noise floor.
2. Relay throughput: rows written while Restate is unreachable, then one ``Relay.run_once``
   delivers them; rows/s against direct sends of as many invocations from 16 threads.

SQLite (a file) and PostgreSQL (``restate_web.testing.PostgresServer``). Run:
``.venv/bin/python -m bench.outbox`` (``make bench`` runs it with small sizes).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bench._common import bench_stack, print_table
from restate_web.ingress import IngressClient
from restate_web.outbox import EngineDatabase, OutboxPolicy, Relay, outbox_table
from restate_web.testing import PostgresServer, free_port

THREADS = 16


def _schema() -> tuple[sa.MetaData, sa.Table]:
    metadata = sa.MetaData()
    orders = sa.Table(
        "bench_orders",
        metadata,
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("amount", sa.Integer, nullable=False),
    )
    outbox_table(metadata)
    return metadata, orders


@contextmanager
def databases(folder: Path) -> Iterator[dict[str, sa.Engine]]:
    with ExitStack() as stack:
        postgres = stack.enter_context(PostgresServer.start())
        engines = {
            "sqlite": sa.create_engine(f"sqlite:///{folder / 'bench.db'}"),
            "postgresql": sa.create_engine(postgres.url(postgres.create_database("bench"))),
        }
        metadata, _ = _schema()
        for engine in engines.values():
            metadata.create_all(engine)
        try:
            yield engines
        finally:
            for engine in engines.values():
                engine.dispose()


def view(engine: sa.Engine, client: IngressClient, orders: sa.Table, outbox: bool) -> None:
    """The request's work: an order row and the start of its processing."""
    order = str(uuid.uuid4())
    with Session(engine) as session:
        with session.begin():
            session.execute(orders.insert().values(id=order, amount=42))
            if outbox:
                client.service("Bench").send("echo", order, outbox=session)
        if not outbox:
            client.service("Bench").send("echo", order, idempotency_key=f"order:{order}")


def latencies(call: Callable[[], None], count: int) -> list[float]:
    out = []
    for _ in range(count):
        started = time.perf_counter()
        call()
        out.append((time.perf_counter() - started) * 1000)
    return out


def _p(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def bench_latency(
    engines: dict[str, sa.Engine], client: IngressClient, calls: int, rounds: int
) -> list[list[str]]:
    _, orders = _schema()
    rows = []
    for name, engine in engines.items():
        cases = {
            "direct send after commit": lambda e=engine: view(e, client, orders, False),
            "direct (A/A)": lambda e=engine: view(e, client, orders, False),
            "outbox=session": lambda e=engine: view(e, client, orders, True),
        }
        samples: dict[str, list[float]] = {case: [] for case in cases}
        for case in cases.values():
            latencies(case, 20)  # warm up connections and caches
        for round_number in range(rounds):
            order = list(cases.items())
            if round_number % 2:
                order.reverse()
            for case, call in order:
                samples[case] += latencies(call, calls)
        base = statistics.median(samples["direct send after commit"])
        for case, values in samples.items():
            p50 = statistics.median(values)
            rows.append(
                [
                    name,
                    case,
                    f"{p50:.2f}",
                    f"{_p(values, 0.99):.2f}",
                    f"{p50 / base:.2f}x",
                ]
            )
    return rows


def _pending_rows(engine: sa.Engine, count: int, keyed: bool) -> None:
    """``count`` rows whose fast path failed (the writers' client points at a closed port)."""
    with IngressClient(f"http://127.0.0.1:{free_port()}", retry=False) as unreachable:
        for start in range(0, count, 100):
            with Session(engine) as session, session.begin():
                for n in range(start, min(count, start + 100)):
                    if keyed:
                        target = unreachable.object("BenchKeyed", f"k{n % 10}")
                        target.send("add", n, outbox=session)
                    else:
                        unreachable.service("Bench").send("echo", n, outbox=session)


def bench_relay(
    engines: dict[str, sa.Engine], client: IngressClient, rows: int, rounds: int
) -> list[list[str]]:
    def direct() -> float:
        def send(n: int) -> None:
            client.service("Bench").send("echo", n, idempotency_key=f"direct:{uuid.uuid4()}")

        started = time.perf_counter()
        with ThreadPoolExecutor(THREADS) as pool:
            list(pool.map(send, range(rows)))
        return rows / (time.perf_counter() - started)

    results: dict[tuple[str, str], list[float]] = {}
    for _ in range(rounds):
        results.setdefault(("direct", f"direct sends, {THREADS} threads"), []).append(direct())
        results.setdefault(("direct", "direct (A/A)"), []).append(direct())
        for name, engine in engines.items():
            for keyed in (False, True):
                _pending_rows(engine, rows, keyed)
                relay = Relay(EngineDatabase(engine), client, policy=OutboxPolicy(batch_size=100))
                started = time.perf_counter()
                stats = relay.run_once()
                took = time.perf_counter() - started
                assert stats.delivered == rows, stats
                label = "relay, 10 object keys (in order)" if keyed else "relay, service rows"
                results.setdefault((name, label), []).append(rows / took)
    base = statistics.median(results[("direct", f"direct sends, {THREADS} threads")])
    return [
        [name, case, f"{statistics.median(rates):,.0f}", f"{statistics.median(rates) / base:.2f}x"]
        for (name, case), rates in results.items()
    ]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--calls", type=int, default=100, help="view calls per case and round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--rows", type=int, default=1000, help="rows per relay measurement")
    parser.add_argument("--relay-rounds", type=int, default=3)
    args = parser.parse_args(argv)
    with (
        tempfile.TemporaryDirectory(prefix="bench-outbox-") as folder,
        bench_stack() as server,
        databases(Path(folder)) as engines,
        IngressClient(server.ingress_url) as client,
    ):
        latency_rows = bench_latency(engines, client, args.calls, args.rounds)
        relay_rows = bench_relay(engines, client, args.rows, args.relay_rounds)
    print_table(
        f"Outbox: request latency, same view and database ({args.rounds} rounds x "
        f"{args.calls} calls)",
        ["database", "case", "p50 ms", "p99 ms", "p50 vs direct"],
        latency_rows,
    )
    print()
    print_table(
        f"Outbox relay throughput ({args.rows} rows, median of {args.relay_rounds})",
        ["database", "case", "rows/s", "vs direct"],
        relay_rows,
    )


if __name__ == "__main__":
    main()
