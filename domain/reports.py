"""The owner's key figures (``/bericht [Zeitraum]``): is the shop keeping its customers?

Definitions (the contract; README "Key figures" and ``/bericht hilfe`` say the same):

- A person **is a customer at time t** when they bought at least once in the
  ``reports.active_days`` days (default 365) before t. S = customers at the period's start,
  E = customers at its end, N = new customers (first purchase ever inside the period).
  Staff and owners are people like everyone else here: counted when they buy, never otherwise.
- **Kundenbindungsrate** = (E − N) / S × 100.
- **Wiederkaufrate**: of the customers who bought in the period, the share who bought at least
  twice in it. **Kauffrequenz**: purchases ÷ buying customers. **Durchschnittlicher Bon**:
  revenue ÷ purchases. Reversed purchases count nowhere (nor do their points).
- **ABC analysis** over the 12 months (365 days) before the period's end: customers ranked by
  their revenue in them; A = from the top, every customer while the revenue of those before them
  is below 80 % of the total, B likewise up to 95 %, C the rest.
- **NPS** of the period (domain.surveys), **tickets** opened in it (first answer in business
  minutes, deadlines missed, time to solved), **points** issued, redeemed, outstanding at the end,
  **rewards** handed over, **campaign** messages queued and delivered and coupons redeemed, and the
  customers at the end per loyalty tier (their tier then: for a past period from the ledger).

Every figure is computed for the period and for the period of the same length just before it.
At a million customers the costly figures (customers at the start and at the end per tier, the
ABC split, points outstanding) come from the shop's standing kept for every midnight of the last
``report_days.KEEP_DAYS`` days, advanced to the moment asked for (``report_days``); the
purchases and points of the period are read from their time indexes. Further back they are
counted from the purchases and the ledger, and a period that has ended is then cached
(``report_cache``) until purchases or points are booked, imported or reversed for it
(docs/benchmarks.md has the figures).
"""

from __future__ import annotations

import hashlib
import json
import re
import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import case, delete, func, select

from domain import ledger, opening_hours, purchases, report_days, surveys
from domain.config import LoyaltySection, ShopConfig
from domain.rules import business_hours, nps
from domain.rules.business_hours import BusinessHours
from storage import sql
from storage.models import Coupon, Customer, OutboxMessage, PointsEntry, Purchase, Redemption, ReportCache, Ticket

DEFAULT_DAYS = 30
ABC_DAYS = 365
A_SHARE, B_SHARE = Decimal("0.80"), Decimal("0.95")
MAX_RANGE_DAYS = 3660

_customer = Customer.__table__.c
_purchase = Purchase.__table__.c
_points = PointsEntry.__table__.c

# Ledger reasons that give points; a reversal's correction takes a purchase's points back.
_ISSUING = (ledger.PURCHASE, ledger.REFERRAL, ledger.GOODWILL, ledger.IMPORT, ledger.GIFT, ledger.CORRECTION)


# --- rules and periods -------------------------------------------------------------------------

@dataclass(frozen=True)
class Rules:
    active_days: int = 365
    timezone: str = "Europe/Berlin"
    loyalty: LoyaltySection = field(default_factory=LoyaltySection)
    hours: BusinessHours | None = None  # None: first answers counted in clock minutes
    first_response_minutes: int = 60


def rules_from(config: ShopConfig) -> Rules:
    return Rules(active_days=config.reports.active_days, timezone=config.shop.timezone, loyalty=config.loyalty,
                 hours=config.opening_hours(),
                 first_response_minutes=config.complaints.first_response_minutes)


_DATE = r"([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})"
_RANGE = re.compile(rf"^{_DATE}\s*(?:-|–|—|bis|to)\s*{_DATE}$")


def parse_period(text: str | None, now: datetime, tz: ZoneInfo | str) -> nps.Period:
    """What ``/bericht [Zeitraum]`` means: everything ``/nps`` accepts (default the last 30
    days) and date ranges ``01.01.2026-31.03.2026`` (both days included, shop time).
    ``nps.PeriodError`` for anything else; reasons beyond /nps's: period_date (no such day),
    period_order (the end before the start)."""
    match = _RANGE.match(" ".join((text or "").lower().split()))
    if match is None:
        return nps.parse_period(text, now, tz, default_days=DEFAULT_DAYS)
    zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
    first, last = _day(match.groups()[:3], text), _day(match.groups()[3:], text)
    if last < first or (last - first).days >= MAX_RANGE_DAYS:
        raise nps.PeriodError("period_order", text or "")
    start = _midnight(first, zone)
    if start > now:
        raise nps.PeriodError("period_future", text or "")
    return nps.Period(start, min(now, _midnight(last + timedelta(days=1), zone)), "days")


