"""The flake8 plugin: ``RW`` codes in existing flake8 / pre-commit set-ups.

flake8 checks one file at a time, so the call graph spans that file only; ``restate-web lint``
run on the whole tree follows calls across files. flake8 applies ``# noqa`` itself.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Any

from .. import __version__
from ._checker import Project, module_name
from ._scan import ModuleScanner


class RestateLintPlugin:
    name = "restate-web-lint"
    version = __version__

    def __init__(self, tree: ast.Module, filename: str, lines: list[str]) -> None:
        self.tree = tree
        self.filename = filename
        self.lines = lines

    def run(self) -> Iterator[tuple[int, int, str, type[Any]]]:
        source = "".join(self.lines)
        summary = ModuleScanner(self.filename, module_name(self.filename), self.tree, source).scan()
        project = Project()
        project.add(summary)
        for finding in project.findings():
            yield finding.line, finding.col - 1, f"{finding.code} {finding.message}", type(self)
