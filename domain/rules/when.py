"""German times as owners type them for /planen: "morgen 10:00", "24.12. 9 Uhr", "Freitag 18 Uhr",
"heute 17:30", "jeden Montag 9:00", "täglich 10 Uhr".

A planned time is a wall-clock time in the shop's time zone; it is stored in UTC. Recurring
times are kept as a rule ("weekly:0:09:00": Mondays at 9:00) and the next run is computed from
the rule in the shop's zone each time, so a weekly 9:00 stays 9:00 across daylight saving.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo
from domain.rules.errors import Refusal

MAX_AHEAD = timedelta(days=366)
MAX_WORDS = 5  # "jeden Montag um 9 Uhr"
WEEKDAYS = {  # Monday is 0, as in datetime.weekday()
    "montag": 0, "mo": 0, "dienstag": 1, "di": 1, "mittwoch": 2, "mi": 2, "donnerstag": 3, "do": 3,
    "freitag": 4, "fr": 4, "samstag": 5, "sa": 5, "sonnabend": 5, "sonntag": 6, "so": 6,
}
_TIME = re.compile(r"^(?P<hour>\d{1,2})(?:[:.](?P<minute>\d{2}))?(?:uhr)?$")
_DATE = re.compile(r"^(?P<day>\d{1,2})\.(?P<month>\d{1,2})\.(?P<year>\d{2}|\d{4})?$")
_ISO_DATE = re.compile(r"^(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})$")
_FILLERS = {"am", "um", "ab", "den", "uhr", ","}


class WhenError(Refusal):
    """``reason``: unknown, time_missing, bad_time, bad_date, past, too_far."""


@dataclass(frozen=True)
class Schedule:
    first_run: datetime  # UTC
    recurrence: str | None = None  # "daily:HH:MM" or "weekly:<weekday>:HH:MM"


def _fold(text: str) -> str:
    return (text.lower().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")
            .replace("täglich", "taeglich"))


def _words(text: str) -> list[str]:
    # "9Uhr" and "9 Uhr" alike; a comma after a word ("morgen, 10 Uhr") is no word of its own
    spaced = re.sub(r"(\d)(uhr)\b", r"\1 \2", _fold(text).replace(",", " "))
    return [word for word in spaced.split() if word not in _FILLERS]


def _clock(word: str) -> time:
    match = _TIME.match(word)
    if match is None:
        raise WhenError("bad_time", word)
    hour, minute = int(match["hour"]), int(match["minute"] or 0)
    if hour > 23 or minute > 59:
        raise WhenError("bad_time", word)
    return time(hour, minute)


def _calendar_day(word: str, today: date) -> date | None:
    """A date like "24.12.", "24.12.2026", "24.12.26" or "2026-12-24"; None if it is none.
    Without a year, the next such day (this year or, once passed, next year)."""
    match = _DATE.match(word) or _ISO_DATE.match(word)
    if match is None:
        return None
    year_text = match["year"]
    year = today.year if not year_text else int(year_text) + (2000 if len(year_text) == 2 else 0)
    try:
        day = date(year, int(match["month"]), int(match["day"]))
    except ValueError:
        raise WhenError("bad_date", word) from None
    if not year_text and day < today:
        try:
            day = day.replace(year=year + 1)
        except ValueError:  # 29.02. of a year that has none
            raise WhenError("bad_date", word) from None
    return day


def _at(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """A wall-clock time in the shop's zone, in UTC (a time skipped by the clock change is
    taken as the same time in the zone's other offset, i.e. an hour later)."""
    return datetime.combine(day, clock, zone).astimezone(ZoneInfo("UTC"))


def next_run(recurrence: str, after: datetime, timezone_name: str) -> datetime:
    """The first time of a rule strictly after ``after``."""
    zone = ZoneInfo(timezone_name)
    kind, _, rest = recurrence.partition(":")
    weekday = None
    if kind == "weekly":
        weekday_text, _, rest = rest.partition(":")
        weekday = int(weekday_text)
    clock = time.fromisoformat(rest)
    day = after.astimezone(zone).date()
    while True:
        if weekday is None or day.weekday() == weekday:
            candidate = _at(day, clock, zone)
            if candidate > after:
                return candidate
        day += timedelta(days=1)


