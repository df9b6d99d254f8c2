"""The webhook pipeline, sans-I/O: request in, plan of Restate calls, response out.

::

    raw request ─► method / size limit ─► verify signature ─► parse events
        ─► route each event by type ─► plan of steps (resolve / reject / send / submit)
        ─► [shell runs each step with the ingress client] ─► outcome ─► WebhookResponse

Everything except running the steps is pure and lives in :class:`WebhookEndpoint.plan`
and :func:`drive`. Running is done by two tiny shells, :meth:`Endpoint.handle`
(blocking, with :class:`~restate_web.ingress.IngressClient`) and
:meth:`Endpoint.handle_async` (with :class:`~restate_web.ingress.AsyncIngressClient`).
Each step knows the one client call it makes, and the async shell merely awaits
what that call returns, so there is no sync/async copy of any logic.

Response rules (what the provider sees):

- processed, or deliberately ignored → exactly **200** (Lemon Squeezy requires 200);
- bad signature, stale timestamp or malformed event → **400**, nothing forwarded;
- body over the size limit → **413**; not a POST → **405**;
- Restate unreachable, timing out, answering 5xx/429, refusing our credentials
  (401/403) or not knowing the target handler (404, e.g. not registered yet)
  → **503**, so the provider redelivers;
- Restate refusing the request permanently (any other 4xx — typically an
  awakeable id it does not accept — or a handler failing terminally) → **200**:
  redelivering cannot help. A 409 conflict means it already happened → **200**. The event
  is logged at ERROR with its id and, if configured, handed to the dead-letter
  handler (a Restate handler, called with the event id as idempotency key);
- an event whose type is routed to an awakeable but which carries no awakeable
  id → **200** and a WARNING log: such events are usually payments that did not
  start in a Restate handler, and redelivering them would never help;
- a bug in your own extractor or route callable → **500** (logged with traceback),
  so the provider redelivers once it is fixed.
"""

from __future__ import annotations

import asyncio
import fnmatch
import hashlib
import inspect
import json
import logging
import time
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from ..ingress import AsyncIngressClient, IngressClient, IngressError, IngressTimeout
from ._errors import WebhookConfigurationError, WebhookParseError, WebhookVerificationError
from ._events import Extractor, WebhookEvent, extract, extract_text
from ._providers import WebhookProvider
from ._request import WebhookRequest

logger = logging.getLogger("restate_web.webhooks")

DEFAULT_MAX_BODY_SIZE = 1024 * 1024
"""1 MiB: far above any provider's event size, far below what hurts a worker."""

# --------------------------------------------------------------------------- responses


@dataclass(frozen=True)
class WebhookResponse:
    """What the adapter sends back: status, headers and body, framework-neutral."""

    status: int
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def json(
        cls, status: int, document: Mapping[str, Any], headers: Mapping[str, str] | None = None
    ) -> WebhookResponse:
        body = json.dumps(document, separators=(",", ":")).encode()
        return cls(status, body, {"Content-Type": "application/json", **(headers or {})})


# ------------------------------------------------------------------------------ routes


@dataclass(frozen=True)
class ResolveAwakeable:
    """Resolve the awakeable whose id is in the event.

    ``awakeable_id``: where the id is (default: the provider's default extractor).
    ``payload``: what the waiting handler receives (default: the event payload).
    """

    awakeable_id: Extractor | None = None
    payload: Callable[[WebhookEvent], Any] | None = None


@dataclass(frozen=True)
class RejectAwakeable:
    """Reject the awakeable whose id is in the event; the waiting handler gets a TerminalError.

    ``reason``: the error message (default: the provider's reject-reason extractor,
    falling back to ``"<provider> event <type> (<id>)"``).
    """

    awakeable_id: Extractor | None = None
    reason: Extractor | None = None


