"""Guards against using durable Restate code from ordinary (non-durable) code.

The reverse of ``IngressInHandlerError``:

* ``@durable_only`` marks a function that only makes sense inside a Restate handler (it uses the
  handler's context, journals side effects, ...); ``ensure_durable_context()`` is the same check
  as a call. Both raise ``DurableContextOutsideHandler`` when no handler is running. Inside a web
  request the message names the view and says to trigger a Restate handler through the ingress
  client instead.
* ``install_context_guard()`` makes a Restate context object that leaked out of its handler
  (kept in a global, handed to a background thread, used from a web request) raise
  ``LeakedContextError`` instead of writing into another invocation's journal. The web adapters
  install it by default (setting ``GUARD_CONTEXTS``) in processes that import restate-sdk, when
  they import it (``install_context_guard_where_handlers_run``).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import importlib.util
import inspect
import os
import sys
import threading
import types
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeAlias, TypeVar, cast

from .ingress._core import current_restate_context

F = TypeVar("F", bound=Callable[..., Any])


class DurableContextOutsideHandler(RuntimeError):
    """Durable-only code ran outside a Restate handler (for example in a web view)."""


class LeakedContextError(DurableContextOutsideHandler):
    """A Restate context was used outside the handler invocation it belongs to."""


class WebRequestInfo(Protocol):
    """What the adapters tell the guards about the web request being handled."""

    @property
    def framework(self) -> str: ...

    @property
    def client_hint(self) -> str: ...

    def view_name(self) -> str | None: ...


RequestMark: TypeAlias = "tuple[Any, ...]"
"""How a request is marked: ``(make, *arguments)``, ``make(*arguments)`` giving the
request's ``WebRequestInfo``. Every request is marked and few ever ask who they are, so the
adapters' middleware marks with the parts their binding is made of and the binding is made
(once per request) by the first code that asks."""

_web_request: contextvars.ContextVar[RequestMark | None] = contextvars.ContextVar(
    "restate_web_request", default=None
)


def current_web_request() -> WebRequestInfo | None:
    """The web request being handled in this context, or None.

    The adapters' middleware marks every request with ``enter_web_request``, as sentry-python
    marks its scope: a context variable, so the request is also known in the asyncio tasks the
    view creates and in the threads it starts through ``asyncio.to_thread`` or
    ``contextvars.copy_context().run`` (not in a bare ``threading.Thread``, which starts with
    an empty context).
    """
    mark = _web_request.get()
    if mark is None:
        return None
    make: Callable[..., WebRequestInfo] = mark[0]
    return make(*mark[1:])


# The adapters' middleware call these two bound methods directly (once per request each) with
# a RequestMark.
_enter = _web_request.set
_exit = _web_request.reset


def _itself(info: WebRequestInfo) -> WebRequestInfo:
    return info


def enter_web_request(info: WebRequestInfo) -> contextvars.Token[RequestMark | None]:
    """Mark the current context as handling ``info``; pass the token to ``exit_web_request``.
    (The adapters do this for every request; for adapters of other frameworks.)"""
    return _web_request.set((_itself, info))


def exit_web_request(token: contextvars.Token[RequestMark | None]) -> None:
    _web_request.reset(token)


def _where() -> str:
    request = current_web_request()
    if request is not None:
        view = request.view_name() or "(unknown view)"
        return (
            f" It was called from the {request.framework} view '{view}' while handling an "
            "ordinary web request, which has no durable context. Trigger a Restate handler "
            f"through the ingress client instead ({request.client_hint}.service(...).call(...) "
            "or .send(...)) and do the durable work in that handler"
        )
    thread = threading.current_thread()
    return (
        f" It was called from ordinary code (thread '{thread.name}'). Trigger a Restate handler "
        "through the ingress client (restate_web.ingress.IngressClient) and do the durable work "
        "in that handler"
    )


def ensure_durable_context(what: str | None = None) -> Any:
    """The running handler's Restate context; raises ``DurableContextOutsideHandler`` if none."""
    ctx = current_restate_context()
    if ctx is None:
        name = what or "this code"
        raise DurableContextOutsideHandler(
            f"{name} is durable-only: it must run inside a Restate handler.{_where()}."
        )
    return ctx


def durable_only(func: F) -> F:
    """Mark ``func`` (sync or async) as durable-only: calling it outside a handler raises."""
    name = f"{getattr(func, '__qualname__', func)!s}()"

    if inspect.iscoroutinefunction(func):
        coroutine = cast(Callable[..., Awaitable[Any]], func)

        @functools.wraps(func)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            ensure_durable_context(name)
            return await coroutine(*args, **kwargs)

        return cast(F, async_wrapper)

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ensure_durable_context(name)
        return func(*args, **kwargs)

    return cast(F, wrapper)


