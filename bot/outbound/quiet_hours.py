"""Quiet hours in the recipient's time zone, known from the number's area code.

No non-urgent text goes out between QUIET_HOURS' start and end (default 21:00-08:00) in the
recipient's local time. A number whose area code spans several zones may receive texts only when
it is allowed in all of them; a number whose zone cannot be told (toll-free, unknown, too many zones)
is treated as being anywhere in the contiguous United States.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import phonenumbers
from phonenumbers import timezone as number_zones

CONTIGUOUS_US = ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles")
# Above this many zones the area code says nothing useful (toll-free numbers list every NANP zone).
MAX_ZONES = 4
_STEP = timedelta(minutes=5)


@lru_cache(maxsize=4096)
def zones_for(number: str) -> tuple[ZoneInfo, ...]:
    """The time zones a number's area code may be in."""
    try:
        names = number_zones.time_zones_for_geographical_number(phonenumbers.parse(number))
    except phonenumbers.NumberParseException:
        names = ()
    names = tuple(name for name in names if name != "Etc/Unknown")
    if not names or len(names) > MAX_ZONES:
        names = CONTIGUOUS_US
    return tuple(ZoneInfo(name) for name in names)


def _quiet_at(local: time, quiet: tuple[time, time]) -> bool:
    start, end = quiet
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def is_quiet(moment: datetime, zones: tuple[ZoneInfo, ...], quiet: tuple[time, time]) -> bool:
    """True when it is quiet time in any of the zones at this (timezone-aware) moment."""
    return any(_quiet_at(moment.astimezone(zone).time(), quiet) for zone in zones)


def next_allowed(moment: datetime, zones: tuple[ZoneInfo, ...], quiet: tuple[time, time]) -> datetime | None:
    """None if a text may go now; else the first moment (to 5 minutes, rounded up) when it may.

    Raises ValueError when quiet hours leave no window at all in these zones within two days.
    """
    if not is_quiet(moment, zones, quiet):
        return None
    candidate = moment.replace(second=0, microsecond=0)
    candidate += timedelta(minutes=-(candidate.minute % 5)) + _STEP
    for _ in range(int(timedelta(days=2) / _STEP)):
        if not is_quiet(candidate, zones, quiet):
            return candidate
        candidate += _STEP
    raise ValueError("QUIET_HOURS leave no time in the day when this number may be texted")
