"""Small, constant-time building blocks shared by the verifiers.

Signatures are always *decoded* to raw digest bytes and checked for the exact
digest length before :func:`hmac.compare_digest` sees them: comparing encoded
strings of different lengths would let a truncated signature reach the compare
(the class of bug behind CVE-2024-21491 in svix).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Iterable, Sequence
from typing import Literal

from ._errors import WebhookConfigurationError

SignatureEncoding = Literal["hex", "base64", "base64url"]
SecretInput = str | bytes | Sequence[str | bytes]

_HEX = re.compile(r"[0-9a-fA-F]+")
_B64 = re.compile(r"[A-Za-z0-9+/]+")
_B64URL = re.compile(r"[A-Za-z0-9_-]+")
_UNIX_SECONDS = re.compile(r"[0-9]{1,12}")
_B64_VALUE = {
    char: value
    for alphabet in (
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
    )
    for value, char in enumerate(alphabet)
}
_URLSAFE_TO_STANDARD = str.maketrans("-_", "+/")


def secrets_as_bytes(provider: str, secrets: SecretInput) -> tuple[bytes, ...]:
    """Normalise one secret or a rotation list into key bytes (text is UTF-8 encoded)."""
    items: Sequence[str | bytes] = [secrets] if isinstance(secrets, (str, bytes)) else list(secrets)
    if not items:
        raise WebhookConfigurationError(
            f"{provider}: no webhook secret configured; pass the signing secret "
            "(or a list of secrets while rotating)."
        )
    keys: list[bytes] = []
    for position, item in enumerate(items):
        if isinstance(item, str):
            key = item.encode("utf-8")
        elif isinstance(item, bytes):
            key = item
        else:
            raise WebhookConfigurationError(
                f"{provider}: secret #{position + 1} is a {type(item).__name__}; "
                "secrets must be str or bytes."
            )
        if not key.strip():
            raise WebhookConfigurationError(
                f"{provider}: secret #{position + 1} is empty; copy the signing secret "
                "from the provider's dashboard."
            )
        keys.append(key)
    return tuple(keys)


def digest_size(algorithm: str) -> int:
    return hashlib.new(algorithm).digest_size


def hmac_digest(key: bytes, content: bytes, algorithm: str = "sha256") -> bytes:
    return hmac.new(key, content, algorithm).digest()


_PAD_INNER = bytes(x ^ 0x36 for x in range(256))
_PAD_OUTER = bytes(x ^ 0x5C for x in range(256))


class HmacKey:
    """An HMAC key prepared once (RFC 2104): each digest then costs two hash copies.

    ``hmac.new(key, ...)`` sets up the key schedule on every call, which costs
    as much as hashing a few kB; verifiers check every request with the same
    keys, so they prepare them up front. Same result as :func:`hmac_digest`.
    """

    __slots__ = ("_inner", "_outer")

    def __init__(self, key: bytes, algorithm: str = "sha256") -> None:
        block_size = hashlib.new(algorithm).block_size
        if len(key) > block_size:
            key = hashlib.new(algorithm, key).digest()
        key = key.ljust(block_size, b"\0")
        self._inner = hashlib.new(algorithm, key.translate(_PAD_INNER))
        self._outer = hashlib.new(algorithm, key.translate(_PAD_OUTER))

    def digest(self, content: bytes) -> bytes:
        inner = self._inner.copy()
        inner.update(content)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()

    def __repr__(self) -> str:
        return "HmacKey(<hidden>)"


def encode_signature(digest: bytes, encoding: SignatureEncoding) -> str:
    if encoding == "hex":
        return digest.hex()
    if encoding == "base64":
        return base64.b64encode(digest).decode("ascii")
    return base64.urlsafe_b64encode(digest).decode("ascii")


def decode_signature(text: str, encoding: SignatureEncoding, size: int) -> bytes | None:
    """Decode ``text`` to exactly ``size`` digest bytes, or ``None`` if it cannot be one.

    The length is checked on the text before decoding, so oversized or truncated
    candidates never reach the comparison. Base64 padding is optional, but the
    encoding must be canonical; hex digits may be upper or lower case.
    """
    text = text.strip()
    if encoding == "hex":
        if len(text) != 2 * size or not _HEX.fullmatch(text):
            return None
        return bytes.fromhex(text)
    unpadded = text.rstrip("=")
    full_groups, remainder = divmod(size, 3)
    expected_unpadded = 4 * full_groups + (remainder + 1 if remainder else 0)
    if len(unpadded) != expected_unpadded or len(text) - len(unpadded) > 2:
        return None
    alphabet = _B64 if encoding == "base64" else _B64URL
    if not alphabet.fullmatch(unpadded):
        return None
    # Only the canonical encoding: the unused low bits of the last character must be
    # zero, so exactly one text (up to padding) stands for each digest.
    if remainder and _B64_VALUE[unpadded[-1]] & (0b1111 if remainder == 1 else 0b11):
        return None
    padded = unpadded + "=" * (-len(unpadded) % 4)
    if encoding == "base64url":
        padded = padded.translate(_URLSAFE_TO_STANDARD)
    try:
        # The alphabet and the length are checked above, so the plain decoder sees
        # only well-formed input (base64.b64decode(validate=True) would match again).
        decoded = binascii.a2b_base64(padded)
    except (binascii.Error, ValueError):
        return None
    return decoded if len(decoded) == size else None


def any_signature_matches(expected: Iterable[bytes], candidates: Iterable[bytes | None]) -> bool:
    """True if any candidate equals any expected digest, compared in constant time."""
    wanted = list(expected)
    for candidate in candidates:
        if candidate is None:
            continue
        for digest in wanted:
            if len(candidate) == len(digest) and hmac.compare_digest(candidate, digest):
                return True
    return False


def parse_unix_seconds(text: str) -> int | None:
    """Parse a plain decimal Unix timestamp in seconds; anything else is ``None``."""
    text = text.strip()
    return int(text) if _UNIX_SECONDS.fullmatch(text) else None
