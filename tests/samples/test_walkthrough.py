"""The `make demo` walkthrough, for every sample app, as part of the test suite."""

from __future__ import annotations

import pytest

from sample_apps.common.stack import checkout_stack
from sample_apps.common.walkthrough import Walkthrough


@pytest.mark.timeout(300)
@pytest.mark.parametrize("framework", ["fastapi", "flask", "django"])
def test_checkout_walkthrough(framework):
    lines: list[str] = []
    with checkout_stack(framework) as stack:
        walkthrough = Walkthrough(stack.app_url, stack.simulator_url, print_fn=lines.append)
        try:
            ok = walkthrough.run_all()
        finally:
            walkthrough.close()
        pids = [pid for pid in stack.processes().values() if pid]
    assert ok, "\n".join(lines)
    assert [r.title for r in walkthrough.results] == [
        "an order replayed with the same Idempotency-Key",
        "a paid order",
        "a declined card",
        "a duplicated webhook",
        "a guard firing on misuse",
    ]
    for pid in pids:  # nothing left running
        with pytest.raises(ProcessLookupError):
            import os

            os.kill(pid, 0)
