"""One file's pass: find the services, handlers and functions, and summarise each function.

A summary keeps what the cross-file phase (``_checker``) needs, and nothing of the syntax tree,
so memory stays bounded by the number of functions, not by the size of the sources:

* effects: replay hazards in the function's own code (outside ``ctx.run`` actions), which
  propagate to the handlers that call it;
* call sites: functions it calls (outside actions), by qualified name;
* findings about its use of a Restate context (RW201, RW901, RW902), reported where they are;
* for handlers: sleeps, awakeables, calls to objects, for the rules about handler kinds.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from . import _names as N

BUILTINS_OF_INTEREST = frozenset({"open", "print", "set", "frozenset", "list", "dict"})


@dataclass(slots=True)
class Effect:
    code: str
    line: int
    col: int
    what: str
    binds: str | None = None  # the local name the value is assigned to


@dataclass(slots=True)
class CallSite:
    target: str
    line: int
    col: int
    decides_nothing: bool = False  # the value is only logged, or only decides to raise
    in_run_args: bool = False  # an argument of a ctx.run action
    binds: str | None = None  # the local name the result is assigned to


@dataclass(slots=True)
class Direct:
    code: str
    line: int
    col: int
    message: str


@dataclass(slots=True)
class ObjectCall:
    target: str | None  # qualified name of the handler function, if given by reference
    literal: tuple[str, str] | None  # (service, handler) names, if given as strings
    same_key: bool  # the key is ctx.key()
    line: int
    col: int
    via: str  # the method used (object_call, generic_call)


@dataclass(slots=True)
class ServiceDef:
    kind: str  # service | object | workflow
    name: str
    qualname: str
    path: str = ""

    @property
    def key(self) -> str:
        return f"{self.path}::{self.qualname}"


@dataclass(slots=True)
class FunctionSummary:
    qualname: str
    display: str
    module: str
    path: str
    line: int
    col: int
    # handler candidacy: a decorator `<service ref>.handler(...)` / `.main(...)`
    service_ref: str | None = None
    decorator: str = ""
    kind_kwarg: str | None = None
    handler_name: str = ""

    @property
    def key(self) -> str:
        """Unique across the files linted together (module names may repeat)."""
        return f"{self.path}::{self.qualname}"

    ctx_annotated: bool = False  # a parameter is typed as a Restate context
    uses_context_getter: bool = False  # calls restate_context() / current_context()
    effects: list[Effect] = field(default_factory=list)
    calls: list[CallSite] = field(default_factory=list)
    direct: list[Direct] = field(default_factory=list)
    sleeps: list[tuple[int, int, float | None]] = field(default_factory=list)
    awakeable_waits: list[tuple[int, int]] = field(default_factory=list)
    awakeables_created: list[tuple[int, int]] = field(default_factory=list)
    # an awakeable id handed to a ctx.run action: a callback from outside Restate
    awakeable_handed_out: bool = False
    awakeables_resolved: list[tuple[int, int, str]] = field(default_factory=list)
    object_calls: list[ObjectCall] = field(default_factory=list)


@dataclass(slots=True)
class ModuleSummary:
    path: str
    name: str
    imports_restate: bool
    services: dict[str, ServiceDef]
    functions: list[FunctionSummary]
    direct: list[Direct]  # module-level findings (RW801)
    noqa: dict[int, frozenset[str] | None]  # line -> codes (None: every code)
    clients: list[str]  # qualified names of module-level I/O clients (`llm = OpenAI()`)


_SESSION_FACTORY_NAME = re.compile(r"(?i)^(async_?)?session_?(local|factory|maker)$")
_NOQA = re.compile(r"#\s*noqa(?::[\s]?(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.I)


def noqa_lines(source: str) -> dict[int, frozenset[str] | None]:
    found: dict[int, frozenset[str] | None] = {}
    if "noqa" not in source and "NOQA" not in source:
        return found
    for number, text in enumerate(source.splitlines(), start=1):
        if "#" not in text:
            continue
        match = _NOQA.search(text)
        if match is None:
            continue
        codes = match.group("codes")
        found[number] = (
            None
            if codes is None
            else frozenset(code.upper() for code in re.split(r"[,\s]+", codes.strip()) if code)
        )
    return found


def root_name(node: ast.expr) -> ast.Name | None:
    """The name at the left end of ``a.b[c].d(...)``."""
    while True:
        if isinstance(node, ast.Name):
            return node
        if isinstance(node, (ast.Attribute, ast.Subscript)):
            node = node.value
        elif isinstance(node, ast.Call):
            node = node.func
        else:
            return None


def _assigned_names(target: ast.expr) -> Iterator[ast.Name]:
    if isinstance(target, ast.Name):
        yield target
    elif isinstance(target, (ast.Tuple, ast.List)):
        for element in target.elts:
            yield from _assigned_names(element)
    elif isinstance(target, ast.Starred):
        yield from _assigned_names(target.value)


def _const_str(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _kwarg(call: ast.Call, name: str) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value
    return None


FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


class ModuleScanner:
    def __init__(self, path: str, module: str, tree: ast.Module, source: str) -> None:
        self.path = path
        self.module = module
        self.package = module if path.endswith("__init__.py") else module.rpartition(".")[0]
        self.tree = tree
        self.source_lines = source.splitlines()
        self.imports: dict[str, str] = {}
        self.defined: set[str] = set()  # module-level names defined here (not imports)
        self.services: dict[str, ServiceDef] = {}
        self.containers: set[str] = set()
        self.clients: set[str] = set()
        self.client_factories: set[str] = set()
        self.paths: set[str] = set()
        self.sets: set[str] = set()
        self.functions: list[FunctionSummary] = []
        self.direct: list[Direct] = []
        self.action_names: set[str] = set()
        self.action_lambdas: set[int] = set()
        self.context_names: set[str] = {"ctx", "context"}
        self.imports_restate = False
        self.durations: dict[str, float] = {}

    # -- names ---------------------------------------------------------------------------

    def col(self, node: ast.AST) -> int:
        """1-based column in characters (the syntax tree counts UTF-8 bytes)."""
        offset: int = getattr(node, "col_offset", 0)
        line: int = getattr(node, "lineno", 1)
        if 0 < line <= len(self.source_lines):
            text = self.source_lines[line - 1]
            if not text.isascii():
                return len(text.encode("utf-8")[:offset].decode("utf-8", "replace")) + 1
        return offset + 1

    def qualify(self, node: ast.expr, local: frozenset[str] | set[str] = frozenset()) -> str | None:
        if isinstance(node, ast.Name):
            name = node.id
            if name in local:
                return None
            if name in self.imports:
                return self.imports[name]
            if name in self.defined:
                return f"{self.module}.{name}"
            if name in BUILTINS_OF_INTEREST:
                return f"builtins.{name}"
            return None
        if isinstance(node, ast.Attribute):
            base = self.qualify(node.value, local)
            return None if base is None else f"{base}.{node.attr}"
        return None

    def _resolve_relative(self, level: int, module: str | None) -> str:
        parts = self.package.split(".") if self.package else []
        if level > 1:
            parts = parts[: len(parts) - (level - 1)] if level - 1 <= len(parts) else []
        base = ".".join(parts)
        if module:
            return f"{base}.{module}" if base else module
        return base

    def prewalk(self) -> None:
        """One walk over the tree: imports, then the function definitions and calls that the
        module-level facts (context names, ctx.run actions, agent tools) come from."""
        self.function_nodes: list[FunctionNode] = []
        self.call_nodes: list[ast.Call] = []
        import_nodes: list[ast.Import | ast.ImportFrom] = []
        for node in ast.walk(self.tree):
            kind = type(node)
            if kind is ast.Call:
                self.call_nodes.append(node)  # type: ignore[arg-type]
            elif kind is ast.FunctionDef or kind is ast.AsyncFunctionDef:
                self.function_nodes.append(node)  # type: ignore[arg-type]
            elif kind is ast.Import or kind is ast.ImportFrom:
                import_nodes.append(node)  # type: ignore[arg-type]
        self.collect_imports(import_nodes)

    def collect_imports(self, nodes: list[ast.Import | ast.ImportFrom]) -> None:
        for node in nodes:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name == "restate" or alias.name.startswith("restate."):
                        self.imports_restate = True
                    if alias.asname:
                        self.imports[alias.asname] = alias.name
                    else:
                        top = alias.name.partition(".")[0]
                        self.imports[top] = top
            elif isinstance(node, ast.ImportFrom):
                source = (
                    self._resolve_relative(node.level, node.module)
                    if node.level
                    else (node.module or "")
                )
                if source == "restate" or source.startswith("restate."):
                    self.imports_restate = True
                for alias in node.names:
                    if alias.name == "*":
                        continue
                    self.imports[alias.asname or alias.name] = (
                        f"{source}.{alias.name}" if source else alias.name
                    )

    # -- module level --------------------------------------------------------------------

    def scan(self) -> ModuleSummary:
        self.prewalk()
        body = self.tree.body
        for stmt in body:
            for node in _module_level_statements(stmt):
                self._module_statement(node)
        for stmt in body:
            for node in _module_level_statements(stmt):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    self._client_getter(node)
        self._collect_actions()
        for stmt in body:
            for node in _module_level_statements(stmt):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    FunctionScanner(self, node, prefix=self.module, closure=frozenset()).run()
                elif isinstance(node, ast.ClassDef):
                    self._class_methods(node)
        if self.imports_restate:
            self._function_tools()
        return ModuleSummary(
            path=self.path,
            name=self.module,
            imports_restate=self.imports_restate,
            services=self.services,
            functions=self.functions,
            direct=self.direct,
            noqa={},
            clients=[f"{self.module}.{name}" for name in sorted(self.clients)],
        )

    def _class_methods(self, cls: ast.ClassDef) -> None:
        # Methods are summarised (they may hold ctx.run actions and durable helpers), but
        # not resolved from calls: `self.x()` needs types this checker does not infer.
        for node in cls.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                FunctionScanner(
                    self, node, prefix=f"{self.module}.{cls.name}", closure=frozenset()
                ).run()

    def _client_getter(self, node: FunctionNode) -> None:
        """``def get_client(): return OpenAI(...)``: calling it gives a client."""
        stack: list[ast.AST] = list(node.body)
        while stack:
            current = stack.pop()
            if isinstance(current, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            if isinstance(current, ast.Return) and current.value is not None:
                kind = self.value_kind(current.value, set(), set(), set(), set(), frozenset())
                if kind == "client":
                    self.client_factories.add(node.name)
                    return
            if isinstance(current, ast.stmt):
                stack.extend(
                    child for child in ast.iter_child_nodes(current) if isinstance(child, ast.stmt)
                )

    def _module_statement(self, node: ast.stmt) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            self.defined.add(node.name)
            return
        targets: list[ast.expr] = []
        value: ast.expr | None = None
        if isinstance(node, ast.Assign):
            targets, value = list(node.targets), node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        for target in targets:
            for bound in _assigned_names(target):
                self.defined.add(bound.id)
        if value is None or len(targets) != 1 or not isinstance(targets[0], ast.Name):
            return
        name = targets[0].id
        if isinstance(value, ast.Call):
            qualified = self.qualify(value.func)
            if qualified in N.SERVICE_CLASSES:
                service_name = _const_str(value.args[0] if value.args else None)
                service_name = service_name or _const_str(_kwarg(value, "name")) or name
                self.services[name] = ServiceDef(
                    N.SERVICE_CLASSES[qualified], service_name, f"{self.module}.{name}", self.path
                )
                return
        seconds = self.duration(value, frozenset())
        if seconds is not None:
            self.durations[name] = seconds
        kind = self.value_kind(value, set(), set(), set(), set(), frozenset())
        if kind == "container" or kind == "set":
            self.containers.add(name)
        if kind == "set":
            self.sets.add(name)
        elif kind == "client":
            self.clients.add(name)
        elif kind == "factory":
            self.client_factories.add(name)
        elif kind == "path":
            self.paths.add(name)

    def duration(self, node: ast.expr | None, local: frozenset[str] | set[str]) -> float | None:
        """Seconds of a ``timedelta(...)`` (or a number of seconds) the source spells out;
        ``inf`` for a timedelta in hours, days or weeks whose amount is not a literal."""
        if node is None:
            return None
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return float(node.value)
        if isinstance(node, ast.Name):
            return None if node.id in local else self.durations.get(node.id)
        if not isinstance(node, ast.Call) or self.qualify(node.func, local) not in (
            "datetime.timedelta",
            "datetime.datetime.timedelta",
        ):
            return None
        units = {
            "weeks": 604800.0,
            "days": 86400.0,
            "hours": 3600.0,
            "minutes": 60.0,
            "seconds": 1.0,
            "milliseconds": 0.001,
            "microseconds": 0.000001,
        }
        positional = (
            "days",
            "seconds",
            "microseconds",
            "milliseconds",
            "minutes",
            "hours",
            "weeks",
        )
        amounts = list(zip(positional, node.args, strict=False)) + [
            (k.arg, k.value) for k in node.keywords if k.arg is not None
        ]
        total = 0.0
        for unit, value in amounts:
            if isinstance(value, ast.Constant) and isinstance(value.value, (int, float)):
                total += units.get(unit, 0.0) * value.value
            elif unit in ("weeks", "days", "hours"):
                return float("inf")
            else:
                return None
        return total

    def value_kind(
        self,
        value: ast.expr,
        clients: set[str],
        factories: set[str],
        paths: set[str],
        sets: set[str],
        local: frozenset[str] | set[str],
    ) -> str | None:
        """What an expression evaluates to, as far as the rules care."""
        if isinstance(value, ast.Await):
            value = value.value
        if isinstance(value, (ast.List, ast.Dict, ast.ListComp, ast.DictComp)):
            return "container"
        if self.is_set(value, sets, local):
            return "set"
        if self.is_path(value, paths, local):
            return "path"
        if isinstance(value, ast.Call):
            qualified = self.qualify(value.func, local)
            if qualified in N.CONTAINER_CONSTRUCTORS:
                return "container"
            if qualified in N.CLIENT_FACTORIES:
                return "client"
            if qualified in N.CLIENT_FACTORY_MAKERS:
                return "factory"
            func = value.func
            if isinstance(func, ast.Name) and (
                func.id in factories
                or (func.id not in local and func.id in self.client_factories)
                # `from app.db import SessionLocal`: the SQLAlchemy session factory by the
                # names its documentation and FastAPI's give it
                or (
                    func.id not in local
                    and func.id in self.imports
                    and _SESSION_FACTORY_NAME.search(func.id) is not None
                )
            ):
                return "client"
            # boto3.Session().client(...), engine.connect(), pool.acquire()...
            if (
                isinstance(func, ast.Attribute)
                and func.attr in N.CLIENT_RETURNING_METHODS
                and self.is_client(func.value, clients, local)
            ):
                return "client"
        # mongo["db"]["orders"], mongo.db.orders
        if isinstance(value, (ast.Subscript, ast.Attribute)) and self.is_client(
            value, clients, local
        ):
            return "client"
        return None

    def is_client(
        self, node: ast.expr, clients: set[str], local: frozenset[str] | set[str]
    ) -> bool:
        """Whether ``node`` (a name, attribute, item or call chain) starts from a client:
        a name bound to one, or a client made on the spot (``boto3.client("s3").put_object``)."""
        current = node
        while isinstance(current, (ast.Attribute, ast.Subscript, ast.Call)):
            if isinstance(current, ast.Call):
                if self.qualify(current.func, local) in N.CLIENT_FACTORIES:
                    return True
                current = current.func
            else:
                current = current.value
        name = current if isinstance(current, ast.Name) else None
        if name is None:
            return False
        if name.id in clients:
            return True
        if name.id in local:
            return False
        return name.id in self.clients

    def is_set(self, node: ast.expr, sets: set[str], local: frozenset[str] | set[str]) -> bool:
        if isinstance(node, (ast.Set, ast.SetComp)):
            return True
        if isinstance(node, ast.Name):
            return node.id in sets or (node.id not in local and node.id in self.sets)
        if isinstance(node, ast.Call):
            qualified = self.qualify(node.func, local)
            if qualified in N.SET_CONSTRUCTORS:
                return True
            func = node.func
            if isinstance(func, ast.Attribute):
                if func.attr in ("union", "intersection", "difference", "symmetric_difference"):
                    return self.is_set(func.value, sets, local)
                if func.attr == "fromkeys" and node.args:  # dict.fromkeys(a_set)
                    return self.is_set(node.args[0], sets, local)
                if func.attr == "keys" and isinstance(func.value, ast.Name):
                    return False
        if isinstance(node, ast.BinOp) and isinstance(
            node.op, (ast.BitOr, ast.BitAnd, ast.Sub, ast.BitXor)
        ):
            return self.is_set(node.left, sets, local) and self.is_set(node.right, sets, local)
        if isinstance(node, ast.DictComp):
            return any(self.is_set(gen.iter, sets, local) for gen in node.generators)
        return False

    def is_path(self, node: ast.expr, paths: set[str], local: frozenset[str] | set[str]) -> bool:
        if isinstance(node, ast.Call):
            if self.qualify(node.func, local) in N.PATH_CLASSES:
                return True
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in (
                "resolve",
                "absolute",
                "with_name",
                "with_suffix",
                "joinpath",
                "expanduser",
            ):
                return self.is_path(func.value, paths, local)
            return False
        if isinstance(node, ast.Name):
            return node.id in paths or (node.id not in local and node.id in self.paths)
        if isinstance(node, ast.Attribute) and node.attr in ("parent", "parents"):
            return self.is_path(node.value, paths, local)
        if isinstance(node, ast.Subscript):  # path.parents[1]
            return self.is_path(node.value, paths, local)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            return self.is_path(node.left, paths, local)
        return False

    # -- ctx.run actions -----------------------------------------------------------------

    def is_context_getter(self, node: ast.expr, local: frozenset[str] | set[str]) -> bool:
        """``restate_context()`` / ``current_context()`` of restate's extensions."""
        if not isinstance(node, ast.Call):
            return False
        qualified = self.qualify(node.func, local) or ""
        name = qualified.rpartition(".")[2]
        return qualified.startswith("restate.") and name.endswith("context") and name.islower()

    def run_call_action(self, call: ast.Call, context_names: Iterable[str]) -> ast.expr | None:
        """The action of ``ctx.run(name, action, ...)`` / ``ctx.run_typed(...)``, or None when
        ``call`` is not such a call. (Returns the call itself when it is one without action.)"""
        func = call.func
        if not isinstance(func, ast.Attribute) or func.attr not in ("run", "run_typed"):
            return None
        receiver = func.value
        if func.attr == "run":
            is_context = (
                isinstance(receiver, ast.Name) and receiver.id in context_names
            ) or self.is_context_getter(receiver, frozenset())
            if not is_context:
                return None
        elif isinstance(receiver, ast.Name) and receiver.id in self.imports:
            return None  # some_module.run_typed(...): not a context
        action = call.args[1] if len(call.args) > 1 else None
        if action is None:
            action = _kwarg(call, "action") or _kwarg(call, "fn")
        return action if action is not None else call

    def _collect_actions(self) -> None:
        for function in self.function_nodes:
            args = function.args
            for arg in (*args.posonlyargs, *args.args, *args.kwonlyargs):
                if arg.annotation is not None and self._is_context_annotation(arg.annotation):
                    self.context_names.add(arg.arg)
            if args.args and any(self._is_handler_decorator(d) for d in function.decorator_list):
                self.context_names.add(args.args[0].arg)
        for node in self.call_nodes:
            action = self.run_call_action(node, self.context_names)
            if action is None or action is node:
                continue
            self.mark_action(action)

    def mark_action(self, action: ast.expr) -> None:
        if isinstance(action, ast.Lambda):
            self.action_lambdas.add(id(action))
        elif isinstance(action, ast.Name):
            self.action_names.add(action.id)
        elif isinstance(action, ast.Call):
            # functools.partial(fn, ...) or a wrapper that returns the action (retry(fn)):
            # the functions and lambdas handed to it run inside the action.
            for argument in action.args:
                if isinstance(argument, (ast.Lambda, ast.Name)):
                    self.mark_action(argument)

    def _is_context_annotation(self, annotation: ast.expr) -> bool:
        if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
            text = annotation.value.rpartition(".")[2]
            return text.endswith(N.CONTEXT_TYPE_SUFFIXES) and (
                annotation.value.startswith("restate.")
                or self.imports.get(text, "").startswith("restate")
            )
        if isinstance(annotation, ast.Subscript):
            return False
        qualified = self.qualify(annotation) or ""
        return qualified.startswith("restate.") and qualified.endswith(N.CONTEXT_TYPE_SUFFIXES)

    def handler_decorator(self, decorator: ast.expr) -> tuple[str, str, ast.Call | None] | None:
        """(service reference, handler|main, the decorator call) for ``@svc.handler(...)``."""
        call = decorator if isinstance(decorator, ast.Call) else None
        func = decorator.func if isinstance(decorator, ast.Call) else decorator
        if not isinstance(func, ast.Attribute) or func.attr not in ("handler", "main"):
            return None
        target = func.value
        if isinstance(target, ast.Attribute):
            # `@defs.greeter.handler()`: a service object named through its imported module.
            qualified = self.qualify(target)
            if qualified is not None and not qualified.startswith("restate"):
                return (qualified, func.attr, call)
            return None
        if not isinstance(target, ast.Name):
            return None
        if target.id in self.services:
            return (self.services[target.id].qualname, func.attr, call)
        imported = self.imports.get(target.id)
        if imported is not None and "." in imported and not imported.startswith("restate"):
            return (imported, func.attr, call)  # a service object defined in another file
        return None

    def _is_handler_decorator(self, decorator: ast.expr) -> bool:
        return self.handler_decorator(decorator) is not None

    # -- RW801 ---------------------------------------------------------------------------

    def _function_tools(self) -> None:
        if not any(name.startswith("agents") for name in self.imports.values()):
            return
        decorators: set[int] = set()
        for function in self.function_nodes:
            for decorator in function.decorator_list:
                decorators.add(id(decorator))
                if self.qualify(decorator) in N.FUNCTION_TOOLS or (
                    isinstance(decorator, ast.Call)
                    and self.qualify(decorator.func) in N.FUNCTION_TOOLS
                    and not _sets_failure_function(decorator)
                ):
                    self._tool_finding(decorator, function.name)
        for node in self.call_nodes:
            if (
                id(node) not in decorators
                and self.qualify(node.func) in N.FUNCTION_TOOLS
                and not _sets_failure_function(node)
            ):
                first = node.args[0] if node.args else None
                self._tool_finding(node, first.id if isinstance(first, ast.Name) else "")

    def _tool_finding(self, node: ast.expr, name: str) -> None:
        what = f"`@function_tool` on `{name}`" if name else "`function_tool(...)`"
        self.direct.append(Direct("RW801", node.lineno, self.col(node), what))


