"""Restate SDK services served from the test process itself (hypercorn in a thread).

The guard tests need a real Restate context in the same process as the web apps: a handler
here leaks its context into ``apps.common.LEAKED`` the way a user's code might (a global), and
the web views then try to use it.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import restate
from hypercorn.asyncio import serve
from hypercorn.config import Config
from restate import Context

from restate_web.guards import LeakedContextError, ensure_durable_context
from restate_web.testing import free_port

from .apps import common

leaky = restate.Service("AdapterLeaky")


@leaky.handler()
async def leak(ctx: Context, name: str) -> str:
    """Misuse on purpose: keep the context after the handler returns."""
    common.LEAKED[name] = ctx
    return "leaked"


@leaky.handler("useLeaked")
async def use_leaked(ctx: Context, name: str) -> dict[str, Any]:
    """Another invocation reaching for a leaked context must not touch that journal."""
    try:
        common.LEAKED[name].set("hijacked", True)
    except LeakedContextError as error:
        return {"error": type(error).__name__, "message": str(error)}
    return {"error": None}


@leaky.handler("durableOnly")
async def durable_only(ctx: Context, amount: int) -> dict[str, Any]:
    """Durable-only code inside a handler works, and sees this handler's own context."""
    return {"result": common.charge(amount), "same_ctx": ensure_durable_context() is ctx}


sdk_app = restate.app([leaky])


class InProcessEndpoint:
    """Serves ``sdk_app`` on a free loopback port from a background thread."""

    def __init__(self) -> None:
        self.port = free_port()
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="sdk-endpoint", daemon=True)
        self._thread.start()
        if not self._ready.wait(30):
            raise RuntimeError("the in-process SDK endpoint did not start")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        config = Config()
        config.bind = [f"127.0.0.1:{self.port}"]
        config.loglevel = "WARNING"
        task = asyncio.ensure_future(serve(sdk_app, config, shutdown_trigger=self._stop.wait))  # type: ignore[arg-type]
        while not task.done():
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                await asyncio.sleep(0.05)
                continue
            writer.close()
            break
        self._ready.set()
        await task

    def close(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(15)
