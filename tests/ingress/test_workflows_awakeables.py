"""Workflows, awakeables and invocation handles against the real server, both clients."""

from __future__ import annotations

import uuid

import pytest

from restate_web.ingress import IngressError, InvocationFailed, NotFound, NotReady


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def test_workflow_submit_shared_handlers_output_and_attach(restate):
    key = unique("ada@example.com")
    signup = restate.workflow("Signup", key)
    first = signup.submit("ada@example.com")
    assert first.status == "Accepted"
    again = signup.submit("ada@example.com")
    assert again.status == "PreviouslyAccepted"
    assert again.invocation_id == first.invocation_id

    # The run is waiting on a durable promise; shared handlers still answer.
    status = signup.call("get_status")
    assert status in ("not started", "waiting for confirmation")
    with pytest.raises(NotReady) as not_ready:
        signup.output()
    assert not_ready.value.status == 470

    signup.call("confirm", "support")
    expected = {"email": "ada@example.com", "key": key, "confirmed_by": "support"}
    assert signup.attach() == expected
    assert signup.output() == expected
    assert first.attach() == expected
    assert signup.call("get_status") == "confirmed"


def test_workflow_submit_refuses_idempotency_key(restate):
    with pytest.raises(ValueError, match="the workflow key already makes the run unique"):
        restate.workflow("Signup", unique("k")).submit("x", idempotency_key="nope")


def test_unknown_workflow_output_is_not_found(restate):
    with pytest.raises(NotFound):
        restate.workflow("Signup", unique("never-submitted")).output()


def test_awakeable_resolve_completes_the_waiting_handler(restate):
    wf = restate.workflow("PaymentWait", unique("pay"))
    wf.submit(4200)
    awakeable_id = wf.call("awakeable_id")
    assert awakeable_id.startswith(("sign_", "prom_"))
    restate.awakeable(awakeable_id).resolve({"paid": True, "by": "card"})
    assert wf.attach() == {"amount": 4200, "paid": True, "result": {"paid": True, "by": "card"}}


def test_awakeable_reject_fails_the_wait_with_the_reason(restate):
    wf = restate.workflow("PaymentWait", unique("declined"))
    wf.submit(100)
    awakeable_id = wf.call("awakeable_id")
    restate.awakeable(awakeable_id).reject("card declined")
    assert wf.attach() == {"amount": 100, "paid": False, "reason": "card declined"}


def test_awakeable_second_completion_is_accepted_and_first_wins(restate):
    wf = restate.workflow("PaymentWait", unique("twice"))
    wf.submit(1)
    awakeable_id = wf.call("awakeable_id")
    restate.awakeable(awakeable_id).resolve({"n": 1})
    restate.awakeable(awakeable_id).resolve({"n": 2})  # a redelivered webhook: no error
    assert wf.attach()["result"] == {"n": 1}


def test_bogus_awakeable_id_is_a_400_from_the_ingress(restate):
    with pytest.raises(IngressError) as caught:
        restate.awakeable("sign_bogus").resolve({"x": 1})
    assert caught.value.status == 400
    assert caught.value.source == "ingress"
    assert not isinstance(caught.value, InvocationFailed)


def test_invocation_handle_attach_and_output(restate):
    counter = restate.object("Counter", unique("inv"))
    sent = counter.send("add", 3, idempotency_key="one")
    handle = restate.invocation(sent.invocation_id)
    assert handle.attach() == 3
    assert handle.output() == 3


def test_unknown_invocation_is_not_found(restate):
    with pytest.raises(IngressError) as caught:
        restate.invocation("inv_1aDcgkwRzurf0jzQY1b8R3vgX6Bvo7Skui").output()
    assert caught.value.status in (400, 404)
