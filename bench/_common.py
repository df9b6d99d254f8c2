"""Shared benchmark plumbing: the stack under test, repeats, and the printed table."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from restate_web.testing import RestateServer, ServiceProcess

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def bench_stack() -> Iterator[RestateServer]:
    """restate-server plus bench/services.py on free loopback ports, stopped by pid after."""
    with (
        RestateServer.start() as server,
        ServiceProcess.start("bench.services:app", cwd=ROOT) as services,
    ):
        server.register(services.url)
        yield server


def median_rate(run: Callable[[], int], repeats: int) -> float:
    """Median operations per second over ``repeats`` runs of ``run`` (which returns op count)."""
    rates = []
    for _ in range(repeats):
        started = time.perf_counter()
        count = run()
        rates.append(count / (time.perf_counter() - started))
    return statistics.median(rates)


def print_table(title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=False)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=False)) + " |"
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    body = [
        "| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=False)) + " |"
        for row in rows
    ]
    text = "\n".join([f"### {title}", "", line, sep, *body])
    print(text, flush=True)
    return text
