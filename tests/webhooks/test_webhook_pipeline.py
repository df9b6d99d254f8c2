"""Routing and response mapping of the webhook pipeline, against a real restate-server.

Every scenario runs through both shells (``handle`` with the real ``IngressClient``,
``handle_async`` with the real ``AsyncIngressClient``), which must agree. The effects are read
back from the real services in tests/webhooks/webhook_services.py: what a handler received
under which idempotency key, how a waiting ``HookWaiter`` workflow's awakeable was completed.
"Nothing was forwarded" is observed on the wire (``deliver.sent``: every HTTP request the
clients sent). Restate down is a client pointed at a closed port; an invalid awakeable id is
one the real server refuses (400). Only answers a real server cannot give on demand come from
a stand-in (``deliver.answering``), and those tests say so.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from restate_web.ingress import IngressClient, IngressError, InvocationFailed
from restate_web.testing import RestateServer
from restate_web.webhooks import (
    DeadLetter,
    Ignore,
    RejectAwakeable,
    ResolveAwakeable,
    SendToHandler,
    SubmitWorkflow,
    WebhookConfigurationError,
    WebhookEndpoint,
    WebhookRequest,
    adyen_webhooks,
    stripe_webhooks,
)
from restate_web.webhooks._events import WebhookEvent
from restate_web.webhooks._pipeline import (
    ResolveStep,
    StepOutcome,
    WebhookPlan,
    WebhookResponse,
    classify_failure,
    dead_letter_key,
    event_envelope,
    respond,
)

from .conftest import Deliver, Waiters, closed_port_url, new_id, received
from .webhook_support import NOW, URL, adyen_item, adyen_signed_body, clock

SECRET = "whsec_pipeline_test"
ADYEN_KEY = "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056"
BOGUS_AWAKEABLE = "sign_1abc"
"""The real server answers 400 "bad awakeable id" for it (checked in
test_invalid_awakeable_id_is_acknowledged_logged_and_dead_lettered)."""


def stripe_event(
    event_type: str = "payment_intent.succeeded",
    *,
    event_id: str | None = None,
    awakeable_id: str | None = BOGUS_AWAKEABLE,
    **object_fields: Any,
) -> dict[str, Any]:
    metadata = {} if awakeable_id is None else {"restate_awakeable_id": awakeable_id}
    object_fields.setdefault("id", "pi_1")
    return {
        "id": event_id or new_id(),
        "type": event_type,
        "data": {"object": {"metadata": metadata, **object_fields}},
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
            "checkout.session.*": SendToHandler("HookInbox", "on_checkout"),
            "customer.created": SendToHandler("HookCustomers", "created", key="data.object.id"),
            "invoice.created": SubmitWorkflow("HookBilling"),
            "charge.*": Ignore(),
        },
    )
    return WebhookEndpoint(stripe_webhooks(SECRET, now=clock()), routes, **kwargs)


def body_of(response: WebhookResponse) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(response.body)
    assert response.headers["Content-Type"] == "application/json"
    return document


def envelope(document: dict[str, Any]) -> dict[str, Any]:
    event = WebhookEvent("stripe", document["id"], document["type"], document)
    return event_envelope(event)


def awakeable_path(awakeable_id: str, action: str) -> str:
    return f"/restate/awakeables/{awakeable_id}/{action}"


def letter_key(document: dict[str, Any], awakeable_id: str = BOGUS_AWAKEABLE) -> str:
    """The dead letter's idempotency key for a failed resolve of ``awakeable_id``."""
    event = WebhookEvent("stripe", document["id"], document["type"], document)
    return dead_letter_key(event, ResolveStep(event, awakeable_id, None))


def invocations(server: RestateServer, service: str, handler: str, prefix: str) -> list[str]:
    """Idempotency keys of the invocations of ``service/handler`` whose key starts with
    ``prefix`` (the event ids are fresh per test, so these are this test's)."""
    rows = server.query(
        "SELECT idempotency_key FROM sys_invocation WHERE "
        f"target_service_name = '{service}' AND target_handler_name = '{handler}' "
        f"AND idempotency_key LIKE '{prefix}%'"
    )
    return sorted(str(row["idempotency_key"]) for row in rows)


