"""Ingress clients against a three-node Restate cluster, in one run, as ratios.

Throughput: the trivial handler Bench/echo called N times at concurrency 32 by the same client
given one node's ingress URL (the baseline, measured twice: the A/A row) and given all three
(calls spread round-robin). AsyncIngressClient and IngressClient (32 threads); rounds
interleaved, medians. All on one cluster, so only where the calls enter differs.

Client cost: CPU per call of IngressClient over an in-memory transport, one URL vs three (what
choosing a node adds, without a server's noise).

Latency across a node kill: calls at concurrency 16 through a three-URL AsyncIngressClient for
``--kill-seconds``; the node leading the most partitions is SIGKILLed a third of the way in and
restarted at two thirds. p50/p99/max and errors per phase (a call in flight at the kill counts
as "down"), each phase's p99 against the before-kill p99. Keyed calls (generated idempotency
keys) may move to another node when their connection breaks; keyless calls only when it never
opened, so those in flight on the killed node fail. Run: .venv/bin/python -m bench.cluster
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import statistics
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from bench._common import ROOT, median_rate, print_table
from restate_web.ingress import AsyncIngressClient, IngressClient, IngressError
from restate_web.testing import RestateCluster, ServiceProcess

CONCURRENCY = 32
KILL_CONCURRENCY = 16


async def _spread(call: Callable[[int], Awaitable[Any]], n: int, concurrency: int) -> int:
    queue = iter(range(n))

    async def worker() -> None:
        for i in queue:
            await call(i)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return n


def async_round(urls: list[str], n: int) -> int:
    async def go() -> int:
        async with AsyncIngressClient(urls) as client:
            bench = client.service("Bench")
            return await _spread(lambda i: bench.call("echo", i), n, CONCURRENCY)

    return asyncio.run(go())


def sync_round(urls: list[str], n: int) -> int:
    with IngressClient(urls) as client, ThreadPoolExecutor(CONCURRENCY) as pool:
        bench = client.service("Bench")
        list(pool.map(lambda i: bench.call("echo", i), range(n)))
    return n


def throughput(cluster: RestateCluster, n: int, repeats: int) -> list[list[object]]:
    targets = {
        "one node": [cluster.ingress_urls[0]],
        "one node (A/A)": [cluster.ingress_urls[1]],
        "three nodes": cluster.ingress_urls,
    }
    runners: dict[str, Callable[[list[str], int], int]] = {
        "AsyncIngressClient": async_round,
        "IngressClient": sync_round,
    }
    rates: dict[tuple[str, str], list[float]] = {(k, c): [] for k in runners for c in targets}
    for _ in range(repeats):
        for kind, run in runners.items():
            for case, urls in targets.items():
                rates[(kind, case)].append(median_rate(functools.partial(run, urls, n), 1))
    rows: list[list[object]] = []
    for kind, case in rates:
        rate = statistics.median(rates[(kind, case)])
        baseline = statistics.median(rates[(kind, "one node")])
        rows.append(
            [f"{kind}, concurrency {CONCURRENCY}", case, f"{rate:.0f}", f"{rate / baseline:.2f}x"]
        )
    return rows


def client_cost(calls: int, rounds: int) -> list[list[object]]:
    """Per-call CPU cost of choosing among three URLs, free of server noise: IngressClient over
    an in-memory transport (httpx.MockTransport answering at once), one URL vs three."""
    answer = httpx.Response(200, json=1)
    transport = httpx.MockTransport(lambda request: answer)
    cases = {
        "one URL": ["http://n1.test"],
        "one URL (A/A)": ["http://n1.test"],
        "three URLs": ["http://n1.test", "http://n2.test", "http://n3.test"],
    }
    times: dict[str, list[float]] = {case: [] for case in cases}
    for _ in range(rounds):
        for case, urls in cases.items():
            with IngressClient(urls, transport=transport) as client:
                bench = client.service("Bench")
                started = time.process_time()
                for i in range(calls):
                    bench.call("echo", i)
                times[case].append((time.process_time() - started) / calls * 1e6)
    baseline = statistics.median(times["one URL"])
    return [
        [
            "IngressClient, in-memory transport",
            case,
            f"{statistics.median(spent):.1f}",
            f"{statistics.median(spent) / baseline:.2f}x",
        ]
        for case, spent in times.items()
    ]


async def _load_across_kill(
    cluster: RestateCluster, seconds: float, keyed: bool
) -> tuple[list[tuple[float, float, bool]], dict[str, Any]]:
    """(start, latency, ok) of every call, and when the kill and restart happened."""
    samples: list[tuple[float, float, bool]] = []
    events: dict[str, Any] = {}
    started = time.monotonic()
    stop_at = started + seconds

    async with AsyncIngressClient(
        cluster.ingress_urls, generate_idempotency_keys=keyed, timeout=30
    ) as client:
        bench = client.service("Bench")

        async def worker() -> None:
            i = 0
            while time.monotonic() < stop_at:
                t0 = time.monotonic()
                try:
                    await bench.call("echo", i)
                    ok = True
                except IngressError:
                    ok = False
                samples.append((t0, time.monotonic() - t0, ok))
                i += 1

        async def faults() -> None:
            await asyncio.sleep(seconds / 3)
            victim = cluster.busiest_leader()
            events["victim"] = victim.name
            events["kill"] = time.monotonic()
            await asyncio.to_thread(cluster.kill, victim)
            await asyncio.to_thread(cluster.wait_for_leaders)
            events["leaders_back"] = time.monotonic()
            await asyncio.sleep(max(0.0, started + 2 * seconds / 3 - time.monotonic()))
            events["restart"] = time.monotonic()
            await asyncio.to_thread(cluster.restart, victim)
            events["back"] = time.monotonic()

        await asyncio.gather(faults(), *(worker() for _ in range(KILL_CONCURRENCY)))
    await asyncio.to_thread(cluster.wait_for_leaders)
    return samples, events


def _p(latencies: list[float], q: int) -> float:
    if len(latencies) < 2:
        return latencies[0] if latencies else float("nan")
    return statistics.quantiles(latencies, n=100, method="inclusive")[q - 1]


def across_kill(cluster: RestateCluster, seconds: float) -> list[list[object]]:
    rows: list[list[object]] = []
    for keyed in (True, False):
        samples, events = asyncio.run(_load_across_kill(cluster, seconds, keyed))
        # A call belongs to the phase it overlaps: one in flight at the kill is a "down" call.
        phases = {
            "before kill": [s for s in samples if s[0] + s[1] < events["kill"]],
            f"{events['victim']} down, led again in "
            f"{events['leaders_back'] - events['kill']:.1f} s": [
                s for s in samples if s[0] + s[1] >= events["kill"] and s[0] < events["restart"]
            ],
            "after restart": [s for s in samples if s[0] >= events["restart"]],
        }
        baseline = _p([s[1] for s in phases["before kill"] if s[2]], 99)
        for phase, found in phases.items():
            latencies = [s[1] for s in found if s[2]]
            p99 = _p(latencies, 99)
            rows.append(
                [
                    "keyed calls" if keyed else "keyless calls",
                    phase,
                    f"{len(found)}",
                    f"{_p(latencies, 50) * 1000:.1f}",
                    f"{p99 * 1000:.1f}",
                    f"{max(latencies, default=float('nan')) * 1000:.0f}",
                    f"{sum(1 for s in found if not s[2])}",
                    f"{p99 / baseline:.2f}x",
                ]
            )
    return rows


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("-n", type=int, default=600, help="calls per throughput round")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--kill-seconds", type=float, default=12.0, help="load across a kill")
    args = parser.parse_args(argv)
    with (
        RestateCluster.start(3) as cluster,
        ServiceProcess.start("bench.services:app", cwd=ROOT) as services,
    ):
        cluster.register(services.url)
        # Warm up: every node's ingress, connections, the deployment's discovery.
        with IngressClient(cluster.ingress_urls) as warm:
            for i in range(60):
                warm.service("Bench").call("echo", i)
        cost_rows = client_cost(2000, max(5, args.repeats * 2))
        rows = throughput(cluster, args.n, args.repeats)
        kill_rows = across_kill(cluster, args.kill_seconds)
    text = print_table(
        f"Cluster: one node vs three, Bench/echo, {args.n} calls per round, "
        f"median of {args.repeats}",
        ["client", "ingress URLs", "calls/s", "vs one node"],
        rows,
    )
    print()
    text += "\n\n" + print_table(
        "Cluster: client cost of several URLs (CPU per call, median of rounds)",
        ["client", "ingress URLs", "us per call", "vs one URL"],
        cost_rows,
    )
    print()
    text += "\n\n" + print_table(
        f"Cluster: latency across a SIGKILL of the busiest leader, concurrency "
        f"{KILL_CONCURRENCY}, {args.kill_seconds:.0f} s",
        ["calls", "phase", "calls", "p50 ms", "p99 ms", "max ms", "errors", "p99 vs before"],
        kill_rows,
    )
    return text


if __name__ == "__main__":
    main()
