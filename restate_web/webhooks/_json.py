from __future__ import annotations

import json


def _reject_constant(name: str) -> object:
    # NaN and Infinity are not JSON; accepting them would let a payload through
    # that Restate (and most JSON parsers) cannot read back.
    raise ValueError(f"{name} is not valid JSON")


def loads_json(body: bytes) -> object:
    """Parse JSON strictly.

    Raises ``ValueError`` (bad JSON, bad UTF-8, NaN/Infinity, oversized integers)
    or ``RecursionError`` (absurd nesting); callers turn both into their own error.
    """
    return json.loads(body, parse_constant=_reject_constant)