def ingress_answer(status: int, message: str, source: str = "ingress") -> httpx.Response:
    """An error answer shaped like restate-server's (see observed_restate_behaviour.md)."""
    return httpx.Response(
        status,
        json={"code": status, "message": message, "source": source},
        headers={"x-restate-error-source": source},
    )


# ------------------------------------------------------------------ routing


def test_resolve_awakeable(deliver: Deliver, waiters: Waiters) -> None:
    key, awakeable_id = waiters.start()
    document = stripe_event(awakeable_id=awakeable_id)
    response = deliver(endpoint(), signed(document))
    assert response.status == 200 and body_of(response) == {"status": "processed"}
    assert deliver.paths() == [awakeable_path(awakeable_id, "resolve")]
    assert waiters.outcome(key) == {"resolved": document}


def test_reject_awakeable_with_provider_reason(deliver: Deliver, waiters: Waiters) -> None:
    key, awakeable_id = waiters.start()
    document = stripe_event(
        "payment_intent.payment_failed",
        awakeable_id=awakeable_id,
        last_payment_error={"message": "Your card was declined."},
    )
    assert deliver(endpoint(), signed(document)).status == 200
    assert deliver.paths() == [awakeable_path(awakeable_id, "reject")]
    assert waiters.outcome(key) == {"rejected": "Your card was declined."}


def test_reject_reason_falls_back_to_a_description(deliver: Deliver, waiters: Waiters) -> None:
    key, awakeable_id = waiters.start()
    document = stripe_event("payment_intent.payment_failed", awakeable_id=awakeable_id)
    assert deliver(endpoint(), signed(document)).status == 200
    expected = f"stripe event payment_intent.payment_failed ({document['id']})"
    assert waiters.outcome(key) == {"rejected": expected}


def test_send_to_handler_uses_event_id_as_idempotency_key(
    deliver: Deliver, probe: IngressClient, restate_server: RestateServer
) -> None:
    document = stripe_event("checkout.session.completed")
    event_id = document["id"]
    # Providers redeliver: the same event twice is one invocation, under the event id.
    assert deliver(endpoint(), signed(document)).status == 200
    assert deliver(endpoint(), signed(document)).status == 200
    assert deliver.paths() == ["/HookInbox/on_checkout/send"] * 2
    assert [request.headers["idempotency-key"] for request in deliver.sent] == [event_id] * 2
    assert invocations(restate_server, "HookInbox", "on_checkout", event_id) == [event_id]
    assert received(probe, "HookInbox", "on_checkout", event_id) == {
        "handler": "on_checkout",
        "arg": {
            "provider": "stripe",
            "id": event_id,
            "type": "checkout.session.completed",
            "payload": document,
        },
    }


def test_send_to_virtual_object_and_workflow(deliver: Deliver, probe: IngressClient) -> None:
    customer = stripe_event("customer.created", id="cus_" + new_id())
    invoice = stripe_event("invoice.created")
    assert deliver(endpoint(), signed(customer)).status == 200
    assert deliver(endpoint(), signed(invoice)).status == 200
    customer_key = customer["data"]["object"]["id"]
    assert received(probe, "HookCustomers", "created", customer["id"], key=customer_key) == {
        "handler": "created",
        "key": customer_key,
        "arg": envelope(customer),
    }
    # A workflow is keyed by the event id: its run is the one invocation under that key.
    run = probe.workflow("HookBilling", invoice["id"]).attach(timeout=30)
    assert run == {"key": invoice["id"], "arg": envelope(invoice)}


def test_ignored_and_unrouted_events_are_acknowledged(deliver: Deliver) -> None:
    for event_type in ("charge.succeeded", "account.updated"):
        response = deliver(endpoint(), signed(stripe_event(event_type)))
        assert response.status == 200 and body_of(response) == {"status": "ignored"}
    assert deliver.sent == []


