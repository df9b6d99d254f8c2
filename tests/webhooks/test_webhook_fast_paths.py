"""The verification hot path's shortcuts give exactly what the straightforward code gives.

Prepared HMAC keys vs ``hmac.new``; the shared JSON decoder vs ``json.loads``; the
canonical-base64 bit check vs decoding and re-encoding; ``Headers.get`` without
exceptions vs ``Mapping.get``.
"""

from __future__ import annotations

import base64
import hmac
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from restate_web.webhooks._json import loads_json
from restate_web.webhooks._request import Headers
from restate_web.webhooks._signing import HmacKey, decode_signature, encode_signature

ALGORITHMS = ["sha256", "sha1", "sha512", "sha384", "sha3_256", "blake2b"]


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("key_length", [1, 32, 63, 64, 65, 128, 129, 200])
def test_prepared_hmac_key_matches_hmac_new(algorithm: str, key_length: int) -> None:
    key = bytes(range(256))[:key_length]
    prepared = HmacKey(key, algorithm)
    for message in (b"", b"t=1.{}", bytes(range(256)) * 20):
        assert prepared.digest(message) == hmac.new(key, message, algorithm).digest()
    assert "hidden" in repr(prepared)


@given(key=st.binary(min_size=1, max_size=300), message=st.binary(max_size=3000))
def test_prepared_hmac_key_matches_hmac_new_for_any_input(key: bytes, message: bytes) -> None:
    assert HmacKey(key).digest(message) == hmac.new(key, message, "sha256").digest()


def _outcome(parse: object, body: bytes) -> object:
    try:
        return ("ok", parse(body))  # type: ignore[operator]
    except (ValueError, RecursionError) as error:
        return ("error", type(error).__name__)


@pytest.mark.parametrize(
    "body",
    [
        b'{"a": 1, "b": [true, null, "\\u00e9"]}',
        '{"a": "é"}'.encode(),
        '{"a": "é"}'.encode("utf-16"),
        '{"a": "é"}'.encode("utf-16-le"),
        '["é"]'.encode("utf-32-be"),
        b"\xef\xbb\xbf{}",
        '"\ud800"'.encode("utf-8", "surrogatepass"),
        '"\ud800"'.encode("utf-16-le", "surrogatepass"),
        b"\xff",
        b"[1",
        b"",
    ],
)
def test_loads_json_accepts_what_json_loads_accepts(body: bytes) -> None:
    assert _outcome(loads_json, body) == _outcome(json.loads, body)


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(), st.lists))
def test_loads_json_round_trips(value: object) -> None:
    for encoding in ("utf-8", "utf-16", "utf-32"):
        body = json.dumps(value, ensure_ascii=False).encode(encoding, "surrogatepass")
        assert loads_json(body) == json.loads(body)


@pytest.mark.parametrize("text", [b"NaN", b"[Infinity]", b'{"a": -Infinity}'])
def test_loads_json_still_refuses_non_json_constants(text: bytes) -> None:
    with pytest.raises(ValueError):
        loads_json(text)


def _reference_decode(text: str, encoding: str, size: int) -> bytes | None:
    """Decode, then keep it only if re-encoding gives the same text back (canonical)."""
    text = text.strip()
    unpadded = text.rstrip("=")
    if len(text) - len(unpadded) > 2:
        return None
    alphabet = "+/" if encoding == "base64" else "-_"
    if not unpadded or any(
        not (c.isascii() and c.isalnum()) and c not in alphabet for c in unpadded
    ):
        return None
    try:
        decoded = base64.b64decode(
            unpadded.translate(str.maketrans("-_", "+/")) + "=" * (-len(unpadded) % 4),
            validate=True,
        )
    except ValueError:
        return None
    if len(decoded) != size:
        return None
    return decoded if encode_signature(decoded, encoding).rstrip("=") == unpadded else None  # type: ignore[arg-type]


@pytest.mark.parametrize("encoding", ["base64", "base64url"])
@pytest.mark.parametrize("size", [16, 20, 32, 33, 34])
def test_only_canonical_base64_is_accepted(encoding: str, size: int) -> None:
    digest = bytes((7 * i + 3) % 256 for i in range(size))
    text = encode_signature(digest, encoding).rstrip("=")  # type: ignore[arg-type]
    symbols = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_"
    accepted = 0
    for last in symbols:
        candidate = text[:-1] + last
        expected = _reference_decode(candidate, encoding, size)
        assert decode_signature(candidate, encoding, size) == expected, candidate  # type: ignore[arg-type]
        accepted += expected is not None
    # The last character's unused low bits must be zero: 4 or 16 of 64 are canonical.
    assert accepted == {0: 64, 1: 4, 2: 16}[size % 3]


def test_headers_get_is_case_insensitive_first_value_and_default() -> None:
    headers = Headers([("Webhook-Id", "a"), ("webhook-id", "b"), (b"X-Bytes", b"\xe9")])
    assert headers.get("WEBHOOK-ID") == "a"
    assert headers.get("x-bytes") == "é"
    assert headers.get("svix-id") is None
    assert headers.get("svix-id", "fallback") == "fallback"
    assert headers.get_all("webhook-id") == ["a", "b"]
