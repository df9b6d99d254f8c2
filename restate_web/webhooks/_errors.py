"""Exceptions raised by the webhook core.

Every failure to verify a webhook raises :class:`WebhookVerificationError`, and
every failure to parse a verified one raises :class:`WebhookParseError`. Both
carry a short machine-readable ``reason``; neither message ever contains a
secret, a signature or the body.
"""

from __future__ import annotations

from typing import Literal

VerificationFailure = Literal[
    "missing_header",
    "malformed_header",
    "missing_signature",
    "bad_signature",
    "stale_timestamp",
    "future_timestamp",
    "malformed_body",
]
"""Why a webhook failed verification.

- ``missing_header``: a required header (signature, timestamp or id) is absent.
- ``malformed_header``: a header is present but cannot be parsed.
- ``missing_signature``: the signature lives in the body (Adyen) and is absent.
- ``bad_signature``: no signature matches any configured secret (this includes
  signatures of the wrong length and tampered bodies).
- ``stale_timestamp`` / ``future_timestamp``: the signature is valid but its
  timestamp is outside the tolerance window (a replay, or a badly skewed clock).
- ``malformed_body``: the body must be parsed to find the signature (Adyen) and
  could not be.
"""

ParseFailure = Literal[
    "invalid_json", "not_an_object", "missing_field", "wrong_type", "type_mismatch"
]
"""Why a verified webhook could not be turned into an event.

``type_mismatch``: the event type comes from an unsigned header (Shopify, GitHub) and the signed
body is evidently another kind of event, e.g. a replayed order body with a rewritten topic.
"""


class WebhookError(Exception):
    """Base class of the errors raised by :mod:`restate_web.webhooks`."""


class WebhookVerificationError(WebhookError):
    """The webhook could not be proven to come from the provider; answer 400, forward nothing.

    ``reason`` is one of :data:`VerificationFailure`; ``provider`` names the
    verifier that refused it.
    """

    reason: VerificationFailure
    provider: str

    def __init__(self, provider: str, reason: VerificationFailure, message: str) -> None:
        super().__init__(f"{provider} webhook rejected ({reason}): {message}")
        self.provider = provider
        self.reason = reason


class WebhookParseError(WebhookError):
    """The webhook verified but its body is not the event shape the provider documents.

    Answer 400. ``reason`` is one of :data:`ParseFailure`.
    """

    reason: ParseFailure
    provider: str

    def __init__(self, provider: str, reason: ParseFailure, message: str) -> None:
        super().__init__(f"{provider} webhook body could not be parsed ({reason}): {message}")
        self.provider = provider
        self.reason = reason


class WebhookConfigurationError(WebhookError, ValueError):
    """A verifier, provider or endpoint was configured with unusable settings.

    Raised at construction time, never while handling a request.
    """