def _day(parts: tuple[str, ...], text: str | None) -> date:
    day, month, year = (int(part) for part in parts)
    try:
        return date(year, month, day)
    except ValueError:
        raise nps.PeriodError("period_date", text or "") from None


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(timezone.utc)


def previous(period: nps.Period) -> nps.Period:
    """The period of the same length just before."""
    return nps.Period(period.start - (period.end - period.start), period.start, period.kind)


# --- the figures -------------------------------------------------------------------------------

def _ratio(part: int | Decimal, whole: int, places: str = "0.1") -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(Decimal(places), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class AbcClass:
    customers: int = 0
    revenue_cents: int = 0


@dataclass(frozen=True)
class Abc:
    a: AbcClass = AbcClass()
    b: AbcClass = AbcClass()
    c: AbcClass = AbcClass()

    @property
    def customers(self) -> int:
        return self.a.customers + self.b.customers + self.c.customers

    @property
    def revenue_cents(self) -> int:
        return self.a.revenue_cents + self.b.revenue_cents + self.c.revenue_cents

    def customer_share(self, cls: AbcClass) -> Decimal | None:
        return _ratio(100 * cls.customers, self.customers)

    def revenue_share(self, cls: AbcClass) -> Decimal | None:
        return _ratio(100 * cls.revenue_cents, self.revenue_cents)


@dataclass(frozen=True)
class Figures:
    """One period's figures; the derived ones are None where they would divide by zero."""

    period: nps.Period
    customers_start: int  # S
    customers_end: int  # E
    new_customers: int  # N
    buyers: int
    repeat_buyers: int
    purchases: int
    revenue_cents: int
    abc: Abc
    nps: surveys.Report
    tickets: int
    first_answer_minutes: Decimal | None  # median, business minutes
    deadlines_missed: int
    solved_hours: Decimal | None  # median, clock hours
    points_issued: int
    points_redeemed: int
    points_outstanding: int
    rewards_redeemed: int
    campaign_sent: int
    campaign_reached: int
    coupons_redeemed: int
    tiers: tuple[tuple[str, int], ...]  # customers at the end per tier (their tier then)

    @property
    def retention_rate(self) -> Decimal | None:
        """(E − N) / S × 100, in percent with one decimal."""
        return _ratio(100 * (self.customers_end - self.new_customers), self.customers_start)

    @property
    def repeat_rate(self) -> Decimal | None:
        return _ratio(100 * self.repeat_buyers, self.buyers)

    @property
    def frequency(self) -> Decimal | None:
        return _ratio(self.purchases, self.buyers, "0.01")

    @property
    def average_cents(self) -> Decimal | None:
        return _ratio(self.revenue_cents, self.purchases, "1")


@dataclass(frozen=True)
class Report:
    current: Figures
    previous: Figures
    # the costly figures of ended periods counted for this report, for ``remember`` to cache
    counted: tuple[dict, ...] = ()


def build(session, period: nps.Period, rules: Rules, now: datetime) -> Report:
    """The figures of ``period`` and of the period of the same length before it (reads only;
    ``remember`` then caches what was counted, in a transaction of its own). The bot counts the
    two side by side instead (``count``, ``report_of``)."""
    counted: list[dict] | None = [] if cached_for(period, now) else None
    before = figures(session, previous(period), rules, now, counted=counted)
    return Report(current=figures(session, period, rules, now, before=before, counted=counted), previous=before,
                  counted=tuple(counted or ()))


def cached_for(period: nps.Period, now: datetime) -> bool:
    """Whether a report about ``period`` caches what it counts: a period that has ended, and the
    one before it, will be the same when asked for again. The period before one that ends now
    moves with the clock ("the last 30 days"): not cached."""
    return period.end < now


@dataclass(frozen=True)
class Counted:
    """One period's figures counted on their own, and the cache rows ``remember`` keeps."""

    figures: Figures
    rows: tuple[dict, ...] = ()


def count(session, period: nps.Period, rules: Rules, now: datetime, cache: bool) -> Counted:
    """One period's figures without the period before it: for counting a report's two periods
    side by side, each in a read of its own (the customers at the start are then looked up
    from the kept midnight instead of being taken from the period before)."""
    counted: list[dict] | None = [] if cache else None
    return Counted(figures(session, period, rules, now, counted=counted), tuple(counted or ()))


def report_of(current: Counted, before: Counted) -> Report:
    return Report(current=current.figures, previous=before.figures, counted=current.rows + before.rows)


def figures(session, period: nps.Period, rules: Rules, now: datetime, before: Figures | None = None,
            counted: list[dict] | None = None) -> Figures:
    """One period's figures. ``before``, the figures of the period that ends where this one
    starts, gives the customers and the points outstanding at the start without counting them
    again. With ``counted``, the costly figures of a period that has ended come from the cache
    when nothing changed for it since; when they had to be counted, a cache row for them is
    added to ``counted``."""
    start, end = period.start, period.end
    costly = (_costly(session, period, rules, now, before) if end >= now or counted is None
              else _cached(session, period, rules, now, before, counted))
    tickets = _ticket_figures(session, start, end, rules)
    sent, reached, coupons = _campaign_figures(session, start, end)
    return Figures(
        period=period, customers_start=costly.customers_start,
        customers_end=sum(count for _, count in costly.tiers), new_customers=_new_customers(session, start, end),
        buyers=costly.buyers, repeat_buyers=costly.repeat_buyers, purchases=costly.purchases,
        revenue_cents=costly.revenue_cents, abc=costly.abc, nps=surveys.report(session, period, rules.timezone),
        tickets=tickets[0], first_answer_minutes=tickets[1], deadlines_missed=tickets[2], solved_hours=tickets[3],
        points_issued=costly.points_issued, points_redeemed=costly.points_redeemed,
        points_outstanding=costly.points_outstanding, rewards_redeemed=_rewards_redeemed(session, start, end),
        campaign_sent=sent, campaign_reached=reached, coupons_redeemed=coupons, tiers=costly.tiers)


@dataclass(frozen=True)
class _Costly:
    """The figures that read the purchases and the ledger of a million customers."""

    customers_start: int
    tiers: tuple[tuple[str, int], ...]
    buyers: int
    repeat_buyers: int
    purchases: int
    revenue_cents: int
    abc: Abc
    points_issued: int
    points_redeemed: int
    points_outstanding: int

    def to_json(self) -> str:
        values = {name: getattr(self, name) for name in self.__dataclass_fields__}
        values["abc"] = [[cls.customers, cls.revenue_cents] for cls in (self.abc.a, self.abc.b, self.abc.c)]
        return json.dumps(values)

    @classmethod
    def from_json(cls, text: str) -> _Costly:
        values = json.loads(text)
        values["tiers"] = tuple((name, count) for name, count in values["tiers"])
        values["abc"] = Abc(*(AbcClass(customers, revenue) for customers, revenue in values["abc"]))
        return cls(**values)


def _costly(session, period: nps.Period, rules: Rules, now: datetime, before: Figures | None) -> _Costly:
    start, end = period.start, period.end
    counting = counting_of(rules)
    buyers, repeat_buyers, purchases, revenue = _purchase_figures(session, start, end)
    issued, redeemed, moved = _points_moved(session, start, end)
    at_end = report_days.standing_at(session, end, counting)
    if at_end is not None:  # from the kept midnight before the end
        kept_start = None if before else report_days.customers_at_kept(session, start, counting)
        customers_start = (before.customers_end if before else kept_start if kept_start is not None
                           else report_days.customers_at(session, start, rules.active_days))
        return _Costly(customers_start=customers_start, tiers=_named(at_end.tiers, rules), buyers=buyers,
                       repeat_buyers=repeat_buyers, purchases=purchases, revenue_cents=revenue,
                       abc=split_abc(at_end.revenue_groups()), points_issued=issued, points_redeemed=redeemed,
                       points_outstanding=at_end.points_outstanding)
    customers_start = before.customers_end if before else report_days.customers_at(session, start, rules.active_days)
    outstanding_before = before.points_outstanding if before else report_days.points_before(session, start)
    return _Costly(customers_start=customers_start, tiers=customers_per_tier(session, end, rules, now),
                   buyers=buyers, repeat_buyers=repeat_buyers, purchases=purchases, revenue_cents=revenue,
                   abc=abc(session, end, now), points_issued=issued, points_redeemed=redeemed,
                   points_outstanding=outstanding_before + moved)


def counting_of(rules: Rules) -> report_days.Counting:
    return report_days.Counting(active_days=rules.active_days, loyalty=rules.loyalty)


def _named(tiers: tuple[int, ...], rules: Rules) -> tuple[tuple[str, int], ...]:
    return tuple((tier.name, count) for tier, count in zip(rules.loyalty.tiers, tiers))


# --- the cache of past periods -------------------------------------------------------------------

CACHE_DAYS = 90  # how long counted figures of a past period are kept (then counted again when asked)


def _cache_key(period: nps.Period, rules: Rules) -> str:
    """The period and every rule its costly figures depend on."""
    tiers = ";".join(f"{tier.name}={tier.threshold}" for tier in rules.loyalty.tiers)
    described = (f"{period.start.isoformat()}|{period.end.isoformat()}|{rules.active_days}|"
                 f"{rules.loyalty.tier_window_months}|{tiers}")
    return "v1:" + hashlib.sha256(described.encode()).hexdigest()


def _changed_for(session, cached: ReportCache, end: datetime) -> bool:
    """Whether purchases or points before ``end`` were booked, imported or reversed since the
    figures were cached."""
    return report_days.changed_since(session, cached.purchase_mark, cached.points_mark, end)


def _cached(session, period: nps.Period, rules: Rules, now: datetime, before: Figures | None,
            counted: list[dict]) -> _Costly:
    key = _cache_key(period, rules)
    cached = session.get(ReportCache, key)
    if cached is not None and not _changed_for(session, cached, period.end):
        return _Costly.from_json(cached.figures)
    purchase_mark, points_mark = report_days.marks(session)  # before counting: later changes show
    costly = _costly(session, period, rules, now, before)
    counted.append({"key": key, "figures": costly.to_json(), "purchase_mark": purchase_mark,
                    "points_mark": points_mark, "computed_at": now})
    return costly


def remember(session, report: Report) -> None:
    """Cache the costly figures the report had to count (a short write of its own: the report
    itself reads without SQLite's write lock, which bookings need meanwhile). Figures counted
    more than ``CACHE_DAYS`` ago go: periods nobody asked about for months are not kept forever."""
    for row in report.counted:
        sql.put(session, ReportCache.__table__, row, key=["key"])
    if report.counted:
        oldest = max(row["computed_at"] for row in report.counted) - timedelta(days=CACHE_DAYS)
        session.execute(delete(ReportCache).where(ReportCache.computed_at < oldest))


def forget_cached(session) -> None:
    """Clear the cache of past periods and the kept days: purchases moved between customers (a
    merge of records), which changes past figures without new or reversed purchases."""
    session.execute(delete(ReportCache))
    report_days.forget(session)


# --- customers at a time ----------------------------------------------------------------------

def customers_per_tier(session, t: datetime, rules: Rules, now: datetime) -> tuple[tuple[str, int], ...]:
    """The customers at t by their loyalty tier at t, counted: for a period ending now as the
    segment stufe:<Name> counts it (the kept tier points); for a moment in the past from the
    ledger."""
    counting = counting_of(rules)
    earned = ledger.tier_points_at(session, rules.loyalty, t, now) if t >= now and len(rules.loyalty.tiers) > 1 else None
    return _named(report_days.customers_per_tier(session, t, counting, earned), rules)


def _new_customers(session, start: datetime, end: datetime) -> int:
    c = _customer
    return session.execute(select(func.count()).where(c.first_purchase_at >= start, c.first_purchase_at < end)
                           ).scalar_one()


# --- purchases ---------------------------------------------------------------------------------

def _purchase_figures(session, start: datetime, end: datetime) -> tuple[int, int, int, int]:
    each = report_days.per_customer(start, end)
    buyers, repeat, purchases, revenue = session.execute(
        select(func.count(), func.count(case((each.c.n >= 2, 1))), func.coalesce(func.sum(each.c.n), 0),
               func.coalesce(func.sum(each.c.revenue), 0))).one()
    return int(buyers), int(repeat), int(purchases), int(revenue)


def abc(session, end: datetime, now: datetime) -> Abc:
    """The ABC split of the 365 days before ``end``, counted: for a period that ends now from the
    revenues kept on the customer rows (an index), else summed from the purchases."""
    if end < now:
        return split_abc(sorted(report_days.revenue_groups_before(session, end).items(), reverse=True))
    revenue = purchases.year_revenue_column(session, end)
    query = select(revenue, func.count()).where(revenue > 0).group_by(revenue).order_by(revenue.desc())
    return split_abc([(int(revenue), int(count)) for revenue, count in session.execute(query).all()])


def split_abc(groups: list[tuple[int, int]]) -> Abc:
    """Customers by revenue, highest first (revenue, how many have it): A while the revenue of
    those before a customer is below 80 % of the total, B below 95 %, C the rest. Customers with
    the same revenue are split one by one (they are ranked, even if arbitrarily). Whole numbers
    in hundredths of a cent throughout: exact, and fast for the tens of thousands of groups of a
    large shop."""
    total = sum(revenue * count for revenue, count in groups)
    classes = [[0, 0], [0, 0], [0, 0]]
    limits = (total * int(A_SHARE * 100), total * int(B_SHARE * 100))
    before = 0
    for revenue, count in groups:
        while count:
            scaled = before * 100
            which = 0 if scaled < limits[0] else 1 if scaled < limits[1] else 2
            # how many of this group still belong to that class: until the sum reaches its limit
            room = count if which == 2 else max(1, -(-(limits[which] - scaled) // (revenue * 100)))
            taken = min(count, room)
            classes[which][0] += taken
            classes[which][1] += taken * revenue
            before += taken * revenue
            count -= taken
    return Abc(*(AbcClass(customers, revenue) for customers, revenue in classes))


# --- tickets, points, campaigns -----------------------------------------------------------------

def _median(values: list) -> Decimal | None:
    return Decimal(str(statistics.median(values))).quantize(Decimal("0.1"), ROUND_HALF_UP) if values else None


def _ticket_figures(session, start: datetime, end: datetime, rules: Rules
                    ) -> tuple[int, Decimal | None, int, Decimal | None]:
    """Tickets opened in the period (few, read one by one): count, median business minutes to
    the first answer, deadlines missed (answered after the deadline, or not answered by the
    period's end although it passed), median clock hours to solved."""
    rows = session.execute(select(Ticket.created_at, Ticket.first_response_at, Ticket.resolved_at)
                           .where(Ticket.created_at >= start, Ticket.created_at < end)).all()
    answered, missed, solved = [], 0, []
    hours = opening_hours.with_closures(session, rules.hours) if rules.hours and rows else rules.hours
    for created, answered_at, resolved_at in rows:
        deadline = (business_hours.add_business_minutes(created, rules.first_response_minutes, hours)
                    if hours else created + timedelta(minutes=rules.first_response_minutes))
        if answered_at is not None:
            answered.append(business_hours.business_minutes_between(created, answered_at, hours)
                            if hours else (answered_at - created) // timedelta(minutes=1))
        if (answered_at or end) > deadline:
            missed += 1
        if resolved_at is not None:
            solved.append((resolved_at - created) / timedelta(hours=1))
    return len(rows), _median(answered), missed, _median(solved)


def _points_moved(session, start: datetime, end: datetime) -> tuple[int, int, int]:
    """Points issued and redeemed in the period, and the sum of all its entries."""
    e = _points
    issued = func.sum(case((e.reason.in_(_ISSUING), e.amount), else_=0))
    redeemed = func.sum(case((e.reason == ledger.REWARD, -e.amount), else_=0))
    row = session.execute(select(func.coalesce(issued, 0), func.coalesce(redeemed, 0), func.coalesce(func.sum(e.amount), 0))
                          .where(e.created_at >= start, e.created_at < end)).one()
    return int(row[0]), int(row[1]), int(row[2])


def _rewards_redeemed(session, start: datetime, end: datetime) -> int:
    return session.execute(select(func.count()).where(Redemption.used_at >= start, Redemption.used_at < end)
                           ).scalar_one()


def _campaign_figures(session, start: datetime, end: datetime) -> tuple[int, int, int]:
    """Campaign messages queued in the period, those delivered, and campaign coupons redeemed."""
    o = OutboxMessage.__table__.c
    sent, reached = session.execute(
        select(func.count(), func.count(case((o.status == "sent", 1))))
        .where(o.campaign_id.is_not(None), o.created_at >= start, o.created_at < end)).one()
    coupons = session.execute(select(func.count()).where(Coupon.campaign_id.is_not(None), Coupon.redeemed_at >= start,
                                                         Coupon.redeemed_at < end)).scalar_one()
    return int(sent), int(reached), int(coupons)