def test_default_route_can_be_changed(deliver: Deliver, probe: IngressClient) -> None:
    catch_all = endpoint(routes={}, default=SendToHandler("HookInbox", "record"))
    document = stripe_event("anything.at_all")
    assert deliver(catch_all, signed(document)).status == 200
    assert deliver.paths() == ["/HookInbox/record/send"]
    letter = received(probe, "HookInbox", "record", document["id"])
    assert letter == {"handler": "record", "arg": envelope(document)}


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


def test_callable_and_multiple_actions(
    deliver: Deliver, waiters: Waiters, probe: IngressClient
) -> None:
    def by_amount(event: Any) -> Any:
        amount = event.payload["data"]["object"].get("amount", 0)
        if amount > 100:
            return [
                ResolveAwakeable(payload=lambda e: {"ok": True}),
                SendToHandler("HookInbox", "note"),
            ]
        return Ignore()

    key, awakeable_id = waiters.start()
    chooser = endpoint(routes={"payment_intent.succeeded": by_amount})
    big = stripe_event(awakeable_id=awakeable_id, amount=500)
    small = stripe_event(awakeable_id=awakeable_id, amount=5)
    assert deliver(chooser, signed(big)).status == 200
    assert deliver(chooser, signed(small)).status == 200
    # In order: the resolve, then the send; the small payment made no call at all.
    assert deliver.paths() == [awakeable_path(awakeable_id, "resolve"), "/HookInbox/note/send"]
    assert waiters.outcome(key) == {"resolved": {"ok": True}}
    assert received(probe, "HookInbox", "note", big["id"])["arg"] == envelope(big)


def test_custom_awakeable_id_extractor(deliver: Deliver, waiters: Waiters) -> None:
    key, awakeable_id = waiters.start()
    routes = {"payment_intent.succeeded": ResolveAwakeable(awakeable_id="data.object.id")}
    # The default place (metadata) names another awakeable: the extractor must win.
    document = stripe_event(id=awakeable_id, awakeable_id=BOGUS_AWAKEABLE)
    assert deliver(endpoint(routes=routes), signed(document)).status == 200
    assert deliver.paths() == [awakeable_path(awakeable_id, "resolve")]
    assert waiters.outcome(key) == {"resolved": document}


def test_routed_event_without_awakeable_id_is_acknowledged_with_warning(
    deliver: Deliver, caplog: pytest.LogCaptureFixture
) -> None:
    document = stripe_event(awakeable_id=None)
    with caplog.at_level(logging.WARNING, "restate_web.webhooks"):
        response = deliver(endpoint(), signed(document))
    assert response.status == 200 and body_of(response) == {"status": "ignored"}
    assert deliver.sent == []
    assert any(
        document["id"] in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records
    )


def test_missing_object_key_is_acknowledged_with_warning(deliver: Deliver) -> None:
    routes = {"customer.created": SendToHandler("HookCustomers", "created", key="data.object.nope")}
    response = deliver(endpoint(routes=routes), signed(stripe_event("customer.created")))
    assert response.status == 200 and deliver.sent == []


def test_adyen_batches_make_one_step_per_item(deliver: Deliver, waiters: Waiters) -> None:
    (first_key, first_id), (second_key, second_id) = waiters.start(), waiters.start()
    items = [
        adyen_item(merchantReference=first_id),
        adyen_item(pspReference="2", merchantReference=second_id),
    ]
    request = WebhookRequest("POST", URL, {}, adyen_signed_body(ADYEN_KEY, items))
    adyen = WebhookEndpoint(adyen_webhooks(ADYEN_KEY), {"AUTHORISATION": ResolveAwakeable()})
    assert deliver(adyen, request).status == 200
    assert deliver.paths() == [
        awakeable_path(first_id, "resolve"),
        awakeable_path(second_id, "resolve"),
    ]
    assert waiters.outcome(first_key)["resolved"]["merchantReference"] == first_id
    assert waiters.outcome(second_key)["resolved"]["pspReference"] == "2"
    # Restate down: the first step failing with 'try later' stops the batch, the provider
    # redelivers all of it.
    deliver.sent.clear()
    assert deliver(adyen, request, url=closed_port_url()).status == 503
    assert deliver.paths() == [awakeable_path(first_id, "resolve")]


