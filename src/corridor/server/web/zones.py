"""The time zone pages show times in, and times, dates and numbers written in the reader's language.

An operation has no time zone of its own: pages show its times in the zone of the setting
``CORRIDOR_TIMEZONE`` (an IANA name such as ``Asia/Damascus``) when it is set, else in the UTC
offset of the operation's scenario (its ``start``, e.g. ``+02:00`` for the east Aleppo example),
else in UTC. Every time shown carries the zone's name (``14:30 UTC+02:00``), so that nobody has to
guess whether a time is UTC, the phone's or the field's.

Formatting is Babel's (CLDR): month names and separators of the language, Latin digits (as the
codes and ids around them).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import (
    format_datetime,
    format_skeleton,
    format_time,
    get_datetime_format,
    get_timezone_location,
)
from babel.numbers import format_decimal

from corridor.server.web import plan_cache

FSI, PDI = "\u2068", "\u2069"


@dataclass(frozen=True)
class Zone:
    """A zone to show times in: an IANA zone or a fixed UTC offset."""

    tz: tzinfo
    key: str  # "Asia/Damascus", or "UTC+02:00" for a fixed offset

    def name(self, locale: str, moment: datetime | None = None) -> str:
        """The zone's name for a reader: the UTC offset, with the zone's own name in the reader's
        language for an IANA zone (``توقيت سوريا UTC+03:00``)."""
        at = (moment or datetime.now(UTC)).astimezone(self.tz)
        offset = _offset_text(at.utcoffset() or timedelta(0))
        if isinstance(self.tz, ZoneInfo):
            return f"{get_timezone_location(self.tz, locale=locale)} {offset}"
        return offset


def _offset_text(offset: timedelta) -> str:
    minutes = int(offset.total_seconds() // 60)
    if minutes == 0:
        return "UTC"
    sign = "+" if minutes > 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def fixed(offset: timedelta) -> Zone:
    """A zone of a fixed UTC offset."""
    return Zone(timezone(offset) if offset else UTC, _offset_text(offset))


def named(key: str) -> Zone:
    """The IANA zone ``key``; a ``ValueError`` naming it and what to set otherwise."""
    try:
        return Zone(ZoneInfo(key), key)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(
            f"CORRIDOR_TIMEZONE={key!r} is not a known time zone; give an IANA name such as "
            "'Asia/Damascus' or 'Europe/Istanbul', or leave it unset for the scenario's UTC offset"
        ) from error


@lru_cache(maxsize=64)
def scenario_zone(folder: Path, scenario_name: str) -> Zone | None:
    """The UTC offset of the named scenario's ``start`` as a zone (None when the scenario or its
    start cannot be read). Read once per scenario while the service runs."""
    path = plan_cache.find_scenario(folder, scenario_name)
    if path is None:
        return None
    try:
        start = tomllib.loads(path.read_text(encoding="utf-8")).get("start")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    if isinstance(start, datetime) and start.utcoffset() is not None:
        return fixed(start.utcoffset() or timedelta(0))
    return None


def zone_for(setting: str | None, folder: Path | None, scenario_name: str | None) -> Zone:
    """The zone of an operation's pages: the setting, else its scenario's offset, else UTC."""
    if setting:
        return named(setting)
    if folder is not None and scenario_name:
        found = scenario_zone(folder, scenario_name)
        if found is not None:
            return found
    return fixed(timedelta(0))


def _isolated(text: str, rtl: bool) -> str:
    """``text`` as a first-strong bidi isolate in right-to-left pages, so that ``14:30 UTC+02:00``
    keeps its order inside Arabic text."""
    return f"{FSI}{text}{PDI}" if rtl else text


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Clock:
    """What a page writes times, dates and numbers with: the reader's language and the zone."""

    locale: str
    zone: Zone
    rtl: bool = False

    def local(self, moment: datetime) -> datetime:
        return _aware(moment).astimezone(self.zone.tz)

    def offset_minutes(self, moment: datetime | None = None) -> int:
        """Minutes east of UTC of the zone at ``moment`` (now by default), for a page's script."""
        at = (moment or datetime.now(UTC)).astimezone(self.zone.tz)
        return int((at.utcoffset() or timedelta(0)).total_seconds() // 60)

    def zone_name(self, moment: datetime | None = None) -> str:
        return _isolated(self.zone.name(self.locale, moment), self.rtl)

    def when(self, moment: datetime | None, *, zone: bool = True) -> str:
        """Day and time (``15 Dec 2016, 14:30 UTC+02:00``); ``–`` for none."""
        if moment is None:
            return "–"
        at = self.local(moment)
        day = format_skeleton("yMMMd", at, tzinfo=self.zone.tz, locale=self.locale)
        hour = format_time(at, "HH:mm", tzinfo=self.zone.tz, locale=self.locale)
        text = str(get_datetime_format("medium", locale=self.locale)).replace("{1}", day).replace("{0}", hour)
        return _isolated(f"{text} {self.zone.name(self.locale, at)}" if zone else text, self.rtl)

    def time(self, moment: datetime | None, *, zone: bool = True, seconds: bool = False) -> str:
        """Time of day (``14:30 UTC+02:00``), 24-hour; ``–`` for none."""
        if moment is None:
            return "–"
        at = self.local(moment)
        text = format_time(at, "HH:mm:ss" if seconds else "HH:mm", tzinfo=self.zone.tz, locale=self.locale)
        return _isolated(f"{text} {self.zone.name(self.locale, at)}" if zone else text, self.rtl)

    def day(self, moment: datetime | date | None) -> str:
        """The day (``15 Dec 2016``); ``–`` for none."""
        if moment is None:
            return "–"
        if isinstance(moment, datetime):
            moment = self.local(moment).date()
        return _isolated(format_skeleton("yMMMd", moment, locale=self.locale), self.rtl)

    def number(self, value: float | int | None, digits: int | None = None) -> str:
        """A number with the language's grouping and decimal signs; ``–`` for none."""
        if value is None:
            return "–"
        if digits is not None:
            return format_decimal(
                value, format=f"#,##0.{'0' * digits}" if digits else "#,##0", locale=self.locale
            )
        return format_decimal(value, locale=self.locale)

    def stamp(self, moment: datetime) -> str:
        """Day and time for a machine and a person alike (``2016-12-15 14:30 UTC+02:00``)."""
        at = self.local(moment)
        text = format_datetime(at, "yyyy-MM-dd HH:mm", tzinfo=self.zone.tz, locale=self.locale)
        return _isolated(f"{text} {self.zone.name(self.locale, at)}", self.rtl)
