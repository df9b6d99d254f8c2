"""Ingress client throughput against a real restate-server, in one run, as ratios.

The same trivial handler (Bench/echo) is called N times sequentially and with concurrency 32
through: raw httpx with keep-alive (the baseline: nothing can be faster through HTTP/1.1), the
restate-sdk's own client (restate.create_client), AsyncIngressClient and IngressClient. Rounds
are interleaved and the median of the repeats is reported. Run: .venv/bin/python -m bench.ingress
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from bench._common import bench_stack, median_rate, print_table
from restate_web.ingress import AsyncIngressClient, IngressClient

CONCURRENCY = 32


def run_sync(call: Callable[[int], Any], n: int, concurrency: int) -> int:
    if concurrency == 1:
        for i in range(n):
            call(i)
        return n
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(call, range(n)))
    return n


def run_async(call: Callable[[int], Awaitable[Any]], n: int, concurrency: int) -> int:
    async def main() -> None:
        queue = iter(range(n))

        async def worker() -> None:
            for i in queue:
                await call(i)

        await asyncio.gather(*(worker() for _ in range(concurrency)))

    asyncio.run(main())
    return n


def measure(url: str, n: int, repeats: int) -> list[list[object]]:
    from restate import create_client

    from bench.services import echo

    results: dict[tuple[str, int], list[float]] = {}
    failures: dict[tuple[str, int], list[str]] = {}

    def record(name: str, conc: int, rate: Callable[[], float]) -> None:
        # One failed round is reported in its row, not allowed to end the whole benchmark.
        # (Before IngressClient(http2=True) kept one connection per thread, its 32 threads
        # sharing one httpcore HTTP/2 connection lost it now and then; see ingress/_threads.py.)
        results.setdefault((name, conc), [])
        try:
            results[(name, conc)].append(rate())
        except Exception as error:
            root: BaseException = error
            while root.__cause__ is not None:
                root = root.__cause__
            failures.setdefault((name, conc), []).append(f"{type(root).__name__}: {root}"[:90])

    limits = httpx.Limits(max_connections=100, max_keepalive_connections=CONCURRENCY)
    for _ in range(repeats):
        for conc in (1, CONCURRENCY):
            with httpx.Client(base_url=url, limits=limits, timeout=None) as raw:
                record(
                    "raw httpx (sync)",
                    conc,
                    lambda raw=raw, conc=conc: median_rate(
                        lambda raw=raw, conc=conc: run_sync(
                            lambda i: raw.post("/Bench/echo", json=i).json(), n, conc
                        ),
                        1,
                    ),
                )
            for h2 in (False, True):
                with IngressClient(url, http2=h2) as client:
                    svc = client.service("Bench")
                    record(
                        "IngressClient" + (" http2" if h2 else ""),
                        conc,
                        lambda svc=svc, conc=conc: median_rate(
                            lambda svc=svc, conc=conc: run_sync(
                                lambda i: svc.call("echo", i), n, conc
                            ),
                            1,
                        ),
                    )

            def raw_async(conc: int = conc) -> int:
                async def go() -> int:
                    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=None) as c:

                        async def one(i: int) -> Any:
                            return (await c.post("/Bench/echo", json=i)).json()

                        return await _run_async_inner(one, n, conc)

                return asyncio.run(go())

            def ours_async(conc: int = conc, h2: bool = False) -> int:
                async def go() -> int:
                    async with AsyncIngressClient(url, http2=h2) as c:
                        svc = c.service("Bench")
                        return await _run_async_inner(lambda i: svc.call("echo", i), n, conc)

                return asyncio.run(go())

            def sdk_async(conc: int = conc) -> int:
                async def go() -> int:
                    async with create_client(url) as c:
                        return await _run_async_inner(lambda i: c.service_call(echo, i), n, conc)

                return asyncio.run(go())

            record("raw httpx (async)", conc, lambda: median_rate(raw_async, 1))
            record("AsyncIngressClient", conc, lambda: median_rate(ours_async, 1))
            record(
                "AsyncIngressClient http2",
                conc,
                lambda conc=conc: median_rate(lambda: ours_async(conc, True), 1),
            )
            record("restate-sdk create_client", conc, lambda: median_rate(sdk_async, 1))

    import statistics

    rows: list[list[object]] = []
    for conc in (1, CONCURRENCY):
        med = {
            name: statistics.median(rates) if rates else float("nan")
            for (name, c), rates in results.items()
            if c == conc
        }
        for name, baseline, target in [
            ("raw httpx (sync)", "raw httpx (sync)", ""),
            ("IngressClient", "raw httpx (sync)", ">= 0.9x raw, >= 1.0x sdk"),
            ("IngressClient http2", "raw httpx (sync)", ""),
            ("raw httpx (async)", "raw httpx (async)", ""),
            ("AsyncIngressClient", "raw httpx (async)", ">= 0.9x raw, >= 1.0x sdk"),
            ("AsyncIngressClient http2", "raw httpx (async)", ""),
            ("restate-sdk create_client", "raw httpx (async)", ""),
        ]:
            vs_sdk = med[name] / med["restate-sdk create_client"]
            rows.append(
                [
                    "sequential" if conc == 1 else f"concurrency {conc}",
                    name,
                    f"{med[name]:.0f}",
                    f"{med[name] / med[baseline]:.2f}x",
                    f"{vs_sdk:.2f}x",
                    target,
                    _failure_note(failures.get((name, conc)), len(results[(name, conc)])),
                ]
            )
    return rows


def _failure_note(failed: list[str] | None, succeeded: int) -> str:
    if not failed:
        return ""
    return f"{len(failed)} of {len(failed) + succeeded} rounds failed ({failed[-1]})"


async def _run_async_inner(call: Callable[[int], Awaitable[Any]], n: int, conc: int) -> int:
    queue = iter(range(n))

    async def worker() -> None:
        for i in queue:
            await call(i)

    await asyncio.gather(*(worker() for _ in range(conc)))
    return n


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=400, help="calls per round")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    with bench_stack() as server:
        # Warm up: first calls pay for deployment discovery and connection set-up.
        with IngressClient(server.ingress_url) as warm:
            for i in range(50):
                warm.service("Bench").call("echo", i)
        rows = measure(server.ingress_url, args.n, args.repeats)
    return print_table(
        f"Ingress clients, Bench/echo, {args.n} calls per round, median of {args.repeats}",
        ["mode", "client", "calls/s", "vs raw httpx", "vs sdk client", "target", "note"],
        rows,
    )


if __name__ == "__main__":
    main()