def _is_set_annotation(annotation: ast.expr) -> bool:
    """``set[str]``, ``frozenset[int]``, ``typing.Set[...]``, ``AbstractSet[...]``."""
    base = annotation.value if isinstance(annotation, ast.Subscript) else annotation
    name = base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", "")
    return name in ("set", "frozenset", "Set", "FrozenSet", "AbstractSet", "MutableSet")


def _sets_failure_function(call: ast.Call) -> bool:
    """``failure_error_function=`` given (or possibly given through ``**options``)."""
    return _kwarg(call, "failure_error_function") is not None or any(
        keyword.arg is None for keyword in call.keywords
    )


def _always_raises(body: list[ast.stmt]) -> bool:
    if not body:
        return False
    last = body[-1]
    if isinstance(last, ast.Raise):
        return True
    if isinstance(last, ast.If):
        return _always_raises(last.body) and _always_raises(last.orelse)
    if isinstance(last, ast.Expr) and isinstance(last.value, ast.Call):
        func = last.value.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        return name in ("exit", "_exit", "abort")
    return False


def _module_level_statements(stmt: ast.stmt) -> Iterator[ast.stmt]:
    """Module-level statements, looking into ``if``/``try`` blocks (``if TYPE_CHECKING:``...)."""
    if isinstance(stmt, ast.If):
        for child in (*stmt.body, *stmt.orelse):
            yield from _module_level_statements(child)
    elif isinstance(stmt, ast.Try):
        for child in (*stmt.body, *stmt.orelse, *stmt.finalbody):
            yield from _module_level_statements(child)
        for handler in stmt.handlers:
            for child in handler.body:
                yield from _module_level_statements(child)
    else:
        yield stmt