def event_envelope(event: WebhookEvent) -> dict[str, Any]:
    """``{"provider", "id", "type", "payload"}``: the default argument sent to handlers."""
    return {
        "provider": event.provider,
        "id": event.id,
        "type": event.type,
        "payload": dict(event.payload),
    }


@dataclass(frozen=True)
class SendToHandler:
    """Send the event to a Restate handler, with the provider event id as idempotency key.

    Redeliveries of the same event therefore start the handler once. ``key``
    (an extractor) targets a virtual object instead of a service; ``arg`` builds
    the handler's argument (default :func:`event_envelope`).
    """

    service: str
    handler: str
    key: Extractor | None = None
    arg: Callable[[WebhookEvent], Any] = event_envelope


@dataclass(frozen=True)
class SubmitWorkflow:
    """Submit a workflow run; the workflow ``key`` (default: the event id) makes it idempotent."""

    workflow: str
    key: Extractor | None = None
    arg: Callable[[WebhookEvent], Any] = event_envelope


@dataclass(frozen=True)
class Ignore:
    """Acknowledge the event (200) and do nothing."""


RouteAction = ResolveAwakeable | RejectAwakeable | SendToHandler | SubmitWorkflow | Ignore
Route = RouteAction | Sequence[RouteAction] | Callable[[WebhookEvent], Any]
"""An action, several actions, or a callable ``(event) -> action(s)`` for conditional routing."""


@dataclass(frozen=True)
class DeadLetter:
    """Where permanently refused events go: a Restate handler, called once per event id.

    It receives ``{"provider", "id", "type", "payload", "action", "error"}``.
    """

    service: str
    handler: str
    key: Extractor | None = None


# ------------------------------------------------------------------------------- steps


def _timeout(seconds: float | None) -> dict[str, float]:
    # No budget: the client's own timeout and retry policy apply.
    return {} if seconds is None else {"timeout": seconds}


@dataclass(frozen=True)
class ResolveStep:
    event: WebhookEvent
    awakeable_id: str
    payload: Any

    action = "resolve_awakeable"

    def invoke(self, client: Any, timeout: float | None) -> Any:
        return client.awakeable(self.awakeable_id).resolve(self.payload, **_timeout(timeout))

    def describe(self) -> str:
        return f"resolve awakeable {self.awakeable_id}"


@dataclass(frozen=True)
class RejectStep:
    event: WebhookEvent
    awakeable_id: str
    reason: str

    action = "reject_awakeable"

    def invoke(self, client: Any, timeout: float | None) -> Any:
        return client.awakeable(self.awakeable_id).reject(self.reason, **_timeout(timeout))

    def describe(self) -> str:
        return f"reject awakeable {self.awakeable_id}"


@dataclass(frozen=True)
class SendStep:
    event: WebhookEvent
    service: str
    handler: str
    key: str | None
    arg: Any
    idempotency_key: str

    @property
    def action(self) -> str:
        return f"send {self.service}/{self.handler}"

    def invoke(self, client: Any, timeout: float | None) -> Any:
        target = (
            client.service(self.service)
            if self.key is None
            else client.object(self.service, self.key)
        )
        return target.send(
            self.handler, self.arg, idempotency_key=self.idempotency_key, **_timeout(timeout)
        )

    def describe(self) -> str:
        key = "" if self.key is None else f"[{self.key}]"
        return f"send to {self.service}{key}/{self.handler}"


@dataclass(frozen=True)
class SubmitStep:
    event: WebhookEvent
    workflow: str
    key: str
    arg: Any

    @property
    def action(self) -> str:
        return f"submit {self.workflow}"

    def invoke(self, client: Any, timeout: float | None) -> Any:
        return client.workflow(self.workflow, self.key).submit(self.arg, **_timeout(timeout))

    def describe(self) -> str:
        return f"submit workflow {self.workflow}[{self.key}]"


Step = ResolveStep | RejectStep | SendStep | SubmitStep
"""One Restate call. ``step.invoke(client)`` makes it: it returns ``None`` with a
blocking client and an awaitable with an async one."""


