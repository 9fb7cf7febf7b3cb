"""Time as a dependency, so rules can be tested at any moment without waiting."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class ShiftedClock:
    """The system clock moved forward by the seconds written in a file (0 if the file is
    missing or empty). For end-to-end tests of timed behaviour - surveys, reminders - which
    move time by writing the file; the bot uses it only when STAMMGAST_TEST_CLOCK_FILE is set."""

    def __init__(self, offset_file: str):
        self.offset_file = offset_file

    def now(self) -> datetime:
        try:
            with open(self.offset_file, encoding="utf-8") as file:
                offset = float(file.read().strip() or 0)
        except (FileNotFoundError, ValueError):
            offset = 0.0
        return datetime.now(timezone.utc) + timedelta(seconds=offset)


def days_later_at(moment: datetime, days: int, hour: int, timezone_name: str) -> datetime:
    """``days`` after ``moment`` at ``hour`` o'clock in the shop's time zone (a survey, a
    follow-up: in the daytime, never at the minute of the purchase in the night)."""
    zone = ZoneInfo(timezone_name)
    day = (moment.astimezone(zone) + timedelta(days=days)).date()
    return datetime.combine(day, time(hour), zone).astimezone(moment.tzinfo)
