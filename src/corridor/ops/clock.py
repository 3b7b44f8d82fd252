"""Time you can trust: when an event happened, as the server judges it from the device's clock,
the device's estimated clock offset and the time the server received it.

A device stamps each event with its own clock, which may be wrong by minutes, hours or years. At
each sync a device may send its clock's reading; the server keeps each device's offset (device
clock minus server clock, the median of its recent readings) and corrects the device's times by
it. An event that, once corrected, is still dated too far ahead of the time it was received
(``ahead``) or before the operation could have begun (``behind``) is *flagged*: kept, shown, and
placed where it can never hide an alarm:

* an event can never have happened after the server received it: it is placed at the earlier of
  its corrected device time and its received time;
* a flagged ``ahead`` event is placed at its received time, and cannot clear an alarm (when it
  really happened is unknown: perhaps before the alarm);
* a flagged alarm (``missing``, ``detained``) is placed at its received time, never earlier, so
  that no clearing event can be ordered after it by mistake;
* an offset only ever moves an event the way that cannot hide an alarm: an alarm never earlier
  than its device's own time, a clearing event never later. A device's offset may be stale (its
  clock was set right since it last sent it) or poisoned (a burst of wrong clock readings); at
  worst an alarm then stands that a good clock would have cleared, never the other way round.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from datetime import datetime, timedelta

from corridor.ops.ledger import EventType, ScanEvent

AHEAD = "ahead"
BEHIND = "behind"
# Offsets smaller than this are the network's delay, not a wrong clock: no correction is kept.
OFFSET_FLOOR_SECONDS = 2.0
# How many of a device's latest clock readings its offset is the median of.
SAMPLES = 5

ALARMS = frozenset({EventType.MISSING, EventType.DETAINED})
CLEARING = frozenset({EventType.ARRIVED, EventType.RETURNED, EventType.FOUND, EventType.RELEASED})


def corrected(device_time: datetime, offset_seconds: float | None) -> datetime:
    """The device's time with its clock offset taken off."""
    return device_time - timedelta(seconds=offset_seconds or 0.0)


def flag_of(
    device_time: datetime,
    offset_seconds: float | None,
    received: datetime,
    *,
    ahead: timedelta,
    earliest: datetime | None,
) -> str | None:
    """``ahead``, ``behind`` or None: whether an event's corrected time is past belief."""
    when = corrected(device_time, offset_seconds)
    if when > received + ahead:
        return AHEAD
    if earliest is not None and when < earliest:
        return BEHIND
    return None


def trusted_time(event: ScanEvent) -> datetime:
    """When the event is taken to have happened (see the module's rules)."""
    own = event.device_time
    when = corrected(own, event.clock_offset)
    if event.type in ALARMS:
        when = max(when, own)
    elif event.type in CLEARING:
        when = min(when, own)
    received = event.received_at
    if received is None:
        return when
    if event.clock_flag == AHEAD or (event.clock_flag is not None and event.type in ALARMS):
        return received
    return min(when, received)


def clears(event: ScanEvent) -> bool:
    """False for an event that may not clear an alarm: one flagged ahead (its time is unknown)."""
    return event.clock_flag != AHEAD


def offset_estimate(samples: Sequence[float]) -> float | None:
    """A device's clock offset, in seconds, from its latest readings (their median)."""
    recent = list(samples)[-SAMPLES:]
    return statistics.median(recent) if recent else None


def jumped(offset_seconds: float | None, reading: float, tolerance: timedelta) -> bool:
    """True when a clock reading is further from the device's offset than ``tolerance``: the
    device's clock was set (by its user or its network) since, and its older readings no longer
    tell its offset (a median of old and new would be neither)."""
    return offset_seconds is not None and abs(reading - offset_seconds) > tolerance.total_seconds()


def kept_offset(offset_seconds: float | None) -> float | None:
    """The offset to correct a device's times by: none when within the network's delay."""
    if offset_seconds is None or abs(offset_seconds) < OFFSET_FLOOR_SECONDS:
        return None
    return offset_seconds