@dataclass(frozen=True)
class WebhookPlan:
    """What to do with one request.

    Either ``response`` is set (answer right away: error, ignored, nothing to do)
    or ``steps`` lists the Restate calls to make before answering.
    """

    response: WebhookResponse | None = None
    steps: tuple[Step, ...] = ()
    events: tuple[WebhookEvent, ...] = ()
    dead_letter: DeadLetter | None = None
    done: WebhookResponse | None = None
    """The response once every step succeeded (set when ``steps`` is non-empty)."""
    result: str = ""
    """What ``response`` means, for the outcome log (``ignored``, ``verification_failed``...)."""
    provider: str = "-"
    """The endpoint's provider name, for the outcome log of requests that gave no event."""


# ---------------------------------------------------------------------------- outcomes

OutcomeKind = Literal["ok", "retry", "permanent"]

# 401/403 (wrong ingress token) and 404 (service not registered yet) are fixed by
# an operator, not by the sender: answer 503 so the events wait for that fix
# instead of being acknowledged and lost.
_RETRY_STATUSES = frozenset({401, 403, 404, 408, 425, 429})


def classify_failure(error: BaseException | None) -> OutcomeKind:
    """Map what a step raised to what the provider should be told.

    ``retry`` means answer 503 so the provider redelivers; ``permanent`` means
    Restate refused the request for good (redelivery cannot help).
    """
    if error is None:
        return "ok"
    if not isinstance(error, IngressError):
        return "retry"
    if error.source == "invocation":
        # The handler itself failed terminally: it would fail the same way again.
        return "permanent"
    status = error.status
    if status is None or status >= 500 or status in _RETRY_STATUSES:
        return "retry"
    if status == 409:
        # Conflict on an idempotent send or workflow submit: it already happened.
        return "ok"
    return "permanent"


def _error_summary(error: BaseException | None) -> dict[str, Any]:
    if isinstance(error, IngressError):
        return {"status": error.status, "code": error.code, "message": error.message}
    if error is None:
        return {}
    return {"type": type(error).__name__, "message": str(error)}


@dataclass(frozen=True)
class StepOutcome:
    """How one step went: ``kind`` from :func:`classify_failure`, plus the dead letter's fate.

    ``dead_letter`` is ``None`` when no dead-letter call was made.
    """

    step: Step
    kind: OutcomeKind
    error: BaseException | None = None
    dead_letter: OutcomeKind | None = None


def drive(plan: WebhookPlan) -> Generator[Step, BaseException | None, WebhookResponse]:
    """The pure core of execution: yields each step and receives what it raised (or ``None``).

    A shell sends each step's exception (or ``None``) back in and answers with
    the generator's return value, which :func:`respond` computes from the
    outcomes. Stops at the first step that must be retried: the provider will
    redeliver the whole event, and every step is idempotent.
    """
    outcomes: list[StepOutcome] = []
    for step in plan.steps:
        error = yield step
        kind = classify_failure(error)
        if kind == "retry":
            _log_retry(step, error)
            outcomes.append(StepOutcome(step, kind, error))
            break
        if kind == "ok":
            outcomes.append(StepOutcome(step, kind))
            continue
        logger.error(
            "webhook %s event %s (%s): Restate permanently refused to %s: %s; "
            "acknowledging so the provider stops redelivering%s",
            step.event.provider,
            step.event.id,
            step.event.type,
            step.action,
            _error_text(error, step),
            " and calling the dead-letter handler" if plan.dead_letter else "",
        )
        letter = (
            None if plan.dead_letter is None else _dead_letter_step(plan.dead_letter, step, error)
        )
        if letter is None:
            outcomes.append(StepOutcome(step, kind, error))
            continue
        letter_error = yield letter
        letter_kind = classify_failure(letter_error)
        if letter_kind == "retry":
            _log_retry(letter, letter_error)
        elif letter_kind == "permanent":
            logger.error(
                "webhook %s event %s: the dead-letter handler refused it too (%s); "
                "the event is only in this log now",
                step.event.provider,
                step.event.id,
                _error_text(letter_error, step),
            )
        outcomes.append(StepOutcome(step, kind, error, letter_kind))
        if letter_kind == "retry":
            break
    response = respond(plan, outcomes)
    _log_outcomes(plan, outcomes, response)
    return response


