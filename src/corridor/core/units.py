"""Parsing of quantities written by people: durations such as ``"90 min"`` or ``"1.5 h"``."""

from __future__ import annotations

import re

from corridor.core.errors import InputError

_DURATION = re.compile(r"^\s*(?P<value>\d+(?:\.\d+)?)\s*(?P<unit>[a-z]+)?\s*$", re.IGNORECASE)
_MINUTES_PER = {
    "s": 1 / 60,
    "sec": 1 / 60,
    "second": 1 / 60,
    "seconds": 1 / 60,
    "m": 1.0,
    "min": 1.0,
    "mins": 1.0,
    "minute": 1.0,
    "minutes": 1.0,
    "h": 60.0,
    "hr": 60.0,
    "hour": 60.0,
    "hours": 60.0,
    "d": 1440.0,
    "day": 1440.0,
    "days": 1440.0,
}

# Units of travel time found in network files, as minutes per unit.
TIME_UNITS: dict[str, float] = {"s": 1 / 60, "min": 1.0, "h": 60.0, "0.01h": 0.6}
# Units of length found in network files, as metres per unit.
LENGTH_UNITS: dict[str, float] = {"m": 1.0, "km": 1000.0, "ft": 0.3048, "mi": 1609.344}


def parse_minutes(text: str | float | int, *, where: str) -> float:
    """Minutes in a duration: a bare number is minutes; ``"2 h"``, ``"30 s"`` carry a unit."""
    if isinstance(text, int | float):
        value = float(text)
    else:
        match = _DURATION.match(text)
        unit = (match.group("unit") or "min").lower() if match else ""
        if not match or unit not in _MINUTES_PER:
            raise InputError(
                f"cannot read duration {text!r}",
                where=where,
                hint="write a number and a unit, e.g. '1 min', '90 min', '2 h'",
            )
        value = float(match.group("value")) * _MINUTES_PER[unit]
    if value <= 0:
        raise InputError(f"duration must be positive, got {text!r}", where=where)
    return value


def unit_factor(unit: str, table: dict[str, float], *, where: str) -> float:
    """The factor of ``unit`` in ``table``, or an error that lists the known units."""
    try:
        return table[unit]
    except KeyError:
        known = ", ".join(sorted(table))
        raise InputError(f"unknown unit {unit!r}", where=where, hint=f"use one of {known}") from None
