"""The incoming ``Idempotency-Key`` header and the keys derived from it for each ingress call.

Parsing follows draft-ietf-httpapi-idempotency-key-header: the value is a Structured Field
string (``"8e03978e-40d5"``); a bare token (``8e03978e-40d5``, what many clients send) is
accepted too. An empty value counts as absent. Anything else is malformed: the request gets
``400 application/problem+json`` and the view does not run.

A derived key is a function of the key's scope (method, path, principal), the incoming key, the
target (service, object key, handler) and the call's ordinal among calls to that target in the
request. A retried request therefore makes exactly the same keys, and each call gets its own.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Sequence
from typing import NoReturn, TypeAlias

from ..ingress._core import Target

DERIVED_KEY_VERSION = "restate-web/1"

# A bare key: sf-token characters plus ':' '/' '=' (base64) and a leading digit (UUIDs).
_BARE_RE = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z:/=]+")


class MalformedIdempotencyKey(ValueError):
    """The incoming idempotency header is not a valid key; the message says why."""


_SF_STRING_RE = re.compile(r'"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*)"')
# The same without escapes: one character class, several times faster than the alternation.
_PLAIN_SF_RE = re.compile(r'"[\x20\x21\x23-\x5b\x5d-\x7e]*"')
_UNESCAPE_RE = re.compile(r"\\([\"\\])")


# --- the adapters' hot path: screen first, parse only what the screen does not recognise ------

_SCREEN_QUOTED_KEY = r'"([\x20\x21\x23-\x5b\x5d-\x7e]{1,%d})"'
_SCREEN_BARE_KEY = r"([!#$%%&'*+\-.^_`|~0-9A-Za-z:/=]{1,%d})"

KeyFound: TypeAlias = "re.Match[str] | re.Match[bytes] | str | None"
"""What an adapter keeps of a request's header between reading it and the first ingress call:
the screen's match (a well-formed key, not yet extracted), the key ``parse_key`` returned for
a value the screen did not recognise, or None (no key)."""


def key_screens(max_length: int) -> tuple[re.Pattern[str], re.Pattern[bytes]]:
    """Patterns (str, bytes) that fully match the usual well-formed headers, and only those.

    One quoted sf-string without escapes or one bare token, 1..``max_length`` characters of key:
    what nearly every client sends. Adapters run one ``fullmatch`` on the raw header value per
    request (a single C call) and keep the match; the key is extracted with ``key_of`` when an
    ingress call first needs it. A value the screen does not match is not necessarily malformed
    (escapes, surrounding spaces, an empty value, several headers): it goes to ``parse_key``,
    which decides and explains.
    """
    pattern = f"{_SCREEN_QUOTED_KEY % max_length}|{_SCREEN_BARE_KEY % max_length}"
    return re.compile(pattern), re.compile(pattern.encode("ascii"))


def key_of(found: KeyFound) -> str | None:
    """The key an adapter kept for a request (see ``KeyFound``)."""
    if found is None or type(found) is str:
        return found
    assert isinstance(found, re.Match)
    key = found[found.lastindex or 0]
    return key.decode("ascii") if isinstance(key, bytes) else key


def parse_idempotency_key(values: Sequence[str], *, header: str, max_length: int) -> str | None:
    """The key carried by the header's ``values`` (one per header line), or None when absent.

    Raises ``MalformedIdempotencyKey`` for several headers, a list, control characters, non-ASCII
    characters, or a key longer than ``max_length``.
    """
    if len(values) == 1:
        return parse_key(values[0], header, max_length)
    present = [v for v in values if v.strip(" \t")]
    if not present:
        return None
    if len(present) > 1:
        raise MalformedIdempotencyKey(f"the request has {len(present)} {header} headers; send one")
    return parse_key(present[0], header, max_length)


def parse_key(value: str, header: str, max_length: int) -> str | None:
    """``parse_idempotency_key`` of a request with one ``header`` line (the adapters' hot path).

    Every request with the header pays for this, so the usual shapes (a quoted string without
    escapes, a bare token) are recognised by one simple regex each before anything else is tried.
    """
    if _PLAIN_SF_RE.fullmatch(value) is not None:
        key = value[1:-1]
    elif _BARE_RE.fullmatch(value) is not None:
        key = value
    else:
        value = value.strip(" \t")
        match = _SF_STRING_RE.fullmatch(value)
        if match is not None:
            key = match.group(1)
            if "\\" in key:
                key = _UNESCAPE_RE.sub(r"\1", key)
        elif not value:
            return None
        elif _BARE_RE.fullmatch(value):
            key = value
        else:
            _diagnose(value, header)
    if not key:
        return None
    if len(key) > max_length:
        raise MalformedIdempotencyKey(
            f"the {header} is {len(key)} characters long; at most {max_length} are accepted"
        )
    return key


def _diagnose(value: str, header: str) -> NoReturn:
    """Explain why ``value`` is neither an sf-string nor a token (the slow, failing path)."""
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise MalformedIdempotencyKey(f"the {header} header contains control characters")
    if any(ord(c) > 0x7E for c in value):
        raise MalformedIdempotencyKey(f"the {header} header must be ASCII")
    if value.startswith('"'):
        _parse_sf_string(value, header)
    raise MalformedIdempotencyKey(
        f'the {header} header must be one quoted string ("...") or one token; '
        "lists, parameters and spaces are not allowed"
    )


def _parse_sf_string(value: str, header: str) -> None:
    out: list[str] = []
    i = 1
    while i < len(value):
        char = value[i]
        if char == "\\":
            if i + 1 < len(value) and value[i + 1] in '"\\':
                out.append(value[i + 1])
                i += 2
                continue
            raise MalformedIdempotencyKey(f"the {header} string has an invalid escape")
        if char == '"':
            if value[i + 1 :].strip(" \t"):
                raise MalformedIdempotencyKey(
                    f"the {header} header must hold exactly one string; found more after it "
                    "(several keys, a list or parameters)"
                )
            raise MalformedIdempotencyKey(f"the {header} string is not a valid sf-string")
        out.append(char)
        i += 1
    raise MalformedIdempotencyKey(f"the {header} string has no closing quote")


@dataclasses.dataclass(frozen=True)
class KeyScope:
    """Who asked for what: two callers choosing the same header value never share a key."""

    method: str
    path: str
    principal: str | None = None


def derive_key(scope: KeyScope, incoming_key: str, target: Target, ordinal: int) -> str:
    """The idempotency key of the ``ordinal``-th call (1-based) to ``target`` in a request.

    A readable prefix (service, handler, ordinal) and a SHA-256 over every input, each length
    prefixed so that no two different inputs hash the same text.
    """
    digest = hashlib.sha256()
    for part in (
        DERIVED_KEY_VERSION,
        scope.method.upper(),
        scope.path,
        "" if scope.principal is None else "p:" + scope.principal,
        incoming_key,
        target.kind,
        target.service,
        "" if target.key is None else "k:" + target.key,
        target.handler,
        str(ordinal),
    ):
        data = part.encode("utf-8", "surrogatepass")
        digest.update(len(data).to_bytes(4, "big"))
        digest.update(data)
    label = f"{target.service[:100]}/{target.handler[:100]}"
    return f"rw:{label}:{ordinal}:{digest.hexdigest()}"


# --- RFC 9457 problem details -----------------------------------------------------------------

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_MALFORMED = "tag:restate-web,2025:idempotency-key-malformed"
PROBLEM_MISSING = "tag:restate-web,2025:idempotency-key-missing"


@dataclasses.dataclass(frozen=True)
class Problem:
    """An error answer every adapter renders the same way (status, headers and JSON body)."""

    status: int
    type: str
    title: str
    detail: str

    def body(self) -> bytes:
        return json.dumps(
            {"type": self.type, "title": self.title, "status": self.status, "detail": self.detail}
        ).encode()

    def headers(self) -> list[tuple[str, str]]:
        return [("content-type", PROBLEM_CONTENT_TYPE), ("cache-control", "no-store")]


def malformed_problem(error: MalformedIdempotencyKey) -> Problem:
    return Problem(400, PROBLEM_MALFORMED, "Malformed idempotency key", str(error))


def missing_problem(header: str) -> Problem:
    return Problem(
        400,
        PROBLEM_MISSING,
        "Idempotency key required",
        f"this endpoint requires an {header} header: send a unique value (a UUID) and send the "
        "same value again when you retry the request",
    )