def log_outcome(
    status: int,
    result: str,
    *,
    provider: str = "-",
    event_id: str = "-",
    event_type: str = "-",
    action: str = "-",
) -> None:
    """One line per webhook outcome on the ``restate_web.webhooks`` logger.

    Only identifiers and the result: never bodies, secrets, signatures or awakeable ids. The
    fields are also on the record (``webhook_provider``, ``webhook_event_id``,
    ``webhook_event_type``, ``webhook_action``, ``webhook_result``, ``webhook_status``) for
    structured log handlers.
    """
    if status >= 500:
        level = logging.WARNING if status == 503 else logging.ERROR
    elif status >= 400 or result in ("permanent", "dead_lettered", "no_awakeable_id"):
        level = logging.WARNING
    else:
        level = logging.INFO
    logger.log(
        level,
        "webhook %s event %s (%s): %s -> %s (HTTP %d)",
        provider,
        event_id,
        event_type,
        action,
        result,
        status,
        extra={
            "webhook_provider": provider,
            "webhook_event_id": event_id,
            "webhook_event_type": event_type,
            "webhook_action": action,
            "webhook_result": result,
            "webhook_status": status,
        },
    )


def _provider_of(plan: WebhookPlan, fallback: str) -> str:
    return plan.events[0].provider if plan.events else fallback


def _log_outcomes(
    plan: WebhookPlan, outcomes: Sequence[StepOutcome], response: WebhookResponse
) -> None:
    if plan.response is not None:
        provider = _provider_of(plan, plan.provider)
        if not plan.events:
            log_outcome(response.status, plan.result or "answered", provider=provider)
        for event in plan.events:
            log_outcome(
                response.status,
                plan.result or "answered",
                provider=event.provider,
                event_id=event.id,
                event_type=event.type,
            )
        return
    for outcome in outcomes:
        if outcome.kind == "permanent":
            result = {None: "permanent", "ok": "dead_lettered"}.get(
                outcome.dead_letter, f"dead_letter_{outcome.dead_letter}"
            )
        else:
            result = outcome.kind
        event = outcome.step.event
        log_outcome(
            response.status,
            result,
            provider=event.provider,
            event_id=event.id,
            event_type=event.type,
            action=outcome.step.action,
        )
    for step in plan.steps[len(outcomes) :]:
        event = step.event
        log_outcome(
            response.status,
            "not_tried",
            provider=event.provider,
            event_id=event.id,
            event_type=event.type,
            action=step.action,
        )


def respond(plan: WebhookPlan, outcomes: Sequence[StepOutcome]) -> WebhookResponse:
    """The response for a plan once its steps ran: pure.

    503 if any step (or its dead-letter call) must be retried, else the plan's
    success response (200): permanent refusals are acknowledged on purpose.
    """
    if plan.response is not None:
        return plan.response
    if any(o.kind == "retry" or o.dead_letter == "retry" for o in outcomes):
        return WebhookResponse.json(503, {"status": "retry", "reason": "restate_unavailable"})
    return plan.done or WebhookResponse.json(200, {"status": "processed"})


def _error_text(error: BaseException | None, step: Step) -> str:
    """The error for a log line, without the step's awakeable id: whoever knows an awakeable id
    can complete the awakeable, and the ingress error's text (the operation, Restate's own
    message) may name it."""
    if isinstance(error, IngressError):
        status = "" if error.status is None else f"HTTP {error.status}: "
        text = f"{type(error).__name__}: {status}{error.message}"
    else:
        text = repr(error)
    awakeable_id = getattr(step, "awakeable_id", None)
    if awakeable_id:
        text = text.replace(awakeable_id, "<awakeable id>")
    return text