# ------------------------------------------------------------ refusals before Restate


def test_bad_signature_is_400_and_nothing_is_forwarded(
    deliver: Deliver, caplog: pytest.LogCaptureFixture
) -> None:
    request = signed(stripe_event(), secret="whsec_attacker")
    with caplog.at_level(logging.DEBUG):
        response = deliver(endpoint(), request)
    assert response.status == 400
    assert body_of(response) == {"error": "verification_failed", "reason": "bad_signature"}
    assert deliver.sent == []
    signature = request.headers["Stripe-Signature"].split("v1=")[1]
    for record in caplog.records:
        text = record.getMessage() + str(record.args)
        assert SECRET not in text and "whsec_attacker" not in text and signature not in text


def test_stale_and_malformed_events_are_400(deliver: Deliver) -> None:
    body = json.dumps(stripe_event()).encode()
    old = stripe_webhooks(SECRET).verifier.sign_headers(body, timestamp=NOW - 3600)  # type: ignore[attr-defined]
    response = deliver(endpoint(), WebhookRequest("POST", URL, old, body))
    assert (response.status, body_of(response)["reason"]) == (400, "stale_timestamp")
    response = deliver(endpoint(), signed(b"[1, 2]"))
    assert response.status == 400
    assert body_of(response) == {"error": "malformed_event", "reason": "not_an_object"}
    assert deliver.sent == []


def test_method_and_size_limits(deliver: Deliver) -> None:
    get = signed(stripe_event(), method="GET")
    response = deliver(endpoint(), get)
    assert (response.status, response.headers["Allow"]) == (405, "POST")
    small = endpoint(max_body_size=64)
    response = deliver(small, signed(stripe_event()))
    assert response.status == 413 and body_of(response)["max_body_size"] == 64
    assert deliver.sent == []


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


def test_a_bug_in_a_route_is_500(deliver: Deliver, caplog: pytest.LogCaptureFixture) -> None:
    def broken(event: Any) -> Any:
        raise KeyError("oops")

    with caplog.at_level(logging.ERROR, "restate_web.webhooks"):
        response = deliver(
            endpoint(routes={"payment_intent.succeeded": broken}), signed(stripe_event())
        )
    assert response.status == 500 and deliver.sent == []
    assert any(record.exc_info for record in caplog.records)
    nonsense = endpoint(routes={"payment_intent.succeeded": lambda event: "resolve"})
    assert deliver(nonsense, signed(stripe_event())).status == 500
    assert deliver.sent == []


@pytest.mark.parametrize(
    ("routes", "options"),
    [
        ({"invoice.paid": "Billing"}, {}),
        ({"invoice.paid": [ResolveAwakeable(), "Billing"]}, {}),
        ({"invoice.paid": ResolveAwakeable}, {}),
        ({5: Ignore()}, {}),
        ({"": Ignore()}, {}),
        ({}, {"default": None}),
        ({}, {"default": SendToHandler}),
        ({}, {"dead_letter": "Webhooks"}),
    ],
)
def test_a_route_no_event_could_take_is_refused_when_the_endpoint_is_built(
    routes: dict[Any, Any], options: dict[str, Any]
) -> None:
    """README: configuration mistakes raise WebhookConfigurationError (a ValueError) when the
    endpoint is built, not a 500 for every matching event once deployed."""
    with pytest.raises(WebhookConfigurationError) as raised:
        WebhookEndpoint(stripe_webhooks("whsec_x"), routes, **options)
    assert isinstance(raised.value, ValueError)


