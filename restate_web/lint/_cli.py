"""The ``lint`` subcommand of ``restate-web`` (and ``python -m restate_web.lint``)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

from .. import __version__
from ._config import ConfigError, build_selection, find_pyproject
from ._output import FORMATS, render
from ._rules import rules_markdown

DESCRIPTION = (
    "Check Restate handlers (and the functions they call) for code that breaks on replay: "
    "wall-clock time, randomness, native sleeps and concurrency, I/O outside ctx.run, and "
    "misuse of the context. Exit status: 0 no findings, 1 findings, 2 usage or parse error."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths", nargs="*", metavar="PATH", help="files or directories (default: .)"
    )
    parser.add_argument(
        "--format", choices=FORMATS, default="text", help="output format (default: text)"
    )
    parser.add_argument(
        "--select",
        action="append",
        metavar="CODES",
        help="only these codes or prefixes, comma separated (e.g. RW1,RW301)",
    )
    parser.add_argument(
        "--ignore", action="append", metavar="CODES", help="skip these codes or prefixes"
    )
    parser.add_argument(
        "--exclude", action="append", metavar="PATTERN", help="skip files matching this glob"
    )
    parser.add_argument(
        "--config",
        metavar="PYPROJECT",
        help="pyproject.toml to read [tool.restate-web.lint] from "
        "(default: the nearest one above the current directory)",
    )
    parser.add_argument(
        "--rules", action="store_true", help="print the rule catalogue as Markdown and exit"
    )


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "lint", help="check Restate handlers for replay hazards", description=DESCRIPTION
    )
    add_arguments(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from . import lint_paths

    if args.rules:
        sys.stdout.write(rules_markdown())
        return 0
    paths: list[str] = args.paths or ["."]
    missing = [path for path in paths if not os.path.exists(path)]
    if missing:
        print(f"restate-web lint: no such file or directory: {', '.join(missing)}", file=sys.stderr)
        return 2
    try:
        pyproject = args.config if args.config else find_pyproject(os.getcwd())
        if args.config and not os.path.isfile(args.config):
            raise ConfigError(f"--config: {args.config} is not a file")
        selection = build_selection(args.select, args.ignore, args.exclude, pyproject)
    except ConfigError as error:
        print(f"restate-web lint: {error}", file=sys.stderr)
        return 2
    result = lint_paths(paths, selection)
    sys.stdout.write(render(result, args.format, __version__))
    for failure in result.failures:
        print(
            f"{failure.path}:{failure.line}:{failure.col}: {failure.message} (file not linted)",
            file=sys.stderr,
        )
    if args.format == "text":
        count = len(result)
        files = len({finding.path for finding in result})
        if count:
            print(
                f"Found {count} finding{'s' if count != 1 else ''} in {files} "
                f"file{'s' if files != 1 else ''} ({result.files} checked).",
                file=sys.stderr,
            )
        else:
            plural = "s" if result.files != 1 else ""
            print(f"No findings ({result.files} file{plural} checked).", file=sys.stderr)
    if result.failures:
        return 2
    return 1 if result else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m restate_web.lint", description=DESCRIPTION)
    add_arguments(parser)
    return run(parser.parse_args(argv))
