"""The cross-file phase: handlers, the call graph, and the findings."""

from __future__ import annotations

import ast
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from ._names import CLIENT_QUIET_METHODS
from ._rules import message
from ._scan import (
    Direct,
    Effect,
    FunctionSummary,
    ModuleScanner,
    ModuleSummary,
    ServiceDef,
    noqa_lines,
)

T = TypeVar("T")

# Rules whose hazards travel up the call graph to the handler that calls the helper.
PROPAGATING = ("RW101", "RW102", "RW103", "RW104", "RW105", "RW301", "RW401", "RW701")
# Exclusive handlers that sleep at least a minute block their key (RW501) when the object has
# other exclusive handlers, an hour or more always; shorter or unknown durations are not
# reported.
LONG_SLEEP_SECONDS = 60.0
VERY_LONG_SLEEP_SECONDS = 3600.0
SKIPPED_DIRS = frozenset({".venv", "node_modules", "__pycache__"})


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    col: int
    code: str
    message: str
    chain: tuple[str, ...] = ()


@dataclass(frozen=True)
class ParseFailure:
    path: str
    line: int
    col: int
    message: str


def iter_python_files(paths: Sequence[str], exclude: Sequence[str] = ()) -> Iterator[str]:
    """Files as given, and ``*.py`` under directories (skipping hidden folders, ``.venv``,
    ``node_modules``), in a stable order. ``exclude`` applies to files given by name too:
    pre-commit names every changed file, and an excluded one must stay skipped."""
    for given in paths:
        if os.path.isdir(given):
            for root, dirs, files in os.walk(given):
                dirs[:] = sorted(
                    d
                    for d in dirs
                    if not d.startswith(".")
                    and d not in SKIPPED_DIRS
                    and not _excluded(os.path.join(root, d), exclude)
                )
                for name in sorted(files):
                    full = os.path.join(root, name)
                    if name.endswith(".py") and not _excluded(full, exclude):
                        yield full
        elif not _excluded(given, exclude):
            yield given


def _excluded(path: str, exclude: Sequence[str]) -> bool:
    if not exclude:
        return False
    pure = Path(path)
    return any(pure.match(pattern) or pure.name == pattern for pattern in exclude)


def module_name(path: str) -> str:
    """The dotted module name, from the packages (``__init__.py``) that contain the file."""
    absolute = Path(path).resolve()
    parts = [] if absolute.name == "__init__.py" else [absolute.stem]
    folder = absolute.parent
    while (folder / "__init__.py").exists() and folder.parent != folder:
        parts.insert(0, folder.name)
        folder = folder.parent
    return ".".join(parts)


def scan_source(path: str, source: str, tree: ast.Module | None = None) -> ModuleSummary:
    if tree is None:
        tree = ast.parse(source, filename=path)
    summary = ModuleScanner(path, module_name(path), tree, source).scan()
    summary.noqa = noqa_lines(source)
    return summary


def _closest(candidates: Sequence[T], path: str) -> T | None:
    """The candidate defined nearest to ``path`` (the same file first)."""
    if not candidates:
        return None
    if len(candidates) == 1:
        return candidates[0]
    here = os.path.dirname(os.path.abspath(path))

    def closeness(candidate: T) -> tuple[bool, int]:
        other: str = getattr(candidate, "path", "")
        common = os.path.commonpath([here, os.path.dirname(os.path.abspath(other))])
        return (other == path, len(common))

    return max(candidates, key=closeness)


