"""The trivial handlers benchmarks call: nothing but the round trip through Restate is measured."""

from __future__ import annotations

from typing import Any

import restate
from restate import Context

bench = restate.Service("Bench")


@bench.handler()
async def echo(ctx: Context, value: Any) -> Any:
    return value


app = restate.app([bench])