def test_routes_that_are_actions_lists_or_callables_are_accepted() -> None:
    WebhookEndpoint(
        stripe_webhooks("whsec_x"),
        {
            "a": ResolveAwakeable(),
            "b": [RejectAwakeable(), SendToHandler("S", "h")],
            "c": (SubmitWorkflow("W"),),
            "d": lambda event: Ignore(),
            "e": [],
        },
        default=lambda event: [],
        dead_letter=DeadLetter("S", "h"),
    )


# -------------------------------------------------------------- Restate failures

DEAD_LETTER = DeadLetter("HookInbox", "dead_letter")


def test_restate_down_answers_503_and_dead_letters_nothing(deliver: Deliver) -> None:
    response = deliver(
        endpoint(dead_letter=DEAD_LETTER), signed(stripe_event()), url=closed_port_url()
    )
    assert response.status == 503 and body_of(response)["status"] == "retry"
    # Retries are the provider's job; nothing goes to the dead letter.
    assert deliver.paths() == [awakeable_path(BOGUS_AWAKEABLE, "resolve")]


def test_unregistered_handler_answers_503_and_dead_letters_nothing(deliver: Deliver) -> None:
    """The real server answers 404 for a service nobody registered (yet): an operator fixes
    that, so the provider must redeliver rather than have the event acknowledged."""
    routes = {"payment_intent.succeeded": SendToHandler("HookNobodyRegistered", "handle")}
    response = deliver(endpoint(routes=routes, dead_letter=DEAD_LETTER), signed(stripe_event()))
    assert response.status == 503 and body_of(response)["status"] == "retry"
    assert deliver.paths() == ["/HookNobodyRegistered/handle/send"]


@pytest.mark.parametrize(
    "answer",
    [
        lambda request: ingress_answer(500, "internal"),
        lambda request: ingress_answer(502, "bad gateway"),
        lambda request: ingress_answer(429, "throttled"),
        lambda request: ingress_answer(503, "unavailable"),
    ],
    ids=["500", "502", "429", "503"],
)
def test_retryable_answers_answer_503(
    deliver: Deliver, answer: Callable[[httpx.Request], httpx.Response]
) -> None:
    """fake: a real server cannot answer 5xx or 429 on demand, so a stand-in answers."""
    response = deliver(
        endpoint(dead_letter=DEAD_LETTER),
        signed(stripe_event()),
        transport=deliver.answering(answer),
    )
    assert response.status == 503 and body_of(response)["status"] == "retry"
    assert deliver.paths() == [awakeable_path(BOGUS_AWAKEABLE, "resolve")]


def _raise(error: BaseException) -> Callable[[httpx.Request], httpx.Response]:
    def answer(request: httpx.Request) -> httpx.Response:
        raise error

    return answer


