"""The ceiling: raw restate-server ingress throughput on this machine, and our clients' share.

Bench/echo is called as fast as this machine allows by a minimal HTTP/1.1 client (hand-written
on asyncio streams, keep-alive, no parsing beyond Content-Length) in 1 or 2 processes with many
connections; the best setting is the ceiling. In the same run, on the same server, interleaved
with it, AsyncIngressClient, IngressClient and raw httpx call the same handler, and their
throughput is given as a share of the ceiling and of the one-process raw client (the fair
baseline for a one-process client: 1 proc x 64 conn, run again between groups of cases; each case
is compared with the raw runs just before and after it, and the raw runs with each other as an
A/A row that shows the noise). The load generator shares the 2 cores with restate-server and
the SDK service: the ceiling is what a near-free client gets, not what the server could do alone.
Run: .venv/bin/python -m bench.ceiling
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from bench._common import bench_stack, print_table
from restate_web.ingress import AsyncIngressClient, IngressClient

# The default pool keeps 20 idle connections: 64 concurrent calls then open and close the rest
# for every call. This variant keeps them all (see bench/README.md).
KEEP_64 = httpx.Limits(max_connections=100, max_keepalive_connections=64)
SETTINGS = [(1, 64), (2, 64), (2, 128)]  # (processes, connections per process)
ONE_PROCESS = "raw HTTP/1.1, 1 proc x 64 conn"
A_A = ONE_PROCESS + " (A/A)"
AIOHTTP_TARGET = 0.75  # issue #13: the aiohttp-transport client's share of ONE_PROCESS
# IngressClient's default pool keeps 20 idle connections; 32 threads then churn the other 12.
KEEP_32 = httpx.Limits(max_connections=100, max_keepalive_connections=32)


def _raw_worker(port: int, connections: int, seconds: float) -> int:
    """One load-generating process: ``connections`` keep-alive connections, loop until time."""

    async def connection(deadline: float) -> int:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        body = b"1"
        request = (
            b"POST /Bench/echo HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n"
            b"content-length: " + str(len(body)).encode() + b"\r\n\r\n" + body
        )
        done = 0
        try:
            while time.monotonic() < deadline:
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                if length:
                    await reader.readexactly(length)
                if not head.startswith(b"HTTP/1.1 200"):
                    raise RuntimeError(head.decode(errors="replace"))
                done += 1
        finally:
            writer.close()
        return done

    async def main() -> int:
        deadline = time.monotonic() + seconds
        return sum(await asyncio.gather(*(connection(deadline) for _ in range(connections))))

    return asyncio.run(main())


def raw_rate(pool: Any, port: int, processes: int, connections: int, seconds: float) -> float:
    counts = pool.starmap(_raw_worker, [(port, connections, seconds)] * processes)
    return sum(counts) / seconds


def _timed_async(make: Callable[[float], Coroutine[Any, Any, int]], seconds: float) -> float:
    started = time.monotonic()
    count = asyncio.run(make(started + seconds))
    return count / (time.monotonic() - started)


def ours_async(url: str, concurrency: int, seconds: float, **options: Any) -> float:
    async def go(deadline: float) -> int:
        async with AsyncIngressClient(url, **options) as client:
            svc = client.service("Bench")

            async def worker() -> int:
                done = 0
                while time.monotonic() < deadline:
                    await svc.call("echo", done)
                    done += 1
                return done

            return sum(await asyncio.gather(*(worker() for _ in range(concurrency))))

    return _timed_async(go, seconds)


def httpx_async(url: str, concurrency: int, seconds: float) -> float:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def go(deadline: float) -> int:
        async with httpx.AsyncClient(base_url=url, limits=limits, timeout=None) as client:

            async def worker() -> int:
                done = 0
                while time.monotonic() < deadline:
                    (await client.post("/Bench/echo", json=done)).json()
                    done += 1
                return done

            return sum(await asyncio.gather(*(worker() for _ in range(concurrency))))

    return _timed_async(go, seconds)


def aiohttp_async(url: str, concurrency: int, seconds: float) -> float:
    """Raw aiohttp (one session, 64 connections): what its pool gives without httpx on top."""
    import aiohttp

    async def go(deadline: float) -> int:
        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(url, connector=connector) as session:

            async def worker() -> int:
                done = 0
                while time.monotonic() < deadline:
                    async with session.post("/Bench/echo", json=done) as response:
                        await response.json()
                    done += 1
                return done

            return sum(await asyncio.gather(*(worker() for _ in range(concurrency))))

    return _timed_async(go, seconds)


def httpx_sync(url: str, threads: int, seconds: float) -> float:
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=threads)
    with httpx.Client(base_url=url, limits=limits, timeout=None) as client:
        deadline = time.monotonic() + seconds

        def worker(_: int) -> int:
            done = 0
            while time.monotonic() < deadline:
                client.post("/Bench/echo", json=done).json()
                done += 1
            return done

        started = time.monotonic()
        with ThreadPoolExecutor(threads) as pool:
            count = sum(pool.map(worker, range(threads)))
        return count / (time.monotonic() - started)


def httpx_sync_per_thread(url: str, threads: int, seconds: float) -> float:
    """One httpx.Client (so one connection pool and its lock) per thread."""
    deadline = time.monotonic() + seconds

    def worker(_: int) -> int:
        done = 0
        with httpx.Client(base_url=url, timeout=None) as client:
            while time.monotonic() < deadline:
                client.post("/Bench/echo", json=done).json()
                done += 1
        return done

    started = time.monotonic()
    with ThreadPoolExecutor(threads) as pool:
        count = sum(pool.map(worker, range(threads)))
    return count / (time.monotonic() - started)


def ours_sync(url: str, threads: int, seconds: float, **options: Any) -> float:
    with IngressClient(url, **options) as client:
        svc = client.service("Bench")
        deadline = time.monotonic() + seconds

        def worker(_: int) -> int:
            done = 0
            while time.monotonic() < deadline:
                svc.call("echo", done)
                done += 1
            return done

        started = time.monotonic()
        with ThreadPoolExecutor(threads) as pool:
            count = sum(pool.map(worker, range(threads)))
        return count / (time.monotonic() - started)


def measure(url: str, port: int, seconds: float, repeats: int) -> list[list[object]]:
    """Every case once per round; the one-process raw client runs again between groups of
    cases, and each case's share of it is taken against the two raw runs around it (the load
    from elsewhere drifts within a round), then the median over the rounds."""
    results: dict[str, list[float]] = {}
    shares: dict[str, list[float]] = {}
    context = multiprocessing.get_context("spawn")
    with context.Pool(max(p for p, _ in SETTINGS)) as pool:

        def baseline() -> float:
            return raw_rate(pool, port, 1, 64, seconds)

        groups: list[list[tuple[str, Callable[[], float]]]] = [
            [
                (
                    "AsyncIngressClient transport=aiohttp, 64 concurrent",
                    lambda: ours_async(url, 64, seconds, transport="aiohttp"),
                ),
                ("raw aiohttp, 64 concurrent", lambda: aiohttp_async(url, 64, seconds)),
            ],
            [
                ("AsyncIngressClient, 64 concurrent", lambda: ours_async(url, 64, seconds)),
                (
                    "AsyncIngressClient http2, 64 concurrent",
                    lambda: ours_async(url, 64, seconds, http2=True),
                ),
                ("raw httpx async, 64 concurrent", lambda: httpx_async(url, 64, seconds)),
                (
                    "AsyncIngressClient keep-alive 64, 64 concurrent",
                    lambda: ours_async(url, 64, seconds, limits=KEEP_64),
                ),
            ],
            [
                ("IngressClient, 32 threads", lambda: ours_sync(url, 32, seconds)),
                (
                    "IngressClient keep-alive 32, 32 threads",
                    lambda: ours_sync(url, 32, seconds, limits=KEEP_32),
                ),
                ("raw httpx sync keep-alive 32, 32 threads", lambda: httpx_sync(url, 32, seconds)),
                (
                    "raw httpx sync, a Client per thread, 32 threads",
                    lambda: httpx_sync_per_thread(url, 32, seconds),
                ),
            ],
        ]
        raw_rate(pool, port, 1, 4, 0.5)  # warm the worker processes and the server
        for _ in range(repeats):
            for processes, connections in SETTINGS[1:]:
                name = f"raw HTTP/1.1, {processes} proc x {connections} conn"
                results.setdefault(name, []).append(
                    raw_rate(pool, port, processes, connections, seconds)
                )
            before = baseline()
            results.setdefault(ONE_PROCESS, []).append(before)
            for group in groups:
                rates = [(name, run()) for name, run in group]
                after = baseline()
                results.setdefault(A_A, []).append(after)
                shares.setdefault(A_A, []).append(after / before)
                for name, rate in rates:
                    results.setdefault(name, []).append(rate)
                    shares.setdefault(name, []).append(rate / ((before + after) / 2))
                before = after
    medians = {name: statistics.median(rates) for name, rates in results.items()}
    ceiling_name = max(
        (n for n in medians if n.startswith("raw HTTP/1.1") and n != A_A),
        key=medians.__getitem__,
    )
    ceiling = medians[ceiling_name]
    order = [ONE_PROCESS, *(f"raw HTTP/1.1, {p} proc x {c} conn" for p, c in SETTINGS[1:]), A_A]
    order += [name for group in groups for name, _ in group]
    rows: list[list[object]] = []
    for name in order:
        rate = medians[name]
        role = "ceiling (best raw setting)" if name == ceiling_name else ""
        if name == ONE_PROCESS:
            role = "one-process baseline"
        if name == A_A:
            role = "A/A: the baseline against its previous run"
        share, low, high = ("100%" if name == ONE_PROCESS else ""), "", ""
        if name in shares:
            share = f"{statistics.median(shares[name]):.0%}"
            low, high = f"{min(shares[name]):.0%}", f"{max(shares[name]):.0%}"
        target = ""
        if name.startswith("AsyncIngressClient transport=aiohttp"):
            met = statistics.median(shares[name]) >= AIOHTTP_TARGET
            target = f">= {AIOHTTP_TARGET:.0%} of 1-proc raw: {'met' if met else 'NOT met'}"
        rows.append(
            [
                name,
                f"{rate:.0f}",
                f"{rate / ceiling:.0%}",
                share,
                f"{low}-{high}" if low else "",
                target or role,
            ]
        )
    return rows


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="per measurement")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved rounds (median)")
    args = parser.parse_args(argv)
    with bench_stack() as server:
        with IngressClient(server.ingress_url) as warm:
            for i in range(50):
                warm.service("Bench").call("echo", i)
        rows = measure(server.ingress_url, server.ingress_port, args.seconds, args.repeats)
    return print_table(
        f"Ceiling: raw restate-server ingress throughput (Bench/echo, calls/s), same server, "
        f"{args.seconds:.0f} s per measurement, median of {args.repeats} interleaved rounds "
        "(share of 1-proc raw: against the raw runs just before and after, per round)",
        [
            "client",
            "calls/s",
            "share of ceiling",
            "share of 1-proc raw",
            "its range",
            "note / target",
        ],
        rows,
    )


if __name__ == "__main__":
    main()
