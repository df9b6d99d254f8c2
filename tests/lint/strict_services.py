"""Restate services for the strict-mode guard (``install_context_guard(strict=True)``).

Each ``bad_*`` handler does, on purpose, what restate-web lint reports statically; with strict
mode the real SDK invocation must fail at once with the same rule code and message. The
``good_*`` handlers do the same things the right way and must be left alone.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import tempfile
import traceback
from datetime import timedelta
from pathlib import Path

import restate
from restate import Context

from restate_web.guards import install_context_guard

install_context_guard(strict=True)

strict = restate.Service("Strict")


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _connect(port: int) -> str:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except OSError as error:  # nothing listens: the connection itself was allowed
        return f"refused: {type(error).__name__}"
    return "connected"


def _write(path: str) -> str:
    Path(path).write_text("written")
    return "written"


@strict.handler("badConnect")
async def bad_connect(ctx: Context) -> str:
    return _connect(_closed_port())  # noqa: RW104 (the misuse under test)


@strict.handler("goodConnect")
async def good_connect(ctx: Context) -> str:
    port = await ctx.run_typed("port", _closed_port)
    return await ctx.run_typed("connect", _connect, port=port)


@strict.handler("badOpen")
async def bad_open(ctx: Context, path: str) -> str:
    with open(path, "w") as handle:  # noqa: RW104, ASYNC230 (the misuse under test)
        handle.write("x")
    return "written"


@strict.handler("goodOpen")
async def good_open(ctx: Context, path: str) -> str:
    return await ctx.run_typed("write", _write, path=path)


@strict.handler("badSubprocess")
async def bad_subprocess(ctx: Context) -> str:
    subprocess.run([sys.executable, "-c", "pass"], check=True)  # noqa: RW104, ASYNC221
    return "ran"


@strict.handler("goodSubprocess")
async def good_subprocess(ctx: Context) -> int:
    def run() -> int:
        return subprocess.run([sys.executable, "-c", "pass"], check=True).returncode

    return await ctx.run_typed("run", run)


@strict.handler("badTask")
async def bad_task(ctx: Context) -> str:
    task = asyncio.create_task(asyncio.sleep(0))  # noqa: RW301 (the misuse under test)
    await task
    return "done"


@strict.handler("everydayPython")
async def everyday_python(ctx: Context) -> str:
    """Imports, tracebacks and the SDK's own tasks open files and create tasks: not I/O."""
    import email.mime.text  # a lazy import reads .py/.pyc files

    try:
        raise ValueError("formatted")
    except ValueError:
        text = traceback.format_exc()  # reads source lines through linecache
    await ctx.sleep(timedelta(milliseconds=1))
    a, b = ctx.run_typed("a", lambda: "a"), ctx.run_typed("b", lambda: "b")
    await restate.gather(a, b)
    first, second = await a, await b
    return f"{email.mime.text.__name__} {'formatted' in text} {first}{second}"


@strict.handler("tempDir")
async def temp_dir(ctx: Context) -> str:
    return await ctx.run_typed("mkdtemp", tempfile.mkdtemp)


app = restate.app(services=[strict])
