"""restate-web lint: lines per second against flake8 (pyflakes only) and pylint (errors only)
on the same files, and peak memory on a generated 100k-line tree of Restate services.

Every tool runs as a fresh ``python -m ...`` process over the same file list (start-up
included: that is what a user or pre-commit waits for), rounds interleaved, medians reported.
The A/A row runs restate-web lint a second time as if it were another tool: the spread between
it and the first row is the noise of this machine. Peak RSS comes from ``os.wait4``.

Run: .venv/bin/python -m bench.lint   (``--rounds``, ``--modules`` for the generated tree)
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench._common import ROOT, print_table

# flake8 with only the pyflakes checker (no pycodestyle, mccabe, or the RW plugin itself).
FLAKE8_PYFLAKES_ONLY = """
import sys
import flake8.plugins.finder as finder
from flake8.main.cli import main

original = finder.find_plugins
finder.find_plugins = lambda cfg, opts: [
    plugin for plugin in original(cfg, opts) if plugin.package in ("flake8", "pyflakes")
]
sys.exit(main(sys.argv[1:]))
"""


def tools(files_arg: str) -> dict[str, list[str]]:
    python = sys.executable
    lint = [python, "-m", "restate_web.lint", "--format", "json", f"@{files_arg}"]
    return {
        "restate-web lint": lint,
        "restate-web lint (A/A)": lint,
        "flake8 (pyflakes only)": [
            python,
            "-c",
            FLAKE8_PYFLAKES_ONLY,
            "--isolated",
            "-j",
            "1",
            "--select",
            "F",
            f"@{files_arg}",
        ],
        "pylint (errors only)": [
            python,
            "-m",
            "pylint",
            "--errors-only",
            "--jobs",
            "1",
            "--persistent",
            "n",
            "--score",
            "n",
            f"@{files_arg}",
        ],
    }


def run_once(argv: list[str], files: Sequence[str]) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak RSS in MB) of one run of ``argv`` over ``files``."""
    command = [part for part in argv if not part.startswith("@")]
    command += list(files)
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode not in (0, 1, 2, 4, 8, 16, 32):  # findings are not failures
        raise RuntimeError(f"{command[:4]} exited with {process.returncode}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def count_lines(files: Sequence[str]) -> int:
    total = 0
    for name in files:
        with open(name, "rb") as handle:
            total += handle.read().count(b"\n")
    return total


def project_files() -> list[str]:
    """The project's own Python code: library, tests, samples, benchmarks."""
    found: list[str] = []
    for folder in ("restate_web", "tests", "sample_apps", "bench"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            found.append(str(path))
    return found


MODULE = '''\
"""Generated Restate services module {n}."""

import asyncio
import os
import random
import time
import uuid
from datetime import datetime, timedelta

import httpx
import restate
from restate import Context, ObjectContext, WorkflowContext

from gen.helpers_{m} import enrich_{m}, fetch_{m}, score_{m}

svc_{n} = restate.Service("Svc{n}")
obj_{n} = restate.VirtualObject("Obj{n}")
wf_{n} = restate.Workflow("Wf{n}")
CACHE_{n} = {{}}


def charge_{n}(amount: int, key: str) -> dict:
    response = httpx.post("https://payments.example/charge", json={{"a": amount, "k": key}})
    return response.json()


def stamp_{n}() -> str:
    return datetime.now().isoformat()


def local_score_{n}(values: list[int]) -> int:
    total = 0
    for value in values:
        if value % 2:
            total += value * 3
        else:
            total -= value
    return total


async def durable_step_{n}(ctx: Context, order: dict) -> dict:
    key = str(ctx.uuid())
    result = await ctx.run_typed("charge", charge_{n}, amount=order["amount"], key=key)
    await ctx.sleep(timedelta(seconds=1))
    return result


@svc_{n}.handler()
async def checkout_{n}(ctx: Context, order: dict) -> dict:
    started = await ctx.time()
    paid = await durable_step_{n}(ctx, order)
    extra = await ctx.run_typed("fetch", fetch_{m}, url=order.get("url", ""))
    note = await ctx.run_typed("stamp", lambda: stamp_{n}())
    score = local_score_{n}(order.get("values", []))
    enriched = enrich_{m}(order)
    if score > 10:
        ctx.service_send(checkout_{n}, arg={{"amount": 1}}, send_delay=timedelta(minutes=5))
    try:
        await ctx.service_call(checkout_{n}, arg={{"amount": 2}})
    except restate.TerminalError:
        raise
    return {{"paid": paid, "extra": extra, "note": note, "started": started, "e": enriched}}


@svc_{n}.handler()
async def report_{n}(ctx: Context, items: list[str]) -> list[str]:
    ids = []
    for item in sorted(set(items)):
        ids.append(await ctx.service_call(checkout_{n}, arg={{"amount": len(item)}}))
    first, second = ctx.run_typed("a", lambda: 1), ctx.run_typed("b", lambda: 2)
    await restate.gather(first, second)
    return [str(i) for i in ids] + [str(score_{m}(len(items)))]


@obj_{n}.handler()
async def add_{n}(ctx: ObjectContext, item: str) -> list[str]:
    cart = await ctx.get("cart", type_hint=list[str]) or []
    cart.append(item)
    ctx.set("cart", cart)
    ctx.object_send(remind_{n}, key=ctx.key(), arg=None, send_delay=timedelta(days=1))
    return cart


@obj_{n}.handler(kind="shared")
async def remind_{n}(ctx: restate.ObjectSharedContext) -> None:
    await ctx.sleep(timedelta(hours=1))


@obj_{n}.handler()
async def clear_{n}(ctx: ObjectContext) -> None:
    ctx.clear("cart")
    if random.random() < 0.01:
        raise RuntimeError("simulated failure")


@wf_{n}.main()
async def run_{n}(ctx: WorkflowContext, request: dict) -> str:
    awakeable_id, promise = ctx.awakeable(type_hint=str)
    await ctx.run_typed("notify", lambda: print(awakeable_id))
    decision = await promise
    approved = await ctx.promise("approved", type_hint=bool).value()
    return f"{{decision}} {{approved}}"


@wf_{n}.handler()
async def approve_{n}(ctx: restate.WorkflowSharedContext, ok: bool) -> None:
    await ctx.promise("approved", type_hint=bool).resolve(ok)


def unused_{n}() -> float:
    CACHE_{n}["x"] = time.time() + float(os.environ.get("X", "0"))
    asyncio.get_event_loop()
    return CACHE_{n}["x"] + uuid.uuid4().int
'''

HELPERS = '''\
"""Generated helpers {m}."""

import httpx


def fetch_{m}(url: str) -> str:
    if not url:
        return ""
    return httpx.get(url).text


def enrich_{m}(order: dict) -> dict:
    result = dict(order)
    result["items"] = [str(x).upper() for x in order.get("items", [])]
    result["count"] = len(result["items"])
    return result


def score_{m}(n: int) -> int:
    value = 0
    for i in range(n):
        value += i * i
    return value
'''


def generate_tree(folder: Path, modules: int) -> list[str]:
    """A package of ``modules`` service modules (about 110 lines each) and shared helpers."""
    package = folder / "gen"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    helpers = max(1, modules // 20)
    for m in range(helpers):
        (package / f"helpers_{m}.py").write_text(HELPERS.format(m=m))
    for n in range(modules):
        (package / f"services_{n}.py").write_text(MODULE.format(n=n, m=n % helpers))
    return sorted(str(path) for path in package.glob("*.py"))


def measure(
    title: str,
    files: Sequence[str],
    rounds: int,
    only: Sequence[str] | None = None,
    pylint_rounds: int | None = None,
) -> list[list[str]]:
    """Lines per CPU second of each tool (the machine is shared: CPU time is what the tool
    itself costs; wall time is printed too), as a ratio to flake8's."""
    lines = count_lines(files)
    commands = tools("files")
    names = [name for name in commands if not only or name in only]
    wall: dict[str, list[float]] = {name: [] for name in names}
    cpu: dict[str, list[float]] = {name: [] for name in names}
    memory: dict[str, list[float]] = {name: [] for name in names}
    for round_number in range(rounds):
        order = names if round_number % 2 == 0 else list(reversed(names))
        for name in order:
            if name.startswith("pylint") and round_number >= (pylint_rounds or rounds):
                continue  # a minute per round: fewer rounds when asked
            elapsed, used, rss = run_once(commands[name], files)
            wall[name].append(elapsed)
            cpu[name].append(used)
            memory[name].append(rss)
    baseline = "flake8 (pyflakes only)"
    flake8 = statistics.median(cpu[baseline]) if baseline in cpu else None
    rows = []
    for name in names:
        seconds = statistics.median(cpu[name])
        rows.append(
            [
                name,
                f"{lines / seconds:,.0f}",
                f"{flake8 / seconds:.2f}x" if flake8 else "",
                f"{seconds:.2f}",
                f"{statistics.median(wall[name]):.2f}",
                f"{max(memory[name]):.0f}",
                ">= 1.00x" if name == "restate-web lint" and flake8 else "",
            ]
        )
    print_table(
        f"{title}: {len(files)} files, {lines:,} lines, median of {rounds} rounds",
        ["tool", "lines/s (CPU)", "speed vs flake8", "CPU s", "wall s", "peak RSS MB", "target"],
        rows,
    )
    print()
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pylint-rounds", type=int, default=None, help="default: --rounds")
    parser.add_argument(
        "--modules", type=int, default=920, help="generated modules (920: about 100k lines)"
    )
    args = parser.parse_args(argv)
    measure(
        "Lint speed on the project's own code",
        project_files(),
        args.rounds,
        pylint_rounds=args.pylint_rounds,
    )
    with tempfile.TemporaryDirectory(prefix="restate-web-lint-bench-") as folder:
        small = generate_tree(Path(folder) / "small", max(1, args.modules // 10))
        large = generate_tree(Path(folder) / "large", args.modules)
        # pylint takes minutes on the large tree; it is compared on the project's code above.
        speed_tools = ("restate-web lint", "restate-web lint (A/A)", "flake8 (pyflakes only)")
        measure("Lint speed and memory on a generated tree (1/10)", small, args.rounds, speed_tools)
        measure("Lint speed and memory on a generated tree (full)", large, args.rounds, speed_tools)


if __name__ == "__main__":
    main()
