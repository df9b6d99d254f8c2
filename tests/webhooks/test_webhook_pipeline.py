"""Routing and response mapping of the webhook pipeline, with a fake ingress client.

Every scenario runs through both shells (handle and handle_async), which must agree.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

import pytest

from restate_web.ingress import (
    IngressClient,
    IngressError,
    IngressTimeout,
    IngressUnavailable,
    InvocationFailed,
    NotFound,
)
from restate_web.webhooks import (
    DeadLetter,
    Ignore,
    RejectAwakeable,
    ResolveAwakeable,
    SendToHandler,
    SubmitWorkflow,
    WebhookEndpoint,
    WebhookRequest,
    adyen_webhooks,
    stripe_webhooks,
)
from restate_web.webhooks._pipeline import (
    ResolveStep,
    StepOutcome,
    WebhookPlan,
    WebhookResponse,
    classify_failure,
    respond,
)

from .fake_ingress import Call, FakeIngress
from .webhook_support import NOW, URL, adyen_item, adyen_signed_body, clock

SECRET = "whsec_pipeline_test"
Runner = Callable[[WebhookEndpoint, WebhookRequest, FakeIngress], WebhookResponse]


def run_sync(endpoint: Any, request: WebhookRequest, client: FakeIngress) -> WebhookResponse:
    client.is_async = False
    response: WebhookResponse = endpoint.handle(request, client)
    return response


def run_async(endpoint: Any, request: WebhookRequest, client: FakeIngress) -> WebhookResponse:
    client.is_async = True
    response: WebhookResponse = asyncio.run(endpoint.handle_async(request, client))
    return response


@pytest.fixture(params=[run_sync, run_async], ids=["sync", "async"])
def run(request: pytest.FixtureRequest) -> Runner:
    runner: Runner = request.param
    return runner


def stripe_event(
    event_type: str = "payment_intent.succeeded",
    *,
    event_id: str = "evt_1",
    awakeable_id: str | None = "sign_1abc",
    **object_fields: Any,
) -> dict[str, Any]:
    metadata = {} if awakeable_id is None else {"restate_awakeable_id": awakeable_id}
    return {
        "id": event_id,
        "type": event_type,
        "data": {"object": {"id": "pi_1", "metadata": metadata, **object_fields}},
    }


def signed(document: Any, *, secret: str = SECRET, method: str = "POST") -> WebhookRequest:
    body = json.dumps(document).encode() if not isinstance(document, bytes) else document
    headers = stripe_webhooks(secret, now=clock()).verifier.sign_headers(body, timestamp=NOW)  # type: ignore[attr-defined]
    return WebhookRequest(method, URL, headers, body)


def endpoint(**kwargs: Any) -> WebhookEndpoint:
    routes = kwargs.pop(
        "routes",
        {
            "payment_intent.succeeded": ResolveAwakeable(),
            "payment_intent.payment_failed": RejectAwakeable(),
            "checkout.session.*": SendToHandler("Orders", "on_checkout"),
            "customer.created": SendToHandler("Customers", "created", key="data.object.id"),
            "invoice.created": SubmitWorkflow("Billing"),
            "charge.*": Ignore(),
        },
    )
    return WebhookEndpoint(stripe_webhooks(SECRET, now=clock()), routes, **kwargs)


def body_of(response: WebhookResponse) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(response.body)
    assert response.headers["Content-Type"] == "application/json"
    return document


def failing(error: BaseException, when: Callable[[Call], bool] = lambda call: True) -> FakeIngress:
    return FakeIngress(lambda call: error if when(call) else None)


def invalid_awakeable_error() -> IngressError:
    return IngressError(
        "bad awakeable id sign_1abc", status=400, code=400, source="ingress", operation="resolve"
    )


# ------------------------------------------------------------------ routing


def test_resolve_awakeable(run: Runner) -> None:
    client = FakeIngress()
    document = stripe_event()
    response = run(endpoint(), signed(document), client)
    assert response.status == 200 and body_of(response) == {"status": "processed"}
    assert client.calls == [("resolve", "sign_1abc", document)]


def test_reject_awakeable_with_provider_reason(run: Runner) -> None:
    client = FakeIngress()
    document = stripe_event(
        "payment_intent.payment_failed", last_payment_error={"message": "Your card was declined."}
    )
    assert run(endpoint(), signed(document), client).status == 200
    assert client.calls == [("reject", "sign_1abc", "Your card was declined.")]


def test_reject_reason_falls_back_to_a_description(run: Runner) -> None:
    client = FakeIngress()
    run(endpoint(), signed(stripe_event("payment_intent.payment_failed")), client)
    assert client.calls == [
        ("reject", "sign_1abc", "stripe event payment_intent.payment_failed (evt_1)")
    ]


def test_send_to_handler_uses_event_id_as_idempotency_key(run: Runner) -> None:
    client = FakeIngress()
    document = stripe_event("checkout.session.completed", event_id="evt_77")
    assert run(endpoint(), signed(document), client).status == 200
    (call,) = client.calls
    assert call[:4] == ("send", "Orders", None, "on_checkout")
    assert call[4] == {
        "provider": "stripe",
        "id": "evt_77",
        "type": "checkout.session.completed",
        "payload": document,
    }
    assert call[5] == "evt_77"


def test_send_to_virtual_object_and_workflow(run: Runner) -> None:
    client = FakeIngress()
    run(endpoint(), signed(stripe_event("customer.created", event_id="evt_c")), client)
    run(endpoint(), signed(stripe_event("invoice.created", event_id="evt_i")), client)
    assert client.calls[0][:4] == ("send", "Customers", "pi_1", "created")
    assert client.calls[0][5] == "evt_c"
    assert client.calls[1][:3] == ("submit", "Billing", "evt_i")


def test_ignored_and_unrouted_events_are_acknowledged(run: Runner) -> None:
    client = FakeIngress()
    for event_type in ("charge.succeeded", "account.updated"):
        response = run(endpoint(), signed(stripe_event(event_type)), client)
        assert response.status == 200 and body_of(response) == {"status": "ignored"}
    assert client.calls == []


def test_default_route_can_be_changed(run: Runner) -> None:
    client = FakeIngress()
    catch_all = endpoint(routes={}, default=SendToHandler("Audit", "record"))
    run(catch_all, signed(stripe_event("anything.at_all")), client)
    assert client.calls[0][:4] == ("send", "Audit", None, "record")


def test_exact_routes_beat_patterns_and_patterns_keep_their_order() -> None:
    routes = {
        "invoice.*": Ignore(),
        "invoice.paid": ResolveAwakeable(),
        "invoice.p*": RejectAwakeable(),
    }
    chosen = endpoint(routes=routes)
    assert chosen.route_for("invoice.paid") == ResolveAwakeable()
    assert chosen.route_for("invoice.pending") == Ignore()
    assert chosen.route_for("other") == Ignore()


def test_callable_and_multiple_actions(run: Runner) -> None:
    client = FakeIngress()

    def by_amount(event: Any) -> Any:
        amount = event.payload["data"]["object"].get("amount", 0)
        if amount > 100:
            return [ResolveAwakeable(payload=lambda e: {"ok": True}), SendToHandler("Big", "note")]
        return Ignore()

    chooser = endpoint(routes={"payment_intent.succeeded": by_amount})
    run(chooser, signed(stripe_event(amount=500)), client)
    run(chooser, signed(stripe_event(amount=5)), client)
    assert [call[0] for call in client.calls] == ["resolve", "send"]
    assert client.calls[0] == ("resolve", "sign_1abc", {"ok": True})


def test_custom_awakeable_id_extractor(run: Runner) -> None:
    client = FakeIngress()
    routes = {"payment_intent.succeeded": ResolveAwakeable(awakeable_id="data.object.id")}
    run(endpoint(routes=routes), signed(stripe_event()), client)
    assert client.calls[0][:2] == ("resolve", "pi_1")


def test_routed_event_without_awakeable_id_is_acknowledged_with_warning(
    run: Runner, caplog: pytest.LogCaptureFixture
) -> None:
    client = FakeIngress()
    with caplog.at_level(logging.WARNING, "restate_web.webhooks"):
        response = run(
            endpoint(), signed(stripe_event(awakeable_id=None, event_id="evt_n")), client
        )
    assert response.status == 200 and body_of(response) == {"status": "ignored"}
    assert client.calls == []
    assert any("evt_n" in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records)


def test_missing_object_key_is_acknowledged_with_warning(run: Runner) -> None:
    client = FakeIngress()
    routes = {"customer.created": SendToHandler("Customers", "created", key="data.object.nope")}
    response = run(endpoint(routes=routes), signed(stripe_event("customer.created")), client)
    assert response.status == 200 and client.calls == []


def test_adyen_batches_make_one_step_per_item(run: Runner) -> None:
    key = "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056"
    items = [
        adyen_item(),
        adyen_item(pspReference="2", merchantReference="sign_2"),
    ]
    request = WebhookRequest("POST", URL, {}, adyen_signed_body(key, items))
    adyen = WebhookEndpoint(adyen_webhooks(key), {"AUTHORISATION": ResolveAwakeable()})
    client = FakeIngress()
    assert run(adyen, request, client).status == 200
    assert [call[1] for call in client.calls] == ["sign_1adyen", "sign_2"]
    # The first failing with 'try later' stops the batch: the provider redelivers all of it.
    stalled = failing(IngressUnavailable("down"))
    assert run(adyen, request, stalled).status == 503
    assert len(stalled.calls) == 1


# ------------------------------------------------------------ refusals before Restate


def test_bad_signature_is_400_and_nothing_is_forwarded(
    run: Runner, caplog: pytest.LogCaptureFixture
) -> None:
    client = FakeIngress()
    request = signed(stripe_event(), secret="whsec_attacker")
    with caplog.at_level(logging.DEBUG):
        response = run(endpoint(), request, client)
    assert response.status == 400
    assert body_of(response) == {"error": "verification_failed", "reason": "bad_signature"}
    assert client.calls == []
    signature = request.headers["Stripe-Signature"].split("v1=")[1]
    for record in caplog.records:
        text = record.getMessage() + str(record.args)
        assert SECRET not in text and "whsec_attacker" not in text and signature not in text


def test_stale_and_malformed_events_are_400(run: Runner) -> None:
    client = FakeIngress()
    body = json.dumps(stripe_event()).encode()
    old = stripe_webhooks(SECRET).verifier.sign_headers(body, timestamp=NOW - 3600)  # type: ignore[attr-defined]
    response = run(endpoint(), WebhookRequest("POST", URL, old, body), client)
    assert (response.status, body_of(response)["reason"]) == (400, "stale_timestamp")
    response = run(endpoint(), signed(b"[1, 2]"), client)
    assert response.status == 400
    assert body_of(response) == {"error": "malformed_event", "reason": "not_an_object"}
    assert client.calls == []


def test_method_and_size_limits(run: Runner) -> None:
    client = FakeIngress()
    get = signed(stripe_event(), method="GET")
    response = run(endpoint(), get, client)
    assert (response.status, response.headers["Allow"]) == (405, "POST")
    small = endpoint(max_body_size=64)
    response = run(small, signed(stripe_event()), client)
    assert response.status == 413 and body_of(response)["max_body_size"] == 64
    assert client.calls == []


def test_check_content_length() -> None:
    limited = endpoint(max_body_size=1000)
    assert limited.check_content_length(None) is None
    assert limited.check_content_length("") is None
    assert limited.check_content_length("1000") is None
    assert limited.check_content_length(10) is None
    too_large = limited.check_content_length("1001")
    assert too_large is not None and too_large.status == 413
    for bad in ("-1", "abc", "1e3"):
        response = limited.check_content_length(bad)
        assert response is not None and response.status == 400
    assert endpoint().max_body_size == 1024 * 1024


def test_a_bug_in_a_route_is_500(run: Runner, caplog: pytest.LogCaptureFixture) -> None:
    def broken(event: Any) -> Any:
        raise KeyError("oops")

    client = FakeIngress()
    with caplog.at_level(logging.ERROR, "restate_web.webhooks"):
        response = run(
            endpoint(routes={"payment_intent.succeeded": broken}), signed(stripe_event()), client
        )
    assert response.status == 500 and client.calls == []
    assert any(record.exc_info for record in caplog.records)
    nonsense = endpoint(routes={"payment_intent.succeeded": lambda event: "resolve"})
    assert run(nonsense, signed(stripe_event()), client).status == 500


# -------------------------------------------------------------- Restate failures


@pytest.mark.parametrize(
    "error",
    [
        IngressUnavailable("could not reach Restate"),
        IngressTimeout("no answer"),
        IngressError("internal", status=500),
        IngressError("bad gateway", status=502),
        IngressError("throttled", status=429),
        NotFound("service not found", status=404, source="ingress"),
        ConnectionResetError("reset"),
        RuntimeError("unexpected"),
    ],
    ids=lambda e: type(e).__name__ + str(getattr(e, "status", "")),
)
def test_retryable_failures_answer_503(run: Runner, error: BaseException) -> None:
    client = failing(error)
    response = run(
        endpoint(dead_letter=DeadLetter("Webhooks", "dead")), signed(stripe_event()), client
    )
    assert response.status == 503 and body_of(response)["status"] == "retry"
    # Retries are the provider's job; nothing goes to the dead letter.
    assert [call[0] for call in client.calls] == ["resolve"]


def test_invalid_awakeable_id_is_acknowledged_logged_and_dead_lettered(
    run: Runner, caplog: pytest.LogCaptureFixture
) -> None:
    client = failing(invalid_awakeable_error(), lambda call: call[0] == "resolve")
    dead = endpoint(dead_letter=DeadLetter("Webhooks", "dead_letter"))
    with caplog.at_level(logging.ERROR, "restate_web.webhooks"):
        response = run(dead, signed(stripe_event(event_id="evt_bad")), client)
    assert response.status == 200
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert errors and "evt_bad" in errors[0].getMessage()
    resolve, letter = client.calls
    assert resolve[0] == "resolve"
    assert letter[:4] == ("send", "Webhooks", None, "dead_letter")
    assert letter[5].startswith("evt_bad:dead-letter:")
    assert letter[4]["id"] == "evt_bad" and letter[4]["error"]["status"] == 400
    assert letter[4]["action"] == "resolve awakeable sign_1abc"


def test_invalid_awakeable_id_without_dead_letter_is_still_acknowledged(run: Runner) -> None:
    client = failing(invalid_awakeable_error())
    assert run(endpoint(), signed(stripe_event()), client).status == 200
    assert len(client.calls) == 1


def test_dead_letter_unreachable_answers_503(run: Runner) -> None:
    def fail(call: Call) -> BaseException | None:
        return invalid_awakeable_error() if call[0] == "resolve" else IngressUnavailable("down")

    client = FakeIngress(fail)
    response = run(endpoint(dead_letter=DeadLetter("W", "dl")), signed(stripe_event()), client)
    assert response.status == 503


def test_dead_letter_refused_too_is_acknowledged(
    run: Runner, caplog: pytest.LogCaptureFixture
) -> None:
    client = failing(invalid_awakeable_error())
    with caplog.at_level(logging.ERROR, "restate_web.webhooks"):
        response = run(endpoint(dead_letter=DeadLetter("W", "dl")), signed(stripe_event()), client)
    assert response.status == 200 and len(client.calls) == 2
    assert any("dead-letter" in r.getMessage() for r in caplog.records)


def test_dead_letter_keyed_by_extractor(run: Runner) -> None:
    client = failing(invalid_awakeable_error(), lambda call: call[0] == "resolve")
    dead = endpoint(dead_letter=DeadLetter("DeadLetters", "add", key=lambda e: e.provider))
    run(dead, signed(stripe_event()), client)
    assert client.calls[1][:4] == ("send", "DeadLetters", "stripe", "add")


def test_conflict_counts_as_done(run: Runner) -> None:
    client = failing(IngressError("already exists", status=409))
    response = run(endpoint(), signed(stripe_event("invoice.created")), client)
    assert response.status == 200


def test_handler_failure_is_permanent(run: Runner) -> None:
    client = failing(InvocationFailed("boom", status=500, source="invocation"))
    response = run(endpoint(), signed(stripe_event("checkout.session.completed")), client)
    assert response.status == 200


# ---------------------------------------------------------------- pure pieces


def test_classify_failure_table() -> None:
    assert classify_failure(None) == "ok"
    assert classify_failure(ValueError()) == "retry"
    assert classify_failure(IngressError("x")) == "retry"
    for status in (401, 403, 404, 408, 425, 429, 500, 502, 503, 504):
        assert classify_failure(IngressError("x", status=status)) == "retry"
    for status in (400, 405, 413, 415, 422):
        assert classify_failure(IngressError("x", status=status)) == "permanent"
    assert classify_failure(IngressError("x", status=409)) == "ok"
    assert classify_failure(InvocationFailed("x", status=500, source="invocation")) == "permanent"


def test_respond_is_pure() -> None:
    plan = endpoint().plan(signed(stripe_event()))
    (step,) = plan.steps
    assert isinstance(step, ResolveStep)
    assert respond(plan, [StepOutcome(step, "ok")]).status == 200
    assert respond(plan, [StepOutcome(step, "permanent", None, "ok")]).status == 200
    assert respond(plan, [StepOutcome(step, "permanent", None, "retry")]).status == 503
    assert respond(plan, [StepOutcome(step, "retry")]).status == 503
    early = WebhookPlan(response=WebhookResponse(418))
    assert respond(early, []).status == 418


def test_plan_does_no_io() -> None:
    plan = endpoint().plan(signed(stripe_event()))
    assert plan.response is None and len(plan.steps) == 1 and plan.events[0].id == "evt_1"
    assert plan.done is not None and plan.done.status == 200


def test_shells_refuse_the_wrong_kind_of_client() -> None:
    # The blocking shell with an async client: test_blocking_handle_refuses_an_async_client...
    sync_client = IngressClient("http://127.0.0.1:9", retry=False)
    try:
        with pytest.raises(TypeError, match="blocking"):
            asyncio.run(endpoint().handle_async(signed(stripe_event()), sync_client))  # type: ignore[arg-type]
    finally:
        sync_client.close()


def test_dead_letter_key_extractor_failures_are_logged_not_raised(
    run: Runner, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(event: Any) -> str:
        raise RuntimeError("bug")

    for extractor in (broken, "data.no.such.key"):
        client = failing(invalid_awakeable_error())
        dead = endpoint(dead_letter=DeadLetter("DeadLetters", "add", key=extractor))
        with caplog.at_level(logging.ERROR, "restate_web.webhooks"):
            assert run(dead, signed(stripe_event()), client).status == 200
        assert [call[0] for call in client.calls] == ["resolve"]


def test_adyen_awakeable_id_comes_from_the_signed_merchant_reference(run: Runner) -> None:
    """A captured notification replayed with another awakeable id in its unsigned
    additionalData still resolves only the awakeable its signed merchantReference names; one
    with a rewritten merchantReference fails the HMAC."""
    key = "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056"
    adyen = WebhookEndpoint(adyen_webhooks(key), {"AUTHORISATION": ResolveAwakeable()})
    item = adyen_item(merchantReference="sign_1paid")
    body = adyen_signed_body(key, [item])
    tampered = body.replace(
        b'"additionalData": {', b'"additionalData": {"metadata.restate_awakeable_id": "sign_1x", '
    )
    assert tampered != body
    client = FakeIngress()
    assert run(adyen, WebhookRequest("POST", URL, {}, tampered), client).status == 200
    assert [call[1] for call in client.calls] == ["sign_1paid"]
    moved = body.replace(b"sign_1paid", b"sign_1evil")
    refused = FakeIngress()
    assert run(adyen, WebhookRequest("POST", URL, {}, moved), refused).status == 400
    assert refused.calls == []


def test_blocking_handle_refuses_an_async_client_before_calling_restate() -> None:
    from restate_web.ingress import AsyncIngressClient

    async def scenario() -> None:
        async with AsyncIngressClient("http://127.0.0.1:9") as client:
            request = signed(stripe_event("payment_intent.succeeded"))
            with pytest.raises(TypeError, match="handle_async"):
                endpoint().handle(request, client)  # type: ignore[arg-type]

    asyncio.run(scenario())