def _log_retry(step: Step, error: BaseException | None) -> None:
    if isinstance(error, IngressError):
        logger.warning(
            "webhook %s event %s (%s): could not %s (%s); answering 503 so the provider redelivers",
            step.event.provider,
            step.event.id,
            step.event.type,
            step.action,
            _error_text(error, step),
        )
    else:
        logger.error(
            "webhook %s event %s (%s): unexpected error while trying to %s; answering 503",
            step.event.provider,
            step.event.id,
            step.event.type,
            step.action,
            exc_info=error,
        )


def _dead_letter_step(letter: DeadLetter, step: Step, error: BaseException | None) -> Step | None:
    event = step.event
    key: str | None = None
    if letter.key is not None:
        try:
            key = _text_or_none(letter.key, event)
        except Exception:
            logger.exception(
                "webhook %s event %s: the dead-letter key extractor raised; "
                "the event is only in this log",
                event.provider,
                event.id,
            )
            return None
        if key is None:
            logger.error(
                "webhook %s event %s: the dead-letter key extractor found no key; "
                "the event is only in this log",
                event.provider,
                event.id,
            )
            return None
    document = {
        **event_envelope(event),
        "action": step.describe(),
        "error": _error_summary(error),
    }
    return SendStep(
        event, letter.service, letter.handler, key, document, dead_letter_key(event, step)
    )


def dead_letter_key(event: WebhookEvent, step: Step) -> str:
    """The dead-letter send's idempotency key: one per event *and* failed step.

    The event id alone would make the second failed step of an event a duplicate of the
    first (Restate answers it with the first send and drops its body). The step's
    description names its target (awakeable, service/handler and key, workflow), which is the
    same on every redelivery of the event.
    """
    digest = hashlib.sha256(step.describe().encode()).hexdigest()[:32]
    return f"{event.id}:dead-letter:{digest}"


def _text_or_none(extractor: Extractor, event: WebhookEvent) -> str | None:
    return extract_text(extractor, event)


# ---------------------------------------------------------------------------- endpoints


