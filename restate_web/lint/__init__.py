"""``restate-web lint``: replay hazards in Restate handlers, found before the code runs.

Handlers are the functions decorated with ``@svc.handler(...)`` / ``@wf.main(...)`` of a
``restate.Service``, ``VirtualObject`` or ``Workflow``. Their code, and the code of the functions
they call (across the files linted together), is checked outside ``ctx.run`` actions; a finding
in a helper is reported at the call site in the handler, with the call chain.

>>> from restate_web.lint import lint_paths
>>> findings = lint_paths(["services/"])  # doctest: +SKIP
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from ._checker import Finding, ParseFailure, Project, iter_python_files
from ._config import ConfigError, Selection
from ._rules import RULES, Rule, rules_markdown

__all__ = [
    "RULES",
    "ConfigError",
    "Finding",
    "LintResult",
    "ParseFailure",
    "Rule",
    "Selection",
    "lint_paths",
    "lint_source",
    "rules_markdown",
]


class LintResult(list[Finding]):
    """The findings, plus the files that could not be parsed and how many were checked."""

    def __init__(
        self, findings: Sequence[Finding], failures: Sequence[ParseFailure], files: int
    ) -> None:
        super().__init__(findings)
        self.failures = list(failures)
        self.files = files


def lint_paths(paths: Sequence[str], selection: Selection | None = None) -> LintResult:
    """Lint files and directories (recursing into ``*.py``) together, as one call graph."""
    selection = selection or Selection()
    project = Project()
    files = 0
    # Deeply nested expressions (long generated concatenations) need a deeper stack than
    # the default 1000 frames; the syntax tree itself allows far more.
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10_000))
    try:
        for path in iter_python_files(paths, selection.exclude):
            files += 1
            project.add_file(path)
        findings = [f for f in project.findings() if selection.enabled(f.code)]
    finally:
        sys.setrecursionlimit(limit)
    return LintResult(findings, project.failures, files)


def lint_source(
    source: str, path: str = "<source>", selection: Selection | None = None
) -> list[Finding]:
    """Lint one module's source text (its own call graph only)."""
    from ._checker import scan_source

    selection = selection or Selection()
    project = Project()
    project.add(scan_source(path, source))
    return [f for f in project.findings() if selection.enabled(f.code)]
