"""Signature verifiers, one per provider, plus a configurable generic HMAC verifier.

Every verifier:

- accepts several secrets, so a secret can be rotated without dropping events;
- decodes each received signature and rejects it if it is not exactly one
  digest long before any comparison, then compares with :func:`hmac.compare_digest`;
- works on the raw body bytes and never parses JSON first (Adyen is the one
  exception: its signature lives *inside* the JSON body);
- raises :class:`~restate_web.webhooks._errors.WebhookVerificationError` and
  nothing else for a bad request, with a message that never contains a secret,
  a signature or the body;
- takes an injectable clock (``now``) where the scheme carries a timestamp.

Each verifier also has ``sign_headers(...)``, which produces the headers the
provider would send, signed with the *first* secret. It exists for tests (yours
and ours); production code never needs it.
"""

from __future__ import annotations

import base64
import binascii
import string
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

from ._errors import (
    VerificationFailure,
    WebhookConfigurationError,
    WebhookVerificationError,
)
from ._json import loads_json
from ._request import WebhookRequest, header_values
from ._signing import (
    HmacKey,
    SecretInput,
    SignatureEncoding,
    any_signature_matches,
    decode_signature,
    digest_size,
    encode_signature,
    hmac_digest,
    parse_unix_seconds,
    secrets_as_bytes,
)

Clock = Callable[[], float]
"""Returns the current Unix time in seconds; :func:`time.time` unless a test injects one."""

_SHA256_SIZE = 32


class WebhookVerifier(ABC):
    """Checks that a :class:`WebhookRequest` was signed by the provider.

    Subclasses implement :meth:`verify`; it returns ``None`` on success and raises
    :class:`WebhookVerificationError` otherwise.
    """

    provider: str

    @abstractmethod
    def verify(self, request: WebhookRequest) -> None:
        """Raise :class:`WebhookVerificationError` unless ``request`` is authentic and fresh."""

    def _fail(self, reason: VerificationFailure, message: str) -> WebhookVerificationError:
        return WebhookVerificationError(self.provider, reason, message)

    def _single_header(self, request: WebhookRequest, name: str) -> str:
        values = header_values(request.headers, name.lower())
        if not values:
            raise self._fail("missing_header", f"the {name} header is missing.")
        if len(values) > 1:
            raise self._fail(
                "malformed_header",
                f"the {name} header was sent {len(values)} times; expected exactly once.",
            )
        return values[0]

    def __repr__(self) -> str:
        # Never the secrets themselves: reprs end up in logs and tracebacks.
        count = len(getattr(self, "_keys", ()))
        return f"{type(self).__name__}(provider={self.provider!r}, secrets=<{count} hidden>)"


class _TimestampWindow:
    """Freshness check shared by the schemes that sign a timestamp."""

    def __init__(self, tolerance: float | None, now: Clock) -> None:
        if tolerance is not None and tolerance <= 0:
            raise WebhookConfigurationError(
                f"tolerance must be a positive number of seconds or None, got {tolerance!r}."
            )
        self.tolerance = tolerance
        self.now = now

    def check(self, verifier: WebhookVerifier, timestamp: int) -> None:
        if self.tolerance is None:
            return
        age = self.now() - timestamp
        if age > self.tolerance:
            raise verifier._fail(
                "stale_timestamp",
                f"the signed timestamp is {age:.0f} s old, more than the {self.tolerance:g} s "
                "tolerance; this is a replay or the sender's clock is wrong.",
            )
        if -age > self.tolerance:
            raise verifier._fail(
                "future_timestamp",
                f"the signed timestamp is {-age:.0f} s in the future, more than the "
                f"{self.tolerance:g} s tolerance; check this server's clock.",
            )


# --------------------------------------------------------------------------- Stripe