class Endpoint:
    """Shared shell: size checks and running a plan with a blocking or async client.

    Subclasses implement :meth:`plan`.
    """

    max_body_size: int
    provider_name = "-"
    """Names the endpoint's provider in the outcome log."""

    def __init__(self, *, max_body_size: int = DEFAULT_MAX_BODY_SIZE) -> None:
        if max_body_size <= 0:
            raise WebhookConfigurationError(
                f"max_body_size must be a positive number of bytes, got {max_body_size!r}."
            )
        self.max_body_size = max_body_size

    def plan(self, request: WebhookRequest) -> WebhookPlan:
        raise NotImplementedError

    def check_content_length(self, content_length: str | int | None) -> WebhookResponse | None:
        """Before reading the body: the 413 (or 400) to answer, or ``None`` to go on reading.

        Adapters should still read at most ``max_body_size + 1`` bytes: a chunked
        request has no Content-Length, and the limit is checked again on the body.
        """
        if content_length is None or content_length == "":
            return None
        try:
            length = int(content_length)
        except (TypeError, ValueError):
            return WebhookResponse.json(400, {"error": "bad_content_length"})
        if length < 0:
            return WebhookResponse.json(400, {"error": "bad_content_length"})
        if length > self.max_body_size:
            return self.too_large()
        return None

    def too_large(self) -> WebhookResponse:
        """The 413 answer for a body over ``max_body_size``."""
        return WebhookResponse.json(
            413, {"error": "payload_too_large", "max_body_size": self.max_body_size}
        )

    def _precheck(self, request: WebhookRequest) -> WebhookPlan | None:
        if request.method != "POST":
            response = WebhookResponse.json(405, {"error": "method_not_allowed"}, {"Allow": "POST"})
            return WebhookPlan(
                response=response, provider=self.provider_name, result="method_not_allowed"
            )
        if len(request.body) > self.max_body_size:
            return WebhookPlan(
                response=self.too_large(), provider=self.provider_name, result="payload_too_large"
            )
        return None

    def handle(
        self, request: WebhookRequest, client: IngressClient, *, timeout: float | None = None
    ) -> WebhookResponse:
        """Process ``request`` with a blocking :class:`~restate_web.ingress.IngressClient`.

        ``timeout``: seconds for all of this request's Restate calls together (the mounts pass
        the ``WEBHOOK_TIMEOUT`` setting); once it is spent the answer is 503 and the provider
        redelivers. ``None``: the client's own timeout and retry budget.
        """
        if isinstance(cast(object, client), AsyncIngressClient):
            raise TypeError(
                "handle() needs a blocking IngressClient, got an async client; "
                "use `await endpoint.handle_async(request, client)` instead."
            )
        deadline = _Deadline(timeout)
        steps = drive(self.plan(request))
        try:
            step = next(steps)
            while True:
                error: BaseException | None = None
                remaining = deadline.remaining()
                if remaining is not None and remaining <= 0:
                    error = deadline.spent(step)
                else:
                    try:
                        step.invoke(client, remaining)
                    except Exception as exc:
                        error = exc
                step = steps.send(error)
        except StopIteration as finished:
            response: WebhookResponse = finished.value
            return response

    async def handle_async(
        self, request: WebhookRequest, client: AsyncIngressClient, *, timeout: float | None = None
    ) -> WebhookResponse:
        """Process ``request`` with an :class:`~restate_web.ingress.AsyncIngressClient`.

        ``timeout`` as in :meth:`handle`.
        """
        if isinstance(cast(object, client), IngressClient):
            raise TypeError(
                "handle_async() needs an AsyncIngressClient: a blocking IngressClient would "
                "stall the event loop. Use endpoint.handle(request, client) in sync views."
            )
        deadline = _Deadline(timeout)
        steps = drive(self.plan(request))
        try:
            step = next(steps)
            while True:
                error: BaseException | None = None
                remaining = deadline.remaining()
                if remaining is not None and remaining <= 0:
                    error = deadline.spent(step)
                else:
                    try:
                        result = step.invoke(client, remaining)
                        if inspect.isawaitable(result):
                            # The call's own timeout bounds each attempt; this bounds the whole
                            # call, retries included, whatever the client's retry policy says.
                            await asyncio.wait_for(_awaited(result), remaining)
                    except asyncio.TimeoutError:
                        error = deadline.spent(step)
                    except Exception as exc:
                        error = exc
                step = steps.send(error)
        except StopIteration as finished:
            response: WebhookResponse = finished.value
            return response


class _Deadline:
    """The time left of a request's budget for Restate calls (``None``: no budget)."""

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self._end = None if seconds is None else time.monotonic() + seconds

    def remaining(self) -> float | None:
        return None if self._end is None else self._end - time.monotonic()

    def spent(self, step: Step) -> IngressTimeout:
        return IngressTimeout(
            f"Restate did not answer within the webhook budget of {self.seconds:g}s "
            "(WEBHOOK_TIMEOUT)",
            operation=step.describe(),
        )


async def _awaited(awaitable: Any) -> Any:
    return await awaitable


