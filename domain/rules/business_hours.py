"""Business hours and the SLA arithmetic on them, without I/O.

A complaint must get a first answer within X minutes of *business* time: a ticket at 17:50 on a
Friday with 30 minutes is due on Saturday at 9:20, one sent on Sunday starts counting on Monday
at opening. Opening hours are wall-clock times in the shop's time zone (several intervals a day,
closed days, holidays); times in and out are timezone-aware, results are UTC.

Each day's intervals are turned into real instants first, so the arithmetic is right across
daylight saving time: in Europe/Berlin the night to the last Sunday of March has 23 hours and
the one to the last Sunday of October 25, and a shop open around the clock has that many business
hours on those days. Wall times that do not exist (02:30 in the March night) are read with the
offset before the change, as ``zoneinfo`` does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

DAY_KEYS = ("mo", "di", "mi", "do", "fr", "sa", "so")
_MINUTES_PER_DAY = 24 * 60


class BusinessHoursError(ValueError):
    """Opening hours that cannot be used; the message names the day and the problem."""


class NeverOpen(BusinessHoursError):
    """No business time at all in a week, so no deadline can ever be reached."""


@dataclass(frozen=True)
class Interval:
    """Open from ``opens`` to ``closes``, in minutes after local midnight (``closes`` up to 1440)."""

    opens: int
    closes: int


@dataclass(frozen=True)
class BusinessHours:
    timezone: ZoneInfo
    week: tuple[tuple[Interval, ...], ...]  # Monday first, seven entries; () is a closed day
    holidays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        if len(self.week) != 7:
            raise BusinessHoursError(f"opening hours need seven days, Monday first, not {len(self.week)}")
        for key, intervals in zip(DAY_KEYS, self.week):
            _check_day(key, intervals)

    @classmethod
    def parse(cls, spec: Mapping[str, str | list[str] | None], timezone_name: str = "Europe/Berlin",
              holidays: Iterable[date | str] = ()) -> "BusinessHours":
        """From the config form: ``{"mo-fr": "08:00-18:00", "sa": "09:00-14:00"}``.

        Keys are days (mo di mi do fr sa so) or ranges of them ("mo-fr"); values are intervals
        "HH:MM-HH:MM", several separated by commas or as a list ("08:00-12:00, 13:00-18:00"), or null / ""
        / "geschlossen" for closed. Days not named are closed. A day may be named only once.
        Holidays are dates (date objects or "2026-12-25").
        """
        week: list[tuple[Interval, ...] | None] = [None] * 7
        for key, value in spec.items():
            for index in _day_indexes(key):
                if week[index] is not None:
                    raise BusinessHoursError(f"{DAY_KEYS[index]}: named twice (in '{key}')")
                week[index] = _parse_intervals(DAY_KEYS[index], value)
        return cls(ZoneInfo(timezone_name), tuple(day or () for day in week), frozenset(_parse_holidays(holidays)))

    def intervals_on(self, day: date) -> list[tuple[datetime, datetime]]:
        """The day's open intervals as UTC instants (none on a holiday or a closed day)."""
        if day in self.holidays:
            return []
        midnight = datetime.combine(day, time.min, tzinfo=self.timezone)
        result = []
        for interval in self.week[day.weekday()]:
            # Aware + timedelta moves the wall clock; the UTC conversion then applies that
            # moment's own offset, which is what makes DST days 23 or 25 hours long.
            opens = (midnight + timedelta(minutes=interval.opens)).astimezone(timezone.utc)
            closes = (midnight + timedelta(minutes=interval.closes)).astimezone(timezone.utc)
            if closes > opens:  # an interval inside the skipped March hour has no length
                result.append((opens, closes))
        return result


def _check_day(key: str, intervals: tuple[Interval, ...]) -> None:
    previous_close = 0
    for interval in intervals:
        if not 0 <= interval.opens < interval.closes <= _MINUTES_PER_DAY:
            raise BusinessHoursError(f"{key}: an interval must open before it closes, within the day "
                                     f"(write a night across midnight as two days)")
        if interval.opens < previous_close:
            raise BusinessHoursError(f"{key}: intervals overlap or are out of order")
        previous_close = interval.closes


def _day_indexes(key: str) -> list[int]:
    parts = [part.strip() for part in str(key).lower().split("-")]
    if any(part not in DAY_KEYS for part in parts) or len(parts) > 2:
        raise BusinessHoursError(f"'{key}': days are {', '.join(DAY_KEYS)} or a range like mo-fr")
    first, last = DAY_KEYS.index(parts[0]), DAY_KEYS.index(parts[-1])
    if last < first:
        raise BusinessHoursError(f"'{key}': a range runs forward within the week, like mo-fr")
    return list(range(first, last + 1))


_TIME = r"([0-9]{1,2})(?:[:.]([0-9]{2}))?"
_INTERVAL = re.compile(rf"^{_TIME}\s*(?:-|–|bis)\s*{_TIME}$")


def _parse_intervals(key: str, value: str | list[str] | None) -> tuple[Interval, ...]:
    if isinstance(value, (list, tuple)):
        value = ",".join(str(part) for part in value)
    text = ("" if value is None else str(value)).strip().lower()
    if text in ("", "geschlossen", "closed", "zu"):
        return ()
    intervals = []
    for part in text.split(","):
        match = _INTERVAL.match(part.strip())
        if not match:
            raise BusinessHoursError(f"{key}: '{part.strip()}' is not an interval like 08:00-18:00")
        opens = _minutes(key, match.group(1), match.group(2))
        closes = _minutes(key, match.group(3), match.group(4))
        intervals.append(Interval(opens, closes))
    intervals = tuple(intervals)
    _check_day(key, intervals)
    return intervals


