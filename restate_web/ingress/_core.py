"""The sans-I/O core shared by ``IngressClient`` and ``AsyncIngressClient``.

Everything that decides *what* to send and *what an answer means* lives here: building requests
for calls, sends, attach/output and awakeables; decoding answers; mapping failures to errors;
deciding whether and when a failure is retried (``RetryPlan``). The two clients are
thin shells that only move bytes (sync or async) around this module.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import logging
import os
import random
import re
import sys
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Generic, Literal, Protocol, TypeVar
from urllib.parse import quote

import httpx

from ._errors import (
    IngressError,
    IngressInHandlerError,
    IngressTimeout,
    IngressUnavailable,
    InvocationFailed,
    NotFound,
    NotReady,
)
from ._serde import JSON_CONTENT_TYPE, Codec, ResultDecodeError, decode_body, encode_body

T = TypeVar("T")

DEFAULT_INGRESS_URL = "http://localhost:8080"
INGRESS_URL_ENV = "RESTATE_INGRESS_URL"
INGRESS_TOKEN_ENV = "RESTATE_INGRESS_TOKEN"  # noqa: S105 - a variable name, not a secret

# Long handlers (LLM calls, workflows attached to) legitimately take minutes, so without a
# ``timeout`` a call has no deadline; connecting does have one, so a dead Restate is noticed fast.
CONNECT_TIMEOUT = 5.0
DEFAULT_TIMEOUT = httpx.Timeout(connect=CONNECT_TIMEOUT, read=None, write=60.0, pool=60.0)
# With several ingress URLs (a cluster), a node that did not answer is skipped by new calls for
# this long; then one call tries it again (a refused connection costs that call a fail-over to
# another node, not an error). A restarted node serves again well within this.
NODE_SET_ASIDE_SECONDS = 5.0

logger = logging.getLogger("restate_web.ingress")

IDEMPOTENCY_HEADER = "idempotency-key"
ERROR_SOURCE_HEADER = "x-restate-error-source"
INVOCATION_ID_HEADER = "x-restate-id"
NOT_READY_STATUS = 470


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()
"""Marker for 'argument not given' where None is a meaningful value (timeout=None: no limit)."""

TimeoutTypes = float | httpx.Timeout | None


# --- targets and requests --------------------------------------------------------------------


def path_segment(value: str) -> str:
    """URL-encode one path segment so '/', spaces, '?', '#', '%' and unicode arrive intact.

    '.' and '..' are encoded too: left alone, URL normalization would swallow them as
    dot-segments and the request would go to another path.
    """
    if value in (".", ".."):
        return value.replace(".", "%2E")
    return quote(value, safe="")


@dataclasses.dataclass(frozen=True)
class Target:
    """A handler of a service, virtual object (``key`` set) or workflow (``key`` set)."""

    kind: Literal["service", "object", "workflow"]
    service: str
    handler: str
    key: str | None = None

    def path(self) -> str:
        parts = [self.service] if self.key is None else [self.service, self.key]
        return "/" + "/".join(path_segment(p) for p in [*parts, self.handler])

    def __str__(self) -> str:
        if self.key is None:
            return f"{self.service}/{self.handler}"
        return f"{self.service}[{self.key!r}]/{self.handler}"


@dataclasses.dataclass(frozen=True)
class RequestSpec:
    method: str
    path: str
    headers: Mapping[str, str] = dataclasses.field(default_factory=dict)
    content: bytes | None = None
    params: Mapping[str, str] = dataclasses.field(default_factory=dict)
    timeout: Any = UNSET  # UNSET: the client's default


@dataclasses.dataclass(frozen=True)
class Operation(Generic[T]):
    """One request to the ingress plus how to read its answer.

    ``retry_safe`` says whether repeating the request can never start a second invocation: true
    for idempotent calls, attach/output, awakeable completion and workflow submission.
    """

    description: str
    request: RequestSpec
    parse: Callable[[httpx.Response], T]
    retry_safe: bool
    idempotency_key: str | None = None
    """The key the request carries (explicit or generated); see ``reserved_key`` for derived."""
    reserved_key: ReservedKey | None = None
    """A derived key the shell resolves (``get``/``aget``) just before sending."""
    log_name: str = ""
    """How retries are logged (no awakeable ids: whoever knows one can complete it)."""


class ReservedKey(Protocol):
    """A derived idempotency key whose ordinal was fixed when the call was made."""

    def get(self) -> str:
        """The key, for blocking clients (may resolve the request's principal synchronously)."""
        ...

    async def aget(self) -> str:
        """The key, for async clients (awaits the request's one shared principal lookup)."""
        ...


class CallBinding(Protocol):
    """Per-request context that web adapters attach to a client (see ``with_binding``).

    ``reserve_key`` is called synchronously when user code calls ``call()``/``send()``, in
    program order and before any await, so concurrent calls of one request keep their ordinals;
    it returns None when the request carries no key to derive from. A call with an explicit
    ``idempotency_key=`` does not reserve. ``forwarded_headers`` are the headers that may be
    forwarded (trace context, explicitly allowed headers).
    """

    def reserve_key(self, target: Target) -> ReservedKey | None: ...

    def forwarded_headers(self) -> Mapping[str, str]: ...


# --- configuration -----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    """How failed requests are retried (exponential backoff with jitter, bounded twice).

    Only failures that cannot have started an invocation, or requests that are safe to repeat,
    are retried; a handler's terminal error never is.
    """

    max_attempts: int = 6
    max_duration: float = 30.0
    initial_interval: float = 0.25
    max_interval: float = 5.0
    multiplier: float = 2.0
    jitter: float = 0.2
    respect_retry_after: bool = True
    retry_statuses: frozenset[int] = frozenset({408, 425, 429, 502, 503, 504})

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("RetryPolicy.max_attempts must be at least 1 (1 means no retries)")
        if self.max_duration < 0 or self.initial_interval < 0 or self.max_interval < 0:
            raise ValueError("RetryPolicy durations must not be negative")
        if not 0 <= self.jitter <= 1:
            raise ValueError("RetryPolicy.jitter is a fraction between 0 and 1")

    @classmethod
    def disabled(cls) -> RetryPolicy:
        return cls(max_attempts=1)

    def backoff(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        base = min(self.max_interval, self.initial_interval * self.multiplier ** (attempt - 1))
        return max(0.0, base * (1 + random.uniform(-self.jitter, self.jitter)))


@dataclasses.dataclass(frozen=True)
class ClientConfig:
    base_url: str
    """The first ingress URL (the only one, unless the client talks to a cluster)."""
    headers: Mapping[str, str]
    timeout: httpx.Timeout
    """The network timeouts of a call's first attempt."""
    deadline: float | None
    """Seconds a whole call may take, retries and waits included; None: no deadline."""
    retry: RetryPolicy
    generate_idempotency_keys: bool
    base_urls: tuple[str, ...] = ()
    """Every ingress URL, in the order given (several: the nodes of a Restate cluster)."""


def ingress_urls(value: str | Sequence[str] | None) -> tuple[str, ...]:
    """The ingress URLs of ``value`` (a URL, comma-separated URLs or a list of them), else of
    ``RESTATE_INGRESS_URL``, else the default; without trailing slashes or repeats."""
    where = f"base_url= or {INGRESS_URL_ENV}"
    if value is None or value == "":
        value = os.environ.get(INGRESS_URL_ENV) or DEFAULT_INGRESS_URL
    if isinstance(value, str):
        items: list[object] = list(value.split(","))
    elif isinstance(value, Sequence):
        items = list(value)
    else:
        raise TypeError(
            f"the Restate ingress URL is a str or a list of str, got {type(value).__name__}"
        )
    urls: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise TypeError(f"an ingress URL is a str, got {type(item).__name__} ({where})")
        url = item.strip().rstrip("/")
        if not url:
            continue
        if not url.startswith(("http://", "https://")):
            raise ValueError(
                f"the Restate ingress URL must start with http:// or https://, got {url!r} "
                f"(set it with {where}; several nodes of a cluster: comma-separated)"
            )
        if url not in urls:
            urls.append(url)
    if not urls:
        raise ValueError(f"no Restate ingress URL was given in {value!r} (set it with {where})")
    return tuple(urls)


def make_config(
    base_url: str | Sequence[str] | None,
    *,
    token: str | None,
    headers: Mapping[str, str] | None,
    timeout: TimeoutTypes | _Unset,
    retry: RetryPolicy | bool | None,
    generate_idempotency_keys: bool,
) -> ClientConfig:
    urls = ingress_urls(base_url)
    all_headers = checked_headers(headers, "headers") if headers else {}
    token = token or os.environ.get(INGRESS_TOKEN_ENV)
    if token:
        if not _is_header_value(token):
            raise ValueError(
                "token: a bearer token is printable ASCII without control characters; "
                "check RESTATE_INGRESS_TOKEN / token= (it may contain a stray newline)"
            )
        all_headers["authorization"] = f"Bearer {token}"
    if retry is True or retry is None:
        policy = RetryPolicy() if retry is True else RetryPolicy.disabled()
    elif retry is False:
        policy = RetryPolicy.disabled()
    else:
        policy = retry
    given = None if isinstance(timeout, _Unset) else timeout
    return ClientConfig(
        base_url=urls[0],
        base_urls=urls,
        headers=all_headers,
        timeout=to_timeout(given),
        deadline=deadline_of(given),
        retry=policy,
        generate_idempotency_keys=generate_idempotency_keys,
    )


def deadline_of(timeout: TimeoutTypes) -> float | None:
    """A number is a deadline for the whole call; an ``httpx.Timeout`` limits each attempt's
    network operations only; None means no deadline."""
    if timeout is None or isinstance(timeout, httpx.Timeout):
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(
            f"timeout is a number of seconds, an httpx.Timeout or None, got {timeout!r}"
        )
    if timeout <= 0:
        raise ValueError(f"timeout must be positive (seconds), got {timeout!r}")
    return float(timeout)


def to_timeout(timeout: TimeoutTypes) -> httpx.Timeout:
    """The network timeouts of one attempt that may take at most ``timeout`` seconds."""
    if isinstance(timeout, httpx.Timeout):
        return timeout
    if timeout is None:
        return DEFAULT_TIMEOUT
    return httpx.Timeout(
        connect=min(CONNECT_TIMEOUT, timeout), read=timeout, write=timeout, pool=timeout
    )


# --- header values -------------------------------------------------------------------------------

_TOKEN_RE = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def _is_header_value(value: str) -> bool:
    # str.isprintable() excludes control characters (CR/LF would split the header); isascii()
    # excludes what httpx cannot encode (it would raise UnicodeEncodeError at send time).
    return value.isascii() and value.isprintable()


def _bad_position(value: str) -> int:
    return next(i for i, c in enumerate(value) if not (c.isascii() and c.isprintable()))


def checked_headers(headers: Mapping[str, str], argument: str) -> dict[str, str]:
    """``headers`` with lower-case names; ValueError naming ``argument`` for what HTTP cannot
    carry (the value itself is not repeated: it may be a secret)."""
    out: dict[str, str] = {}
    for name, value in headers.items():
        if not isinstance(name, str) or not _TOKEN_RE.fullmatch(name):
            raise ValueError(f"{argument}: {name!r} is not a valid HTTP header name")
        if not isinstance(value, str):
            raise TypeError(
                f"{argument}[{name!r}]: header values are str, got {type(value).__name__}"
            )
        if not _is_header_value(value):
            raise ValueError(
                f"{argument}[{name!r}]: the value has a non-ASCII or control character at "
                f"position {_bad_position(value)}; HTTP headers carry printable ASCII only "
                "(encode the value first, e.g. with urllib.parse.quote)"
            )
        out[name.lower()] = value
    return out


# --- building operations -------------------------------------------------------------------------


def delay_param(delay: timedelta | None) -> dict[str, str]:
    if delay is None:
        return {}
    if not isinstance(delay, timedelta):
        raise TypeError(f"delay must be a datetime.timedelta, got {type(delay).__name__}")
    if delay < timedelta(0):
        raise ValueError("delay must not be negative")
    # The unit is required: restate-server 1.7 rejects a bare number of milliseconds with 400.
    return {"delay": f"{int(delay.total_seconds() * 1000)}ms"}


@dataclasses.dataclass
class RequestContext:
    """What the client adds to every operation it builds: config and an optional binding."""

    config: ClientConfig
    binding: CallBinding | None = None

    def invocation_headers(
        self,
        target: Target,
        *,
        idempotency_key: str | None,
        headers: Mapping[str, str] | None,
        content_type: str | None,
        allow_key: bool = True,
    ) -> tuple[dict[str, str], str | None, ReservedKey | None]:
        """Headers for a call/send, with its explicit or generated key, or a reserved one."""
        out: dict[str, str] = {}
        if self.binding is not None:
            out.update(self.binding.forwarded_headers())
        out.update(trace_headers(out))
        if headers:
            out.update(checked_headers(headers, "headers"))
        if content_type:
            out["content-type"] = content_type
        argument = "idempotency_key"
        key = idempotency_key
        if key is None and IDEMPOTENCY_HEADER in out:
            key, argument = out.pop(IDEMPOTENCY_HEADER), "headers['idempotency-key']"
        if key is not None or not allow_key:
            if key is not None:
                if not allow_key:
                    raise ValueError(
                        f"{target}: Restate does not accept an idempotency key here; the "
                        "workflow key already makes the run unique"
                    )
                validate_idempotency_key(key, argument)
                out[IDEMPOTENCY_HEADER] = key
            return out, key, None
        # Reserved now, while user code calls call()/send(): the ordinal follows program order.
        reserved = self.binding.reserve_key(target) if self.binding is not None else None
        if reserved is None and self.config.generate_idempotency_keys:
            key = str(uuid.uuid4())
            out[IDEMPOTENCY_HEADER] = key
        return out, key, reserved


def validate_idempotency_key(key: str, argument: str = "idempotency_key") -> None:
    if not isinstance(key, str):
        raise TypeError(f"{argument}: an idempotency key is a str, got {type(key).__name__}")
    if not key or len(key) > 512:
        raise ValueError(f"{argument}: an idempotency key has 1-512 characters, got {len(key)}")
    if not _is_header_value(key):
        raise ValueError(
            f"{argument}: an idempotency key is printable ASCII (it travels in an HTTP header); "
            f"it has a non-ASCII or control character at position {_bad_position(key)}"
        )


def call_operation(
    ctx: RequestContext,
    target: Target,
    arg: Any,
    *,
    idempotency_key: str | None,
    headers: Mapping[str, str] | None,
    timeout: Any,
    response_type: Any,
    content_type: str | None,
    input_codec: Codec | None = None,
    output_codec: Codec | None = None,
) -> Operation[Any]:
    body, ctype = encode_body(arg, content_type=content_type, codec=input_codec)
    hdrs, key, reserved = ctx.invocation_headers(
        target, idempotency_key=idempotency_key, headers=headers, content_type=ctype
    )
    description = f"call {target}"

    def parse(response: httpx.Response) -> Any:
        ensure_success(response, description)
        return decode_result(response, description, response_type, output_codec)

    return Operation(
        description=description,
        request=RequestSpec("POST", target.path(), hdrs, body, timeout=timeout),
        parse=parse,
        retry_safe=key is not None or reserved is not None,
        idempotency_key=key,
        reserved_key=reserved,
        log_name=description,
    )


def decode_result(
    response: httpx.Response, description: str, response_type: Any, codec: Codec | None
) -> Any:
    try:
        return decode_body(
            response.content,
            response.headers.get("content-type"),
            response_type=response_type,
            codec=codec,
        )
    except ResultDecodeError as error:
        invocation = response.headers.get(INVOCATION_ID_HEADER)
        where = f" [invocation {invocation}]" if invocation else ""
        raise ResultDecodeError(f"{description}: {error}{where}") from error.__cause__


@dataclasses.dataclass(frozen=True)
class SendReceipt:
    """Restate's answer to a send: the invocation id and whether it was new."""

    invocation_id: str
    status: str  # "Accepted" | "PreviouslyAccepted"
    execution_time: datetime | None
    attachable: bool


def send_operation(
    ctx: RequestContext,
    target: Target,
    arg: Any,
    *,
    delay: timedelta | None,
    idempotency_key: str | None,
    headers: Mapping[str, str] | None,
    timeout: Any,
    content_type: str | None,
    input_codec: Codec | None = None,
    workflow_run: bool = False,
) -> Operation[SendReceipt]:
    body, ctype = encode_body(arg, content_type=content_type, codec=input_codec)
    hdrs, key, reserved = ctx.invocation_headers(
        target,
        idempotency_key=idempotency_key,
        headers=headers,
        content_type=ctype,
        allow_key=not workflow_run,
    )
    keyed = key is not None or reserved is not None
    description = f"{'submit' if workflow_run else 'send'} {target}"

    def parse(response: httpx.Response) -> SendReceipt:
        ensure_success(response, description)
        try:
            data = json.loads(response.content)
            invocation_id = data["invocationId"]
        except (ValueError, KeyError, TypeError) as exc:
            raise IngressError(
                "Restate accepted the send but its answer had no invocation id: "
                f"{response.content[:200]!r}",
                status=response.status_code,
                operation=description,
            ) from exc
        return SendReceipt(
            invocation_id=invocation_id,
            status=data.get("status", "Accepted"),
            execution_time=_parse_time(data.get("executionTime")),
            attachable=keyed or workflow_run,
        )

    return Operation(
        description=description,
        request=RequestSpec(
            "POST", target.path() + "/send", hdrs, body, delay_param(delay), timeout=timeout
        ),
        parse=parse,
        # A workflow run is unique per workflow key: repeating the submit cannot start a second.
        retry_safe=keyed or workflow_run,
        idempotency_key=key,
        reserved_key=reserved,
        log_name=description,
    )


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def result_operation(
    ctx: RequestContext,
    path: str,
    description: str,
    *,
    timeout: Any,
    response_type: Any,
    output_codec: Codec | None = None,
    idempotency_key: str | None = None,
    find_body: bytes | None = None,
) -> Operation[Any]:
    """attach (wait for the result) or output (result now, or NotReady) of an invocation;
    ``find_body``: POST it to ``path`` to say which invocation (else GET ``path``)."""

    def parse(response: httpx.Response) -> Any:
        ensure_success(response, description)
        return decode_result(response, description, response_type, output_codec)

    return Operation(
        description=description,
        request=_result_request(path, find_body, timeout),
        parse=parse,
        retry_safe=True,  # reading a result never starts an invocation
        idempotency_key=idempotency_key,
        log_name=description,
    )


def _result_request(path: str, find_body: bytes | None, timeout: Any) -> RequestSpec:
    headers = dict(trace_headers({}))
    if find_body is None:
        return RequestSpec("GET", path, headers, timeout=timeout)
    headers["content-type"] = JSON_CONTENT_TYPE
    return RequestSpec("POST", path, headers, find_body, timeout=timeout)


def invocation_path(invocation_id: str, what: Literal["attach", "output"]) -> str:
    if not invocation_id:
        raise ValueError("the invocation id must not be empty")
    return f"/restate/invocation/{path_segment(invocation_id)}/{what}"


def workflow_path(name: str, key: str, what: Literal["attach", "output"]) -> str:
    return f"/restate/workflow/{path_segment(name)}/{path_segment(key)}/{what}"


def keyed_invocation_body(target: Target, idempotency_key: str) -> bytes:
    """The body of ``POST /restate/attach|output`` that finds the invocation ``target`` started
    with ``idempotency_key`` (kept for the service's idempotency retention, 24 h by default).

    Not the older ``GET /restate/invocation/{service}/{handler}/{key}/...`` path:
    restate-server 1.7 answers 404 there for a key with a '/', which derived keys have.
    """
    validate_idempotency_key(idempotency_key)
    found: dict[str, str] = {"target": "idempotentInvocation", "service": target.service}
    if target.key is not None:
        found["key"] = target.key
    found["handler"] = target.handler
    found["idempotencyKey"] = idempotency_key
    return json.dumps(found).encode()


def awakeable_operation(
    ctx: RequestContext,
    awakeable_id: str,
    outcome: Literal["resolve", "reject"],
    payload: Any,
    *,
    content_type: str | None,
    timeout: Any,
) -> Operation[None]:
    if not awakeable_id or not isinstance(awakeable_id, str):
        raise ValueError(f"an awakeable id is a non-empty string, got {awakeable_id!r}")
    if outcome == "resolve":
        body, ctype = encode_body(payload, content_type=content_type)
    else:
        body, ctype = str(payload).encode(), "text/plain; charset=utf-8"
    hdrs = dict(trace_headers({}))
    if ctype:
        hdrs["content-type"] = ctype
    description = f"{outcome} awakeable {awakeable_id}"

    def parse(response: httpx.Response) -> None:
        ensure_success(response, description)

    return Operation(
        description=description,
        request=RequestSpec(
            "POST",
            f"/restate/awakeables/{path_segment(awakeable_id)}/{outcome}",
            hdrs,
            body,
            timeout=timeout,
        ),
        parse=parse,
        # Restate keeps the first completion of an awakeable, so repeating one is harmless.
        retry_safe=True,
        log_name=f"{outcome} awakeable",
    )


# --- reading answers -----------------------------------------------------------------------------

_INGRESS_LEVEL_STATUSES = frozenset({400, 404, 405, 408, 413, 415, 425, 429, 502, 503, 504})


def ensure_success(response: httpx.Response, operation: str) -> None:
    if response.status_code < 300:
        return
    raise error_from_response(response, operation)


def error_from_response(response: httpx.Response, operation: str) -> IngressError:
    status = response.status_code
    body = response.content
    code: int | None = None
    message = ""
    source = response.headers.get(ERROR_SOURCE_HEADER)
    try:
        data = json.loads(body) if body else {}
    except ValueError:
        data = {}
    if isinstance(data, dict):
        raw_code = data.get("code")
        code = raw_code if isinstance(raw_code, int) else None
        message = str(data.get("message") or "")
        source = source or (data.get("source") if isinstance(data.get("source"), str) else None)
    if not message:
        message = body.decode("utf-8", "replace")[:500] or response.reason_phrase or "no message"
    invocation_id = response.headers.get(INVOCATION_ID_HEADER)
    kwargs: dict[str, Any] = {
        "status": status,
        "code": code,
        "source": source,
        "invocation_id": invocation_id,
        "body": body,
        "operation": operation,
    }
    if source is None and invocation_id and status not in _INGRESS_LEVEL_STATUSES:
        # Servers before 1.7.4 do not send x-restate-error-source; an invocation id on an error
        # that the ingress itself would not produce means the handler failed.
        source = kwargs["source"] = "invocation"
    error_type = IngressError
    if source == "invocation":
        error_type = InvocationFailed
    elif status == NOT_READY_STATUS:
        error_type = NotReady
    elif status == 404:
        error_type = NotFound
    error = error_type(message, **kwargs)
    error.response = response
    return error


class _TransportFailure(IngressUnavailable):
    """Restate did not answer. ``never_sent`` is true when the request provably never left."""

    never_sent: bool = False


# Connection could not be opened (or no pooled connection was free): nothing reached Restate.
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def transport_failure(exc: httpx.TransportError, op: Operation[Any], base_url: str) -> IngressError:
    failure = _TransportFailure(
        f"could not reach Restate at {base_url} ({type(exc).__name__}: {exc or 'no detail'})",
        operation=op.description,
    )
    failure.never_sent = isinstance(exc, _NEVER_SENT)
    return failure


def _timed_out(error: BaseException) -> bool:
    """The request was sent and its answer did not come in time (not: could not connect)."""
    return isinstance(error, _TransportFailure) and isinstance(
        error.__cause__, (httpx.ReadTimeout, httpx.WriteTimeout)
    )


def is_retryable(error: BaseException, op: Operation[Any], policy: RetryPolicy) -> bool:
    """May ``op`` be sent again after ``error`` without risking a duplicate invocation?

    A timed-out answer is never retried: the time the caller allowed has passed, and sending
    again would only wait longer for the same invocation.
    """
    if isinstance(error, _TransportFailure):
        return not _timed_out(error) and (error.never_sent or op.retry_safe)
    if isinstance(error, IngressError):
        return (
            op.retry_safe and error.source != "invocation" and error.status in policy.retry_statuses
        )
    return False


def retry_after_seconds(error: BaseException) -> float | None:
    response = getattr(error, "response", None)
    if not isinstance(response, httpx.Response):
        return None
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
        return max(0.0, (when - datetime.now(when.tzinfo)).total_seconds())
    except (TypeError, ValueError):
        return None


def _failure_name(error: BaseException) -> str:
    """Status or exception class of a failed attempt: what a log line may say about it."""
    if isinstance(error, _TransportFailure) and error.__cause__ is not None:
        return type(error.__cause__).__name__
    status = getattr(error, "status", None)
    return f"HTTP {status}" if status is not None else type(error).__name__


def _node_failed(error: BaseException) -> bool:
    """The node did not answer: refused or broke the connection, or timed out (a full local
    connection pool says nothing about the node)."""
    return isinstance(error, _TransportFailure) and not isinstance(
        error.__cause__, httpx.PoolTimeout
    )


def _schema_miss(error: BaseException) -> bool:
    """The node's ingress does not know the service or handler (404 from the ingress itself).

    Restate decides this before creating any invocation, so asking another node is safe even
    for a call without an idempotency key. In a cluster it is what a node that has just
    restarted answers until its copy of the registered services has caught up.
    """
    return isinstance(error, IngressError) and error.status == 404 and error.source == "ingress"


class Nodes:
    """The ingress URLs of one client, and which nodes are set aside for now.

    With one URL everything here is a no-op. With several (the nodes of a Restate cluster, each
    of which serves every invocation) new calls go round-robin over the nodes that are not set
    aside; a node that did not answer is set aside for ``NODE_SET_ASIDE_SECONDS``. When every
    node is set aside, calls go round-robin over all of them. Shared by the threads of a
    blocking client: the counter and the list assignments are atomic under the GIL, and a lost
    race only costs one call an extra try.
    """

    __slots__ = ("_aside_until", "_turn", "many", "set_aside_seconds", "urls")

    def __init__(
        self, urls: tuple[str, ...], set_aside_seconds: float = NODE_SET_ASIDE_SECONDS
    ) -> None:
        self.urls = urls
        self.many = len(urls) > 1
        self.set_aside_seconds = set_aside_seconds
        self._turn = itertools.count()
        self._aside_until = [0.0] * len(urls)

    def pick(self) -> int:
        """The node of a call's first attempt."""
        if not self.many:
            return 0
        count = len(self.urls)
        start = next(self._turn) % count
        now = time.monotonic()
        for step in range(count):
            node = (start + step) % count
            if self._aside_until[node] <= now:
                return node
        return start

    def set_aside(self, node: int, now: float) -> None:
        if self.many:
            self._aside_until[node] = now + self.set_aside_seconds

    def is_aside(self, node: int, now: float) -> bool:
        return self._aside_until[node] > now

    def next_after(
        self, node: int, tried: set[int], now: float, *, untried_only: bool
    ) -> int | None:
        """The node for the next attempt after one on ``node``: one this call has not tried and
        that is not set aside, else (unless ``untried_only``) one not tried, one not set aside,
        any other; in turn after ``node``. None when nothing fits."""
        count = len(self.urls)
        best: tuple[tuple[bool, bool], int] | None = None
        for step in range(1, count + 1):
            candidate = (node + step) % count
            was_tried = candidate in tried
            if untried_only and was_tried:
                continue
            rank = (was_tried, self.is_aside(candidate, now))
            if best is None or rank < best[0]:
                best = (rank, candidate)
        return None if best is None else best[1]


class RetryPlan:
    """Every retry decision for one operation whose first attempt failed, in one place.

    Sans-I/O: the shells run the attempts and the waits (tenacity's loop, sync or async) and ask
    this plan whether to go on, how long to wait (backoff, Retry-After), what network timeouts the
    next attempt gets (what is left of the call's deadline), and which error to raise at the end.
    The first attempt runs without a plan, so a call that succeeds builds none.
    """

    __slots__ = (
        "attempts",
        "deadline",
        "idempotency_key",
        "next_wait",
        "node",
        "nodes",
        "op",
        "policy",
        "started",
        "tried",
    )

    def __init__(
        self,
        op: Operation[Any],
        config: ClientConfig,
        started: float,
        idempotency_key: str | None,
        nodes: Nodes | None = None,
        node: int = 0,
    ) -> None:
        self.op = op
        self.nodes = nodes if nodes is not None else Nodes(config.base_urls or (config.base_url,))
        self.node = node
        """The node of the attempt that just failed; after ``should_retry``, of the next one."""
        self.tried: set[int] = set()
        self.policy = config.retry
        self.started = started
        timeout = op.request.timeout
        seconds = config.deadline if timeout is UNSET else deadline_of(timeout)
        self.deadline = None if seconds is None else started + seconds
        self.idempotency_key = idempotency_key
        self.attempts = 1
        self.next_wait = 0.0

    def should_retry(self, error: BaseException) -> bool:
        """After a failed attempt: True (and ``next_wait`` and ``node`` set) to try again.

        With several nodes the rules of what may be repeated are the same as with one; what
        changes is where: a node that did not answer is set aside and the next attempt goes to
        another node without waiting (when one is left that this call has not tried), and a
        404 from a node's ingress that does not know the service is asked of each other node
        once, without waiting, and of none twice: a service no node knows ends in ``NotFound``.
        """
        policy = self.policy
        nodes = self.nodes
        now = time.monotonic()
        node_failed = nodes.many and _node_failed(error)
        if node_failed:
            nodes.set_aside(self.node, now)
        self.tried.add(self.node)
        if self.attempts >= policy.max_attempts:
            return False
        if nodes.many and _schema_miss(error):
            other = nodes.next_after(self.node, self.tried, now, untried_only=True)
            return other is not None and self._go(other, 0.0, now, error)
        if not is_retryable(error, self.op, policy):
            return False
        wait = policy.backoff(self.attempts)
        if policy.respect_retry_after:
            after = retry_after_seconds(error)
            if after is not None:
                wait = max(after, wait)
        node = self.node
        if nodes.many:
            found = nodes.next_after(self.node, self.tried, now, untried_only=False)
            node = self.node if found is None else found
            if node_failed and node not in self.tried and not nodes.is_aside(node, now):
                wait = 0.0  # fail over at once: another node has not been asked yet
        return self._go(node, wait, now, error)

    def _go(self, node: int, wait: float, now: float, error: BaseException) -> bool:
        """Retry on ``node`` after ``wait`` seconds, unless that passes a bound."""
        policy = self.policy
        if now + wait - self.started > policy.max_duration:
            return False
        if self.deadline is not None and now + wait >= self.deadline:
            return False
        self.next_wait = wait
        self.node = node
        if self.nodes.many:
            logger.info(
                "retrying %s on %s: attempt %d of %d failed (%s), next in %.2fs",
                self.op.log_name,
                self.nodes.urls[node],
                self.attempts,
                policy.max_attempts,
                _failure_name(error),
                wait,
            )
        else:
            logger.info(
                "retrying %s: attempt %d of %d failed (%s), next in %.2fs",
                self.op.log_name,
                self.attempts,
                policy.max_attempts,
                _failure_name(error),
                wait,
            )
        return True

    def wait(self, _state: Any = None) -> float:
        """The wait before the next attempt (a tenacity ``wait``)."""
        return self.next_wait

    def next_attempt_timeout(self) -> dict[str, float | None] | None:
        """Count an attempt; the httpx timeout extension it gets (None: the request's own)."""
        self.attempts += 1
        if self.deadline is None:
            return None
        return to_timeout(max(0.001, self.deadline - time.monotonic())).as_dict()

    def final_error(self, error: IngressError) -> IngressError:
        """The error a caller sees once retrying has stopped, with the key the request used."""
        final = self._final(error)
        final.idempotency_key = self.idempotency_key
        if final.invocation_id is None:
            final.invocation_id = error.invocation_id
        if self.attempts > 1:
            logger.warning(
                "giving up on %s after %d attempts in %.1fs (%s)",
                self.op.log_name,
                self.attempts,
                time.monotonic() - self.started,
                _failure_name(error),
            )
        return final

    def _final(self, error: IngressError) -> IngressError:
        attempts, elapsed = self.attempts, time.monotonic() - self.started
        if _timed_out(error):
            return IngressTimeout(
                f"Restate did not answer within the timeout ({elapsed:.1f}s); the invocation may "
                "still be running. Raise timeout= for long handlers, or attach to the invocation "
                "by its idempotency key (error.idempotency_key) instead of calling again",
                operation=error.operation,
            )
        if isinstance(error, _TransportFailure):
            tried = f" after {attempts} attempts in {elapsed:.1f}s" if attempts > 1 else ""
            if self.nodes.many:
                cause = error.__cause__
                detail = f"{type(cause).__name__}: {cause or 'no detail'}" if cause else "no answer"
                return IngressUnavailable(
                    f"could not reach Restate at {self.nodes.urls[self.node]} ({detail}){tried}; "
                    f"{len(self.tried)} of the {len(self.nodes.urls)} ingress "
                    "nodes were tried. Check that the Restate cluster has a majority of its "
                    "nodes running and that RESTATE_INGRESS_URL lists their ingresses",
                    operation=error.operation,
                )
            return IngressUnavailable(
                f"{error.message}{tried}. Check that restate-server is running and that "
                f"RESTATE_INGRESS_URL points at its ingress (usually port 8080)",
                operation=error.operation,
            )
        if (
            not isinstance(error, IngressUnavailable)
            and error.source != "invocation"
            and error.status in (429, 502, 503, 504)
        ):
            tried = f" for {attempts} attempts in {elapsed:.1f}s" if attempts > 1 else ""
            unavailable = IngressUnavailable(
                f"Restate answered {error.status} ({error.message}){tried}",
                status=error.status,
                code=error.code,
                source=error.source,
                invocation_id=error.invocation_id,
                body=error.body,
                operation=error.operation,
            )
            unavailable.response = error.response
            return unavailable
        return error


# --- guards and trace context ------------------------------------------------------------------


def current_restate_context() -> Any:
    """The running Restate handler's context, or None. Never imports the SDK itself."""
    if "restate.server_context" not in sys.modules:
        return None  # the SDK was never imported, so no handler can be running in this process
    from restate.extensions import current_context

    try:
        return current_context()
    except LookupError:  # restate-sdk 1.3 raises instead of returning None outside a handler
        return None


def guard_not_in_handler(op: Operation[Any]) -> None:
    ctx = current_restate_context()
    if ctx is None:
        return
    handler = getattr(ctx, "handler", None)
    where = ""
    if handler is not None:
        tag = getattr(handler, "service_tag", None)
        where = f" '{getattr(tag, 'name', '?')}/{getattr(handler, 'name', '?')}'"
    raise IngressInHandlerError(
        f"the ingress client was used inside the Restate handler{where}. A call through the "
        "ingress is not journaled: it would run again on every replay. Use the handler's context "
        "instead: ctx.service_call / ctx.object_call / ctx.workflow_call for calls, "
        "ctx.service_send / ctx.object_send / ctx.workflow_send for sends, and "
        "ctx.resolve_awakeable / ctx.reject_awakeable for awakeables",
        operation=op.description,
    )


_propagator: Any = None


def trace_headers(existing: Mapping[str, str]) -> Mapping[str, str]:
    """W3C trace context of the active OpenTelemetry span, unless a traceparent is given."""
    global _propagator
    if "traceparent" in existing or "opentelemetry.trace" not in sys.modules:
        return {}
    if _propagator is None:
        from opentelemetry.trace.propagation.tracecontext import (
            TraceContextTextMapPropagator,
        )

        # Only traceparent/tracestate: the global propagator may add baggage, which would be
        # stored in Restate's journal.
        _propagator = TraceContextTextMapPropagator()
    carrier: dict[str, str] = {}
    _propagator.inject(carrier)
    return carrier
