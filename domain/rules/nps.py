"""Net Promoter Score rules, without I/O: groups, the score, the trend, typed answers, report periods.

The survey asks "Wie wahrscheinlich ist es, dass du uns weiterempfiehlst?" on a scale of 0 to 10.
Promoters answer 9-10, passives 7-8, detractors 0-6; NPS = % promoters - % detractors, a whole
number from -100 to 100 (None when nobody answered: "no answers" is not a score of 0).

Times in and out are timezone-aware; weeks and months are those of the shop's time zone, so an
answer given on Sunday 23:30 in Berlin belongs to that Sunday's week, not to Monday's in UTC.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Literal
from zoneinfo import ZoneInfo

from domain.rules.parsing import MONTHS, InputError, whole_number

SCALE = range(0, 11)


class Group(StrEnum):
    PROMOTER = "promoter"
    PASSIVE = "passive"
    DETRACTOR = "detractor"


def classify(score: int) -> Group:
    """9-10 promoter, 7-8 passive, 0-6 detractor; anything else is a programming error."""
    # bool is an int in Python; True would silently count as a detractor's 1.
    if isinstance(score, bool) or not isinstance(score, int) or score not in SCALE:
        raise ValueError(f"an NPS score is a whole number from 0 to 10, not {score!r}")
    if score >= 9:
        return Group.PROMOTER
    return Group.PASSIVE if score >= 7 else Group.DETRACTOR


def _percent(part: int, total: int) -> int:
    # Half away from zero on both sides (12.5 -> 13, -12.5 -> -13). Python's round() rounds half
    # to even (12.5 -> 12, 13.5 -> 14), which looks arbitrary in an owner's report.
    return int((Decimal(100 * part) / total).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Summary:
    promoters: int = 0
    passives: int = 0
    detractors: int = 0

    @property
    def count(self) -> int:
        return self.promoters + self.passives + self.detractors

    @property
    def nps(self) -> int | None:
        """% promoters - % detractors from the exact counts, rounded once at the end."""
        return _percent(self.promoters - self.detractors, self.count) if self.count else None

    def share(self, group: Group) -> int | None:
        """The rounded percentage of one group (the three need not add up to exactly 100)."""
        counts = {Group.PROMOTER: self.promoters, Group.PASSIVE: self.passives, Group.DETRACTOR: self.detractors}
        return _percent(counts[Group(group)], self.count) if self.count else None


def summarize(scores: Iterable[int]) -> Summary:
    groups = [classify(score) for score in scores]
    return Summary(promoters=groups.count(Group.PROMOTER), passives=groups.count(Group.PASSIVE),
                   detractors=groups.count(Group.DETRACTOR))


def nps(scores: Iterable[int]) -> int | None:
    return summarize(scores).nps


# --- trend ------------------------------------------------------------------------------------

TrendBy = Literal["week", "month"]


@dataclass(frozen=True)
class TrendPoint:
    """One week (label "2026-W43", ISO weeks start on Monday) or month (label "2026-10")."""

    label: str
    start: date
    summary: Summary

    @property
    def nps(self) -> int | None:
        return self.summary.nps

    @property
    def count(self) -> int:
        return self.summary.count


def _zone(tz: ZoneInfo | str) -> ZoneInfo:
    return tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"a timezone-aware time is needed, got {moment!r}")
    return moment


def _period_start(day: date, by: TrendBy) -> date:
    if by == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def _next_period(start: date, by: TrendBy) -> date:
    if by == "week":
        return start + timedelta(days=7)
    return date(start.year + start.month // 12, start.month % 12 + 1, 1)


def _label(start: date, by: TrendBy) -> str:
    if by == "week":
        year, week, _ = start.isocalendar()  # the ISO year: 29 Dec 2025 starts 2026-W01
        return f"{year}-W{week:02d}"
    return f"{start.year}-{start.month:02d}"


def trend(answers: Iterable[tuple[datetime, int]], tz: ZoneInfo | str, by: TrendBy = "week",
          start: datetime | None = None, end: datetime | None = None) -> list[TrendPoint]:
    """NPS and count per week or month, oldest first.

    Periods run from the one holding ``start`` (default: the first answer) to the one holding the
    last moment before ``end`` (default: the last answer). Periods in between without answers are
    listed with count 0 and NPS None, so a quiet week shows as a gap instead of disappearing.
    Answers outside [start, end) are ignored.
    """
    if by not in ("week", "month"):
        raise ValueError(f"trend by 'week' or 'month', not {by!r}")
    zone = _zone(tz)
    start, end = (_aware(start) if start else None), (_aware(end) if end else None)
    kept = [(at, score) for at, score in ((_aware(at), score) for at, score in answers)
            if (start is None or at >= start) and (end is None or at < end)]
    local_days = [at.astimezone(zone).date() for at, _ in kept]
    first = start.astimezone(zone).date() if start else min(local_days, default=None)
    last = (end - timedelta(microseconds=1)).astimezone(zone).date() if end else max(local_days, default=None)
    if first is None or last is None or last < first:
        return []
    scores: dict[date, list[int]] = {}
    for day, (_, score) in zip(local_days, kept):
        scores.setdefault(_period_start(day, by), []).append(score)
    return trend_points(_periods(first, last, by), {start: summarize(each) for start, each in scores.items()}, by)


def _periods(first: date, last: date, by: TrendBy) -> list[date]:
    """The first days of the trend's periods from the one holding ``first`` to ``last``'s."""
    periods, period = [], _period_start(first, by)
    while period <= last:
        periods.append(period)
        period = _next_period(period, by)
    return periods


def trend_periods(start: datetime, end: datetime, tz: ZoneInfo | str, by: TrendBy) -> list[tuple[date, datetime]]:
    """The trend's periods of [start, end) (a report's period): each one's first day, and the
    moment it begins (UTC), for counting the answers of each in the database."""
    zone = _zone(tz)
    first, last = _aware(start).astimezone(zone).date(), (_aware(end) - timedelta(microseconds=1)).astimezone(zone).date()
    return [(day, _local_midnight(day, zone)) for day in _periods(first, last, by)]


def trend_points(periods: Iterable[date], summaries: dict[date, Summary], by: TrendBy) -> list[TrendPoint]:
    """A trend point for each period (its first day), with its summary or none (a gap)."""
    return [TrendPoint(_label(period, by), period, summaries.get(period, Summary())) for period in periods]


def summarize_counts(counted: Iterable[tuple[int, int]]) -> Summary:
    """The summary of (score, how many gave it) pairs."""
    groups: dict[Group, int] = {}
    for score, count in counted:
        groups[classify(score)] = groups.get(classify(score), 0) + count
    return Summary(promoters=groups.get(Group.PROMOTER, 0), passives=groups.get(Group.PASSIVE, 0),
                   detractors=groups.get(Group.DETRACTOR, 0))


# --- a typed score ----------------------------------------------------------------------------

# "ein"/"eine"/"ne" are articles here ("eine 8", "ne 6"), so only "eins" counts as the number 1.
NUMBER_WORDS = {
    "null": 0, "eins": 1, "zwei": 2, "zwo": 2, "drei": 3, "vier": 4, "fünf": 5, "fuenf": 5, "funf": 5,
    "sechs": 6, "sieben": 7, "acht": 8, "neun": 9, "zehn": 10,
    "elf": 11, "zwölf": 12, "zwoelf": 12, "hundert": 100,  # refused, but they are numbers
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10,
}
_WORDS = "|".join(sorted(NUMBER_WORDS, key=len, reverse=True))
# Digits count even when glued to a word ("3mal", "10Punkte"); number words only as whole words
# ("Achtung" holds no 8, "zehnmal" no 10).
_NUMBER = r"(?:(?<![0-9])[0-9]+(?![0-9])|(?<![a-zäöüß])(?:" + _WORDS + r")(?![a-zäöüß]))"
# "8/10", "7 von 10", "9 Punkte von 10", "9 aus zehn", "8 of 10": the scale after the score is not a second number.
_OUT_OF = re.compile(r"(" + _NUMBER + r")\s*(?:punkte?n?\s*)?(?:/|von|aus|out of|of)\s*(" + _NUMBER + r")")
_CANDIDATE = re.compile(r"(-?)(" + _NUMBER + r")")


def _value(token: str) -> int:
    return whole_number(token, 100) if token.isdigit() else NUMBER_WORDS[token]


def parse_score(text: str) -> int | None:
    """The score in a typed answer, or None when it is not exactly one clear number from 0 to 10.

    The rule: the text must hold exactly one number (ASCII digits or a German or English number
    word, "null" to "zehn"), optionally followed by "/10", "von 10" or "aus 10"; everything else
    in the text is ignored ("eine 8", "glatte 9", "Ich gebe 7 Punkte", "na ja, ne 6" are fine).
    Refused, because guessing would store a score the customer did not give: two numbers ("8 oder
    9", "ich war 3 mal da und gebe 9", "8,5"), a number outside 0-10 ("11", "100", "-3"), a scale
    other than 10 ("4 von 5"), no number ("keine Ahnung").
    """
    lowered = (text or "").lower()
    scaled = list(_OUT_OF.finditer(lowered))
    for match in scaled:
        if _value(match.group(2)) != 10:
            return None
    # Blank the "/10" so only the score itself remains a candidate.
    for match in reversed(scaled):
        lowered = lowered[:match.start(2)] + " " * (match.end(2) - match.start(2)) + lowered[match.end(2):]
    candidates = _CANDIDATE.findall(lowered)
    if len(candidates) != 1:
        return None
    sign, token = candidates[0]
    value = _value(token)
    return value if not sign and value in SCALE else None


# --- report period (/nps [period]) -----------------------------------------------------------

DEFAULT_DAYS = 90
MAX_DAYS = 999


class PeriodError(InputError):
    """An unusable ``/nps`` period; ``reason`` is period_format, period_days, period_month or
    period_future."""


@dataclass(frozen=True)
class Period:
    """[start, end) in UTC; ``end`` is never after the moment the report was asked for."""

    start: datetime
    end: datetime
    kind: Literal["days", "week", "month", "quarter", "year"]

    @property
    def trend_by(self) -> TrendBy:
        """Weeks for short periods, months for long ones (a year of weeks is no chat message)."""
        return "week" if self.end - self.start <= timedelta(days=62) else "month"

    def days(self, zone: ZoneInfo) -> tuple[date, date]:
        """The first and the last day the period covers, in the shop's time zone (``end`` is
        exclusive)."""
        return (self.start.astimezone(zone).date(), (self.end - timedelta(microseconds=1)).astimezone(zone).date())


_THIS = {"woche": "week", "week": "week", "kw": "week", "monat": "month", "month": "month",
         "quartal": "quarter", "quarter": "quarter", "jahr": "year", "year": "year"}
_LAST = {"vorwoche": "week", "vormonat": "month", "vorquartal": "quarter", "vorjahr": "year"}
_THIS_WORDS = ("diese", "diesen", "dieses", "dieser", "this", "aktuelle", "aktuellen", "aktuelles", "laufende",
               "laufenden", "laufendes")
_LAST_WORDS = ("letzte", "letzten", "letztes", "letzter", "vorige", "vorigen", "voriges", "vergangene",
               "vergangenen", "vergangenes", "last", "previous")
_DAYS = re.compile(r"^([0-9]+)\s*(?:d|t|tage?n?|days?)?$")
_YEAR_MONTH = re.compile(r"^([0-9]{4})-([0-9]{1,2})$|^([0-9]{1,2})\s*[./]\s*([0-9]{4})$")
_NAMED_MONTH = re.compile(r"^([a-zäöü]+)\.?(?:\s+([0-9]{4}))?$")


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(timezone.utc)


def _calendar_start(day: date, kind: str) -> date:
    if kind == "week":
        return day - timedelta(days=day.weekday())
    if kind == "month":
        return day.replace(day=1)
    if kind == "quarter":
        return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    return date(day.year, 1, 1)


def _calendar_range(day: date, kind: str) -> tuple[date, date]:
    """The whole week/month/quarter/year holding ``day``: [first day, first day of the next)."""
    first = _calendar_start(day, kind)
    if kind == "week":
        return first, first + timedelta(days=7)
    months = {"month": 1, "quarter": 3, "year": 12}[kind]
    index = first.month - 1 + months
    return first, date(first.year + index // 12, index % 12 + 1, 1)


def parse_period(text: str | None, now: datetime, tz: ZoneInfo | str, default_days: int = DEFAULT_DAYS) -> Period:
    """What ``/nps [period]`` means, as a range up to ``now``.

    - nothing: the last ``default_days`` days
    - "30", "30 tage": the last 30 days (1 to 999)
    - "woche", "monat", "quartal", "jahr" (also "diese woche"): the current calendar period so far
    - "letzte woche", "letzten monat", "vorjahr" ...: the previous whole calendar period
    - "2026-10", "10/2026", "10.2026", "oktober 2026", "okt": that month ("oktober" alone: the
      latest October that has begun)
    - "2026": that year (a four-digit number from 2000 to 2099; other numbers are days)
    Calendar periods start at midnight in the shop's time zone.
    """
    zone = _zone(tz)
    now = _aware(now).astimezone(timezone.utc)
    today = now.astimezone(zone).date()
    words = " ".join((text or "").lower().replace("_", " ").split())
    if not words:
        return _last_days(default_days, now, zone, text)
    if re.fullmatch(r"20[0-9]{2}", words):
        return _period(date(int(words), 1, 1), date(int(words) + 1, 1, 1), "year", now, zone, text)
    parts = words.split(" ")
    # "30", "30 tage", "letzte 30 tage"
    if match := _DAYS.match(" ".join(parts[1:]) if parts[0] in _LAST_WORDS else words):
        return _last_days(whole_number(match.group(1), MAX_DAYS), now, zone, text)
    if len(parts) == 1 and parts[0] in _THIS:
        return _period(_calendar_start(today, _THIS[parts[0]]), None, _THIS[parts[0]], now, zone)
    if len(parts) == 2 and parts[1] in _THIS and parts[0] in _THIS_WORDS:
        return _period(_calendar_start(today, _THIS[parts[1]]), None, _THIS[parts[1]], now, zone)
    if (len(parts) == 2 and parts[1] in _THIS and parts[0] in _LAST_WORDS) or (len(parts) == 1 and parts[0] in _LAST):
        kind = _THIS[parts[1]] if len(parts) == 2 else _LAST[parts[0]]
        current = _calendar_start(today, kind)
        first, last = _calendar_range(current - timedelta(days=1), kind)
        return _period(first, last, kind, now, zone)
    month_year = _month_and_year(words, today, text)
    if month_year:
        first, last = _calendar_range(date(month_year[1], month_year[0], 1), "month")
        return _period(first, last, "month", now, zone, text)
    raise PeriodError("period_format", text or "")


def _month_and_year(words: str, today: date, text: str | None) -> tuple[int, int] | None:
    if match := _YEAR_MONTH.match(words):
        year, month = (int(match.group(1)), int(match.group(2))) if match.group(1) else (int(match.group(4)),
                                                                                         int(match.group(3)))
        if not 1 <= month <= 12 or year < 2000:
            raise PeriodError("period_month", text or "")
        return _not_ahead(month, year, today, text)
    match = _NAMED_MONTH.match(words)
    if not match or match.group(1) not in MONTHS:
        return None
    month = MONTHS[match.group(1)]
    if match.group(2):
        year = int(match.group(2))
        if year < 2000:  # as for "10/1999"; the year 1 in the shop's zone may lie before the calendar in UTC
            raise PeriodError("period_month", text or "")
        return _not_ahead(month, year, today, text)
    return month, today.year if month <= today.month else today.year - 1


def _not_ahead(month: int, year: int, today: date, text: str | None) -> tuple[int, int]:
    """A month that has not begun is refused here, before the month after December 9999 is
    looked for (``_period`` would refuse it the same way)."""
    if (year, month) > (today.year, today.month):
        raise PeriodError("period_future", text or "")
    return month, year


def _last_days(days: int, now: datetime, zone: ZoneInfo, text: str | None) -> Period:
    if not 1 <= days <= MAX_DAYS:
        raise PeriodError("period_days", text or "")
    # Count back on the wall clock, so "30" at 10:00 starts at 10:00 even across a DST change.
    start = (now.astimezone(zone) - timedelta(days=days)).astimezone(timezone.utc)
    return Period(start, now, "days")


def _period(first: date, last: date | None, kind: str, now: datetime, zone: ZoneInfo,
            text: str | None = None) -> Period:
    start = _local_midnight(first, zone)
    if start > now:
        raise PeriodError("period_future", text or "")
    end = now if last is None else min(now, _local_midnight(last, zone))
    return Period(start, end, kind)
