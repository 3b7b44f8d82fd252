"""Times, dates and numbers written by Babel in the operation's zone, with the zone's name."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from corridor.server.settings import Settings
from corridor.server.web.zones import FSI, PDI, Clock, fixed, named, zone_for

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
MOMENT = datetime(2016, 12, 15, 12, 30, tzinfo=UTC)  # 14:30 in Aleppo that day (UTC+2)


def test_a_time_is_written_in_the_zone_with_its_name() -> None:
    english = Clock("en", fixed(timedelta(hours=2)))
    assert english.time(MOMENT) == "14:30 UTC+02:00"
    assert english.time(MOMENT, zone=False) == "14:30"
    assert english.time(MOMENT, seconds=True) == "14:30:00 UTC+02:00"
    assert english.when(MOMENT) == "Dec 15, 2016, 14:30 UTC+02:00"
    assert english.stamp(MOMENT) == "2016-12-15 14:30 UTC+02:00"
    assert english.day(MOMENT + timedelta(hours=10)) == "Dec 16, 2016"  # 00:30 the next day there


def test_arabic_dates_have_arabic_months_and_keep_their_order_in_right_to_left_text() -> None:
    arabic = Clock("ar", fixed(timedelta(hours=2)), rtl=True)
    assert arabic.when(MOMENT) == f"{FSI}15 ديسمبر 2016، 14:30 UTC+02:00{PDI}"
    assert arabic.time(None) == "–"


def test_a_named_zone_says_its_name_in_the_readers_language_and_its_offset_that_day() -> None:
    damascus = named("Asia/Damascus")
    assert Clock("en", damascus).time(MOMENT) == "14:30 Syria Time UTC+02:00"
    # Syria keeps UTC+3 all year since 2022.
    assert (
        Clock("en", damascus).time(datetime(2026, 1, 10, 12, 0, tzinfo=UTC)) == "15:00 Syria Time UTC+03:00"
    )
    assert "توقيت سوريا" in Clock("ar", damascus).time(MOMENT)


def test_a_naive_time_is_taken_as_utc() -> None:
    assert Clock("en", fixed(timedelta(hours=2))).time(datetime(2016, 12, 15, 12, 30)) == "14:30 UTC+02:00"


def test_numbers_are_grouped_in_the_language() -> None:
    assert Clock("en", fixed(timedelta(0))).number(9000) == "9,000"
    assert Clock("en", fixed(timedelta(0))).number(12.345, digits=1) == "12.3"
    assert Clock("ar", fixed(timedelta(0))).number(None) == "–"


def test_the_zone_is_the_setting_else_the_scenarios_offset_else_utc() -> None:
    assert zone_for("Asia/Damascus", EXAMPLES, "east-aleppo-2016").key == "Asia/Damascus"
    assert zone_for(None, EXAMPLES, "east-aleppo-2016").key == "UTC+02:00"  # its start: 14:30+02:00
    assert zone_for(None, EXAMPLES, "no-such-scenario").key == "UTC"
    assert zone_for(None, None, None).key == "UTC"


def test_an_unknown_zone_is_refused_with_what_to_set() -> None:
    with pytest.raises(ValueError, match=r"CORRIDOR_TIMEZONE='Mars/Olympus'.*IANA name"):
        named("Mars/Olympus")


def test_the_timezone_setting_must_be_a_known_zone(tmp_path: Path) -> None:
    assert Settings(timezone="Asia/Damascus", data_dir=tmp_path).timezone == "Asia/Damascus"
    assert Settings(data_dir=tmp_path).timezone is None
    with pytest.raises(ValidationError, match=r"'Mars/Olympus' is not a known time zone.*IANA name"):
        Settings(timezone="Mars/Olympus", data_dir=tmp_path)
