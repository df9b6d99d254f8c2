"""Durations as Restate's admin API writes them ("1d", "2h 30m", "500ms") and as users type them."""

from __future__ import annotations

import re
from datetime import timedelta

# humantime units (what restate-server prints) plus ISO 8601 (what its API also accepts).
_UNITS = {
    "ns": 1e-9,
    "nsec": 1e-9,
    "us": 1e-6,
    "usec": 1e-6,
    "ms": 1e-3,
    "msec": 1e-3,
    "millis": 1e-3,
    "s": 1.0,
    "sec": 1.0,
    "secs": 1.0,
    "second": 1.0,
    "seconds": 1.0,
    "m": 60.0,
    "min": 60.0,
    "mins": 60.0,
    "minute": 60.0,
    "minutes": 60.0,
    "h": 3600.0,
    "hr": 3600.0,
    "hrs": 3600.0,
    "hour": 3600.0,
    "hours": 3600.0,
    "d": 86400.0,
    "day": 86400.0,
    "days": 86400.0,
    "w": 604800.0,
    "week": 604800.0,
    "weeks": 604800.0,
    "month": 2630016.0,
    "months": 2630016.0,
    "M": 2630016.0,
    "y": 31557600.0,
    "year": 31557600.0,
    "years": 31557600.0,
}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([A-Za-z]+)")
_ISO = re.compile(
    r"^P(?:(?P<d>\d+(?:\.\d+)?)D)?(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?"
    r"(?:(?P<m>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$",
    re.IGNORECASE,
)


def parse_duration(text: str) -> timedelta:
    """``"1d"``, ``"2h 30m"``, ``"1day 12h"``, ``"500ms"``, ``"P3D"`` or ``"PT1H"``.

    Raises ValueError naming the accepted forms."""
    value = text.strip()
    iso = _ISO.match(value)
    if iso and value.upper() not in ("P", "PT"):
        parts = {k: float(v) for k, v in iso.groupdict().items() if v}
        return timedelta(
            days=parts.get("d", 0.0),
            hours=parts.get("h", 0.0),
            minutes=parts.get("m", 0.0),
            seconds=parts.get("s", 0.0),
        )
    position, seconds, found = 0, 0.0, False
    for match in _PART.finditer(value):
        if value[position : match.start()].strip():
            break
        number, unit = match.groups()
        factor = _UNITS.get(unit) or _UNITS.get(unit.lower())
        if factor is None:
            break
        seconds += float(number) * factor
        position, found = match.end(), True
    else:
        if found and not value[position:].strip():
            return timedelta(seconds=seconds)
    raise ValueError(
        f"not a duration: {text!r} (write it like 3d, 36h, 2h 30m, 90s or ISO 8601 like P3D)"
    )


def format_duration(value: timedelta | None) -> str:
    """The shortest exact form: ``3d``, ``1d 12h``, ``90s`` -> ``1m 30s``; None -> ``-``."""
    if value is None:
        return "-"
    total = round(value.total_seconds() * 1000)
    if total == 0:
        return "0s"
    parts = []
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        count, total = divmod(total, size)
        if count:
            parts.append(f"{count}{unit}")
    if total:
        parts.append(f"{total}ms")
    return " ".join(parts)