# --- leaked contexts -------------------------------------------------------------------------

# The public API of the SDK's context objects: every method that reads or writes the journal.
_CONTEXT_METHODS = (
    "get",
    "state_keys",
    "set",
    "clear",
    "clear_all",
    "request",
    "scope",
    "signal",
    "resolve_signal",
    "reject_signal",
    "random",
    "uuid",
    "time",
    "run",
    "run_typed",
    "sleep",
    "service_call",
    "service_send",
    "object_call",
    "object_send",
    "workflow_call",
    "workflow_send",
    "generic_call",
    "generic_send",
    "awakeable",
    "resolve_awakeable",
    "reject_awakeable",
    "promise",
    "key",
    "cancel_invocation",
    "attach_invocation",
)
_SCOPED_METHODS = (
    "service_call",
    "service_send",
    "object_call",
    "object_send",
    "workflow_call",
    "workflow_send",
)
_GUARD_MARK = "__restate_web_guard__"
_install_lock = threading.Lock()
_originals: list[tuple[type, str, Any]] = []


def _describe(ctx: Any) -> str:
    handler = getattr(ctx, "handler", None)
    tag = getattr(handler, "service_tag", None)
    where = f"'{getattr(tag, 'name', '?')}/{getattr(handler, 'name', '?')}'"
    invocation = getattr(getattr(ctx, "invocation", None), "invocation_id", None)
    return f"handler {where}" + (f" (invocation {invocation})" if invocation else "")


def _leak_error(ctx: Any, method: str) -> LeakedContextError:
    running = current_restate_context()
    if running is not None:
        situation = f" from inside another invocation, of {_describe(running)}"
    else:
        situation = ""
    return LeakedContextError(
        f"ctx.{method}() was called on the Restate context of {_describe(ctx)} outside that "
        f"handler{situation}. A context belongs to one invocation: it must not be stored in a "
        "global, passed to a background thread or used after its handler returned, or it "
        f"would read and write another invocation's journal.{_where()}."
    )


# --- durable steps inside a ctx.run action -----------------------------------------------------

# (context, action name) while a ctx.run action runs; the SDK copies context variables into the
# action (a task for async actions, an executor thread for sync ones), so this follows it.
_run_action: contextvars.ContextVar[tuple[Any, str] | None] = contextvars.ContextVar(
    "restate_web_run_action", default=None
)
# Reading these inside an action is harmless: they are not journal entries.
_ALLOWED_IN_RUN = frozenset({"key", "request"})


def _run_misuse_error(ctx: Any, method: str, action: str) -> Exception:
    # A TerminalError, so the run fails at once with this message instead of the SDK hanging
    # until the inactivity timeout and then retrying forever with a journal mismatch (RT0016).
    from restate.exceptions import TerminalError

    return TerminalError(
        f"ctx.{method}() was called inside the ctx.run action {action!r} of {_describe(ctx)}. "
        "A run action executes once and only its result is journaled, so durable steps "
        "(ctx.sleep, calls, sends, state, awakeables, nested ctx.run) cannot happen inside it. "
        "Do the durable step before or after ctx.run, and pass what the action needs as "
        "arguments (ctx.run_typed(name, action, options, *args)).",
        status_code=500,
    )


def _marking_action(ctx: Any, name: str, action: Any) -> Any:
    """Wrap a run action so that durable steps on ``ctx`` inside it are recognised."""
    if not callable(action):
        return action
    if inspect.iscoroutinefunction(action):

        @functools.wraps(action)
        async def async_action(*args: Any, **kwargs: Any) -> Any:
            token = _run_action.set((ctx, name))
            try:
                return await action(*args, **kwargs)
            finally:
                _run_action.reset(token)

        return async_action

    @functools.wraps(action)
    def sync_action(*args: Any, **kwargs: Any) -> Any:
        token = _run_action.set((ctx, name))
        try:
            return action(*args, **kwargs)
        finally:
            _run_action.reset(token)

    return sync_action


