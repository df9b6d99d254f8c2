"""Misuse at the call raises a clear error there, and nothing is sent (issue #10, defects 8
and 14): header values HTTP cannot carry, and keyword arguments a method does not take."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest

from restate_web.ingress import AsyncIngressClient, IngressClient
from tests.conftest import LoopThread


@pytest.mark.parametrize(
    "key", ["caf\u00e9-1", "line\nbreak", "tab\there", "\u2603", "x" * 513, ""]
)
def test_idempotency_key_that_http_cannot_carry_is_a_value_error(make_client, key):
    sent: list[httpx.Request] = []
    client = make_client(record=sent)
    with pytest.raises(ValueError, match="idempotency_key"):
        client.service("Greeter").send("greet", "x", idempotency_key=key)
    with pytest.raises(ValueError, match="idempotency_key"):
        client.service("Greeter").attach("greet", idempotency_key=key)
    assert sent == []


@pytest.mark.parametrize("value", ["caf\u00e9", "a\r\nx-injected: 1", "nul\x00"])
def test_per_call_header_values_are_checked(make_client, value):
    sent: list[httpx.Request] = []
    client = make_client(record=sent)
    with pytest.raises(ValueError, match=r"headers\['X-Note'\]") as caught:
        client.service("Greeter").call("greet", "x", headers={"X-Note": value})
    assert value not in str(caught.value), "a header value may be a secret: not repeated"
    assert sent == []


def test_idempotency_key_given_as_a_header_is_checked_as_such(make_client):
    client = make_client()
    with pytest.raises(ValueError, match=r"(?i)idempotency-key"):
        client.service("Greeter").call("greet", "x", headers={"Idempotency-Key": "\u00e9"})


def test_client_headers_and_token_are_checked_when_the_client_is_made(ingress_url):
    with pytest.raises(ValueError, match=r"headers\['X-Tenant'\]"):
        IngressClient(ingress_url, headers={"X-Tenant": "M\u00fcller"})
    with pytest.raises(ValueError, match="not a valid HTTP header name"):
        IngressClient(ingress_url, headers={"bad name": "x"})
    with pytest.raises(ValueError, match="token"):
        IngressClient(ingress_url, token="secret\n")


def test_valid_headers_and_keys_still_work(make_client):
    client = make_client()
    echoed = client.service("Greeter").call(
        "headers", headers={"X-Note": "plain ascii ~!"}, idempotency_key="k-" + "\u0041" * 10
    )
    assert echoed["x-note"] == "plain ascii ~!"


@pytest.mark.parametrize(
    ("method", "misspelt"),
    [
        (lambda h, kw: h.service("Greeter").call("greet", "x", **kw), "idempotency_kye"),
        (lambda h, kw: h.service("Greeter").send("greet", "x", **kw), "idempotency_kye"),
        (lambda h, kw: h.object("Counter", "k").call("get", **kw), "respone_type"),
        (lambda h, kw: h.workflow("Signup", "k").submit("x", **kw), "dealy"),
        (lambda h, kw: h.workflow("Signup", "k").attach(**kw), "timout"),
        (lambda h, kw: h.workflow("Signup", "k").output(**kw), "bogus"),
        (lambda h, kw: h.invocation("inv_1").attach(**kw), "timeuot"),
        (lambda h, kw: h.service("Greeter").attach("greet", idempotency_key="k", **kw), "dela"),
        (lambda h, kw: h.awakeable("sign_1").resolve(1, **kw), "content_typ"),
        (lambda h, kw: h.awakeable("sign_1").reject("no", **kw), "reason_"),
    ],
)
def test_unknown_keyword_arguments_raise_type_error(make_client, method, misspelt):
    sent: list[httpx.Request] = []
    client = make_client(record=sent)
    with pytest.raises(TypeError, match=misspelt):
        method(client, {misspelt: 1})
    assert sent == []


def test_type_error_suggests_the_intended_argument(make_client):
    client = make_client()
    with pytest.raises(TypeError, match="did you mean 'idempotency_key'"):
        client.service("Greeter").send("greet", "x", idempotency_kye="order-1")


def test_delay_is_not_an_option_of_call(make_client):
    client = make_client()
    with pytest.raises(TypeError, match="'delay'"):
        client.service("Greeter").call("greet", "x", delay=timedelta(seconds=1))


def test_bad_timeout_is_refused_at_the_call(make_client):
    client = make_client()
    with pytest.raises(TypeError, match="timeout"):
        client.service("Greeter").call("greet", "x", timeout="5")
    with pytest.raises(ValueError, match="timeout"):
        client.service("Greeter").call("greet", "x", timeout=0)


def test_async_methods_check_arguments_when_called_not_when_awaited(
    ingress_url: str, loop_thread: LoopThread
) -> None:
    async def scenario() -> Any:
        async with AsyncIngressClient(ingress_url) as client:
            with pytest.raises(TypeError, match="idempotency_kye"):
                client.service("Greeter").call("greet", "x", idempotency_kye="k")  # not awaited
            with pytest.raises(ValueError, match="idempotency_key"):
                client.service("Greeter").send("greet", "x", idempotency_key="\u00e9")
            return await asyncio.sleep(0)

    loop_thread.run(scenario())