def parse(text: str, now: datetime, timezone_name: str) -> Schedule:
    """Read a planned time; it must lie in the future and within a year."""
    words = _words(text)
    if not words:
        raise WhenError("unknown", text.strip()[:40])
    zone = ZoneInfo(timezone_name)
    if words in (["jetzt"], ["sofort"]):
        return Schedule(now)
    if words[0] in ("jeden", "jede", "taeglich") or (len(words) == 2 and words[0].rstrip("s") in WEEKDAYS
                                                     and words[0].endswith("s")):
        return _recurring(words, text, now, timezone_name)
    *day_words, clock_word = words
    clock = _clock(clock_word) if _TIME.match(clock_word) else None
    if clock is None:
        raise WhenError("time_missing" if len(words) <= 2 and _day(words, now, zone) else "unknown", text.strip()[:40])
    day = _day(day_words, now, zone) if day_words else None
    if day_words and day is None:
        raise WhenError("unknown", " ".join(day_words)[:40])
    today = now.astimezone(zone).date()
    if day is None:  # only a time: today, or tomorrow once it has passed
        moment = _at(today, clock, zone)
        return _checked(moment if moment > now else _at(today + timedelta(days=1), clock, zone), now, text)
    try:
        moment = _at(day, clock, zone)
    except OverflowError:  # 1.1.0001 east of Greenwich, 31.12.9999 west of it: beyond the calendar in UTC
        raise WhenError("past" if day < today else "too_far", text.strip()[:40]) from None
    return _checked(moment, now, text)


def _day(words: list[str], now: datetime, zone: ZoneInfo) -> date | None:
    """"heute", "morgen", "übermorgen", a weekday (the next one; today's if named today) or a
    date; None when the words are none of these."""
    if len(words) != 1:
        return None
    word, today = words[0], now.astimezone(zone).date()
    relative = {"heute": 0, "morgen": 1, "uebermorgen": 2}
    if word in relative:
        return today + timedelta(days=relative[word])
    if word in WEEKDAYS:
        return today + timedelta(days=(WEEKDAYS[word] - today.weekday()) % 7)
    return _calendar_day(word, today)


def _recurring(words: list[str], text: str, now: datetime, timezone_name: str) -> Schedule:
    """"jeden Montag 9:00", "montags 9 Uhr", "jeden Tag 10:00", "täglich 10 Uhr"."""
    if words[0] in ("jeden", "jede"):
        words = words[1:]
    if len(words) != 2:
        raise WhenError("time_missing" if len(words) == 1 else "unknown", text.strip()[:40])
    day_word, clock_word = words
    if not _TIME.match(clock_word):
        raise WhenError("time_missing", text.strip()[:40])
    clock = _clock(clock_word)
    hhmm = clock.strftime("%H:%M")
    if day_word in ("tag", "taeglich"):
        rule = f"daily:{hhmm}"
    else:
        weekday = WEEKDAYS.get(day_word, WEEKDAYS.get(day_word.removesuffix("s")))
        if weekday is None:
            raise WhenError("unknown", day_word[:40])
        rule = f"weekly:{weekday}:{hhmm}"
    return Schedule(next_run(rule, now, timezone_name), rule)


def _checked(moment: datetime, now: datetime, text: str) -> Schedule:
    if moment <= now:
        raise WhenError("past", text.strip()[:40])
    if moment - now > MAX_AHEAD:
        raise WhenError("too_far", text.strip()[:40])
    return Schedule(moment)


def split(text: str, now: datetime, timezone_name: str) -> tuple[Schedule, str]:
    """"/planen morgen 10:00 stamm ohne vip": the longest leading words that are a time, and the
    rest (the segment). Raises the error of the shortest attempt when no prefix is a time."""
    tokens = text.split()
    first_error: WhenError | None = None
    for count in range(min(MAX_WORDS, len(tokens)), 0, -1):
        try:
            schedule = parse(" ".join(tokens[:count]), now, timezone_name)
        except WhenError as error:
            if error.reason in ("past", "too_far", "bad_date", "bad_time", "time_missing"):
                first_error = first_error or error  # a real time, but not a usable one
            continue
        return schedule, " ".join(tokens[count:])
    raise first_error or WhenError("unknown", " ".join(tokens[:2])[:40])
