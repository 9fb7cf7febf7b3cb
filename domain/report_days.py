"""The shop as it stood at one moment, for the owner's report: who was a customer then (and in
which loyalty tier), how many points were outstanding, and how many customers had each revenue
in the year before (the ABC split).

Counting that from the purchases and the ledger takes seconds at a million customers. So the
bot's job keeps it for every midnight (shop time) of the last ``KEEP_DAYS`` days
(``report_day``), each day from the one before, and a report at any moment of those days starts
from the midnight before it and looks only at the customers whose standing can have changed
since: those who bought or earned tier points in between, and those whose purchases or tier
points left the window (bought exactly a year, or a tier window, before). That is a few
thousand index lookups instead of a million rows.

A kept day stands while no purchase or points entry dated before it has been booked, imported
or reversed since it was counted (the marks: the newest ids then; a reversal books a ledger
correction dated at the purchase) and the rules it was counted by still hold; a merge of two
customers' records clears them all (``forget``).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, delete, exists, func, literal, select, union, update

from domain.config import LoyaltySection
from domain.rules import loyalty
from storage import sql
from storage.models import Customer, PointsEntry, Purchase, ReportDay

ABC_DAYS = 365
KEEP_DAYS = 200  # covers a quarter's report and the quarter before it
FURTHEST_STEP = timedelta(days=7)  # a kept day further back than this before a moment is not used
DAYS_PER_CALL = 14  # kept days counted per call of ``keep`` (then written in one short transaction)

_customer = Customer.__table__.c
_purchase = Purchase.__table__.c
_points = PointsEntry.__table__.c


@dataclass(frozen=True)
class Counting:
    """The rules the standing of the shop depends on."""

    active_days: int
    loyalty: LoyaltySection

    @property
    def key(self) -> str:
        tiers = ";".join(f"{tier.name}={tier.threshold}" for tier in self.loyalty.tiers)
        described = f"{self.active_days}|{self.loyalty.tier_window_months}|{tiers}|{ABC_DAYS}"
        return "v1:" + hashlib.sha256(described.encode()).hexdigest()[:40]

    def tier_of(self, tier_points: int) -> int:
        """The index of the highest tier whose threshold the points reach (0: the first)."""
        return max((i for i, tier in enumerate(self.loyalty.tiers) if i and tier_points >= tier.threshold), default=0)


@dataclass(frozen=True)
class Standing:
    """The shop at ``at``."""

    at: datetime
    tiers: tuple[int, ...]  # customers at ``at`` per tier (their tier then), lowest first
    points_outstanding: int  # every points entry before ``at``
    revenues: dict[int, int]  # revenue in the 365 days before ``at`` -> how many customers (revenue > 0)

    @property
    def customers(self) -> int:
        return sum(self.tiers)

    def revenue_groups(self) -> list[tuple[int, int]]:
        """(revenue, customers), highest revenue first: what the ABC split walks."""
        return sorted(((revenue, count) for revenue, count in self.revenues.items() if count), reverse=True)


# --- counted from the purchases and the ledger --------------------------------------------------

def _active_at(t: datetime, days: int):
    """With ``_window``: bought (not reversed) in [t − days, t). The kept last purchase decides
    for everyone who has not bought since t; only those who have are looked up in their
    purchases (one index range each)."""
    since = t - timedelta(days=days)
    c, p = _customer, _purchase
    bought_in_window = exists().where(p.customer_id == c.id, p.created_at >= since, p.created_at < t,
                                      p.reversed_at.is_(None))
    return case((c.last_purchase_at < t, True), else_=bought_in_window)


def _window(t: datetime, days: int):
    """The customer rows that may be customers at t (index range on the last purchase)."""
    return and_(_customer.last_purchase_at >= t - timedelta(days=days), _customer.first_purchase_at < t)


def customers_at(session, t: datetime, days: int) -> int:
    """How many people are customers at t."""
    return session.execute(select(func.count()).where(_window(t, days), _active_at(t, days))).scalar_one()


def customers_per_tier(session, t: datetime, counting: Counting, earned=None) -> tuple[int, ...]:
    """The customers at t by their tier: by ``earned`` (SQL on the customer row, e.g. the kept
    tier points of now), else by their tier points at t from the ledger."""
    tiers, customers = counting.loyalty.tiers, Customer.__table__
    if len(tiers) > 1 and earned is None:
        then = _above_first_tier_at(t, counting.loyalty)
        customers, earned = customers.outerjoin(then, then.c.customer_id == _customer.id), func.coalesce(then.c.earned, 0)
    index = case(*((earned >= tier.threshold, i) for i, tier in reversed(list(enumerate(tiers))) if i),
                 else_=0) if len(tiers) > 1 else literal(0)
    rows = dict(session.execute(select(index, func.count()).select_from(customers)
                                .where(_window(t, counting.active_days), _active_at(t, counting.active_days))
                                .group_by(index)).all())
    return tuple(int(rows.get(i, 0)) for i in range(len(tiers)))


def _above_first_tier_at(t: datetime, rules: LoyaltySection):
    """The customers whose tier points at t reach a tier above the first, with those points: one
    pass over the ledger's tier index, a few rows out (everyone else is in the first tier).
    ``Scanned``: the window is most of the ledger, so walking the time index (tier_at,
    customer_id) would look up every entry's amount and sort them all by customer (15 s at a
    million customers instead of about 1 s)."""
    e = _points
    earned, tier_at = func.sum(e.amount), sql.Scanned(e.tier_at)
    return (select(e.customer_id, earned.label("earned"))
            .where(tier_at >= loyalty.window_start(t, rules), tier_at < t)
            .group_by(e.customer_id).having(earned >= rules.tiers[1].threshold).subquery())


def per_customer(start: datetime, end: datetime, in_customer_order: bool = False):
    """Each buyer's purchases and revenue in [start, end): for a short period from the time
    index (a range, then sorted by customer); for a year, ``in_customer_order``, walking the
    customer index from end to end is faster than sorting most of the purchases (``Scanned``
    keeps SQLite off the time index)."""
    p = _purchase
    created = sql.Scanned(p.created_at) if in_customer_order else p.created_at
    return (select(p.customer_id, func.count().label("n"), func.sum(p.amount_cents).label("revenue"))
            .where(created >= start, created < end, p.reversed_at.is_(None))
            .group_by(p.customer_id).subquery())


def revenue_groups_before(session, t: datetime) -> dict[int, int]:
    """How many customers had each revenue in the 365 days before t (revenue > 0)."""
    each = per_customer(t - timedelta(days=ABC_DAYS), t, in_customer_order=True)
    rows = session.execute(select(each.c.revenue, func.count()).where(each.c.revenue > 0).group_by(each.c.revenue))
    return {int(revenue): int(count) for revenue, count in rows}


def points_before(session, t: datetime) -> int:
    """The balance of all customers at t: every entry before it."""
    return int(session.execute(select(func.coalesce(func.sum(_points.amount), 0)).where(_points.created_at < t)
                               ).scalar_one())


def counted(session, t: datetime, counting: Counting) -> Standing:
    """The standing at t, counted from the purchases and the ledger (seconds at a million)."""
    return Standing(at=t, tiers=customers_per_tier(session, t, counting), points_outstanding=points_before(session, t),
                    revenues=revenue_groups_before(session, t))


# --- from an earlier standing ------------------------------------------------------------------

def _touched(a: datetime, t: datetime, counting: Counting):
    """Everyone whose standing can differ between a and t (a < t): who bought or earned tier
    points in [a, t), and whose purchases or tier points left a window in that time."""
    e = _points
    active, year = timedelta(days=counting.active_days), timedelta(days=ABC_DAYS)
    bought = [_bought_between(since, until) for since, until in ((a, t), (a - active, t - active), (a - year, t - year))]
    window = loyalty.window_start(a, counting.loyalty), loyalty.window_start(t, counting.loyalty)
    earned = [select(e.customer_id).where(e.tier_at >= since, e.tier_at < until) for since, until in ((a, t), window)]
    return union(*bought, *earned).cte("touched")


def _bought_between(since: datetime, until: datetime):
    p = _purchase
    return select(p.customer_id).where(p.created_at >= since, p.created_at < until)


def _standing_of(who, x: datetime, counting: Counting):
    """For each customer in ``who``: a customer at x?, their revenue in the year before x, their
    tier points at x (index lookups on the customer's purchases and ledger; measured faster
    than joining and grouping their rows)."""
    p, e = _purchase, _points
    revenue = (select(func.coalesce(func.sum(p.amount_cents), 0))
               .where(p.customer_id == who.c.customer_id, p.created_at >= x - timedelta(days=ABC_DAYS),
                      p.created_at < x, p.reversed_at.is_(None)).scalar_subquery())
    tier_points = (select(func.coalesce(func.sum(e.amount), 0))
                   .where(e.customer_id == who.c.customer_id, e.tier_at >= loyalty.window_start(x, counting.loyalty),
                          e.tier_at < x).scalar_subquery())
    return _is_customer(who, x, counting), revenue, tier_points


def _is_customer(who, x: datetime, counting: Counting):
    p = _purchase
    return (select(p.id).where(p.customer_id == who.c.customer_id, p.reversed_at.is_(None),
                               p.created_at >= x - timedelta(days=counting.active_days), p.created_at < x)
            .exists())  # the id: from the index alone


def customers_from(session, standing_at: datetime, customers: int, t: datetime, counting: Counting) -> int:
    """How many were customers at t, from how many were at ``standing_at`` (before t): only
    who bought in between, or whose purchases left the window in that time, is looked up."""
    active = timedelta(days=counting.active_days)
    who = union(_bought_between(standing_at, t), _bought_between(standing_at - active, t - active)).cte("touched")
    came, went = (func.coalesce(func.sum(case((condition, 1), else_=0)), 0) for condition in (
        and_(_is_customer(who, t, counting), ~_is_customer(who, standing_at, counting)),
        and_(_is_customer(who, standing_at, counting), ~_is_customer(who, t, counting))))
    arrived, left = session.execute(select(came, went).select_from(who)).one()
    return customers + int(arrived) - int(left)


def advance(session, standing: Standing, t: datetime, counting: Counting) -> Standing:
    """The standing at t (after ``standing.at``), from ``standing`` and the customers touched
    in between."""
    if t <= standing.at:
        return standing
    who = _touched(standing.at, t, counting)
    rows = session.execute(select(*_standing_of(who, standing.at, counting), *_standing_of(who, t, counting))
                           .select_from(who))
    tiers, revenues = list(standing.tiers), Counter(standing.revenues)
    for was_active, revenue_then, points_then, is_active, revenue_now, points_now in rows:
        if was_active:
            tiers[counting.tier_of(points_then)] -= 1
        if is_active:
            tiers[counting.tier_of(points_now)] += 1
        if revenue_then > 0:
            revenues[int(revenue_then)] -= 1
        if revenue_now > 0:
            revenues[int(revenue_now)] += 1
    e = _points
    moved = session.execute(select(func.coalesce(func.sum(e.amount), 0))
                            .where(e.created_at >= standing.at, e.created_at < t)).scalar_one()
    return Standing(at=t, tiers=tuple(tiers), points_outstanding=standing.points_outstanding + int(moved),
                    revenues={revenue: count for revenue, count in revenues.items() if count})


# --- the kept days ------------------------------------------------------------------------------

def marks(session) -> tuple[int, int]:
    """The newest purchase and points entry."""
    return (session.execute(select(func.coalesce(func.max(_purchase.id), 0))).scalar_one(),
            session.execute(select(func.coalesce(func.max(_points.id), 0))).scalar_one())


def changed_since(session, purchase_mark: int, points_mark: int, before: datetime) -> bool:
    """Whether purchases or points dated before ``before`` were booked, imported or reversed
    after the marks were taken: a reversal books a ledger correction dated (``tier_at``) at
    the purchase. New ids are found by their id range (``Scanned`` keeps SQLite from walking
    the time index instead)."""
    p, e = _purchase, _points
    new_purchase = exists().where(p.id > purchase_mark, sql.Scanned(p.created_at) < before)
    new_points = exists().where(e.id > points_mark,
                                (sql.Scanned(e.created_at) < before) | (sql.Scanned(e.tier_at) < before))
    return session.execute(select(new_purchase | new_points)).scalar_one()


def _earliest_change(session, purchase_mark: int, points_mark: int) -> datetime | None:
    """The earliest moment a purchase or points entry after the marks is dated at."""
    p, e = _purchase, _points
    dates = [session.execute(select(func.min(sql.Scanned(p.created_at))).where(p.id > purchase_mark)).scalar_one(),
             session.execute(select(func.min(sql.Scanned(e.created_at))).where(e.id > points_mark)).scalar_one(),
             session.execute(select(func.min(sql.Scanned(e.tier_at))).where(e.id > points_mark)).scalar_one()]
    return min((moment for moment in dates if moment is not None), default=None)


def _standing_from(row: ReportDay) -> Standing:
    return Standing(at=row.at, tiers=tuple(json.loads(row.tiers)), points_outstanding=row.points_outstanding,
                    revenues={int(revenue): int(count) for revenue, count in json.loads(row.revenues)})


def _row(standing: Standing, key: str, marks: tuple[int, int], now: datetime) -> dict:
    return {"at": standing.at, "rules_key": key, "tiers": json.dumps(list(standing.tiers)),
            "points_outstanding": standing.points_outstanding,
            "revenues": json.dumps([[revenue, count] for revenue, count in sorted(standing.revenues.items())]),
            "purchase_mark": marks[0], "points_mark": marks[1], "computed_at": now}


def _kept_before(session, t: datetime, counting: Counting) -> ReportDay | None:
    """The kept midnight before t, if there is one within a week that still stands."""
    row = session.execute(select(ReportDay).where(ReportDay.at <= t, ReportDay.at > t - FURTHEST_STEP)
                          .order_by(ReportDay.at.desc()).limit(1)).scalars().first()
    if row is None or row.rules_key != counting.key or changed_since(session, row.purchase_mark, row.points_mark,
                                                                     row.at):
        return None
    return row


def standing_at(session, t: datetime, counting: Counting) -> Standing | None:
    """The standing at t from the kept midnight before it (None when none is kept within a
    week before t, or it no longer stands: then it has to be counted)."""
    row = _kept_before(session, t, counting)
    return None if row is None else advance(session, _standing_from(row), t, counting)


def customers_at_kept(session, t: datetime, counting: Counting) -> int | None:
    """How many were customers at t, from the kept midnight before it (None as for
    ``standing_at``): cheaper than the whole standing."""
    row = _kept_before(session, t, counting)
    return None if row is None else customers_from(session, row.at, sum(json.loads(row.tiers)), t, counting)


def midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(timezone.utc)


@dataclass(frozen=True)
class Keeping:
    """What one look at the kept days found to do (``look``), written by ``write``."""

    gone: tuple[datetime, ...]  # kept days that no longer stand
    standing: tuple[datetime, ...]  # kept days that stand up to ``marks``
    added: tuple[Standing, ...]  # newly counted days
    marks: tuple[int, int]
    key: str
    now: datetime


def look(session, counting: Counting, zone: ZoneInfo, now: datetime, days: int = DAYS_PER_CALL) -> Keeping:
    """The bot's job, reading: which kept days of the last ``KEEP_DAYS`` no longer stand, and up
    to ``days`` more midnights counted (the first from the purchases and the ledger, every later
    one from the day before). Reads only, so on SQLite bookings go on meanwhile; ``write``
    stores it in a short transaction."""
    today = now.astimezone(zone).date()
    wanted = [midnight(today - timedelta(days=n), zone) for n in range(KEEP_DAYS, -1, -1)]
    newest = marks(session)
    standing_rows, gone = _still_standing(session, counting, wanted[0])
    standing = _standing_from(session.get(ReportDay, standing_rows[-1])) if standing_rows else None
    added = []
    for moment in wanted:
        if len(added) == days or moment > now:
            break
        if standing is None:
            standing = counted(session, moment, counting)
        elif moment > standing.at:
            standing = advance(session, standing, moment, counting)
        else:
            continue
        added.append(standing)
    return Keeping(gone=tuple(gone), standing=tuple(standing_rows), added=tuple(added), marks=newest,
                   key=counting.key, now=now)


def write(session, keeping: Keeping) -> int:
    """Store what ``look`` found; returns how many days were added (call ``look`` again until 0).
    The days that stand are marked as standing up to the marks: the next look for changes
    starts there."""
    if keeping.gone:
        session.execute(delete(ReportDay).where(ReportDay.at.in_(keeping.gone)))
    if keeping.standing:
        outdated = (ReportDay.purchase_mark != keeping.marks[0]) | (ReportDay.points_mark != keeping.marks[1])
        session.execute(update(ReportDay).where(ReportDay.at.in_(keeping.standing), outdated)
                        .values(purchase_mark=keeping.marks[0], points_mark=keeping.marks[1]))
    for standing in keeping.added:
        sql.put(session, ReportDay.__table__, _row(standing, keeping.key, keeping.marks, keeping.now), key=["at"])
    return len(keeping.added)


def keep(session, counting: Counting, zone: ZoneInfo, now: datetime, days: int = DAYS_PER_CALL) -> int:
    """``look`` and ``write`` in one transaction (tests, benchmarks, PostgreSQL)."""
    return write(session, look(session, counting, zone, now, days))


def _still_standing(session, counting: Counting, oldest: datetime) -> tuple[list[datetime], list[datetime]]:
    """The kept days that still stand (oldest first) and those that do not: counted by other
    rules, older than wanted, or after a purchase or points entry booked since and dated
    before them."""
    rows = session.execute(select(ReportDay.at, ReportDay.rules_key, ReportDay.purchase_mark, ReportDay.points_mark)
                           .order_by(ReportDay.at)).all()
    gone = [row.at for row in rows if row.rules_key != counting.key or row.at < oldest]
    kept = [row for row in rows if row.at not in gone]
    if kept:
        changed = _earliest_change(session, min(row.purchase_mark for row in kept),
                                   min(row.points_mark for row in kept))
        gone += [row.at for row in kept if changed is not None and row.at > changed]
        kept = [row for row in kept if changed is None or row.at <= changed]
    return [row.at for row in kept], gone


def forget(session) -> None:
    """Purchases moved between customers (a merge of records): every kept day is wrong."""
    session.execute(delete(ReportDay))
