"""The services the cluster tests register: tests/restate_services.py plus ``ClusterEcho``,
which only clusters know (so a single server that lacks it answers 404 "service not found")."""

from __future__ import annotations

from typing import Any

import restate
from restate import Context

from tests.restate_services import counter, greeter, payment

cluster_echo = restate.Service("ClusterEcho")


@cluster_echo.handler()
async def echo(ctx: Context, value: Any) -> Any:
    return value


app = restate.app([greeter, counter, payment, cluster_echo])
