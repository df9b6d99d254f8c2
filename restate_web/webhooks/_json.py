from __future__ import annotations

import json


def _reject_constant(name: str) -> object:
    # NaN and Infinity are not JSON; accepting them would let a payload through
    # that Restate (and most JSON parsers) cannot read back.
    raise ValueError(f"{name} is not valid JSON")


# One decoder for every call, as ``json.loads`` itself does for its default
# arguments: passing ``parse_constant=`` to ``json.loads`` builds a new decoder
# per call, which costs as much as parsing a small event. Decoders keep no
# state between calls, so sharing one across threads is safe.
_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def loads_json(body: bytes) -> object:
    """Parse JSON strictly.

    Raises ``ValueError`` (bad JSON, bad UTF-8, NaN/Infinity, oversized integers)
    or ``RecursionError`` (absurd nesting); callers turn both into their own error.
    Accepts exactly what ``json.loads(body)`` accepts (UTF-8, -16 or -32), minus
    the non-JSON constants.
    """
    encoding = json.detect_encoding(body)
    try:
        # Strict UTF-8 is the fast path; where it succeeds it gives the same text as
        # json.loads' "surrogatepass", which is only needed for encoded lone surrogates.
        text = body.decode(encoding)
    except UnicodeDecodeError:
        text = body.decode(encoding, "surrogatepass")
    if text.startswith("\ufeff"):
        raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
    return _DECODER.decode(text)
