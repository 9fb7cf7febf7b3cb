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


def days_later_at(moment: datetime, days: int, hour: int, timezone_name: str) -> datetime:
    """``days`` after ``moment`` at ``hour`` o'clock in the shop's time zone (a survey, a
    follow-up: in the daytime, never at the minute of the purchase in the night)."""
    zone = ZoneInfo(timezone_name)
    day = (moment.astimezone(zone) + timedelta(days=days)).date()
    return datetime.combine(day, time(hour), zone).astimezone(moment.tzinfo)
