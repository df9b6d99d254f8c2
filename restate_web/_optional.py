"""Lazy imports of optional dependencies, failing with the extra to install."""

from __future__ import annotations

import importlib
from types import ModuleType


class MissingDependencyError(ImportError):
    """An optional dependency of restate-web is not installed."""


def require(module: str, extra: str, feature: str) -> ModuleType:
    """Import ``module`` or explain which extra of restate-web provides it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(
            f"{feature} needs the '{module.split('.')[0]}' package, which is not installed. "
            f"Install it with: pip install 'restate-web[{extra}]'"
        ) from exc
