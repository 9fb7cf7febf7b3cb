"""The shop's opening hours as customers and tickets see them: the weekly hours from config.yml
(``ShopConfig.opening_hours``) plus one-off closures the owner posts (``/geschlossen heute``,
Betriebsferien), stored in the ``closure`` table so every replica and a restart know them.

Closures are whole days of the shop's calendar. Ticket deadlines skip them like holidays
(``with_closures``); the FAQ's opening-hours answer names today's closure first and the closed
days of the next weeks (``answer_facts``). A closure that has passed stays in the table, so the
business minutes of old tickets (the reports) do not change afterwards.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import Session, select

from domain.rules import business_hours
from domain.rules.business_hours import BusinessHours, Interval
from domain.rules.errors import Refusal
from storage.models import Closure

MAX_DAYS = 365  # a longer closure is a typo (or the shop is closing for good: not a bot matter)
MAX_AHEAD_DAYS = 365  # how far ahead a closure may start
MAX_REASON = 200  # Closure.reason
UPCOMING_DAYS = 28  # the FAQ answer names closed days this far ahead

_TODAY = ("heute", "today")
_TOMORROW = ("morgen", "tomorrow")
REMOVE_WORDS = ("weg", "entfernen", "löschen", "loeschen", "remove", "delete")
_DAY = r"(heute|today|morgen|tomorrow|[0-9]{1,2}\.[0-9]{1,2}\.(?:[0-9]{2}|[0-9]{4})?)"
_DATE = re.compile(r"^([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{2}|[0-9]{4})?$")
_CLOSURE = re.compile(rf"^{_DAY}(?:\s*(?:-|–|—|bis|to)\s*{_DAY})?(?:\s+(.*))?$", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class ClosedDays:
    """Closed from ``first_day`` to ``last_day`` (both included): a closure or a holiday."""

    first_day: date
    last_day: date
    reason: str | None = None
    closure_id: int | None = None  # None: a holiday from config.yml

    def covers(self, day: date) -> bool:
        return self.first_day <= day <= self.last_day


@dataclass(frozen=True)
class WantedClosure:
    first_day: date
    last_day: date
    reason: str | None


# --- what the owner types ------------------------------------------------------------------------

def parse_day(word: str, today: date) -> date:
    """"heute", "morgen", "24.12.2026", "24.12.26" or "24.12." (the next 24.12. from today)."""
    word = word.strip().lower()
    if word in _TODAY:
        return today
    if word in _TOMORROW:
        return today + timedelta(days=1)
    match = _DATE.match(word)
    if not match:
        raise Refusal("bad_date", word[:40])
    day, month, year = match.groups(default="")
    try:
        if not year:
            candidate = date(today.year, int(month), int(day))
            return candidate if candidate >= today else date(today.year + 1, int(month), int(day))
        return date(int(year) + (2000 if len(year) == 2 else 0), int(month), int(day))
    except ValueError:
        raise Refusal("bad_date", word) from None


def parse_closure(text: str, today: date) -> WantedClosure:
    """``heute [Grund]``, ``24.12.2026 [Grund]``, ``24.12.2026-26.12.2026 [Grund]``; refused
    (``Refusal`` with the reason) when it is not a day, lies in the past, runs backwards, is
    longer than a year or starts more than a year ahead."""
    match = _CLOSURE.match(" ".join(text.split()))
    if not match:
        raise Refusal("bad_date", text.strip()[:40])
    first = parse_day(match.group(1), today)
    last = parse_day(match.group(2), today) if match.group(2) else first
    reason = (match.group(3) or "").strip() or None
    if first < today:
        raise Refusal("past", match.group(1))
    if last < first:
        raise Refusal("reversed", f"{match.group(1)}-{match.group(2)}")
    if (last - first).days + 1 > MAX_DAYS:
        raise Refusal("too_long", f"{match.group(1)}-{match.group(2)}", max_days=MAX_DAYS)
    if (first - today).days > MAX_AHEAD_DAYS:
        raise Refusal("too_far", match.group(1), max_days=MAX_AHEAD_DAYS)
    if reason is not None and len(reason) > MAX_REASON:
        raise Refusal("reason_too_long", max_length=MAX_REASON)
    return WantedClosure(first, last, reason)


# --- use cases -----------------------------------------------------------------------------------

def close(session: Session, wanted: WantedClosure, owner_user_id: int, now: datetime) -> ClosedDays:
    """Store a closure; one that adds no day to those already closed is refused ("already")."""
    closures = _closures(session, wanted.first_day)
    span = _days(wanted.first_day, wanted.last_day)
    if all(any(known.covers(day) for known in closures) for day in span):
        raise Refusal("already", wanted.first_day)
    row = Closure(first_day=wanted.first_day, last_day=wanted.last_day, reason=wanted.reason,
                  created_by=owner_user_id, created_at=now)
    session.add(row)
    session.flush()
    return _closed_days(row)


def reopen(session: Session, day: date) -> list[ClosedDays]:
    """Remove the closures that hold ``day`` (the whole run, as posted); refused ("not_found")
    when none does."""
    rows = session.exec(select(Closure).where(Closure.first_day <= day, Closure.last_day >= day)).all()
    if not rows:
        raise Refusal("not_found", day)
    removed = [_closed_days(row) for row in rows]
    for row in rows:
        session.delete(row)
    return removed


def coming_closures(session: Session, today: date) -> list[ClosedDays]:
    """The owner's closures from today on, the nearest first (what ``/geschlossen`` lists)."""
    return _closures(session, today)


