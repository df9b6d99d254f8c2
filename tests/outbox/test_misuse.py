"""``outbox=True`` where Django is not set up: a plain client in a script or a FastAPI app.
The row cannot be written with Django's ORM, and the error says what to do instead. It runs
in a child process, where nothing has configured Django (settings are process-wide)."""

from __future__ import annotations

import subprocess
import sys

from .conftest import ROOT

SCRIPT = """
import asyncio
from restate_web.ingress import AsyncIngressClient, IngressClient
from restate_web.outbox import OutboxError

try:
    IngressClient("http://127.0.0.1:9").object("Order", "1").send("create", {}, outbox=True)
except OutboxError as error:
    print("sync:", error)

async def main():
    client = AsyncIngressClient("http://127.0.0.1:9")
    try:
        await client.object("Order", "1").send("create", {}, outbox=True)
    except OutboxError as error:
        print("async:", error)
    await client.aclose()

asyncio.run(main())
"""


def test_outbox_true_without_django_says_to_set_it_up_or_pass_a_session() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    for prefix in ("sync:", "async:"):
        line = next(line for line in done.stdout.splitlines() if line.startswith(prefix))
        assert "INSTALLED_APPS" in line and "restate_web.adapters.django" in line
        assert "outbox=session" in line
