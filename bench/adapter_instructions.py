"""Instructions per request of a trivial endpoint per framework, bare vs with the adapter.

Run: ``.venv/bin/python -m bench.adapter_instructions [--requests 1000] [--processes 2]``
(needs valgrind: ``make install-valgrind``)

``bench.adapters`` times the adapter; this counts what it makes the machine do. The same apps
and requests (``bench.adapters.FRAMEWORKS``) run under ``valgrind --tool=callgrind``, which
counts every instruction the interpreter executes, and counts only while the measured requests
run (inside one ``functools.reduce`` call, the C function callgrind is told to watch; nothing
in the frameworks' request paths calls it). A count does not move with the machine's load,
clock or neighbours, so a single run decides where timed rounds on a shared virtual machine
move by several points between runs (bench/README.md). What a count does not see: cache misses
and branch mispredictions, which is why both benchmarks are reported.

Each framework is counted in ``--processes`` separate interpreters, each with its own hash seed
and address layout (dict probing and allocation follow both). The A/A column is the widest gap
between the bare app's counts in those interpreters: the run's own noise. The overhead is the
median over the interpreters of adapted/bare - 1, both counted in the same interpreter.
The collector is off while counting: both apps leave the same garbage (no extra collections
in the adapted app: bench/README.md), and a collection would land in one count or the other
depending on the allocation count when counting starts.
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench._common import ROOT, print_table
from bench.adapters import FRAMEWORKS, TARGETED

# The C function of functools.reduce: callgrind counts only while it runs, and dumps a part
# file when it returns. The measured requests run in one reduce call of one item.
MEASURED_FUNCTION = "functools_reduce"
WARM_UP = 500


def count_in_this_process(name: str, requests: int, out_file: Path) -> dict[str, float]:
    """Instructions per request of the bare and the adapted app (run under callgrind)."""
    make, runner = FRAMEWORKS[name]
    runs = {"bare": runner(make(False)), "adapted": runner(make(True))}
    for run in runs.values():
        run(WARM_UP)
    gc.collect()
    gc.disable()
    per_request: dict[str, float] = {}
    for variant, run in runs.items():
        before = _parts(out_file)
        functools.reduce(lambda _acc, _item, run=run: run(requests), [None], None)
        dumped = sorted(_parts(out_file) - before)
        if len(dumped) != 1:
            raise RuntimeError(
                f"expected one callgrind part for the {variant} {name} app, found {len(dumped)}: "
                f"a request called functools.reduce, so its count is split; measure with "
                f"another function (MEASURED_FUNCTION)"
            )
        per_request[variant] = _instructions(dumped[0]) / requests
    gc.enable()
    return per_request


def _parts(out_file: Path) -> set[Path]:
    return set(out_file.parent.glob(out_file.name + ".*"))


def _instructions(part: Path) -> int:
    for line in part.read_text().splitlines():
        if line.startswith(("totals:", "summary:")):
            return int(line.split()[1])
    raise RuntimeError(f"no instruction total in {part}")


def count_in_valgrind(
    valgrind: str, name: str, requests: int, seed: int, workdir: Path
) -> dict[str, float]:
    """``count_in_this_process`` in a fresh interpreter under callgrind, with hash seed ``seed``."""
    out_file = workdir / f"{name}-{seed}.callgrind"
    command = [
        valgrind,
        "--tool=callgrind",
        "--collect-atstart=no",
        f"--toggle-collect={MEASURED_FUNCTION}",
        f"--dump-after={MEASURED_FUNCTION}",
        f"--callgrind-out-file={out_file}",
        sys.executable,
        "-m",
        "bench.adapter_instructions",
        "--child",
        name,
        "--requests",
        str(requests),
        "--out-file",
        str(out_file),
    ]
    environment = {**os.environ, "PYTHONHASHSEED": str(seed)}
    environment.pop("RESTATE_INGRESS_URL", None)
    done = subprocess.run(command, env=environment, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{name} under callgrind failed:\n{done.stderr[-2000:]}")
    counts: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    if not all(counts.values()):
        raise RuntimeError(
            f"callgrind counted nothing inside {MEASURED_FUNCTION}: this interpreter's "
            f"libpython has no symbols ({sys.executable}); use a Python built with them "
            "(pyenv, python.org and Debian's builds have them)"
        )
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000, help="counted per app")
    parser.add_argument("--processes", type=int, default=2, help="interpreters per framework")
    parser.add_argument("--only", action="append", help="frameworks to count (default: all)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--out-file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(count_in_this_process(args.child, args.requests, args.out_file)))
        return
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        sys.exit("bench.adapter_instructions needs valgrind: run `make install-valgrind`")
    seeds = range(1, max(2, args.processes) + 1)
    names = [name for name in FRAMEWORKS if not args.only or name in args.only]
    with tempfile.TemporaryDirectory() as workdir, ThreadPoolExecutor(os.cpu_count()) as pool:
        jobs = {
            (name, seed): pool.submit(
                count_in_valgrind, valgrind, name, args.requests, seed, Path(workdir)
            )
            for name in names
            for seed in seeds
        }
        counts = {key: job.result() for key, job in jobs.items()}
    rows: list[list[str]] = []
    worst = 0.0
    for name in names:
        bare = [counts[name, seed]["bare"] for seed in seeds]
        adapted = [counts[name, seed]["adapted"] for seed in seeds]
        aa = (max(bare) / min(bare) - 1) * 100
        overhead = statistics.median((a / b - 1) * 100 for a, b in zip(adapted, bare, strict=True))
        if name in TARGETED:
            worst = max(worst, overhead)
        rows.append(
            [
                name,
                f"{statistics.median(bare):,.0f}",
                f"{statistics.median(adapted):,.0f}",
                f"{statistics.median(adapted) - statistics.median(bare):,.0f}",
                str(len(bare)),
                f"{aa:.2f}%",
                f"{overhead:.1f}%",
                "< 5%" if name in TARGETED else "context",
            ]
        )
    print_table(
        f"Adapter overhead in instructions per request (callgrind, {args.requests:,} requests, "
        "A/A = bare across interpreters)",
        [
            "framework",
            "bare instr/req",
            "adapter instr/req",
            "added",
            "interpreters",
            "A/A",
            "overhead",
            "target",
        ],
        rows,
    )
    print(f"\nworst overhead {worst:.1f}% (target < 5%)")


if __name__ == "__main__":
    main()
