"""One set of scenarios, run against FastAPI, Flask and Django (test clients and real server
processes; sync and async views), all calling the session's real restate-server."""

from __future__ import annotations

import uuid

import pytest

from restate_web.adapters import KeyScope, derive_key
from restate_web.adapters._idempotency import PROBLEM_MALFORMED, PROBLEM_MISSING
from restate_web.ingress._core import Target

PROBLEM_JSON = "application/problem+json"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def total(ingress, counter_key: str) -> int:
    # An exclusive handler queues behind every pending `add` of the object: a barrier.
    ingress.object("Counter", counter_key).call("key")
    return ingress.object("Counter", counter_key).call("get")


def test_replayed_post_with_same_key_starts_one_invocation(web, kind, ingress):
    counter, key = unique("replay"), str(uuid.uuid4())
    first = web.post(f"/{kind}/count/{counter}", {"Idempotency-Key": key})
    again = web.post(f"/{kind}/count/{counter}", {"Idempotency-Key": key})
    assert first.status == again.status == 200, (first.body, again.body)
    a, b = first.json(), again.json()
    assert a["invocation_id"] == b["invocation_id"]
    assert (a["status"], b["status"]) == ("Accepted", "PreviouslyAccepted")
    assert a["total"] == b["total"] == 1
    assert total(ingress, counter) == 1


def test_sf_string_and_bare_token_are_the_same_key(web, kind, ingress):
    counter, key = unique("sf"), str(uuid.uuid4())
    quoted = web.post(f"/{kind}/count/{counter}", {"Idempotency-Key": f'"{key}"'})
    bare = web.post(f"/{kind}/count/{counter}", {"Idempotency-Key": key})
    assert quoted.json()["invocation_id"] == bare.json()["invocation_id"]
    assert total(ingress, counter) == 1


def test_fifty_concurrent_replays_execute_once(web, kind, ingress):
    counter, key = unique("storm"), str(uuid.uuid4())
    replies = web.post_many(f"/{kind}/count/{counter}", {"Idempotency-Key": key}, 50)
    assert [r.status for r in replies] == [200] * 50, [r.body for r in replies if r.status != 200]
    assert len({r.json()["invocation_id"] for r in replies}) == 1
    assert {r.json()["total"] for r in replies} == {1}
    assert sorted(r.json()["status"] for r in replies).count("Accepted") <= 1
    assert total(ingress, counter) == 1


def test_two_principals_with_the_same_key_get_separate_invocations(web, kind, ingress):
    counter, key = unique("users"), str(uuid.uuid4())
    path = f"/{kind}/count/{counter}"
    alice = web.post(path, {"Idempotency-Key": key, "X-User": "alice"}).json()
    bob = web.post(path, {"Idempotency-Key": key, "X-User": "bob"}).json()
    alice_again = web.post(path, {"Idempotency-Key": key, "X-User": "alice"}).json()
    assert alice["invocation_id"] != bob["invocation_id"]
    assert alice_again["invocation_id"] == alice["invocation_id"]
    assert total(ingress, counter) == 2


def test_each_call_in_a_request_gets_its_own_key(web, kind, ingress):
    counter, key = unique("twice"), str(uuid.uuid4())
    first = web.post(f"/{kind}/count-twice/{counter}", {"Idempotency-Key": key}).json()
    again = web.post(f"/{kind}/count-twice/{counter}", {"Idempotency-Key": key}).json()
    ids = [c["invocation_id"] for c in first["calls"]]
    assert ids[0] != ids[1]
    assert [c["total"] for c in first["calls"]] == [1, 2]
    assert [c["invocation_id"] for c in again["calls"]] == ids
    assert [c["total"] for c in again["calls"]] == [1, 2]
    assert total(ingress, counter) == 2


def test_without_the_header_calls_carry_no_key(web, kind, ingress):
    counter = unique("nokey")
    first = web.post(f"/{kind}/count/{counter}").json()
    second = web.post(f"/{kind}/count/{counter}").json()
    assert first["invocation_id"] != second["invocation_id"]
    assert first["attachable"] is second["attachable"] is False
    assert total(ingress, counter) == 2


@pytest.mark.parametrize("value", ["", '""'])
def test_an_empty_header_counts_as_absent(web, kind, value):
    reply = web.post(f"/{kind}/count/{unique('empty')}", {"Idempotency-Key": value})
    assert reply.status == 200
    assert reply.json()["attachable"] is False


