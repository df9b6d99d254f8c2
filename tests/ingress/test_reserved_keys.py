"""Request-derived idempotency keys are reserved when the call is made, in program order
(issue #10, defect 1, client side; the adapters' RequestBinding is the real binding), and an
async client's method refuses a thread without an event loop instead of returning a coroutine
nobody awaits (defect 4).

``OrderedBinding`` is a CallBinding like the adapters' RequestBinding: the n-th call to a target
gets ``<request key>:<handler>:<n>``, and resolving a key waits for a "principal lookup" whose
duration the test chooses, so that concurrent calls finish resolving out of order.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from typing import Any

import httpx
import pytest

from restate_web.ingress import AsyncIngressClient, IngressClient, InvocationFailed
from restate_web.ingress._core import Target
from tests.conftest import AsyncRecordingTransport, LoopThread, RecordingTransport


class OrderedBinding:
    def __init__(self, request_key: str, lookup_seconds: Mapping[int, float] | None = None):
        self.request_key = request_key
        self.lookup_seconds = dict(lookup_seconds or {})
        self.ordinals: dict[Target, int] = {}

    def reserve_key(self, target: Target) -> Reserved | None:
        ordinal = self.ordinals[target] = self.ordinals.get(target, 0) + 1
        return Reserved(self, target, ordinal)

    def forwarded_headers(self) -> Mapping[str, str]:
        return {}


class Reserved:
    def __init__(self, binding: OrderedBinding, target: Target, ordinal: int) -> None:
        self.binding, self.target, self.ordinal = binding, target, ordinal

    def get(self) -> str:
        return f"{self.binding.request_key}:{self.target.handler}:{self.ordinal}"

    async def aget(self) -> str:
        await asyncio.sleep(self.binding.lookup_seconds.get(self.ordinal, 0))
        return self.get()


def body_and_key(requests: list[httpx.Request]) -> dict[str, str | None]:
    return {r.content.decode(): r.headers.get("idempotency-key") for r in requests}


def test_concurrent_calls_keep_their_keys_when_the_request_is_retried(
    ingress_url: str, loop_thread: LoopThread
) -> None:
    """A retried web request must give each call the key it had the first time; otherwise
    Restate answers y with x's result."""
    request_key = uuid.uuid4().hex
    sent: list[httpx.Request] = []

    async def handle_request(lookup_seconds: dict[int, float]) -> list[Any]:
        async with AsyncIngressClient(
            ingress_url, transport=AsyncRecordingTransport(sent)
        ) as client:
            view = client.with_binding(OrderedBinding(request_key, lookup_seconds))
            greeter = view.service("Greeter")
            return list(await asyncio.gather(greeter.call("echo", "x"), greeter.call("echo", "y")))

    # First the first call's key resolves last, then (the retry) the second call's.
    assert loop_thread.run(handle_request({1: 0.3})) == ["x", "y"]
    first = body_and_key(sent)
    sent.clear()
    assert loop_thread.run(handle_request({2: 0.3})) == ["x", "y"]
    assert (
        body_and_key(sent)
        == first
        == {
            '"x"': f"{request_key}:echo:1",
            '"y"': f"{request_key}:echo:2",
        }
    )


def test_sync_client_uses_the_reserved_key(ingress_url: str) -> None:
    sent: list[httpx.Request] = []
    binding = OrderedBinding(uuid.uuid4().hex)
    with IngressClient(ingress_url, transport=RecordingTransport(sent)) as client:
        greeter = client.with_binding(binding).service("Greeter")
        assert greeter.call("echo", 1) == 1
        assert greeter.call("echo", 2) == 2
    assert [r.headers["idempotency-key"] for r in sent] == [
        f"{binding.request_key}:echo:1",
        f"{binding.request_key}:echo:2",
    ]


def test_an_explicit_key_does_not_reserve(make_client: Any) -> None:
    sent: list[httpx.Request] = []
    binding = OrderedBinding(uuid.uuid4().hex)
    greeter = make_client(record=sent).with_binding(binding).service("Greeter")
    greeter.call("echo", "explicit", idempotency_key="mine-" + binding.request_key)
    greeter.call("echo", "derived")
    assert body_and_key(sent)['"derived"'] == f"{binding.request_key}:echo:1"
    assert sum(binding.ordinals.values()) == 1


def test_errors_carry_the_derived_key(make_client: Any) -> None:
    binding = OrderedBinding(uuid.uuid4().hex)
    greeter = make_client().with_binding(binding).service("Greeter")
    with pytest.raises(InvocationFailed) as caught:
        greeter.call("fail", 409)
    assert caught.value.idempotency_key == f"{binding.request_key}:fail:1"


def test_async_methods_refuse_a_thread_without_an_event_loop(
    ingress_url: str, loop_thread: LoopThread
) -> None:
    """Django's sync_to_async(helper)(request) hands sync code an async client: its send()
    must fail loudly there, not return a coroutine that is never awaited (a lost send)."""
    sent: list[httpx.Request] = []

    async def make() -> AsyncIngressClient:
        return AsyncIngressClient(ingress_url, transport=AsyncRecordingTransport(sent))

    client = loop_thread.run(make())
    binding = OrderedBinding("k")
    view = client.with_binding(binding)
    attempts = [
        lambda: view.service("Greeter").send("greet", "x"),
        lambda: view.service("Greeter").call("greet", "x"),
        lambda: view.object("Counter", "k").send("add", 1),
        lambda: view.workflow("Signup", "k").submit("x"),
        lambda: view.workflow("Signup", "k").attach(),
        lambda: view.invocation("inv_1").output(),
        lambda: view.awakeable("sign_1").resolve(1),
        lambda: view.service("Greeter").attach("greet", idempotency_key="k"),
    ]
    for attempt in attempts:
        with pytest.raises(RuntimeError, match="IngressClient"):
            attempt()
    assert binding.ordinals == {}, "nothing reserved for a call that was refused"
    loop_thread.run(client.aclose())
    assert sent == []


def test_async_methods_return_coroutines_and_send_when_awaited(
    ingress_url: str, loop_thread: LoopThread
) -> None:
    sent: list[httpx.Request] = []

    async def scenario() -> Any:
        async with AsyncIngressClient(
            ingress_url, transport=AsyncRecordingTransport(sent)
        ) as client:
            pending = client.service("Greeter").call("greet", "later")
            assert asyncio.iscoroutine(pending)
            await asyncio.sleep(0.05)
            assert sent == [], "nothing goes out before the coroutine is awaited"
            return await pending

    assert loop_thread.run(scenario()) == "Hello later"
    assert len(sent) == 1