class WebhookEndpoint(Endpoint):
    """One provider webhook URL: verification, parsing and routing to Restate.

    >>> endpoint = WebhookEndpoint(
    ...     stripe_webhooks(["whsec_..."]),
    ...     routes={
    ...         "payment_intent.succeeded": ResolveAwakeable(),
    ...         "payment_intent.payment_failed": RejectAwakeable(),
    ...         "checkout.session.*": SendToHandler("Orders", "on_checkout"),
    ...     },
    ...     dead_letter=DeadLetter("Webhooks", "dead_letter"),
    ... )

    ``routes`` maps event types to actions; keys may be exact types or
    :mod:`fnmatch` patterns (``"invoice.*"``). Exact matches win, then patterns
    in the order given; unmatched types get ``default`` (acknowledged and
    ignored unless you say otherwise).
    """

    def __init__(
        self,
        provider: WebhookProvider,
        routes: Mapping[str, Route],
        *,
        default: Route = Ignore(),
        dead_letter: DeadLetter | None = None,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
    ) -> None:
        super().__init__(max_body_size=max_body_size)
        if not isinstance(cast(object, provider), WebhookProvider):
            raise WebhookConfigurationError(
                f"the provider must be a WebhookProvider such as stripe_webhooks([...]), got "
                f"{provider!r}."
            )
        for name, route in routes.items():
            if not isinstance(cast(object, name), str) or not name:
                raise WebhookConfigurationError(
                    f"route keys are event types or fnmatch patterns (non-empty strings), "
                    f"got {name!r}."
                )
            _check_route(f"the route for {name!r}", route)
        _check_route("default=", default)
        if dead_letter is not None and not isinstance(cast(object, dead_letter), DeadLetter):
            raise WebhookConfigurationError(
                f"dead_letter= must be DeadLetter(service, handler) or None, got {dead_letter!r}."
            )
        self.provider = provider
        self.provider_name = provider.name
        self._exact = {name: route for name, route in routes.items() if not _is_pattern(name)}
        self._patterns = [(name, route) for name, route in routes.items() if _is_pattern(name)]
        self.default = default
        self.dead_letter = dead_letter

    def __repr__(self) -> str:
        count = len(self._exact) + len(self._patterns)
        return f"WebhookEndpoint({self.provider.name!r}, routes={count})"

    def route_for(self, event_type: str) -> Route:
        """The route that applies to ``event_type``."""
        if event_type in self._exact:
            return self._exact[event_type]
        for pattern, route in self._patterns:
            if fnmatch.fnmatchcase(event_type, pattern):
                return route
        return self.default

    def plan(self, request: WebhookRequest) -> WebhookPlan:
        """Everything up to the Restate calls: pure, no I/O."""
        early = self._precheck(request)
        if early is not None:
            return early
        try:
            events = self.provider.verify_and_parse(request)
        except WebhookVerificationError as error:
            return WebhookPlan(
                provider=self.provider_name,
                response=WebhookResponse.json(
                    400, {"error": "verification_failed", "reason": error.reason}
                ),
                result=f"verification_failed:{error.reason}",
            )
        except WebhookParseError as error:
            return WebhookPlan(
                provider=self.provider_name,
                response=WebhookResponse.json(
                    400, {"error": "malformed_event", "reason": error.reason}
                ),
                result=f"malformed_event:{error.reason}",
            )
        try:
            steps = [step for event in events for step in self._steps_for(event)]
        except Exception:
            logger.exception(
                "webhook %s: a route, extractor or argument builder raised; answering 500 so "
                "the provider redelivers once it is fixed",
                self.provider.name,
            )
            return WebhookPlan(
                provider=self.provider_name,
                response=WebhookResponse.json(500, {"error": "internal_error"}),
                events=tuple(events),
                result="internal_error",
            )
        if not steps:
            return WebhookPlan(
                provider=self.provider_name,
                response=WebhookResponse.json(200, {"status": "ignored"}),
                events=tuple(events),
                result="ignored",
            )
        return WebhookPlan(
            steps=tuple(steps),
            events=tuple(events),
            dead_letter=self.dead_letter,
            done=WebhookResponse.json(200, {"status": "processed"}),
        )

    def _actions_for(self, event: WebhookEvent) -> list[RouteAction]:
        route: Any = self.route_for(event.type)
        if callable(route) and not isinstance(route, _ACTION_TYPES):
            route = route(event)
        actions = list(route) if isinstance(route, (list, tuple)) else [route]
        for action in actions:
            if not isinstance(action, _ACTION_TYPES):
                raise TypeError(
                    f"the route for {event.type!r} produced {action!r}; expected ResolveAwakeable, "
                    "RejectAwakeable, SendToHandler, SubmitWorkflow or Ignore"
                )
        return actions

    def _steps_for(self, event: WebhookEvent) -> list[Step]:
        steps: list[Step] = []
        for action in self._actions_for(event):
            if isinstance(action, Ignore):
                logger.debug(
                    "webhook %s event %s (%s) ignored", event.provider, event.id, event.type
                )
            elif isinstance(action, (ResolveAwakeable, RejectAwakeable)):
                awakeable_id = _text_or_none(
                    action.awakeable_id or self.provider.awakeable_id, event
                )
                if awakeable_id is None:
                    logger.warning(
                        "webhook %s event %s (%s) is routed to an awakeable but carries no "
                        "awakeable id; acknowledging without calling Restate",
                        event.provider,
                        event.id,
                        event.type,
                    )
                elif isinstance(action, ResolveAwakeable):
                    payload = event.payload if action.payload is None else action.payload(event)
                    steps.append(ResolveStep(event, awakeable_id, payload))
                else:
                    steps.append(RejectStep(event, awakeable_id, self._reason(action, event)))
            elif isinstance(action, SendToHandler):
                key = None if action.key is None else self._key(action.key, event, action)
                if action.key is None or key is not None:
                    steps.append(
                        SendStep(
                            event, action.service, action.handler, key, action.arg(event), event.id
                        )
                    )
            else:
                key = event.id if action.key is None else self._key(action.key, event, action)
                if key is not None:
                    steps.append(SubmitStep(event, action.workflow, key, action.arg(event)))
        return steps

    def _reason(self, action: RejectAwakeable, event: WebhookEvent) -> str:
        for extractor in (action.reason, self.provider.reject_reason):
            if extractor is not None:
                value = extract(extractor, event)
                if isinstance(value, str) and value:
                    return value
        return f"{event.provider} event {event.type} ({event.id})"

    def _key(self, extractor: Extractor, event: WebhookEvent, action: RouteAction) -> str | None:
        key = _text_or_none(extractor, event)
        if key is None:
            logger.warning(
                "webhook %s event %s (%s): the key extractor of %r found no key; "
                "acknowledging without calling Restate",
                event.provider,
                event.id,
                event.type,
                action,
            )
        return key