def test_an_explicit_key_on_the_call_wins(web, kind, ingress):
    counter = unique("explicit")
    first = web.post(f"/{kind}/explicit/{counter}", {"Idempotency-Key": "one"}).json()
    other = web.post(f"/{kind}/explicit/{counter}", {"Idempotency-Key": "two"}).json()
    none = web.post(f"/{kind}/explicit/{counter}").json()
    assert first["invocation_id"] == other["invocation_id"] == none["invocation_id"]
    assert total(ingress, counter) == 1


MALFORMED = {
    "too-long": "k" * 256,
    "list": '"a", "b"',
    "two-tokens": "a,b",
    "space": "a b",
    "tab": "ab\tcd",
    "unterminated": '"abc',
    "parameters": '"abc";x=1',
}


@pytest.mark.parametrize("value", list(MALFORMED.values()), ids=list(MALFORMED))
def test_a_malformed_key_is_a_problem_and_the_view_does_not_run(web, kind, ingress, value):
    counter = unique("malformed")
    reply = web.post(f"/{kind}/count/{counter}", {"Idempotency-Key": value})
    assert reply.status == 400
    assert reply.headers["content-type"] == PROBLEM_JSON
    problem = reply.json()
    assert problem["type"] == PROBLEM_MALFORMED
    assert problem["status"] == 400
    assert problem["title"] == "Malformed idempotency key"
    assert total(ingress, counter) == 0


def test_several_idempotency_headers_are_a_problem(web, kind, ingress):
    counter = unique("several")
    reply = web.post(
        f"/{kind}/count/{counter}", [("Idempotency-Key", "a"), ("Idempotency-Key", "b")]
    )
    assert reply.status == 400
    assert reply.json()["type"] == PROBLEM_MALFORMED
    assert total(ingress, counter) == 0


def test_a_route_can_require_the_key(web, kind, ingress):
    counter = unique("required")
    missing = web.post(f"/{kind}/required/{counter}")
    assert missing.status == 400
    assert missing.headers["content-type"] == PROBLEM_JSON
    assert missing.json()["type"] == PROBLEM_MISSING
    assert "Idempotency-Key" in missing.json()["detail"]
    assert total(ingress, counter) == 0
    ok = web.post(f"/{kind}/required/{counter}", {"Idempotency-Key": "k"})
    assert ok.status == 200
    assert total(ingress, counter) == 1


def test_only_allowed_headers_and_trace_context_reach_the_journal(web, kind):
    traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    reply = web.post(
        f"/{kind}/headers",
        {
            "Cookie": "session=secret",
            "Authorization": "Bearer secret",
            "X-Allowed": "yes",
            "X-Other": "no",
            "traceparent": traceparent,
            "tracestate": "vendor=1",
        },
    )
    assert reply.status == 200, reply.body
    journaled = reply.json()["headers"]
    assert journaled["x-allowed"] == "yes"
    assert journaled["traceparent"] == traceparent
    assert journaled["tracestate"] == "vendor=1"
    for secret in ("cookie", "authorization", "x-other"):
        assert secret not in journaled
    assert "secret" not in str(journaled)


def test_derived_keys_are_the_same_in_every_framework(web, kind):
    path = f"/{kind}/derived-keys/orders/17"
    reply = web.post(path, {"Idempotency-Key": "abc", "X-User": "alice"})
    assert reply.status == 200, reply.body
    scope = KeyScope("POST", path, "user:alice")
    counter = Target("object", "Counter", "add", "k1")
    greeter = Target("service", "Greeter", "greet")
    assert reply.json() == {
        "keys": [
            derive_key(scope, "abc", counter, 1),
            derive_key(scope, "abc", counter, 2),
            derive_key(scope, "abc", greeter, 1),
        ],
        "principal": "user:alice",
    }
    other_path = web.post(f"/{kind}/derived-keys/orders/18", {"Idempotency-Key": "abc"}).json()
    assert not set(other_path["keys"]) & set(reply.json()["keys"])


def test_durable_only_code_in_a_view_raises_naming_the_view(web, kind):
    reply = web.post(f"/{kind}/durable-only")
    assert reply.status == 200, reply.body
    result = reply.json()
    assert result["error"] == "DurableContextOutsideHandler"
    assert "charge() is durable-only" in result["message"]
    assert f"{kind}_durable_only" in result["message"]
    assert "ingress client" in result["message"]


def test_a_leaked_context_used_in_a_view_raises(web_in_process, kind, ingress, in_process_services):
    name = unique("leak")
    assert ingress.service("AdapterLeaky").call("leak", name) == "leaked"
    reply = web_in_process.post(f"/{kind}/use-leaked/{name}")
    assert reply.status == 200, reply.body
    result = reply.json()
    assert result["error"] == "LeakedContextError"
    assert "'AdapterLeaky/leak'" in result["message"]
    assert f"{kind}_use_leaked" in result["message"]