class Project:
    """The files linted together: their summaries and the call graph between them."""

    def __init__(self) -> None:
        self.modules: list[ModuleSummary] = []
        self.failures: list[ParseFailure] = []
        self.functions: list[FunctionSummary] = []
        self.by_qualname: dict[str, list[FunctionSummary]] = {}
        self.by_short_name: dict[str, list[FunctionSummary]] = {}
        self.services: dict[str, list[ServiceDef]] = {}  # qualname -> definitions
        self._effects: dict[str, dict[str, tuple[str, ...]]] = {}
        self._resolved: dict[tuple[str, str], FunctionSummary | None] = {}
        self._service_of: dict[str, ServiceDef | None] = {}
        self.clients: dict[str, list[str]] = {}  # short name -> qualified module-level clients

    def add_file(self, path: str) -> None:
        try:
            with open(path, "rb") as handle:
                raw = handle.read()
        except OSError as error:
            self.failures.append(ParseFailure(path, 1, 1, f"cannot read: {error.strerror}"))
            return
        try:
            tree = ast.parse(raw, filename=path)
        except (SyntaxError, ValueError) as error:
            line = getattr(error, "lineno", None) or 1
            col = getattr(error, "offset", None) or 1
            text = getattr(error, "msg", None) or str(error)
            self.failures.append(ParseFailure(path, line, col, f"syntax error: {text}"))
            return
        try:
            self.add(scan_source(path, raw.decode("utf-8", "replace"), tree))
        except RecursionError:
            self.failures.append(
                ParseFailure(path, 1, 1, "nested too deeply to check (raise sys.setrecursionlimit)")
            )

    def add(self, module: ModuleSummary) -> None:
        self.modules.append(module)
        for service in module.services.values():
            self.services.setdefault(service.qualname, []).append(service)
        for client in module.clients:
            self.clients.setdefault(client.rpartition(".")[2], []).append(client)
        for function in module.functions:
            self.functions.append(function)
            self.by_qualname.setdefault(function.qualname, []).append(function)
            short = function.qualname.rpartition(".")[2]
            self.by_short_name.setdefault(short, []).append(function)

    # -- resolution ----------------------------------------------------------------------

    def resolve(self, target: str, caller: FunctionSummary) -> FunctionSummary | None:
        """The function a qualified name refers to. Imports are matched on the trailing
        components of the module name (a package linted from inside or outside its root);
        between several matches the one closest to the caller's file wins."""
        key = (target, caller.path)
        if key in self._resolved:
            return self._resolved[key]
        candidates = self.by_qualname.get(target, [])
        if not candidates:
            candidates = [
                function
                for function in self.by_short_name.get(target.rpartition(".")[2], ())
                if "<locals>" not in function.qualname
                and (
                    function.qualname.endswith("." + target)
                    or target.endswith("." + function.qualname)
                )
            ]
        found = _closest(candidates, caller.path)
        self._resolved[key] = found
        return found

    def service_of(self, function: FunctionSummary) -> ServiceDef | None:
        if function.key in self._service_of:
            return self._service_of[function.key]
        ref = function.service_ref
        found: ServiceDef | None = None
        if ref is not None:
            candidates = list(self.services.get(ref, []))
            if not candidates:
                short = ref.rpartition(".")[2]
                candidates = [
                    service
                    for qualname, services in self.services.items()
                    if qualname.rpartition(".")[2] == short
                    and (qualname.endswith("." + ref) or ref.endswith("." + qualname))
                    for service in services
                ]
            found = _closest(candidates, function.path)
        self._service_of[function.key] = found
        return found

    def kind_of(self, function: FunctionSummary, service: ServiceDef) -> str:
        """service | exclusive | shared | workflow-run"""
        if service.kind == "service":
            return "service"
        if service.kind == "workflow":
            if function.decorator == "main":
                return "workflow-run"
            return "exclusive" if function.kind_kwarg == "exclusive" else "shared"
        return "shared" if function.kind_kwarg == "shared" else "exclusive"

    # -- propagation ---------------------------------------------------------------------

    def effects(self, function: FunctionSummary) -> dict[str, tuple[str, ...]]:
        """code -> call chain (function names, then the offending call) for every hazard the
        function reaches, directly or through the functions it calls."""
        known = self._effects.get(function.key)
        if known is not None:
            return known
        self._effects[function.key] = {}  # cycle guard: a recursive call adds nothing
        found: dict[str, tuple[str, ...]] = {}
        for effect in function.effects:
            if effect.code in PROPAGATING and effect.code not in found:
                found[effect.code] = (effect.what,)
        for call in function.calls:
            callee = self.resolve(call.target, function)
            if callee is None or callee is function or callee.service_ref is not None:
                continue
            for code, chain in self.effects(callee).items():
                if code in found or _exempt(code, call.decides_nothing, call.in_run_args):
                    continue
                found[code] = (f"{callee.display}()", *chain)
        self._effects[function.key] = found
        return found

    # -- findings ------------------------------------------------------------------------

    def _imported_client_calls(self) -> None:
        """``from .clients import llm`` then ``llm.chat.completions.create(...)``: a method call
        on a client that another linted module creates at import time is I/O (RW104)."""
        if not self.clients:
            return
        for function in self.functions:
            for call in function.calls:
                parts = call.target.split(".")
                for end in range(len(parts) - 1, 0, -1):
                    prefix = ".".join(parts[:end])
                    candidates = self.clients.get(parts[end - 1], ())
                    # `module.name` at least: a bare module name is not a client
                    if "." in prefix and any(
                        c == prefix or c.endswith("." + prefix) or prefix.endswith("." + c)
                        for c in candidates
                    ):
                        if parts[-1] not in CLIENT_QUIET_METHODS:
                            what = f"{'.'.join(parts[end - 1 :])}()"
                            function.effects.append(Effect("RW104", call.line, call.col, what))
                        break

    def findings(self) -> list[Finding]:
        self._imported_client_calls()
        results: list[Finding] = []
        handlers: list[tuple[FunctionSummary, ServiceDef]] = []
        for function in self.functions:
            service = self.service_of(function)
            if service is not None:
                handlers.append((function, service))
        reachable = self._reachable(function for function, _ in handlers)
        for module in self.modules:
            for direct in module.direct:
                results.append(self._direct(module.path, direct))
        exclusive_count: dict[str, int] = {}
        for function, service in handlers:
            if service.kind == "object" and self.kind_of(function, service) == "exclusive":
                exclusive_count[service.key] = exclusive_count.get(service.key, 0) + 1
        for function, service in handlers:
            others = exclusive_count.get(service.key, 0) > 1
            results.extend(self._handler_findings(function, service, others))
        for function in self.functions:
            if function.key in reachable or function.ctx_annotated or function.uses_context_getter:
                for direct in function.direct:
                    results.append(self._direct(function.path, direct))
        results.extend(self._cycles(handlers))
        results.extend(self._workflow_awakeables(handlers))
        return _filter_noqa(results, self.modules)

    def _direct(self, path: str, direct: Direct) -> Finding:
        return Finding(
            path, direct.line, direct.col, direct.code, message(direct.code, direct.message)
        )

    def _reachable(self, roots: Iterable[FunctionSummary]) -> set[str]:
        seen: set[str] = set()
        stack = list(roots)
        while stack:
            function = stack.pop()
            if function.key in seen:
                continue
            seen.add(function.key)
            for call in function.calls:
                callee = self.resolve(call.target, function)
                if callee is not None and callee.key not in seen:
                    stack.append(callee)
        return seen

    def _handler_findings(
        self, function: FunctionSummary, service: ServiceDef, other_exclusive: bool
    ) -> Iterator[Finding]:
        label = f"{service.name}/{function.handler_name}"
        for effect in function.effects:
            yield Finding(
                function.path,
                effect.line,
                effect.col,
                effect.code,
                message(effect.code, f"`{effect.what}` in handler '{label}'"),
            )
        for call in function.calls:
            callee = self.resolve(call.target, function)
            if callee is None or callee is function or callee.service_ref is not None:
                continue
            for code, chain in sorted(self.effects(callee).items()):
                if _exempt(code, call.decides_nothing, call.in_run_args):
                    continue
                full = (f"{function.display}()", f"{callee.display}()", *chain)
                lead = (
                    f"`{callee.display}()` reaches `{chain[-1]}` in handler '{label}' "
                    f"({' -> '.join(full)})"
                )
                yield Finding(function.path, call.line, call.col, code, message(code, lead), full)
        if self.kind_of(function, service) == "exclusive" and service.kind == "object":
            for line, col, seconds in function.sleeps:
                if seconds is None or seconds < LONG_SLEEP_SECONDS:
                    continue  # a short pause (a poll, a timeout) is the object's own business
                if seconds < VERY_LONG_SLEEP_SECONDS and not other_exclusive:
                    continue  # minutes in the object's only exclusive handler: its own queue
                yield Finding(
                    function.path,
                    line,
                    col,
                    "RW501",
                    message("RW501", f"`ctx.sleep()` in exclusive handler '{label}'"),
                )
            # An object whose only exclusive handler waits serialises that handler, which is
            # often the point (one approval per key); with other exclusive handlers, they queue.
            waits = sorted(set(function.awakeable_waits)) if other_exclusive else []
            for line, col in waits:
                yield Finding(
                    function.path,
                    line,
                    col,
                    "RW501",
                    message("RW501", f"awakeable awaited in exclusive handler '{label}'"),
                )

    def _handler_by_literal(self, service_name: str, handler_name: str) -> FunctionSummary | None:
        for function in self.functions:
            service = self.service_of(function)
            if (
                service is not None
                and service.name == service_name
                and function.handler_name == handler_name
            ):
                return function
        return None

    def _cycles(self, handlers: list[tuple[FunctionSummary, ServiceDef]]) -> Iterator[Finding]:
        exclusive = {
            function.key: (function, service)
            for function, service in handlers
            if service.kind == "object" and self.kind_of(function, service) == "exclusive"
        }
        edges: dict[str, list[tuple[str, bool, int, int]]] = {}
        for qualname, (function, _) in exclusive.items():
            for call in function.object_calls:
                callee: FunctionSummary | None = None
                if call.target is not None:
                    callee = self.resolve(call.target, function)
                elif call.literal is not None:
                    callee = self._handler_by_literal(*call.literal)
                if callee is not None and callee.key in exclusive:
                    edges.setdefault(qualname, []).append(
                        (callee.key, call.same_key, call.line, call.col)
                    )
        for qualname, outgoing in edges.items():
            function, service = exclusive[qualname]
            for target, same_key, line, col in outgoing:
                target_function, target_service = exclusive[target]
                if target_service is service:
                    if not same_key:
                        continue  # another key of the same object: no lock is shared
                    path = [qualname, target] if target != qualname else [qualname]
                else:
                    back = self._path(target, qualname, edges)
                    if back is None:
                        continue
                    path = [qualname, *back]
                names = [f"{exclusive[q][1].name}/{exclusive[q][0].handler_name}" for q in path]
                names.append(names[0])
                lead = (
                    f"exclusive handler '{names[0]}' calls '{target_service.name}/"
                    f"{target_function.handler_name}' and waits ({' -> '.join(names)})"
                )
                yield Finding(
                    function.path, line, col, "RW502", message("RW502", lead), tuple(names)
                )

    def _path(
        self, start: str, goal: str, edges: dict[str, list[tuple[str, bool, int, int]]]
    ) -> list[str] | None:
        """A path of exclusive calls from ``start`` to ``goal`` (breadth first)."""
        previous: dict[str, str | None] = {start: None}
        queue = [start]
        while queue:
            current = queue.pop(0)
            if current == goal:
                path: list[str] = []
                node: str | None = current
                while node is not None:
                    path.append(node)
                    node = previous[node]
                return list(reversed(path))[:-1] if len(path) > 1 else []
            for target, _, _, _ in edges.get(current, ()):
                if target not in previous:
                    previous[target] = current
                    queue.append(target)
        return None

    def _workflow_awakeables(
        self, handlers: list[tuple[FunctionSummary, ServiceDef]]
    ) -> Iterator[Finding]:
        by_workflow: dict[str, list[FunctionSummary]] = {}
        names: dict[str, str] = {}
        for function, service in handlers:
            if service.kind == "workflow":
                by_workflow.setdefault(service.key, []).append(function)
                names[service.key] = service.name
        for key, functions in by_workflow.items():
            # An awakeable whose id goes to an outside system through ctx.run is a callback;
            # another handler rejecting it (a deadline) is not internal signalling.
            creators = {
                f.key for f in functions if f.awakeables_created and not f.awakeable_handed_out
            }
            if not creators:
                continue
            name = names[key]
            for function in functions:
                if not function.awakeables_resolved or creators == {function.key}:
                    continue
                for line, col, method in function.awakeables_resolved:
                    lead = (
                        f"`ctx.{method}()` in handler '{name}/{function.handler_name}' signals an "
                        "awakeable created by another handler of the same workflow"
                    )
                    yield Finding(function.path, line, col, "RW601", message("RW601", lead))


def _exempt(code: str, decides_nothing: bool, in_run_args: bool) -> bool:
    """A value that is only logged (or only decides to raise), or only an argument of a
    ctx.run action, is never compared on replay (ids and random values excepted for action
    arguments: a new idempotency key on each retry is the double charge the rule is about)."""
    if decides_nothing and code in ("RW101", "RW102"):
        return True
    return in_run_args and code == "RW101"


def _filter_noqa(findings: list[Finding], modules: list[ModuleSummary]) -> list[Finding]:
    noqa = {module.path: module.noqa for module in modules}
    kept: list[Finding] = []
    seen: set[tuple[str, int, int, str]] = set()
    for finding in sorted(findings, key=lambda f: (f.path, f.line, f.col, f.code)):
        key = (finding.path, finding.line, finding.col, finding.code)
        if key in seen:
            continue
        seen.add(key)
        codes = noqa.get(finding.path, {}).get(finding.line, ())
        if codes is None or (codes and _noqa_matches(finding.code, codes)):
            continue
        kept.append(finding)
    return kept


def _noqa_matches(code: str, codes: Iterable[str]) -> bool:
    return any(code.startswith(noqa_code) for noqa_code in codes)