def _local_names(node: FunctionNode | ast.Lambda) -> tuple[set[str], set[str]]:
    """(names bound in the function's own scope, names declared global)."""
    bound: set[str] = set()
    declared_global: set[str] = set()
    args = node.args
    for arg in (*args.posonlyargs, *args.args, *args.kwonlyargs):
        bound.add(arg.arg)
    if args.vararg:
        bound.add(args.vararg.arg)
    if args.kwarg:
        bound.add(args.kwarg.arg)
    body: list[ast.AST] = [node.body] if isinstance(node, ast.Lambda) else list(node.body)
    stack = body
    while stack:
        current = stack.pop()
        if isinstance(current, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(current.name)
            continue  # its own scope
        if isinstance(current, ast.Lambda):
            continue
        if isinstance(current, ast.Global):
            declared_global.update(current.names)
        elif isinstance(current, ast.Name) and isinstance(current.ctx, (ast.Store, ast.Del)):
            bound.add(current.id)
        elif isinstance(current, ast.ExceptHandler) and current.name:
            bound.add(current.name)
        stack.extend(ast.iter_child_nodes(current))
    bound -= declared_global
    return bound, declared_global


class FunctionScanner:
    """Summarises one function; nested functions get their own scanner (and summary)."""

    def __init__(
        self,
        module: ModuleScanner,
        node: FunctionNode,
        prefix: str,
        closure: frozenset[str],
        closure_locals: frozenset[str] = frozenset(),
        local_functions: dict[str, str] | None = None,
    ) -> None:
        self.m = module
        self.node = node
        self.qualname = f"{prefix}.{node.name}"
        self.local, self.globals = _local_names(node)
        # Imports inside the function are resolved like module-level ones (collect_imports).
        self.local |= closure_locals - self.globals
        self.local_functions: dict[str, str] = dict(local_functions or {})
        self.summary = FunctionSummary(
            qualname=self.qualname,
            display=self.qualname[len(module.module) + 1 :] if module.module else self.qualname,
            module=module.module,
            path=module.path,
            line=node.lineno,
            col=module.col(node),
        )
        self.context_names: set[str] = set(closure)
        self.clients: set[str] = set()
        self.factories: set[str] = set()
        self.paths: set[str] = set()
        self.sets: set[str] = set()
        self.awakeable_promises: dict[str, tuple[int, int]] = {}
        self.awakeable_ids: set[str] = set()
        self.key_names: set[str] = set()
        self.in_action = 0
        self.in_run_args = False
        self.in_log = False
        self.in_failure_test = False  # the test of `if random() < p: raise ...`
        self.in_lazy_init = False  # the body of `if CLIENT is None: CLIENT = ...`
        self.unsafe_uses: set[str] = set()  # names read outside logs, run actions and arguments
        self.action_uses: set[str] = set()  # names read in ctx.run actions or their arguments
        self.binding: str | None = None  # the name the value being visited is assigned to
        self._setup_handler()

    def _setup_handler(self) -> None:
        node = self.node
        params = [*node.args.posonlyargs, *node.args.args]
        for decorator in node.decorator_list:
            found = self.m.handler_decorator(decorator)
            if found is None:
                continue
            ref, which, call = found
            self.summary.service_ref = ref
            self.summary.decorator = which
            name = None
            if call is not None:
                name = _const_str(call.args[0] if call.args else None) or _const_str(
                    _kwarg(call, "name")
                )
                self.summary.kind_kwarg = _const_str(_kwarg(call, "kind"))
            self.summary.handler_name = name or node.name
            if params:
                self.context_names.add(params[0].arg)
        for arg in (*params, *node.args.kwonlyargs):
            if arg.annotation is not None and self.m._is_context_annotation(arg.annotation):
                self.context_names.add(arg.arg)
                self.summary.ctx_annotated = True
            elif arg.annotation is None and arg.arg in ("ctx", "context", "restate_context"):
                self.context_names.add(arg.arg)
            elif arg.annotation is not None and _is_set_annotation(arg.annotation):
                self.sets.add(arg.arg)

    # -- helpers -------------------------------------------------------------------------

    def qualify(self, node: ast.expr) -> str | None:
        return self.m.qualify(node, self.local)

    def is_context(self, node: ast.expr) -> bool:
        if isinstance(node, ast.Name):
            return node.id in self.context_names
        if self.m.is_context_getter(node, self.local):
            self.summary.uses_context_getter = True
            return True
        return False

    def context_method(self, call: ast.Call) -> str | None:
        func = call.func
        if isinstance(func, ast.Attribute) and self.is_context(func.value):
            return func.attr
        return None

    def effect(self, code: str, node: ast.AST, what: str) -> None:
        if self.in_action:
            return
        if code == "RW101" and (self.in_run_args or self.in_log):
            return
        if code in ("RW101", "RW102") and (self.in_log or self.in_failure_test):
            return
        if code in ("RW105", "RW401") and self.in_lazy_init:
            return
        line: int = getattr(node, "lineno", 1)
        self.summary.effects.append(Effect(code, line, self.m.col(node), what, self.binding))

    def direct(self, code: str, node: ast.AST, what: str) -> None:
        self.summary.direct.append(Direct(code, node.lineno, self.m.col(node), what))  # type: ignore[attr-defined]

    def durable_ops(self, nodes: Iterable[ast.AST], failing_only: bool = False) -> bool:
        """Whether ``nodes`` contain a durable operation (a context step, a Restate combinator,
        or a call that hands the context to a helper)."""
        methods = N.FAILING_METHODS if failing_only else N.DURABLE_METHODS
        for root in nodes:
            for node in ast.walk(root):
                if not isinstance(node, ast.Call):
                    continue
                method = self.context_method(node)
                if method in methods:
                    return True
                func = node.func
                if (
                    isinstance(func, ast.Attribute)
                    and func.attr == "value"
                    and isinstance(func.value, ast.Call)
                    and self.context_method(func.value) == "promise"
                ):
                    return True
                qualified = self.qualify(func)
                if qualified in N.RESTATE_COMBINATORS:
                    return True
                if qualified and qualified.endswith("DurableRunner.run"):
                    return True
                if any(isinstance(a, ast.Name) and a.id in self.context_names for a in node.args):
                    return True
                if any(
                    isinstance(k.value, ast.Name) and k.value.id in self.context_names
                    for k in node.keywords
                ):
                    return True
        return False

    # -- the walk ------------------------------------------------------------------------

    def run(self) -> FunctionSummary:
        # Decorators run where the function is defined (at import time for a module-level
        # one), not when it is called: the enclosing scope visits them.
        node = self.node
        self._prescan_locals(node.body)
        for stmt in node.body:
            self.visit(stmt)
        self._drop_values_only_passed_on()
        self.m.functions.append(self.summary)
        return self.summary

    def _drop_values_only_passed_on(self) -> None:
        """A value assigned to a name that is only logged or passed to ctx.run actions is
        never compared on replay: ``now = datetime.now()`` then ``ctx.run_typed("x", f,
        at=now)``. Ids and random values passed to an action stay reported (a new idempotency
        key per retry); only logged, they are not."""

        def harmless(code: str, name: str | None) -> bool:
            if name is None or name in self.unsafe_uses:
                return False
            return code == "RW101" or (code == "RW102" and name not in self.action_uses)

        summary = self.summary
        summary.effects = [e for e in summary.effects if not harmless(e.code, e.binds)]
        for call in summary.calls:
            if call.binds is not None and call.binds not in self.unsafe_uses:
                call.in_run_args = True
                if call.binds not in self.action_uses:
                    call.decides_nothing = True

    def _prescan_locals(self, body: list[ast.stmt]) -> None:
        """Register nested functions first, so a call before the def still resolves."""
        stack: list[ast.AST] = list(body)
        while stack:
            node = stack.pop()
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.local_functions[node.name] = f"{self.qualname}.<locals>.{node.name}"
                continue
            if isinstance(node, (ast.ClassDef, ast.Lambda, ast.expr)):
                continue
            stack.extend(ast.iter_child_nodes(node))

    def visit(self, node: ast.AST) -> None:
        method = getattr(self, f"visit_{type(node).__name__}", None)
        if method is not None:
            method(node)
        else:
            self.generic_visit(node)

    def generic_visit(self, node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            self.visit(child)

    def visit_FunctionDef(self, node: FunctionNode) -> None:
        for decorator in node.decorator_list:
            self.visit(decorator)
        for default in (*node.args.defaults, *node.args.kw_defaults):
            if default is not None:
                self.visit(default)
        if node.name in self.m.action_names:
            self._visit_action_body(node.body, node)
            return
        scanner = FunctionScanner(
            self.m,
            node,
            prefix=f"{self.qualname}.<locals>",
            closure=frozenset(self.context_names),
            closure_locals=frozenset(self.local),
            local_functions=self.local_functions,
        )
        scanner.clients |= self.clients
        scanner.paths |= self.paths
        scanner.sets |= self.sets
        scanner.run()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        return  # a class defined in a function: its methods are not reached by our calls

    def _visit_action_body(self, body: list[ast.stmt] | ast.expr, node: ast.AST) -> None:
        saved = self.context_names
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            # A parameter of the action named like the context shadows it.
            params = {a.arg for a in (*node.args.posonlyargs, *node.args.args)}
            self.context_names = self.context_names - params
        self.in_action += 1
        try:
            for child in body if isinstance(body, list) else [body]:
                self.visit(child)
        finally:
            self.in_action -= 1
            self.context_names = saved

    def visit_Lambda(self, node: ast.Lambda) -> None:
        if id(node) in self.m.action_lambdas:
            self._visit_action_body(node.body, node)
        else:
            self.visit(node.body)

    def visit_Global(self, node: ast.Global) -> None:
        return

    def visit_If(self, node: ast.If) -> None:
        saved_failure, saved_lazy = self.in_failure_test, self.in_lazy_init
        if _always_raises(node.body) and not node.orelse:
            # `if random.random() < p: raise ...` simulates a transient failure; a retry is
            # what any failure causes, so the random draw decides nothing durable.
            self.in_failure_test = True
        self.visit(node.test)
        self.in_failure_test = saved_failure
        if self._lazy_init_test(node.test):
            self.in_lazy_init = True
        for stmt in node.body:
            self.visit(stmt)
        self.in_lazy_init = saved_lazy
        for stmt in node.orelse:
            self.visit(stmt)

    def _lazy_init_test(self, test: ast.expr) -> bool:
        """``if CLIENT is None:`` / ``if not CLIENT:`` on a global: a one-time set-up."""
        name: ast.expr | None = None
        if isinstance(test, ast.Compare) and len(test.ops) == 1:
            if isinstance(test.ops[0], (ast.Is, ast.Eq)) and isinstance(
                test.comparators[0], ast.Constant
            ):
                name = test.left
        elif isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            name = test.operand
        return isinstance(name, ast.Name) and (
            name.id in self.globals or (name.id not in self.local and name.id in self.m.defined)
        )

    # -- assignments: local kinds and RW401 ----------------------------------------------

    def _bind(self, target: ast.expr, value: ast.expr | None) -> None:
        if not isinstance(target, ast.Name) or value is None:
            # awakeable_id, promise = ctx.awakeable()
            if (
                isinstance(target, ast.Tuple)
                and isinstance(value, ast.Call)
                and self.context_method(value) == "awakeable"
                and len(target.elts) == 2
            ):
                first, second = target.elts
                if isinstance(first, ast.Name):
                    self.awakeable_ids.add(first.id)
                if isinstance(second, ast.Name):
                    self.awakeable_promises[second.id] = (value.lineno, self.m.col(value))
            return
        name = target.id
        for group in (self.clients, self.factories, self.paths, self.sets, self.key_names):
            group.discard(name)
        self.awakeable_promises.pop(name, None)
        kind = self.m.value_kind(
            value, self.clients, self.factories, self.paths, self.sets, self.local
        )
        if kind == "client":
            self.clients.add(name)
        elif kind == "factory":
            self.factories.add(name)
        elif kind == "path":
            self.paths.add(name)
        elif kind == "set":
            self.sets.add(name)
        if isinstance(value, ast.Call) and self.context_method(value) == "key":
            self.key_names.add(name)
        if self.m.is_context_getter(value, self.local):
            self.context_names.add(name)

    def _store(self, target: ast.expr, node: ast.AST) -> None:
        """RW401 for writes to module-level state."""
        if isinstance(target, ast.Name):
            if target.id in self.globals:
                self.effect("RW401", node, f"global {target.id}")
        elif isinstance(target, (ast.Subscript, ast.Attribute)):
            root = root_name(target)
            if root is not None and self._module_container(root.id):
                self.effect("RW401", node, f"{root.id}[...] =")
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self._store(element, node)

    def _module_container(self, name: str) -> bool:
        return (name in self.globals or name not in self.local) and name in self.m.containers

    def visit_Assign(self, node: ast.Assign) -> None:
        single = node.targets[0] if len(node.targets) == 1 else None
        saved = self.binding
        if isinstance(single, ast.Name) and single.id in self.local:
            self.binding = single.id
        try:
            self.visit(node.value)
        finally:
            self.binding = saved
        for target in node.targets:
            self._store(target, node)
            self._visit_target(target)
            self._bind(target, node.value)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)
            self._store(node.target, node)
            self._bind(node.target, node.value)
        self._visit_target(node.target)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.visit(node.value)
        self._store(node.target, node)
        self._visit_target(node.target)

    def visit_Delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            if isinstance(target, ast.Subscript):
                self._store(target, node)
            self._visit_target(target)

    def _visit_target(self, target: ast.expr) -> None:
        # Subscripts and attributes in a target evaluate their base and index.
        if isinstance(target, ast.Subscript):
            self.visit(target.value)
            self.visit(target.slice)
        elif isinstance(target, ast.Attribute):
            self.visit(target.value)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self._visit_target(element)

    def visit_With(self, node: ast.With | ast.AsyncWith) -> None:
        for item in node.items:
            self.visit(item.context_expr)
            if item.optional_vars is not None:
                self._bind(item.optional_vars, item.context_expr)
        for stmt in node.body:
            self.visit(stmt)

    visit_AsyncWith = visit_With

    # -- RW901 ---------------------------------------------------------------------------

    def visit_Try(self, node: ast.Try) -> None:
        if not self.in_action and self.durable_ops(node.body):
            failing = self.durable_ops(node.body, failing_only=True)
            terminal_first = False
            for handler in node.handlers:
                caught = self._caught(handler.type)
                if "TerminalError" in caught:
                    terminal_first = True
                broad_base = handler.type is None or "BaseException" in caught
                if broad_base and not self._reraises(handler, same=True):
                    label = "except:" if handler.type is None else "except BaseException"
                    self.direct("RW901", handler, f"`{label}` around durable operations")
                elif (
                    "Exception" in caught
                    and failing
                    and not terminal_first
                    and not self._reraises(handler, same=False)
                ):
                    self.direct(
                        "RW901",
                        handler,
                        "`except Exception` without re-raising, around durable calls",
                    )
        self.generic_visit(node)

    visit_TryStar = visit_Try

    def _caught(self, node: ast.expr | None) -> set[str]:
        if node is None:
            return set()
        names: set[str] = set()
        for element in node.elts if isinstance(node, ast.Tuple) else [node]:
            if isinstance(element, ast.Name):
                names.add(element.id)
            elif isinstance(element, ast.Attribute):
                names.add(element.attr)
        return names

    def _reraises(self, handler: ast.ExceptHandler, same: bool) -> bool:
        for node in ast.walk(ast.Module(body=handler.body, type_ignores=[])):
            if isinstance(node, ast.Raise):
                if not same or node.exc is None:
                    return True
                if (
                    isinstance(node.exc, ast.Name)
                    and handler.name is not None
                    and node.exc.id == handler.name
                ):
                    return True
        return False

    # -- RW902 ---------------------------------------------------------------------------

    def visit_For(self, node: ast.For | ast.AsyncFor) -> None:
        if (
            not self.in_action
            and self.m.is_set(node.iter, self.sets, self.local)
            and self.durable_ops(node.body)
        ):
            self.direct("RW902", node.iter, "a loop over a set issues durable operations")
        self.generic_visit(node)

    visit_AsyncFor = visit_For

    def _comprehension(
        self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp
    ) -> None:
        elements: list[ast.AST] = (
            [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
        )
        if not self.in_action and self.durable_ops(elements):
            for generator in node.generators:
                if self.m.is_set(generator.iter, self.sets, self.local):
                    self.direct(
                        "RW902",
                        generator.iter,
                        "a comprehension over a set issues durable operations",
                    )
        self.generic_visit(node)

    visit_ListComp = _comprehension
    visit_SetComp = _comprehension
    visit_GeneratorExp = _comprehension
    visit_DictComp = _comprehension

    # -- names ---------------------------------------------------------------------------

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if isinstance(node.ctx, ast.Load) and self.qualify(node) in N.ENV_OBJECTS:
            self.effect("RW105", node, "os.environ")
            return
        self.visit(node.value)

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            if self.in_action or self.in_run_args:
                self.action_uses.add(node.id)
            elif not self.in_log:
                self.unsafe_uses.add(node.id)
            if (self.in_action or self.in_run_args) and node.id in self.awakeable_ids:
                self.summary.awakeable_handed_out = True
            if self.qualify(node) in N.ENV_OBJECTS:
                self.effect("RW105", node, "os.environ")
            elif node.id in self.awakeable_promises and not self.in_action:
                line, col = self.awakeable_promises[node.id]
                self.summary.awakeable_waits.append((line, col))

    def visit_Await(self, node: ast.Await) -> None:
        value = node.value
        # await ctx.awakeable()[1]
        if (
            isinstance(value, ast.Subscript)
            and isinstance(value.value, ast.Call)
            and self.context_method(value.value) == "awakeable"
            and not self.in_action
        ):
            self.summary.awakeable_waits.append((value.lineno, self.m.col(value)))
        self.visit(value)

    # -- calls ---------------------------------------------------------------------------

    def visit_Call(self, node: ast.Call) -> None:
        action = self.m.run_call_action(node, self.context_names)
        if action is not None:
            self._run_call(node, action)
            return
        method = self.context_method(node)
        if method is not None:
            self._context_call(node, method)
        else:
            self._plain_call(node)

    def _run_call(self, node: ast.Call, action: ast.expr) -> None:
        func = node.func
        assert isinstance(func, ast.Attribute)
        if self.in_action and self.is_context(func.value):
            self.direct("RW201", node, f"`ctx.{func.attr}()` inside a ctx.run action")
        handed = [a for a in (*node.args[2:], *(k.value for k in node.keywords)) if a is not action]
        if any(isinstance(a, ast.Name) and a.id in self.context_names for a in handed):
            self.direct("RW201", node, "the context passed as an argument to a ctx.run action")
        self.visit(func.value)
        saved = self.in_run_args
        for index, arg in enumerate(node.args):
            if arg is action:
                if isinstance(arg, ast.Lambda):
                    self.visit(arg)
                elif isinstance(arg, ast.Call):
                    # partial(fn, *args) / wrapper(fn): evaluated here, its arguments only
                    # flow into the action
                    self.in_run_args = True
                    self.visit(arg)
                    self.in_run_args = saved
                continue
            self.in_run_args = index > 0
            self.visit(arg)
            self.in_run_args = saved
        for keyword in node.keywords:
            if keyword.value is action and isinstance(action, ast.Lambda):
                self.visit(action)
                continue
            if keyword.value is action:
                continue
            self.in_run_args = True
            self.visit(keyword.value)
            self.in_run_args = saved

    def _context_call(self, node: ast.Call, method: str) -> None:
        if self.in_action and method in N.DURABLE_METHODS:
            self.direct("RW201", node, f"`ctx.{method}()` inside a ctx.run action")
        elif not self.in_action:
            if method == "sleep":
                delta = node.args[0] if node.args else _kwarg(node, "delta")
                self.summary.sleeps.append(
                    (node.lineno, self.m.col(node), self.m.duration(delta, self.local))
                )
            elif method == "awakeable":
                self.summary.awakeables_created.append((node.lineno, self.m.col(node)))
            elif method in ("resolve_awakeable", "reject_awakeable"):
                self.summary.awakeables_resolved.append((node.lineno, self.m.col(node), method))
            elif method in ("object_call", "generic_call"):
                self._object_call(node, method)
        self.generic_visit(node)

    def _object_call(self, node: ast.Call, method: str) -> None:
        key = _kwarg(node, "key")
        if method == "object_call":
            target_node = node.args[0] if node.args else _kwarg(node, "tpe")
            if key is None and len(node.args) > 1:
                key = node.args[1]
            target = self._callee(target_node) if target_node is not None else None
            literal = None
        else:
            service = _const_str(node.args[0] if node.args else _kwarg(node, "service"))
            handler = _const_str(node.args[1] if len(node.args) > 1 else _kwarg(node, "handler"))
            if service is None or handler is None:
                return
            target, literal = None, (service, handler)
        same_key = key is not None and (
            (isinstance(key, ast.Call) and self.context_method(key) == "key")
            or (isinstance(key, ast.Name) and key.id in self.key_names)
        )
        self.summary.object_calls.append(
            ObjectCall(target, literal, same_key, node.lineno, self.m.col(node), method)
        )

    def _callee(self, func: ast.expr) -> str | None:
        if isinstance(func, ast.Name):
            if func.id in self.local_functions:
                return self.local_functions[func.id]
            if func.id in self.local:
                return None
        return self.qualify(func)

    def _is_log_call(self, func: ast.expr, qualified: str | None) -> bool:
        if qualified == "builtins.print":
            return True
        if isinstance(func, ast.Attribute) and func.attr in N.LOG_METHODS:
            root = root_name(func.value)
            return root is not None and "log" in root.id.lower()
        return False

    def _plain_call(self, node: ast.Call) -> None:
        func = node.func
        qualified = self.qualify(func)
        if qualified is not None:
            self._known_call(node, qualified)
        if isinstance(func, ast.Attribute):
            self._method_call(node, func)
        if self._is_log_call(func, qualified):
            saved = self.in_log
            self.in_log = True
            try:
                self.generic_visit(node)
            finally:
                self.in_log = saved
            return
        if not self.in_action:
            callee = self._callee(func)
            if callee is not None and callee.rpartition(".")[0] not in ("builtins",):
                self.summary.calls.append(
                    CallSite(
                        callee,
                        node.lineno,
                        self.m.col(node),
                        decides_nothing=self.in_failure_test,
                        in_run_args=self.in_run_args,
                        binds=self.binding,
                    )
                )
        self.generic_visit(node)

    def _known_call(self, node: ast.Call, qualified: str) -> None:
        module, _, attr = qualified.rpartition(".")
        what = f"{ast.unparse(node.func)}()"  # as the source spells it
        if qualified in N.WALL_CLOCK:
            if not (qualified in N.WALL_CLOCK_WITHOUT_ARGUMENT and node.args):
                self.effect("RW101", node, what)
        elif (
            (module == "random" and attr in N.RANDOM_FUNCTIONS)
            or qualified in N.RANDOM_OTHER
            or (module == "numpy.random" and attr not in ("seed", "RandomState"))
        ):
            self.effect("RW102", node, what)
        elif qualified in N.NATIVE_SLEEP:
            zero = node.args and isinstance(node.args[0], ast.Constant) and node.args[0].value == 0
            if not zero:  # asyncio.sleep(0) only yields to the event loop
                self.effect("RW103", node, what)
        elif (
            qualified in N.IO_FUNCTIONS
            or attr in N.IO_MODULE_FUNCTIONS.get(module, ())
            or qualified.startswith(N.IO_PREFIXES)
        ):
            self.effect("RW104", node, what)
        elif qualified in N.ENV_READS:
            self.effect("RW105", node, what)
        elif qualified in N.NATIVE_CONCURRENCY:
            self.effect("RW301", node, what)
        elif qualified in N.INGRESS_CLIENTS:
            self.effect("RW701", node, what)

    def _method_call(self, node: ast.Call, func: ast.Attribute) -> None:
        attr = func.attr
        receiver = func.value
        if attr in N.MUTATING_METHODS:
            root = root_name(receiver)
            if (
                root is not None
                and self._module_container(root.id)
                and isinstance(receiver, (ast.Name, ast.Subscript))
            ):
                self.effect("RW401", node, f"{root.id}.{attr}()")
                return
        if attr == "run_in_executor":
            self.effect("RW301", node, "loop.run_in_executor()")
            return
        if attr == "create_task" and (
            (isinstance(receiver, ast.Name) and receiver.id == "loop")
            or (
                isinstance(receiver, ast.Call)
                and self.qualify(receiver.func) in N.EVENT_LOOP_GETTERS
            )
        ):
            self.effect("RW301", node, "loop.create_task()")
            return
        if attr in N.PATH_IO_METHODS and self.m.is_path(receiver, self.paths, self.local):
            self.effect("RW104", node, f"Path.{attr}()")
            return
        if attr not in N.CLIENT_QUIET_METHODS and self.m.is_client(
            receiver, self.clients, self.local
        ):
            root = root_name(receiver)
            label = root.id if root is not None else "client"
            self.effect("RW104", node, f"{label}.{attr}()")
            return
        # Django: Model.objects.filter(...) and friends query the database.
        if (
            isinstance(receiver, ast.Attribute)
            and receiver.attr == "objects"
            and isinstance(receiver.value, ast.Name)
            and receiver.value.id not in self.local
            and receiver.value.id[:1].isupper()
            and (receiver.value.id in self.m.imports or receiver.value.id in self.m.defined)
        ):
            self.effect("RW104", node, f"{receiver.value.id}.objects.{attr}()")