@pytest.mark.parametrize(
    "error",
    [
        httpx.ReadTimeout("no answer"),
        httpx.ReadError("connection reset by peer"),
        RuntimeError("unexpected"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_timeouts_resets_and_unexpected_errors_answer_503(
    deliver: Deliver, error: BaseException
) -> None:
    """fake: a real server cannot time out, reset a connection or make the client raise
    something unexpected on demand, so a stand-in transport raises it."""
    response = deliver(
        endpoint(dead_letter=DEAD_LETTER),
        signed(stripe_event()),
        transport=deliver.answering(_raise(error)),
    )
    assert response.status == 503 and body_of(response)["status"] == "retry"
    assert deliver.paths() == [awakeable_path(BOGUS_AWAKEABLE, "resolve")]


def test_invalid_awakeable_id_is_acknowledged_logged_and_dead_lettered(
    deliver: Deliver,
    probe: IngressClient,
    restate_server: RestateServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # What the real server answers for a made-up awakeable id: a permanent 400.
    with pytest.raises(IngressError) as refused:
        probe.awakeable(BOGUS_AWAKEABLE).resolve(None)
    assert refused.value.status == 400 and "bad awakeable id" in refused.value.message

    document = stripe_event()
    event_id = document["id"]
    with caplog.at_level(logging.ERROR, "restate_web.webhooks"):
        response = deliver(endpoint(dead_letter=DEAD_LETTER), signed(document))
    assert response.status == 200
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert errors and event_id in errors[0].getMessage()
    assert deliver.paths() == [
        awakeable_path(BOGUS_AWAKEABLE, "resolve"),
        "/HookInbox/dead_letter/send",
    ]
    (key,) = invocations(restate_server, "HookInbox", "dead_letter", event_id)
    assert key.startswith(f"{event_id}:dead-letter:") and key == letter_key(document)
    letter = received(probe, "HookInbox", "dead_letter", key)["arg"]
    assert letter["id"] == event_id and letter["error"]["status"] == 400
    assert letter["action"] == f"resolve awakeable {BOGUS_AWAKEABLE}"
    assert letter["payload"] == document


def test_invalid_awakeable_id_without_dead_letter_is_still_acknowledged(
    deliver: Deliver,
) -> None:
    assert deliver(endpoint(), signed(stripe_event())).status == 200
    assert deliver.paths() == [awakeable_path(BOGUS_AWAKEABLE, "resolve")]


def test_dead_letter_handler_not_registered_answers_503(deliver: Deliver) -> None:
    """The resolve is refused for good, and the dead-letter handler is not registered (the
    real server answers 404): 503, so the event waits for the operator instead of being
    lost."""
    unregistered = DeadLetter("HookNobodyRegistered", "dl")
    response = deliver(endpoint(dead_letter=unregistered), signed(stripe_event()))
    assert response.status == 503
    assert deliver.paths() == [
        awakeable_path(BOGUS_AWAKEABLE, "resolve"),
        "/HookNobodyRegistered/dl/send",
    ]


def test_dead_letter_unreachable_answers_503(deliver: Deliver) -> None:
    """fake: a real server cannot refuse one call (the resolve, 400) and then be unreachable
    for the next (the dead letter) on demand, so a stand-in answers both."""

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/resolve"):
            return ingress_answer(400, f"bad awakeable id '{BOGUS_AWAKEABLE}'")
        raise httpx.ConnectError("connection refused")

    response = deliver(
        endpoint(dead_letter=DeadLetter("HookInbox", "dead_letter")),
        signed(stripe_event()),
        transport=deliver.answering(answer),
    )
    assert response.status == 503
    assert len(deliver.sent) == 2


def test_dead_letter_refused_too_is_acknowledged(
    deliver: Deliver, caplog: pytest.LogCaptureFixture
) -> None:
    # A key for a plain service: the real server refuses that path for good (400).
    refusing = DeadLetter("HookInbox", "dead_letter", key=lambda event: event.provider)
    with caplog.at_level(logging.ERROR, "restate_web.webhooks"):
        response = deliver(endpoint(dead_letter=refusing), signed(stripe_event()))
    assert response.status == 200
    assert deliver.paths() == [
        awakeable_path(BOGUS_AWAKEABLE, "resolve"),
        "/HookInbox/stripe/dead_letter/send",
    ]
    assert any("dead-letter" in r.getMessage() for r in caplog.records)


def test_dead_letter_keyed_by_extractor(deliver: Deliver, probe: IngressClient) -> None:
    document = stripe_event()
    dead = endpoint(dead_letter=DeadLetter("HookCustomers", "add", key=lambda e: e.provider))
    assert deliver(dead, signed(document)).status == 200
    assert deliver.paths()[1] == "/HookCustomers/stripe/add/send"
    letter = received(probe, "HookCustomers", "add", letter_key(document), key="stripe")
    assert letter["key"] == "stripe" and letter["arg"]["id"] == document["id"]


def test_redelivered_workflow_submit_is_done_once(deliver: Deliver, probe: IngressClient) -> None:
    """The real server answers a repeated submit of a workflow key with 202
    PreviouslyAccepted: acknowledged, and the workflow ran once, with the first delivery."""
    first = stripe_event("invoice.created")
    again = {**first, "data": {"object": {"id": "pi_changed", "metadata": {}}}}
    assert deliver(endpoint(), signed(first)).status == 200
    assert deliver(endpoint(), signed(again)).status == 200
    assert deliver.paths() == [f"/HookBilling/{first['id']}/run/send"] * 2
    run = probe.workflow("HookBilling", first["id"]).attach(timeout=30)
    assert run == {"key": first["id"], "arg": envelope(first)}


def test_conflict_counts_as_done(deliver: Deliver) -> None:
    """fake: a real server answers a repeated submit with 202 PreviouslyAccepted (test above)
    and cannot be made to answer a send with 409 on demand; a stand-in answers 409, which
    means the call already happened."""
    response = deliver(
        endpoint(),
        signed(stripe_event("invoice.created")),
        transport=deliver.answering(lambda request: ingress_answer(409, "already exists")),
    )
    assert response.status == 200 and len(deliver.sent) == 1


def test_handler_failure_is_permanent(deliver: Deliver) -> None:
    """fake: a send returns before the handler runs, so a real server never answers a send
    with the handler's terminal failure; a stand-in answers as the ingress does for a failed
    invocation (x-restate-error-source: invocation)."""

    def answer(request: httpx.Request) -> httpx.Response:
        return ingress_answer(500, "boom", source="invocation")

    response = deliver(
        endpoint(),
        signed(stripe_event("checkout.session.completed")),
        transport=deliver.answering(answer),
    )
    assert response.status == 200 and len(deliver.sent) == 1


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
    plan = endpoint().plan(signed(stripe_event(event_id="evt_1")))
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
    deliver: Deliver, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(event: Any) -> str:
        raise RuntimeError("bug")

    for extractor in (broken, "data.no.such.key"):
        deliver.sent.clear()
        dead = endpoint(dead_letter=DeadLetter("HookCustomers", "add", key=extractor))
        with caplog.at_level(logging.ERROR, "restate_web.webhooks"):
            assert deliver(dead, signed(stripe_event())).status == 200
        # The real server refused the resolve; no dead letter could be keyed, none was sent.
        assert deliver.paths() == [awakeable_path(BOGUS_AWAKEABLE, "resolve")]


def test_adyen_awakeable_id_comes_from_the_signed_merchant_reference(
    deliver: Deliver, waiters: Waiters
) -> None:
    """A captured notification replayed with another awakeable id in its unsigned
    additionalData still resolves only the awakeable its signed merchantReference names; one
    with a rewritten merchantReference fails the HMAC."""
    key, paid_id = waiters.start()
    decoy_key, decoy_id = waiters.start()
    adyen = WebhookEndpoint(adyen_webhooks(ADYEN_KEY), {"AUTHORISATION": ResolveAwakeable()})
    item = adyen_item(merchantReference=paid_id)
    body = adyen_signed_body(ADYEN_KEY, [item])
    tampered = body.replace(
        b'"additionalData": {',
        b'"additionalData": {"metadata.restate_awakeable_id": "' + decoy_id.encode() + b'", ',
    )
    assert tampered != body
    assert deliver(adyen, WebhookRequest("POST", URL, {}, tampered)).status == 200
    assert deliver.paths() == [awakeable_path(paid_id, "resolve")]
    assert waiters.outcome(key)["resolved"]["merchantReference"] == paid_id
    deliver.sent.clear()
    moved = body.replace(paid_id.encode(), decoy_id.encode())
    assert deliver(adyen, WebhookRequest("POST", URL, {}, moved)).status == 400
    assert deliver.sent == []
    # The decoy is still waiting: complete it so the workflow does not linger.
    waiters.client.awakeable(decoy_id).reject("test over")
    assert waiters.outcome(decoy_key) == {"rejected": "test over"}


def test_blocking_handle_refuses_an_async_client_before_calling_restate() -> None:
    from restate_web.ingress import AsyncIngressClient

    async def scenario() -> None:
        async with AsyncIngressClient("http://127.0.0.1:9") as client:
            request = signed(stripe_event("payment_intent.succeeded"))
            with pytest.raises(TypeError, match="handle_async"):
                endpoint().handle(request, client)  # type: ignore[arg-type]

    asyncio.run(scenario())