def _marking_run(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def run(self: Any, name: str, action: Any, *args: Any, **kwargs: Any) -> Any:
        return original(self, name, _marking_action(self, name, action), *args, **kwargs)

    return run


def _guarded(method: str, original: Callable[..., Any], owner: Callable[[Any], Any]) -> Any:
    @functools.wraps(original)
    def guarded(self: Any, *args: Any, **kwargs: Any) -> Any:
        ctx = owner(self)
        if current_restate_context() is not ctx:
            raise _leak_error(ctx, method)
        inside = _run_action.get()
        if inside is not None and inside[0] is ctx and method not in _ALLOWED_IN_RUN:
            raise _run_misuse_error(ctx, method, inside[1])
        return original(self, *args, **kwargs)

    setattr(guarded, _GUARD_MARK, True)
    return guarded


def install_context_guard(strict: bool = False) -> bool:
    """Make leaked Restate contexts raise ``LeakedContextError``, and durable steps inside a
    ``ctx.run`` action fail at once with a terminal error that says what to do. Idempotent.

    Call it in your Restate services module too (the web adapters install it in web apps).

    ``strict=True`` (for tests and development) also fails a handler at once, with the
    ``restate-web lint`` rule code and message, when it connects a socket, opens a file or
    starts a subprocess outside ``ctx.run`` (RW104), or creates a task with
    ``asyncio.create_task`` (RW301). See "Strict mode" at the end of this module.

    Returns False when restate-sdk is not installed (then no context can leak).
    """
    if strict:
        enable_strict_mode()
    with _install_lock:
        if _originals:
            return True
        if "restate" not in sys.modules and importlib.util.find_spec("restate") is None:
            return False
        module = importlib.import_module("restate.server_context")
        targets: list[tuple[type, tuple[str, ...], Callable[[Any], Any]]] = [
            (module.ServerInvocationContext, _CONTEXT_METHODS, lambda ctx: ctx),
        ]
        scoped = getattr(module, "ServerScopedContext", None)
        if scoped is not None:
            targets.append((scoped, _SCOPED_METHODS, lambda scope: scope.context))
        for cls, methods, owner in targets:
            for name in methods:
                original = cls.__dict__.get(name)
                if original is None or not callable(original):
                    continue
                _originals.append((cls, name, original))
                wrapped = _marking_run(original) if name in ("run", "run_typed") else original
                setattr(cls, name, _guarded(name, wrapped, owner))
        return True


_HANDLER_MODULE = "restate.server_context"


class _InstallWhenImported:
    """A ``sys.meta_path`` finder that installs the guard right after restate-sdk's context
    module is imported (it finds nothing itself: the usual finders load the module)."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname != _HANDLER_MODULE:
            return None
        with contextlib.suppress(ValueError):
            sys.meta_path.remove(self)  # once: the next find_spec below must not come back here
        spec = importlib.util.find_spec(fullname)
        loader = getattr(spec, "loader", None)
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        load = loader.exec_module

        def exec_module(module: types.ModuleType) -> None:
            load(module)
            install_context_guard()

        loader.exec_module = exec_module
        return spec


def install_context_guard_where_handlers_run() -> None:
    """``install_context_guard()`` in processes that run Restate handlers, and only there.

    If restate-sdk is already imported the guard is installed now; otherwise when the SDK is
    first imported (a ``sys.meta_path`` hook, which costs nothing until then). A web worker
    that never imports the SDK does not pay for importing it, and its classes stay unpatched.
    What the web adapters call (setting ``GUARD_CONTEXTS``). Idempotent.
    """
    if "restate" in sys.modules:
        install_context_guard()
        return
    with _install_lock:
        if not any(isinstance(finder, _InstallWhenImported) for finder in sys.meta_path):
            sys.meta_path.insert(0, _InstallWhenImported())


def uninstall_context_guard() -> None:
    """Undo ``install_context_guard`` (strict mode included)."""
    disable_strict_mode()
    with _install_lock:
        while _originals:
            cls, name, original = _originals.pop()
            setattr(cls, name, original)


def context_guard_installed() -> bool:
    return bool(_originals)


# --- strict mode: replay hazards caught at run time (restate-web lint's rules) ---------------
#
# An audit hook (sys.addaudithook) sees every socket connection, file open and subprocess of
# the process; inside a handler and outside a ctx.run action each of them is I/O that runs
# again on replay (RW104). asyncio.create_task is wrapped for RW301. Audit hooks cannot be
# removed, so the hook is added once and `_strict_enabled` switches it.

_strict_enabled = False
_strict_hook_added = False
_strict_lock = threading.Lock()
_in_strict_check: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "restate_web_strict_check", default=False
)
_STRICT_EVENTS = frozenset({"socket.connect", "open", "subprocess.Popen"})
_create_task_patched = False


def strict_mode_enabled() -> bool:
    return _strict_enabled


def enable_strict_mode() -> None:
    """Turn on the run-time replay-hazard checks (``install_context_guard(strict=True)``)."""
    global _strict_enabled, _strict_hook_added, _create_task_patched
    import asyncio

    with _strict_lock:
        if not _strict_hook_added:
            sys.addaudithook(_strict_audit_hook)
            _strict_hook_added = True
        if not _create_task_patched:
            asyncio.create_task = _strict_create_task
            _create_task_patched = True
        _strict_enabled = True


def disable_strict_mode() -> None:
    global _strict_enabled, _create_task_patched
    import asyncio.tasks

    with _strict_lock:
        _strict_enabled = False
        if _create_task_patched:
            asyncio.create_task = asyncio.tasks.create_task
            _create_task_patched = False


def _handler_outside_run() -> Any:
    """The running handler's context when code runs in it outside a ctx.run action."""
    if _run_action.get() is not None:
        return None
    return current_restate_context()


def _hazard_error(code: str, what: str, ctx: Any) -> Exception:
    from restate.exceptions import TerminalError

    from .lint._rules import message

    return TerminalError(f"{code} {message(code, f'`{what}` in {_describe(ctx)}')}", 500)


def _python_owned_paths() -> tuple[str, ...]:
    """Where Python and installed packages live: files opened there are the interpreter's and
    the libraries' own (the standard library, site-packages), not the handler's I/O."""
    import site
    import sysconfig

    found = {sys.prefix, sys.base_prefix, sys.exec_prefix, *sysconfig.get_paths().values()}
    found.update(site.getsitepackages())
    found.add(site.getusersitepackages())
    return tuple(os.path.join(os.path.abspath(path), "") for path in found if path)


# Imports, bytecode caches and tracebacks (linecache) read the project's own code files.
_CODE_SUFFIXES = (".py", ".pyc", ".pyi", ".pth", ".so", ".pyd")
_PYTHON_OWNED: tuple[str, ...] = ()


def _open_is_handler_io(path: Any) -> bool:
    """Whether a file open is I/O of the handler's: decided by what is opened, not by who.

    File descriptors, Python's and the installed packages' own files and code files are not
    (imports, tracebacks and libraries reading their data open those); anything else is.
    """
    global _PYTHON_OWNED
    if isinstance(path, int):
        return False
    name = os.path.abspath(os.fsdecode(path))
    if name.endswith(_CODE_SUFFIXES):
        return False
    if not _PYTHON_OWNED:
        _PYTHON_OWNED = _python_owned_paths()
    return not name.startswith(_PYTHON_OWNED)


def _strict_audit_hook(event: str, args: tuple[Any, ...]) -> None:
    if not _strict_enabled or event not in _STRICT_EVENTS or _in_strict_check.get():
        return
    token = _in_strict_check.set(True)
    try:
        ctx = _handler_outside_run()
        if ctx is None:
            return
        if event == "open":
            if not _open_is_handler_io(args[0]):
                return
            what = f"open({args[0]!r}, {args[1]!r})" if args[1] else f"open({args[0]!r})"
        elif event == "socket.connect":
            what = f"socket.connect({args[1]!r})"
        else:
            what = f"subprocess.Popen({args[1]!r})"
        raise _hazard_error("RW104", what, ctx)
    finally:
        _in_strict_check.reset(token)


def _sdk_coroutine(coro: Any) -> bool:
    """Whether a coroutine is the SDK's (or ours): the SDK schedules its own futures and
    ``ctx.run`` actions as tasks while a handler runs; those are not the handler's concurrency."""
    code = getattr(coro, "cr_code", None)
    if code is None:
        return False
    return str(code.co_filename).startswith(_package_dirs())


@functools.cache
def _package_dirs() -> tuple[str, ...]:
    dirs = [os.path.join(os.path.dirname(__file__), "")]
    spec = importlib.util.find_spec("restate")
    if spec is not None and spec.submodule_search_locations:
        dirs.extend(os.path.join(path, "") for path in spec.submodule_search_locations)
    return tuple(dirs)


def _strict_create_task(coro: Any, *args: Any, **kwargs: Any) -> Any:
    import asyncio.tasks

    ctx = None if _sdk_coroutine(coro) or not _strict_enabled else _handler_outside_run()
    if ctx is not None:
        if inspect.iscoroutine(coro):
            coro.close()  # never scheduled: do not warn that it was never awaited
        raise _hazard_error("RW301", "asyncio.create_task()", ctx)
    return asyncio.tasks.create_task(coro, *args, **kwargs)