def _minutes(key: str, hours: str, minutes: str | None) -> int:
    value = int(hours) * 60 + int(minutes or 0)
    if int(minutes or 0) >= 60 or value > _MINUTES_PER_DAY:
        raise BusinessHoursError(f"{key}: {hours}:{minutes or '00'} is not a time of day (00:00 to 24:00)")
    return value


def _parse_holidays(holidays: Iterable[date | str]) -> Iterator[date]:
    for holiday in holidays:
        if isinstance(holiday, date):
            yield holiday
            continue
        try:
            yield date.fromisoformat(str(holiday))
        except ValueError:
            raise BusinessHoursError(f"holiday '{holiday}' is not a date like 2026-12-25") from None


# --- arithmetic -------------------------------------------------------------------------------

def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"a timezone-aware time is needed, got {moment!r}")
    return moment.astimezone(timezone.utc)


def _days(moment: datetime, hours: BusinessHours, step: int) -> Iterator[date]:
    """Local days from the one holding ``moment``, forward (step 1) or backward (step -1).

    Refuses a week without any hours at once (``NeverOpen``), instead of searching forever.
    Otherwise a caller's search ends: holidays are a finite set, and past the last of them every
    week has open time (an interval can lose its length only in the one skipped March hour).
    """
    if not any(hours.week):
        raise NeverOpen("the opening hours have no open time in the whole week")
    day = moment.astimezone(hours.timezone).date()
    while True:
        yield day
        day += timedelta(days=step)


def _check_minutes(minutes: int) -> None:
    if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes < 0:
        raise ValueError(f"business minutes are a whole number of at least 0, not {minutes!r}")


def add_business_minutes(start: datetime, minutes: int, hours: BusinessHours) -> datetime:
    """The moment ``minutes`` of business time after ``start`` have passed.

    A deadline that ends exactly at closing time stays there (Friday 18:00, not Saturday 9:00);
    with 0 minutes it is ``start`` when open, else the next opening.
    """
    _check_minutes(minutes)
    cursor, remaining = _utc(start), timedelta(minutes=minutes)
    for day in _days(cursor, hours, 1):
        for opens, closes in hours.intervals_on(day):
            if closes <= cursor:
                continue
            begin = max(cursor, opens)
            if remaining <= closes - begin:
                return begin + remaining
            remaining -= closes - begin
            cursor = closes
    raise AssertionError("unreachable: _days never ends")


def subtract_business_minutes(end: datetime, minutes: int, hours: BusinessHours) -> datetime:
    """The moment ``minutes`` of business time before ``end`` (the inverse of adding)."""
    _check_minutes(minutes)
    cursor, remaining = _utc(end), timedelta(minutes=minutes)
    for day in _days(cursor, hours, -1):
        for opens, closes in reversed(hours.intervals_on(day)):
            if opens >= cursor:
                continue
            finish = min(cursor, closes)
            if remaining <= finish - opens:
                return finish - remaining
            remaining -= finish - opens
            cursor = opens
    raise AssertionError("unreachable: _days never ends")


def next_opening(moment: datetime, hours: BusinessHours) -> datetime:
    """``moment`` itself when open, else when the shop opens next (to tell a customer)."""
    return add_business_minutes(moment, 0, hours)


def reminder_at(deadline: datetime, minutes_before: int, hours: BusinessHours,
                not_before: datetime | None = None) -> datetime:
    """When to remind staff: ``minutes_before`` of business time before the deadline, but not
    before ``not_before`` (the ticket's creation: a 30-minute SLA cannot remind 45 minutes ahead)."""
    moment = subtract_business_minutes(deadline, minutes_before, hours)
    return max(moment, _utc(not_before)) if not_before is not None else moment


def business_time_between(a: datetime, b: datetime, hours: BusinessHours) -> timedelta:
    """Open time from ``a`` to ``b``; negative when ``b`` is before ``a``."""
    a, b = _utc(a), _utc(b)
    if b < a:
        return -business_time_between(b, a, hours)
    total = timedelta()
    day = a.astimezone(hours.timezone).date()
    last = b.astimezone(hours.timezone).date()
    while day <= last:
        for opens, closes in hours.intervals_on(day):
            total += max(timedelta(), min(closes, b) - max(opens, a))
        day += timedelta(days=1)
    return total


def business_minutes_between(a: datetime, b: datetime, hours: BusinessHours) -> int:
    """Whole minutes of open time from ``a`` to ``b`` (a minute begun is not counted; negative
    when ``b`` is before ``a``)."""
    seconds = business_time_between(a, b, hours) // timedelta(seconds=1)
    whole = abs(seconds) // 60  # toward zero on both sides; // alone would floor -30 s to -1
    return whole if seconds >= 0 else -whole


def is_open(moment: datetime, hours: BusinessHours) -> bool:
    moment = _utc(moment)
    day = moment.astimezone(hours.timezone).date()
    return any(opens <= moment < closes for opens, closes in hours.intervals_on(day))