_ACTION_TYPES = (ResolveAwakeable, RejectAwakeable, SendToHandler, SubmitWorkflow, Ignore)


def _check_route(where: str, route: object) -> None:
    """Refuse, when the endpoint is built, a route no event could ever be routed by (else every
    matching event would answer 500 until the code is fixed)."""
    if isinstance(route, _ACTION_TYPES):
        return
    if isinstance(route, type):
        raise WebhookConfigurationError(
            f"{where} is the class {route.__name__}; pass an action, e.g. {route.__name__}(...)."
        )
    if isinstance(route, (list, tuple)):
        for action in route:
            if not isinstance(action, _ACTION_TYPES):
                raise WebhookConfigurationError(
                    f"{where} lists {action!r}; a list holds ResolveAwakeable(), "
                    "RejectAwakeable(), SendToHandler(...), SubmitWorkflow(...) or Ignore()."
                )
        return
    if callable(route):
        return  # conditional routing: what it returns is checked per event
    raise WebhookConfigurationError(
        f"{where} is {route!r}; a route is an action (ResolveAwakeable(), RejectAwakeable(), "
        "SendToHandler(service, handler), SubmitWorkflow(workflow), Ignore()), a list of "
        "actions, or a callable (event) -> action(s)."
    )


def _is_pattern(name: str) -> bool:
    return any(char in name for char in "*?[")
