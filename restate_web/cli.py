"""The ``restate-web`` command: one entry point, each subcommand in the module of its concern.

A command module exposes ``register(subparsers)``, which adds its parsers and sets
``run=callable(args) -> exit status`` on each. Django's ``manage.py restate`` and Flask's
``flask restate`` reuse the same modules, so the three entry points cannot drift apart.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Each module registers its own subcommands (kept in the order `--help` lists them).
COMMAND_MODULES: tuple[str, ...] = (
    "restate_web.lint._cli",
    "restate_web.deploy._cli",
    "restate_web.outbox._cli",
)


def build_parser(prog: str = "restate-web") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Restate for Python web apps: lint durable handlers, deploy, operate.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None, prog: str = "restate-web") -> int:
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    run = getattr(args, "run", None)
    if run is None:
        parser.print_help(sys.stderr)
        return 2
    status: int = run(args)
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
