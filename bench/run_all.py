"""Every benchmark in one run, with modest sizes (a few minutes), and one combined table.

Each benchmark module runs as it would alone, in its own interpreter (its own restate-server
and services on free loopback ports, interleaved rounds, medians) and prints its own tables; this
script then gathers every row of those tables into one table: section, case, result, the ratio
it is judged by (vs its baseline, or share of the ceiling) and the target from the earlier
issues where there is one. Run: .venv/bin/python -m bench.run_all   (or `make bench`)
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from bench._common import print_table

# (module, arguments for a run of a few minutes in all)
BENCHES: list[tuple[str, list[str]]] = [
    ("bench.ingress", ["-n", "300", "--repeats", "3"]),
    ("bench.adapters", ["--seconds", "0.3", "--rounds", "15", "--processes", "3"]),
    ("bench.adapter_instructions", ["--requests", "1000", "--processes", "2"]),
    ("bench.webhooks", ["--rounds", "5", "--samples", "150", "--repeats", "3"]),
    ("bench.ceiling", ["--seconds", "2", "--repeats", "3"]),
    ("bench.lint", ["--rounds", "3", "--pylint-rounds", "1"]),
    ("bench.cluster", ["-n", "300", "--repeats", "3", "--kill-seconds", "9"]),
    ("bench.outbox", ["--calls", "50", "--rounds", "4", "--rows", "300", "--relay-rounds", "2"]),
]
# Targets of the earlier issues that a benchmark prints only in prose: {section: target}.
KNOWN_TARGETS = {"adapters": "< 5% overhead", "adapter_instructions": "< 5% overhead"}
ROOT = Path(__file__).resolve().parent.parent
_NUMBER = re.compile(r"^[<>~]?\s*-?[\d,]+(\.\d+)?\s*(x|%|ms|µs|/s)?$")


def run_bench(module_name: str, argv: list[str]) -> str:
    """Run one benchmark as ``python -m module argv`` and return what it printed.

    Each in a fresh interpreter: what one benchmark leaves behind (threads, a grown heap,
    imported modules, warm caches) must not tilt the next one's ratios.
    """
    process = subprocess.Popen(
        [sys.executable, "-m", module_name, *argv],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert process.stdout is not None
    printed: list[str] = []
    for line in process.stdout:
        sys.stdout.write(line)
        sys.stdout.flush()
        printed.append(line)
    if process.wait() != 0:
        raise RuntimeError(f"{module_name} exited with status {process.returncode}")
    return "".join(printed)


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def rows_of(section: str, text: str) -> list[list[str]]:
    """The combined-table rows of one benchmark's output (Markdown tables, or plain columns)."""
    rows: list[list[str]] = []
    title, header = "", []
    for line in text.splitlines():
        if line.startswith("### "):
            title, header = line[4:], []
            continue
        if line.startswith("|"):
            cells = _cells(line)
            if set("".join(cells)) <= set("-: "):
                continue
            if not header:
                header = [cell.lower() for cell in cells]
                continue
            rows.append(_row(section, title, header, cells))
        elif line.strip() and not line.startswith(" "):
            # Plain columns ("fastapi   12,000   11,500   4.1%"): a name, numbers, a last ratio.
            parts = line.split()
            if len(parts) >= 3 and not _NUMBER.match(parts[0]) and _NUMBER.match(parts[-1]):
                numbers = [p for p in parts[1:] if _NUMBER.match(p)]
                if len(numbers) == len(parts) - 1:
                    rows.append(
                        [
                            section,
                            parts[0],
                            " / ".join(numbers[:-1]),
                            numbers[-1],
                            # "fastapi+hdrs", "django+std": context rows, not judged.
                            "context" if "+" in parts[0] else KNOWN_TARGETS.get(section, ""),
                        ]
                    )
    return rows


def _row(section: str, title: str, header: list[str], cells: list[str]) -> list[str]:
    def column(*words: str) -> int | None:
        for i, name in enumerate(header):
            if any(word in name for word in words):
                return i
        return None

    ratio_at = column(" vs ", "vs ", "share", "overhead", "ratio")
    target_at = column("target")
    numeric = [i for i, cell in enumerate(cells) if _NUMBER.match(cell) and i != ratio_at]
    first_number = numeric[0] if numeric else len(cells)
    case = " / ".join(c for c in cells[:first_number] if c) or cells[0]
    result = f"{cells[first_number]} {header[first_number]}" if numeric else ""
    short = title.split(":")[0].split(",")[0][:48]
    return [
        f"{section}: {short}" if short else section,
        case,
        result,
        "" if ratio_at is None or ratio_at >= len(cells) else cells[ratio_at],
        "" if target_at is None or target_at >= len(cells) else cells[target_at],
    ]


def main(argv: Sequence[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--only", action="append", help="module names to run (default: all)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    rows: list[list[str]] = []
    for module_name, bench_argv in BENCHES:
        if (
            args.only
            and module_name not in args.only
            and module_name.split(".")[-1] not in args.only
        ):
            continue
        print(f"\n## {module_name} {' '.join(bench_argv)}\n", flush=True)
        section = module_name.split(".")[-1]
        try:
            text = run_bench(module_name, bench_argv)
        except Exception as error:  # one broken benchmark must not hide the others
            rows.append([section, f"FAILED: {type(error).__name__}: {error}"[:160], "", "", ""])
            continue
        rows.extend(rows_of(section, text))
    print()
    return print_table(
        f"All benchmarks, one run on this machine ({time.monotonic() - started:.0f} s)",
        ["section", "case", "result", "ratio", "target"],
        rows,
    )


if __name__ == "__main__":
    main()
