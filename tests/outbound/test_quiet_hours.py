"""Quiet hours: 8 a.m. to 9 p.m. in the recipient's zone, from the area code; several zones must all agree."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.outbound.quiet_hours import CONTIGUOUS_US, is_quiet, next_allowed, zones_for

QUIET = (time(21, 0), time(8, 0))
EASTERN = ZoneInfo("America/New_York")


def at(zone: str, *parts: int) -> datetime:
    return datetime(*parts, tzinfo=ZoneInfo(zone)).astimezone(UTC)


@pytest.mark.parametrize(
    ("number", "zones"),
    [
        ("+19195550101", ("America/New_York",)),  # Raleigh
        ("+12815550100", ("America/Chicago",)),  # Houston
        ("+18085550100", ("Pacific/Honolulu",)),
        ("+19075550100", ("America/Adak", "America/Anchorage")),  # Alaska: two zones
        ("+18005550100", CONTIGUOUS_US),  # toll-free: no place
        ("+15555550100", CONTIGUOUS_US),  # no such area code
        ("not a number", CONTIGUOUS_US),
    ],
)
def test_zones_come_from_the_area_code(number: str, zones: tuple[str, ...]) -> None:
    assert tuple(zone.key for zone in zones_for(number)) == zones


@pytest.mark.parametrize(
    ("local", "quiet"),
    [
        ((2026, 12, 1, 7, 59), True),
        ((2026, 12, 1, 8, 0), False),
        ((2026, 12, 1, 20, 59), False),
        ((2026, 12, 1, 21, 0), True),
        ((2026, 12, 1, 23, 30), True),
        ((2026, 12, 1, 0, 15), True),
    ],
)
def test_quiet_time_wraps_past_midnight(local: tuple[int, ...], quiet: bool) -> None:
    assert is_quiet(at("America/New_York", *local), (EASTERN,), QUIET) is quiet


def test_a_text_at_10pm_eastern_waits_until_8am_eastern() -> None:
    moment = at("America/New_York", 2026, 12, 1, 22, 3)
    assert next_allowed(moment, zones_for("+19195550101"), QUIET) == at("America/New_York", 2026, 12, 2, 8, 0)


def test_the_same_moment_is_fine_for_hawaii_but_not_for_new_york() -> None:
    moment = at("Pacific/Honolulu", 2026, 12, 1, 17, 0)  # 22:00 in New York
    assert next_allowed(moment, zones_for("+18085550100"), QUIET) is None
    assert next_allowed(moment, zones_for("+19195550101"), QUIET) is not None


def test_an_unknown_zone_waits_until_it_is_8am_in_the_west_and_stops_at_9pm_in_the_east() -> None:
    zones = zones_for("+18005550100")
    assert next_allowed(at("America/New_York", 2026, 12, 1, 10, 0), zones, QUIET) == at(
        "America/Los_Angeles", 2026, 12, 1, 8, 0
    )
    assert next_allowed(at("America/New_York", 2026, 12, 1, 20, 30), zones, QUIET) is None
    assert next_allowed(at("America/New_York", 2026, 12, 1, 21, 0), zones, QUIET) == at(
        "America/Los_Angeles", 2026, 12, 2, 8, 0
    )


def test_daylight_saving_change_is_followed() -> None:
    # 2026-03-08: clocks go forward in New York; 8 a.m. local is 12:00 UTC, not 13:00.
    moment = at("America/New_York", 2026, 3, 8, 6, 0)
    assert next_allowed(moment, (EASTERN,), QUIET) == datetime(2026, 3, 8, 12, 0, tzinfo=UTC)


def test_quiet_hours_that_leave_no_time_are_an_error_not_a_send() -> None:
    with pytest.raises(ValueError, match="QUIET_HOURS"):
        next_allowed(at("America/New_York", 2026, 12, 1, 12, 0), (EASTERN,), (time(0, 0), time(23, 59)))