def with_closures(session: Session, hours: BusinessHours) -> BusinessHours:
    """``hours`` with every posted closure closed like a holiday (ticket deadlines, reports)."""
    # execute, not exec: the reports read with a plain SQLAlchemy session
    rows = session.execute(select(Closure.first_day, Closure.last_day)).all()
    return _closed_also(hours, [ClosedDays(first, last) for first, last in rows])


# --- the FAQ answer ------------------------------------------------------------------------------

@dataclass(frozen=True)
class DayGroup:
    """Days of the week in a row with the same hours: Monday is 0 (``first`` to ``last``)."""

    first: int
    last: int
    intervals: tuple[Interval, ...]


@dataclass(frozen=True)
class HoursAnswer:
    week: tuple[DayGroup, ...]
    closed_today: ClosedDays | None  # a closure or holiday on a day the shop would be open
    reopens_at: datetime | None  # when ``closed_today``: the next opening (None: not found soon)
    coming: tuple[ClosedDays, ...]  # after today, within UPCOMING_DAYS


def group_week(week: tuple[tuple[Interval, ...], ...]) -> tuple[DayGroup, ...]:
    """Consecutive days with equal hours as one group: Mo–Fr 8–18, Sa 9–14, So closed."""
    groups: list[DayGroup] = []
    for index, intervals in enumerate(week):
        if groups and groups[-1].intervals == intervals:
            groups[-1] = DayGroup(groups[-1].first, index, intervals)
        else:
            groups.append(DayGroup(index, index, intervals))
    return tuple(groups)


def answer_facts(session: Session, hours: BusinessHours, now: datetime) -> HoursAnswer:
    """What the opening-hours answer says at ``now`` (``facts_from`` with the stored closures)."""
    return facts_from(hours, _closures(session, now.astimezone(hours.timezone).date()), now)


def facts_from(hours: BusinessHours, closures: list[ClosedDays], now: datetime) -> HoursAnswer:
    """The week, today's closure (with the next opening) and the closed days coming: the
    owner's ``closures`` and the holidays in ``hours``. A holiday counts only on a day the shop
    would be open (one on a Sunday it is closed anyway is no news); what the owner posted counts
    always, as they meant customers to hear it."""
    today = now.astimezone(hours.timezone).date()
    horizon = today + timedelta(days=UPCOMING_DAYS)
    closed = [c for c in closures if c.last_day >= today and c.first_day <= horizon]
    closed += [ClosedDays(day, day) for day in sorted(hours.holidays)
               if today <= day <= horizon and hours.week[day.weekday()]]
    closed.sort(key=lambda c: (c.first_day, c.last_day))
    closed_today = next((c for c in closed if c.covers(today)), None)
    reopens_at = _next_opening(_closed_also(hours, closures), now) if closed_today is not None else None
    coming = tuple(c for c in closed if c is not closed_today and c.first_day > today)
    return HoursAnswer(group_week(hours.week), closed_today, reopens_at, coming)


def _next_opening(hours: BusinessHours, now: datetime) -> datetime | None:
    try:
        return business_hours.next_opening(now, hours)
    except business_hours.NeverOpen:
        return None


def _closed_also(hours: BusinessHours, closures: list[ClosedDays]) -> BusinessHours:
    closed = {day for c in closures for day in _days(c.first_day, c.last_day)}
    return BusinessHours(hours.timezone, hours.week, hours.holidays | closed) if closed else hours


def _closures(session: Session, from_day: date) -> list[ClosedDays]:
    rows = session.exec(select(Closure).where(Closure.last_day >= from_day)
                        .order_by(Closure.first_day, Closure.id)).all()
    return [_closed_days(row) for row in rows]


def _closed_days(row: Closure) -> ClosedDays:
    return ClosedDays(row.first_day, row.last_day, row.reason, row.id)


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]
