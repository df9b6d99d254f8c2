"""``--select`` / ``--ignore`` and ``[tool.restate-web.lint]`` in pyproject.toml."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._rules import RULES

CONFIG_KEYS = ("select", "ignore", "exclude")


class ConfigError(ValueError):
    """A code, prefix or configuration value the linter cannot use."""


@dataclass(frozen=True)
class Selection:
    select: tuple[str, ...] = ("RW",)
    ignore: tuple[str, ...] = ()
    exclude: tuple[str, ...] = field(default=())

    def enabled(self, code: str) -> bool:
        return any(code.startswith(prefix) for prefix in self.select) and not any(
            code.startswith(prefix) for prefix in self.ignore
        )


def parse_codes(values: Iterable[str], option: str) -> tuple[str, ...]:
    """Codes or prefixes (``RW1``, ``RW101``), comma or space separated; each must name at
    least one rule."""
    codes: list[str] = []
    for value in values:
        for part in value.replace(",", " ").split():
            code = part.strip().upper()
            if not any(rule.code.startswith(code) for rule in RULES) or not code.startswith("RW"):
                known = ", ".join(rule.code for rule in RULES)
                raise ConfigError(
                    f"{option}: {part!r} is not a rule code or prefix of one (known: {known})"
                )
            codes.append(code)
    return tuple(codes)


def find_pyproject(start: str) -> str | None:
    folder = os.path.abspath(start)
    while True:
        candidate = os.path.join(folder, "pyproject.toml")
        if os.path.isfile(candidate):
            return candidate
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def load_pyproject(path: str) -> dict[str, Any]:
    """The ``[tool.restate-web.lint]`` table of ``path`` (empty if there is none)."""
    # tomllib is in the standard library from Python 3.11; tomli is the same parser before.
    tomllib = importlib.import_module("tomllib" if sys.version_info >= (3, 11) else "tomli")
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except (OSError, ValueError) as error:
        raise ConfigError(f"{path}: cannot read the configuration: {error}") from error
    table = data.get("tool", {}).get("restate-web", {}).get("lint", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.restate-web.lint] must be a table")
    unknown = sorted(set(table) - set(CONFIG_KEYS))
    if unknown:
        raise ConfigError(
            f"{path}: unknown key(s) in [tool.restate-web.lint]: {', '.join(unknown)} "
            f"(known: {', '.join(CONFIG_KEYS)})"
        )
    return table


def _as_list(value: Any, key: str, path: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    raise ConfigError(f"{path}: [tool.restate-web.lint] {key} must be a list of strings")


def build_selection(
    select: Sequence[str] | None,
    ignore: Sequence[str] | None,
    exclude: Sequence[str] | None,
    pyproject: str | None,
) -> Selection:
    """Command-line options win over the configuration file, key by key."""
    table: dict[str, Any] = load_pyproject(pyproject) if pyproject else {}
    where = pyproject or ""
    if select is None and "select" in table:
        select = _as_list(table["select"], "select", where)
    if ignore is None and "ignore" in table:
        ignore = _as_list(table["ignore"], "ignore", where)
    if exclude is None and "exclude" in table:
        exclude = _as_list(table["exclude"], "exclude", where)
    return Selection(
        select=parse_codes(select, "select") if select else ("RW",),
        ignore=parse_codes(ignore, "ignore") if ignore else (),
        exclude=tuple(exclude or ()),
    )