class _TimestampedHexVerifier(WebhookVerifier):
    """One header of ``<ts key>=<unix>`` plus ``<sig key>=<hex>`` entries (Stripe, Paddle):
    HMAC-SHA256 over ``<timestamp><content separator><body>``; any signature may match any
    secret (rotation); the timestamp must fall inside the tolerance window."""

    header: ClassVar[str]
    entry_separator: ClassVar[str]
    timestamp_key: ClassVar[str]
    signature_key: ClassVar[str]
    content_separator: ClassVar[bytes]
    where_is_the_key: ClassVar[str]

    def __init__(self, secrets: SecretInput, *, tolerance: float | None, now: Clock) -> None:
        self._keys = secrets_as_bytes(self.provider, secrets)
        self._macs = tuple(HmacKey(key) for key in self._keys)
        self._window = _TimestampWindow(tolerance, now)

    def verify(self, request: WebhookRequest) -> None:
        value = self._single_header(request, self.header)
        ts_key, sig_key = self.timestamp_key, self.signature_key
        timestamp_text: str | None = None
        signatures: list[str] = []
        for item in value.split(self.entry_separator):
            key, sep, item_value = item.strip().partition("=")
            if not sep:
                raise self._fail("malformed_header", f"{self.header} has an entry without '='.")
            if key == ts_key:
                if timestamp_text is not None:
                    raise self._fail(
                        "malformed_header", f"{self.header} has more than one {ts_key}=."
                    )
                timestamp_text = item_value
            elif key == sig_key:
                signatures.append(item_value)
        if timestamp_text is None:
            raise self._fail("malformed_header", f"{self.header} has no {ts_key}= timestamp.")
        timestamp = parse_unix_seconds(timestamp_text)
        if timestamp is None:
            raise self._fail(
                "malformed_header", f"{self.header} {ts_key}= is not a Unix timestamp."
            )
        if not signatures:
            raise self._fail("malformed_header", f"{self.header} has no {sig_key}= signature.")
        content = timestamp_text.strip().encode("ascii") + self.content_separator + request.body
        expected = [mac.digest(content) for mac in self._macs]
        candidates = [decode_signature(s, "hex", _SHA256_SIZE) for s in signatures]
        if not any_signature_matches(expected, candidates):
            raise self._fail(
                "bad_signature",
                f"no {sig_key} signature matches any configured secret; check "
                f"{self.where_is_the_key} and that the body is passed unmodified.",
            )
        self._window.check(self, timestamp)

    def sign_headers(self, body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
        """The signature header the provider would send for ``body`` (first secret)."""
        ts = int(self._window.now()) if timestamp is None else timestamp
        digest = hmac_digest(self._keys[0], str(ts).encode("ascii") + self.content_separator + body)
        entries = f"{self.timestamp_key}={ts}{self.entry_separator}{self.signature_key}="
        return {self.header: entries + digest.hex()}


class StripeVerifier(_TimestampedHexVerifier):
    """Stripe: ``Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>...]``.

    Signed content is ``f"{t}.{body}"``, HMAC-SHA256 keyed with the whole
    ``whsec_...`` string (not base64-decoded). Any ``v1`` entry matching any
    secret passes. Unlike stripe-python, timestamps more than ``tolerance``
    seconds in the *future* are rejected too, and the tolerance cannot be
    silently skipped (``tolerance=None`` must be asked for explicitly).
    """

    provider = "stripe"
    header: ClassVar[str] = "Stripe-Signature"
    entry_separator = ","
    timestamp_key = "t"
    signature_key = "v1"
    content_separator = b"."
    where_is_the_key = "the endpoint's signing secret (whsec_...)"

    def __init__(
        self, secrets: SecretInput, *, tolerance: float | None = 300, now: Clock = time.time
    ) -> None:
        super().__init__(secrets, tolerance=tolerance, now=now)


# ------------------------------------------------------------ Standard Webhooks / Svix


def _standard_webhooks_key(secret: str | bytes) -> bytes:
    if isinstance(secret, bytes):
        return secret
    text = secret.strip()
    if text.startswith("whsec_"):
        text = text[len("whsec_") :]
    try:
        key = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise WebhookConfigurationError(
            "standard-webhooks: a secret is not 'whsec_' followed by base64; copy it "
            "exactly from the sender's dashboard (raw key bytes may be passed as bytes)."
        ) from None
    if not key:
        raise WebhookConfigurationError("standard-webhooks: a secret decodes to zero bytes.")
    return key


class StandardWebhooksVerifier(WebhookVerifier):
    """Standard Webhooks 1.0 and Svix: ``webhook-id``, ``-timestamp`` and ``-signature`` headers.

    The ``svix-id`` / ``svix-timestamp`` / ``svix-signature`` names are accepted
    too and, like the svix library, preferred when present. Signed content is
    ``f"{id}.{timestamp}.{body}"``, HMAC-SHA256 keyed with the base64-decoded
    ``whsec_...`` secret; the header is a space-separated list of
    ``v1,<base64>`` (other versions such as ``v1a`` are skipped). The timestamp
    must be within ``tolerance`` seconds in either direction.
    """

    provider = "standard-webhooks"

    def __init__(
        self,
        secrets: str | bytes | Sequence[str | bytes],
        *,
        tolerance: float | None = 300,
        now: Clock = time.time,
    ) -> None:
        items = [secrets] if isinstance(secrets, (str, bytes)) else list(secrets)
        if not items:
            raise WebhookConfigurationError(
                "standard-webhooks: no webhook secret configured; pass the 'whsec_...' secret."
            )
        self._keys = tuple(_standard_webhooks_key(item) for item in items)
        self._macs = tuple(HmacKey(key) for key in self._keys)
        self._window = _TimestampWindow(tolerance, now)

    _NAMES: ClassVar[dict[str, tuple[str, str]]] = {
        field: (f"svix-{field}", f"webhook-{field}") for field in ("id", "timestamp", "signature")
    }

    def _header(self, request: WebhookRequest, field: str) -> str:
        for name in self._NAMES[field]:
            values = header_values(request.headers, name)
            if len(values) == 1:
                return values[0]
            if values:
                return self._single_header(request, name)  # raises: sent more than once
        raise self._fail("missing_header", f"the webhook-{field} header is missing.")

    def verify(self, request: WebhookRequest) -> None:
        message_id = self._header(request, "id")
        timestamp_text = self._header(request, "timestamp")
        signature_header = self._header(request, "signature")
        timestamp = parse_unix_seconds(timestamp_text)
        if timestamp is None:
            raise self._fail("malformed_header", "webhook-timestamp is not a Unix timestamp.")
        candidates: list[bytes | None] = []
        for entry in signature_header.split():
            version, sep, encoded = entry.partition(",")
            if sep and version == "v1":
                candidates.append(decode_signature(encoded, "base64", _SHA256_SIZE))
        if not candidates:
            raise self._fail(
                "bad_signature",
                "webhook-signature has no 'v1,<base64>' entry (asymmetric v1a is not supported).",
            )
        content = f"{message_id}.{timestamp_text.strip()}.".encode() + request.body
        expected = [mac.digest(content) for mac in self._macs]
        if not any_signature_matches(expected, candidates):
            raise self._fail(
                "bad_signature",
                "no v1 signature matches any configured secret; check the 'whsec_...' secret "
                "and that the body is passed unmodified.",
            )
        self._window.check(self, timestamp)

    def sign_headers(
        self, body: bytes, *, message_id: str, timestamp: int | None = None
    ) -> dict[str, str]:
        """The three ``webhook-*`` headers a sender would attach to ``body`` (first secret)."""
        ts = int(self._window.now()) if timestamp is None else timestamp
        digest = hmac_digest(self._keys[0], f"{message_id}.{ts}.".encode() + body)
        return {
            "webhook-id": message_id,
            "webhook-timestamp": str(ts),
            "webhook-signature": "v1," + encode_signature(digest, "base64"),
        }


# --------------------------------------------------------------------------- Adyen

ADYEN_SIGNED_FIELDS = (
    "pspReference",
    "originalReference",
    "merchantAccountCode",
    "merchantReference",
    "value",
    "currency",
    "eventCode",
    "success",
)


def _adyen_field_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        # Adyen sends "true"/"false" strings; a JSON boolean must sign the same way.
        return "true" if value else "false"
    return str(value)


def _adyen_fields(item: Mapping[str, Any]) -> dict[str, Any]:
    """The item's fields with ``value`` and ``currency`` taken from its ``amount``."""
    amount = item.get("amount")
    amount_fields = amount if isinstance(amount, Mapping) else {}
    fields = {name: item[name] for name in ADYEN_SIGNED_FIELDS if name in item}
    for name in ("value", "currency"):
        fields.pop(name, None)
        if name in amount_fields:
            fields[name] = amount_fields[name]
    return fields


def adyen_signing_string(item: Mapping[str, Any]) -> str:
    """The string Adyen signs for one ``NotificationRequestItem`` (fields joined by ``:``)."""
    return _adyen_signing_strings(item)[0]


def _adyen_signing_strings(item: Mapping[str, Any]) -> list[str]:
    """``adyen_signing_string``, and the string Adyen's Python library signs when it differs.

    The library formats each field present with ``str()``: a JSON null signs as ``None``
    (Adyen's docs, and this module: empty), a JSON boolean as ``True``/``False``. Both strings
    are signed with the secret key, so accepting either admits nothing unsigned.
    """
    fields = _adyen_fields(item)
    ours = ":".join(_adyen_field_text(fields.get(name)) for name in ADYEN_SIGNED_FIELDS)
    library = ":".join(str(fields[name]) if name in fields else "" for name in ADYEN_SIGNED_FIELDS)
    return [ours] if library == ours else [ours, library]


def adyen_notification_items(document: object) -> list[Mapping[str, Any]] | None:
    """The ``NotificationRequestItem`` objects of a notification; ``None`` if malformed."""
    if not isinstance(document, Mapping):
        return None
    wrappers = document.get("notificationItems")
    if not isinstance(wrappers, list) or not wrappers:
        return None
    items: list[Mapping[str, Any]] = []
    for wrapper in wrappers:
        item = wrapper.get("NotificationRequestItem") if isinstance(wrapper, Mapping) else None
        if not isinstance(item, Mapping):
            return None
        items.append(item)
    return items


def _adyen_key(key: str | bytes) -> bytes:
    if isinstance(key, bytes):
        return key
    try:
        decoded = binascii.a2b_hex(key.strip())
    except (binascii.Error, ValueError):
        raise WebhookConfigurationError(
            "adyen: an HMAC key is not a hex string; copy it from the Customer Area "
            "(Developers > Webhooks > HMAC key)."
        ) from None
    if not decoded:
        raise WebhookConfigurationError("adyen: an HMAC key is empty.")
    return decoded


class AdyenVerifier(WebhookVerifier):
    """Adyen standard (payments) notifications: HMAC in ``additionalData.hmacSignature``.

    Signed content is eight fields of each ``NotificationRequestItem`` joined by
    ``:`` (see :data:`ADYEN_SIGNED_FIELDS`), HMAC-SHA256 keyed with the
    hex-decoded HMAC key, base64. Unlike Adyen's own library, *every* item of a
    batch must verify, not just the first. Because the signature is inside the
    JSON, this verifier has to parse the body; a body that is not a notification
    is refused as ``malformed_body``. Adyen signs no timestamp, so replay
    protection rests on idempotent processing (see the event id).

    Header-signed Adyen webhooks (Balance Platform, Management API) sign the raw
    body instead: use :class:`HmacVerifier` with ``encoding="base64"`` and the
    key as ``bytes.fromhex(hmac_key)``.
    """

    provider = "adyen"

    def __init__(self, hmac_keys: str | bytes | Sequence[str | bytes]) -> None:
        items = [hmac_keys] if isinstance(hmac_keys, (str, bytes)) else list(hmac_keys)
        if not items:
            raise WebhookConfigurationError("adyen: no HMAC key configured.")
        self._keys = tuple(_adyen_key(item) for item in items)

    def verify(self, request: WebhookRequest) -> None:
        try:
            document = loads_json(request.body)
        except (ValueError, RecursionError):
            raise self._fail("malformed_body", "the body is not JSON.") from None
        items = adyen_notification_items(document)
        if items is None:
            raise self._fail(
                "malformed_body",
                "the body has no notificationItems[].NotificationRequestItem objects.",
            )
        for position, item in enumerate(items):
            additional = item.get("additionalData")
            signature = additional.get("hmacSignature") if isinstance(additional, Mapping) else None
            if not isinstance(signature, str) or not signature:
                raise self._fail(
                    "missing_signature",
                    f"notification item #{position + 1} has no additionalData.hmacSignature; "
                    "enable HMAC signing for this webhook in the Customer Area.",
                )
            expected = [
                hmac_digest(key, content.encode("utf-8"))
                for content in _adyen_signing_strings(item)
                for key in self._keys
            ]
            candidate = decode_signature(signature, "base64", _SHA256_SIZE)
            if not any_signature_matches(expected, [candidate]):
                raise self._fail(
                    "bad_signature",
                    f"notification item #{position + 1} does not match any configured HMAC key.",
                )

    def sign_item(self, item: Mapping[str, Any]) -> str:
        """The ``hmacSignature`` Adyen would put in ``item`` (first key)."""
        digest = hmac_digest(self._keys[0], adyen_signing_string(item).encode("utf-8"))
        return encode_signature(digest, "base64")


# --------------------------------------------------------------------------- Paddle


class PaddleVerifier(_TimestampedHexVerifier):
    """Paddle Billing: ``Paddle-Signature: ts=<unix>;h1=<hex>[;h1=<hex>...]``.

    Signed content is ``f"{ts}:{body}"``, HMAC-SHA256 keyed with the whole
    secret string, hex. The default tolerance is Paddle's own 5 seconds, in
    both directions; raise it if your clocks drift.
    """

    provider = "paddle"
    header: ClassVar[str] = "Paddle-Signature"
    entry_separator = ";"
    timestamp_key = "ts"
    signature_key = "h1"
    content_separator = b":"
    where_is_the_key = "the notification destination's secret key"

    def __init__(
        self, secrets: SecretInput, *, tolerance: float | None = 5, now: Clock = time.time
    ) -> None:
        super().__init__(secrets, tolerance=tolerance, now=now)


# --------------------------------------------------------- generic HMAC over the body

_TEMPLATE_FIELDS = frozenset({"body", "timestamp", "url", "method"})


class HmacVerifier(WebhookVerifier):
    """A configurable HMAC verifier for providers without a dedicated one.

    - ``header``: the header carrying the signature; if it is sent several
      times, any value may match (some providers do that while rotating).
    - ``algorithm``: a :mod:`hashlib` name (``"sha256"``, ``"sha512"``, ``"sha1"``...).
    - ``encoding``: ``"hex"``, ``"base64"`` or ``"base64url"`` (padding optional).
    - ``prefix``: text before the signature, e.g. ``"sha256="``; required if set,
      matched case-insensitively.
    - ``timestamp_header`` / ``signed_content`` / ``tolerance``: for schemes that
      sign a timestamp (decimal Unix seconds; both directions are checked).
      ``signed_content`` is a template over ``{body}``, ``{timestamp}``,
      ``{url}`` and ``{method}`` (``{{``/``}}`` are literal braces), e.g.
      ``"{timestamp}.{body}"``; the default is the raw body alone.
    - ``secrets``: text secrets are used as UTF-8 bytes; pass ``bytes`` for keys
      that must be decoded first (hex, base64).
    """

    def __init__(
        self,
        secrets: SecretInput,
        *,
        header: str,
        algorithm: str = "sha256",
        encoding: SignatureEncoding = "hex",
        prefix: str = "",
        timestamp_header: str | None = None,
        signed_content: str = "{body}",
        tolerance: float | None = 300,
        now: Clock = time.time,
        provider: str = "hmac",
    ) -> None:
        self.provider = provider
        self._keys = secrets_as_bytes(provider, secrets)
        if not header:
            raise WebhookConfigurationError(f"{provider}: header must name the signature header.")
        if encoding not in ("hex", "base64", "base64url"):
            raise WebhookConfigurationError(
                f"{provider}: encoding must be 'hex', 'base64' or 'base64url', got {encoding!r}."
            )
        try:
            self._digest_size = digest_size(algorithm)
        except (ValueError, TypeError):
            raise WebhookConfigurationError(
                f"{provider}: {algorithm!r} is not a hashlib algorithm; use e.g. 'sha256'."
            ) from None
        if self._digest_size == 0 or algorithm.lower().startswith("shake"):
            raise WebhookConfigurationError(
                f"{provider}: {algorithm!r} has no fixed digest size; use e.g. 'sha256'."
            )
        self._template = self._parse_template(signed_content)
        uses_timestamp = any(field == "timestamp" for _, field in self._template)
        if uses_timestamp and timestamp_header is None:
            raise WebhookConfigurationError(
                f"{provider}: signed_content uses {{timestamp}} but timestamp_header is not set."
            )
        if timestamp_header is not None and not uses_timestamp:
            raise WebhookConfigurationError(
                f"{provider}: timestamp_header is set but signed_content does not include "
                "{timestamp}; an unsigned timestamp gives no replay protection."
            )
        self.header = header
        self._algorithm = algorithm
        self._encoding: SignatureEncoding = encoding
        self._prefix = prefix
        self._timestamp_header = timestamp_header
        self._window = _TimestampWindow(tolerance, now)

    def _parse_template(self, template: str) -> list[tuple[str, str | None]]:
        pieces: list[tuple[str, str | None]] = []
        try:
            parsed = list(string.Formatter().parse(template))
        except ValueError as exc:
            raise WebhookConfigurationError(
                f"{self.provider}: signed_content {template!r} is not a valid template ({exc})."
            ) from None
        for literal, field, format_spec, conversion in parsed:
            if field is not None and (field not in _TEMPLATE_FIELDS or format_spec or conversion):
                raise WebhookConfigurationError(
                    f"{self.provider}: signed_content may only use {{body}}, {{timestamp}}, "
                    f"{{url}} and {{method}}; found {{{field}}}."
                )
            pieces.append((literal, field))
        if sum(1 for _, field in pieces if field == "body") != 1:
            raise WebhookConfigurationError(
                f"{self.provider}: signed_content must contain {{body}} exactly once."
            )
        return pieces

    def _content(self, request: WebhookRequest, timestamp_text: str | None) -> bytes:
        values = {
            "body": request.body,
            "url": request.url.encode("utf-8"),
            "method": request.method.encode("utf-8"),
            "timestamp": (timestamp_text or "").encode("utf-8"),
        }
        parts: list[bytes] = []
        for literal, field in self._template:
            parts.append(literal.encode("utf-8"))
            if field is not None:
                parts.append(values[field])
        return b"".join(parts)

    def _strip_prefix(self, value: str) -> str | None:
        value = value.strip()
        if not self._prefix:
            return value
        if value[: len(self._prefix)].lower() != self._prefix.lower():
            return None
        return value[len(self._prefix) :]

    def verify(self, request: WebhookRequest) -> None:
        values = request.headers.get_all(self.header)
        if not values:
            raise self._fail("missing_header", f"the {self.header} header is missing.")
        signatures = [self._strip_prefix(value) for value in values]
        if all(signature is None for signature in signatures):
            raise self._fail(
                "malformed_header", f"{self.header} does not start with {self._prefix!r}."
            )
        timestamp_text: str | None = None
        timestamp: int | None = None
        if self._timestamp_header is not None:
            timestamp_text = self._single_header(request, self._timestamp_header).strip()
            timestamp = parse_unix_seconds(timestamp_text)
            if timestamp is None:
                raise self._fail(
                    "malformed_header", f"{self._timestamp_header} is not a Unix timestamp."
                )
        content = self._content(request, timestamp_text)
        expected = [hmac_digest(key, content, self._algorithm) for key in self._keys]
        candidates = [
            None if s is None else decode_signature(s, self._encoding, self._digest_size)
            for s in signatures
        ]
        if not any_signature_matches(expected, candidates):
            raise self._fail(
                "bad_signature",
                f"{self.header} does not match any configured secret; check the webhook "
                "secret and that the body is passed unmodified.",
            )
        if timestamp is not None:
            self._window.check(self, timestamp)

    def sign_headers(
        self,
        body: bytes,
        *,
        url: str = "",
        method: str = "POST",
        timestamp: int | None = None,
    ) -> dict[str, str]:
        """The headers this scheme expects for ``body`` (first secret)."""
        headers: dict[str, str] = {}
        timestamp_text: str | None = None
        if self._timestamp_header is not None:
            timestamp_text = str(int(self._window.now()) if timestamp is None else timestamp)
            headers[self._timestamp_header] = timestamp_text
        request = WebhookRequest(method, url, {}, body)
        digest = hmac_digest(self._keys[0], self._content(request, timestamp_text), self._algorithm)
        headers[self.header] = self._prefix + encode_signature(digest, self._encoding)
        return headers


# ----------------------------------------- providers that sign the raw body (or URL+body)


class SquareVerifier(WebhookVerifier):
    """Square: ``x-square-hmacsha256-signature``, base64 HMAC-SHA256 of ``notification_url + body``.

    ``notification_url`` must be the URL exactly as configured on the Square
    webhook subscription. Pass it explicitly when a proxy or load balancer
    rewrites the scheme, host or path; if omitted, ``request.url`` is used.
    Square sends one signature per event, so during a key rotation pass both
    signature keys.
    """

    provider = "square"
    header: ClassVar[str] = "x-square-hmacsha256-signature"

    def __init__(self, signature_keys: SecretInput, *, notification_url: str | None = None) -> None:
        self._keys = secrets_as_bytes(self.provider, signature_keys)
        self.notification_url = notification_url

    def verify(self, request: WebhookRequest) -> None:
        values = request.headers.get_all(self.header)
        if not values:
            raise self._fail("missing_header", f"the {self.header} header is missing.")
        url = self.notification_url if self.notification_url is not None else request.url
        content = url.encode("utf-8") + request.body
        expected = [hmac_digest(key, content) for key in self._keys]
        candidates = [decode_signature(v, "base64", _SHA256_SIZE) for v in values]
        if not any_signature_matches(expected, candidates):
            raise self._fail(
                "bad_signature",
                f"{self.header} does not match any configured signature key; check the key "
                "and that notification_url is exactly the subscription's URL.",
            )

    def sign_headers(self, body: bytes, *, url: str | None = None) -> dict[str, str]:
        """The header Square would send for ``body`` delivered to ``url`` (first key)."""
        target = url if url is not None else self.notification_url
        if target is None:
            raise WebhookConfigurationError("square: pass url= or configure notification_url.")
        digest = hmac_digest(self._keys[0], target.encode("utf-8") + body)
        return {self.header: encode_signature(digest, "base64")}


class RazorpayVerifier(HmacVerifier):
    """Razorpay: ``X-Razorpay-Signature``, hex HMAC-SHA256 of the body.

    The key is the *webhook* secret you chose, not the API key secret.

    Razorpay signs no timestamp and sends one signature; after changing the
    secret, pass old and new secrets until old events have drained.
    """

    def __init__(self, secrets: SecretInput) -> None:
        super().__init__(secrets, header="X-Razorpay-Signature", provider="razorpay")


class GitHubVerifier(HmacVerifier):
    """GitHub: ``X-Hub-Signature-256: sha256=<hex>`` over the body.

    The legacy SHA-1 ``X-Hub-Signature`` header is deliberately not accepted.
    """

    def __init__(self, secrets: SecretInput) -> None:
        super().__init__(secrets, header="X-Hub-Signature-256", prefix="sha256=", provider="github")


class ShopifyVerifier(HmacVerifier):
    """Shopify: ``X-Shopify-Hmac-SHA256``, base64 HMAC-SHA256 of the body.

    The key is the app's client secret.

    After a secret rotation Shopify may sign with the old secret for about an
    hour; pass both.
    """

    def __init__(self, secrets: SecretInput) -> None:
        super().__init__(
            secrets, header="X-Shopify-Hmac-SHA256", encoding="base64", provider="shopify"
        )


class LemonSqueezyVerifier(HmacVerifier):
    """Lemon Squeezy: ``X-Signature``, hex HMAC-SHA256 of the body keyed with the signing secret."""

    def __init__(self, secrets: SecretInput) -> None:
        super().__init__(secrets, header="X-Signature", provider="lemonsqueezy")
