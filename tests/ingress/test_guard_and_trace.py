"""The in-handler guard, fired inside a real Restate handler, and W3C trace propagation."""

from __future__ import annotations

import sys

import pytest
from opentelemetry.sdk.trace import TracerProvider

from restate_web.ingress import (
    AsyncIngressClient,
    IngressClient,
    InvocationFailed,
)


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_guard_fires_inside_a_real_handler(restate, kind):
    outcome = restate.service("Greeter").call("useIngressInside", kind)
    assert outcome["error"] == "IngressInHandlerError"
    message = outcome["message"]
    assert "inside the Restate handler 'Greeter/useIngressInside'" in message
    assert "ctx.service_call" in message and "ctx.resolve_awakeable" in message


def test_guard_does_not_fire_outside_handlers(restate):
    # Importing the SDK (the test services module did) must not make ordinary code look "inside".
    import restate as sdk  # noqa: F401

    assert "restate.server_context" in sys.modules  # the guard really has to look
    assert restate.service("Greeter").call("greet", "outside") == "Hello outside"


def test_traceparent_of_active_span_reaches_the_handler(ingress_url, loop_thread):
    tracer = TracerProvider().get_tracer("restate-web-tests")
    with IngressClient(ingress_url) as client, tracer.start_as_current_span("checkout") as span:
        seen = client.service("Greeter").call("headers")
    trace_id = format(span.get_span_context().trace_id, "032x")
    assert seen["traceparent"].split("-")[1] == trace_id
    assert "baggage" not in seen

    async def in_loop() -> tuple[str, dict[str, str]]:
        async with AsyncIngressClient(ingress_url) as aclient:
            with tracer.start_as_current_span("async-checkout") as aspan:
                headers = await aclient.service("Greeter").call("headers")
        return format(aspan.get_span_context().trace_id, "032x"), headers

    async_trace_id, async_seen = loop_thread.run(in_loop())
    assert async_seen["traceparent"].split("-")[1] == async_trace_id


def test_explicit_traceparent_wins(restate):
    parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    seen = restate.service("Greeter").call("headers", headers={"traceparent": parent})
    assert seen["traceparent"] == parent


def test_no_traceparent_without_active_span(restate):
    assert "traceparent" not in restate.service("Greeter").call("headers")


@pytest.mark.parametrize("handler", ["sleepInsideRun", "stateInsideSyncRun"])
def test_durable_step_inside_run_fails_at_once_with_what_to_do(restate, handler):
    """Without the guard this hangs until the inactivity timeout, then retries forever with a
    journal mismatch (observed with restate-sdk 1.3 / restate-server 1.7)."""
    with pytest.raises(InvocationFailed) as caught:
        restate.service("Misuse").call(handler, timeout=60)
    message = caught.value.message
    assert "inside the ctx.run action" in message
    assert "Do the durable step before or after ctx.run" in message


def test_correct_run_use_is_untouched_by_the_guard(restate):
    assert restate.service("Misuse").call("plainRun", 21) == 42
