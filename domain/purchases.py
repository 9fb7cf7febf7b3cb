"""Booking purchases and reversing them; the customer hears about both through the outbox.

A purchase is booked once per idempotency key (the staff member's Telegram message, the
receipt token, the import row): a redelivered update or a second scan returns the first
booking instead of crediting again.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import and_, bindparam, case, delete, func, or_, update
from sqlmodel import Session, select

from domain import customers, ledger, outbox, referrals
from domain.rules import loyalty, topics
from domain.config import LoyaltySection
from domain.outbox import MessageSpec
from storage import sql
from storage.models import Customer, PointsEntry, Purchase, RevenueGroup
from domain.rules.errors import Refusal

COUNTER, RECEIPT, IMPORT = "counter", "receipt", "import"


@dataclass(frozen=True)
class Booking:
    purchase: Purchase
    customer: Customer
    points: int
    balance: int
    tier: ledger.TierStatus
    upgraded: bool
    duplicate: bool  # this key was booked before; nothing changed now


def cents(amount: Decimal) -> int:
    return int((Decimal(amount) * 100).to_integral_value())


def book_purchase(
    session: Session, customer_id: int, amount: Decimal, rules: LoyaltySection, now: datetime, key: str,
    source: str, category: str | None = None, booked_by: int | None = None,
) -> Booking:
    """Credit the points for one purchase, once per key, and queue the customer's messages."""
    if not 0 < Decimal(amount) <= rules.max_purchase_amount:
        raise ValueError(f"purchase amount out of range: {amount}")  # the bot validates input first
    version = ledger.lock(session, customer_id)
    customer = session.get(Customer, customer_id)
    existing = session.exec(select(Purchase).where(Purchase.idempotency_key == key)).first()
    if existing is not None:
        return _booking(session, existing, customer, ledger.tier_status(session, customer_id, rules, now),
                        points=_points_of(session, existing), upgraded=False, duplicate=True)
    ledger.settle_expiry(session, customer_id, version, now)
    before = ledger.tier_status(session, customer_id, rules, now)
    points = loyalty.points_for_purchase(amount, rules, before.tier)
    purchase = Purchase(idempotency_key=key, customer_id=customer_id, amount_cents=cents(amount),
                        category=category, source=source, booked_by=booked_by, created_at=now)
    session.add(purchase)
    session.flush()
    ledger.add_entry(session, customer_id, points, ledger.PURCHASE, f"purchase:{purchase.id}", now,
                     purchase_id=purchase.id, tier_at=now, expires_at=loyalty.expiry_of(now, rules))
    referrals.credit_first_purchase(session, customer, rules, now)  # may lock the referrer
    refresh_stats(session, [customer_id])  # after every customer lock: see _move_revenue_groups
    for loaded in (purchase, customer):  # the booking outlives the session: load them again now
        session.refresh(loaded)
    after = ledger.tier_status(session, customer_id, rules, now)
    booking = _booking(session, purchase, customer, after, points=points,
                       upgraded=after.tier.threshold > before.tier.threshold, duplicate=False)
    _notify_booking(session, booking, now)
    return booking


STATS_CHUNK = 500  # customer ids per UPDATE, far below the databases' parameter limits


def refresh_stats(session: Session, customer_ids: Iterable[int]) -> None:
    """Recount the purchase figures kept on the customer rows (count, revenue, first and last
    purchase, the categories bought from; reversals excluded) from the purchases themselves,
    and move the customers between the revenue groups. Called after every change of a
    customer's purchases, so segments and milestones can read one row per customer."""
    session.flush()  # the purchases just added or reversed take part in the count
    ids = sorted(set(customer_ids))
    valid = (Purchase.customer_id == Customer.id, Purchase.reversed_at.is_(None))

    def of_purchases(aggregate):
        return select(aggregate).where(*valid).scalar_subquery()

    moves: defaultdict[int, int] = defaultdict(int)  # revenue -> customers gained (or lost)
    for start in range(0, len(ids), STATS_CHUNK):
        chunk = ids[start:start + STATS_CHUNK]
        before = _revenues_locked(session, chunk)
        recounted = session.execute(update(Customer).where(Customer.id.in_(chunk)).values(
            purchase_count=of_purchases(func.count(Purchase.id)),
            revenue_cents=of_purchases(func.coalesce(func.sum(Purchase.amount_cents), 0)),
            first_purchase_at=of_purchases(func.min(Purchase.created_at)),
            last_purchase_at=of_purchases(func.max(Purchase.created_at)),
        ).returning(Customer.id, Customer.revenue_cents, Customer.last_purchase_at)
            .execution_options(synchronize_session=False)).all()
        for customer_id, revenue, _ in recounted:
            moves[before[customer_id]] -= 1
            moves[revenue] += 1
        # a year before the chunk's earliest last purchase is no later than a year before any
        # later moment: the kept year revenue is right for as long as its oldest purchase counts
        last = [at for _, _, at in recounted if at is not None]
        _count_year_revenue(session, chunk, min(last) - YEAR if last else None)
        _refresh_category_keys(session, chunk)
    _move_revenue_groups(session, moves)
    session.expire_all()  # loaded customers show the new figures


YEAR = timedelta(days=365)  # the report's ABC analysis ranks the customers by this year's revenue
YEAR_REFRESH_BATCH = 2000  # customers whose kept year revenue is counted again per transaction


def _count_year_revenue(session: Session, customer_ids: list[int], since: datetime | None) -> None:
    """The kept year revenue of these customers counted from ``since`` (0 when None)."""
    counted: dict[int, tuple[int, datetime]] = {}
    if since is not None:
        counted = {customer_id: (revenue, oldest) for customer_id, revenue, oldest in session.execute(
            select(Purchase.customer_id, func.sum(Purchase.amount_cents), func.min(Purchase.created_at))
            .where(Purchase.customer_id.in_(customer_ids), Purchase.reversed_at.is_(None), Purchase.created_at >= since)
            .group_by(Purchase.customer_id))}
    table = Customer.__table__
    session.execute(update(table).where(table.c.id == bindparam("customer"))
                    .values(year_revenue_cents=bindparam("revenue"), year_revenue_oldest=bindparam("oldest")),
                    [{"customer": customer_id, "revenue": counted.get(customer_id, (0,))[0],
                      "oldest": _seconds(counted[customer_id][1]) if customer_id in counted else None}
                     for customer_id in customer_ids])


def _seconds(moment: datetime) -> int:
    """A moment as the kept year revenue's oldest purchase is written: seconds, rounded down."""
    return math.floor(moment.timestamp())


def _year_start(t: datetime) -> int:
    """The start of the year before t in those seconds, rounded up: an oldest purchase at or
    after it is in the year (rounding it down could only call a row stale that is not)."""
    return math.ceil((t - YEAR).timestamp())


def _year_revenue_stale(t: datetime):
    return Customer.year_revenue_oldest < _year_start(t)


def _year_revenue_fits(t: datetime):
    """The kept year revenue is the revenue of the year before t: no counted purchase has left
    that year, and none is at t or later (a purchase at the very moment t is not before it)."""
    return and_(or_(Customer.year_revenue_oldest.is_(None), ~_year_revenue_stale(t)),
                or_(Customer.last_purchase_at.is_(None), Customer.last_purchase_at < t))


def year_revenue_all_fresh(session: Session, t: datetime) -> bool:
    """Whether every kept year revenue is the revenue of the year before ``t`` (two index look-ups)."""
    oldest, latest = session.execute(select(func.min(Customer.year_revenue_oldest),
                                            func.max(Customer.last_purchase_at))).one()
    return (oldest is None or oldest >= _year_start(t)) and (latest is None or latest < t)


def year_revenue_column(session: Session, t: datetime):
    """Every customer's revenue in the year before ``t`` as SQL on the customer row: the kept
    figure, and for the rows where it does not fit (a counted purchase has left the year, or
    one was made at t or later), the sum of their purchases."""
    if year_revenue_all_fresh(session, t):
        return Customer.year_revenue_cents
    window = select(func.coalesce(func.sum(Purchase.amount_cents), 0)).where(
        Purchase.customer_id == Customer.id, Purchase.reversed_at.is_(None),
        Purchase.created_at >= t - YEAR, Purchase.created_at < t).scalar_subquery()
    return case((_year_revenue_fits(t), Customer.year_revenue_cents), else_=window)


def refresh_year_revenue(session: Session, now: datetime, batch: int = YEAR_REFRESH_BATCH) -> int:
    """Count the year revenue again for up to ``batch`` customers whose oldest counted purchase
    has left the year; returns how many (call again until 0, one transaction per batch)."""
    ids = session.exec(select(Customer.id).where(_year_revenue_stale(now)).order_by(Customer.id).limit(batch)
                       .with_for_update(skip_locked=True)).all()
    if ids:
        _count_year_revenue(session, list(ids), now - YEAR)
    return len(ids)


def _revenues_locked(session: Session, customer_ids: list[int]) -> dict[int, int]:
    """The revenues before the recount; on PostgreSQL the rows stay locked until it is done."""
    return dict(session.execute(select(Customer.id, Customer.revenue_cents).where(Customer.id.in_(customer_ids))
                                .order_by(Customer.id).with_for_update()).all())


def _move_revenue_groups(session: Session, moves: dict[int, int]) -> None:
    """Add the customers gained or lost to each revenue group. The groups are shared by all
    customers, so on PostgreSQL their row locks come last in a transaction: in ascending order
    (two transactions never wait for each other's groups the other way round), and after the
    customers' own locks (nobody holds a group while waiting for a customer)."""
    changes = sorted((revenue, gained) for revenue, gained in moves.items() if revenue > 0 and gained)
    if not changes:
        return
    groups = RevenueGroup.__table__
    sql.add_to_counts(session, groups, "revenue_cents", "customers", changes)
    emptied = [revenue for revenue, gained in changes if gained < 0]
    for start in range(0, len(emptied), STATS_CHUNK):
        session.execute(delete(groups).where(groups.c.revenue_cents.in_(emptied[start:start + STATS_CHUNK]),
                                             groups.c.customers <= 0))


def category_key(name: str) -> str:
    """A category as the segment kategorie:<Name> compares it: any case, umlauts or ae/oe/ue,
    and spacing; "|" (which frames the keys on the customer row) becomes a space."""
    return " ".join(topics.fold(name).replace("|", " ").split())


def category_keys(names: Iterable[str]) -> str:
    """The value of ``customer.category_keys`` for the categories bought: "|kaffee|kuchen|"."""
    keys = sorted({category_key(name) for name in names} - {""})
    return "".join(f"|{key}" for key in keys) + "|" if keys else ""


def _refresh_category_keys(session: Session, customer_ids: list[int]) -> None:
    bought: dict[int, list[str]] = {customer_id: [] for customer_id in customer_ids}
    for customer_id, category in session.execute(
            select(Purchase.customer_id, Purchase.category).distinct()
            .where(Purchase.customer_id.in_(customer_ids), Purchase.category.is_not(None),
                   Purchase.reversed_at.is_(None))):
        bought[customer_id].append(category)
    table = Customer.__table__
    session.execute(update(table).where(table.c.id == bindparam("customer")).values(category_keys=bindparam("keys")),
                    [{"customer": customer_id, "keys": category_keys(names)} for customer_id, names in bought.items()])


def _points_of(session: Session, purchase: Purchase) -> int:
    return session.exec(
        select(PointsEntry.amount).where(PointsEntry.idempotency_key == f"purchase:{purchase.id}")
    ).first() or 0


def _booking(session, purchase, customer, tier: ledger.TierStatus, *, points, upgraded, duplicate) -> Booking:
    return Booking(purchase=purchase, customer=customer, points=points, balance=ledger.balance(session, customer.id),
                   tier=tier, upgraded=upgraded, duplicate=duplicate)


def _notify_booking(session: Session, booking: Booking, now: datetime) -> None:
    account = customers.chat_of(session, booking.customer.id)
    if account is None:  # imported customers without Telegram, or unreachable ones
        return
    params = {"points": booking.points, "amount": outbox.money_param(booking.purchase.amount_cents),
              "balance": booking.balance, "tier": booking.tier.tier.name_param()}
    if booking.tier.next_tier is not None:
        template = "loyalty.credited"
        params |= {"missing": booking.tier.missing_for_next, "next_tier": booking.tier.next_tier.name_param()}
    else:
        template = "loyalty.credited_top_tier"
    key = f"purchase:{booking.purchase.id}"
    outbox.enqueue(session, f"{key}:credited", account.chat_id, MessageSpec(template, params),
                   outbox.SERVICE, now, customer_id=booking.customer.id)
    if booking.upgraded:
        outbox.enqueue(session, f"{key}:upgrade", account.chat_id,
                       MessageSpec("loyalty.tier_upgrade", {"tier": booking.tier.tier.name_param(),
                                                            "multiplier": float(booking.tier.tier.multiplier)}),
                       outbox.SERVICE, now, customer_id=booking.customer.id)


class ReversalError(Refusal):
    """``reason``: unknown_purchase, already_reversed."""


@dataclass(frozen=True)
class Reversal:
    purchase: Purchase
    customer: Customer
    points: int
    balance: int


def reverse_purchase(session: Session, purchase_id: int, reason: str, now: datetime,
                     rules: LoyaltySection, tell_customer: bool = True,
                     customer_template: str = "loyalty.reversed") -> Reversal:
    """/storno: take back the points of a purchase (a correction entry; nothing is deleted).

    The balance may go below zero when the points were already spent: that is the truth
    about the account, and the next purchases make up for it.
    """
    purchase = session.get(Purchase, purchase_id)
    if purchase is None:
        raise ReversalError("unknown_purchase")
    version = ledger.lock(session, purchase.customer_id)
    session.refresh(purchase)
    if purchase.reversed_at is not None:
        raise ReversalError("already_reversed")
    ledger.settle_expiry(session, purchase.customer_id, version, now)
    points = _points_of(session, purchase)
    ledger.add_entry(session, purchase.customer_id, -points, ledger.CORRECTION, f"storno:{purchase.id}", now,
                     purchase_id=purchase.id, tier_at=purchase.created_at, note=reason[:200])
    purchase.reversed_at, purchase.reversal_reason = now, reason[:200]
    session.add(purchase)
    session.flush()
    refresh_stats(session, [purchase.customer_id])
    customer = session.get(Customer, purchase.customer_id)
    result = Reversal(purchase, customer, points, ledger.balance(session, customer.id))
    account = customers.chat_of(session, customer.id) if tell_customer else None
    if account is not None:
        outbox.enqueue(session, f"storno:{purchase.id}", account.chat_id, MessageSpec(customer_template, {
            "amount": outbox.money_param(purchase.amount_cents), "date": outbox.date_param(purchase.created_at.date()),
            "points": points, "balance": result.balance, "reason": reason[:200],
        }), outbox.SERVICE, now, customer_id=customer.id)
    return result


@dataclass(frozen=True)
class PurchaseView:
    id: int
    created_at: datetime
    amount_cents: int
    category: str | None
    reversed: bool


def last_purchases(session: Session, customer_id: int, limit: int = 5) -> list[PurchaseView]:
    rows = session.exec(select(Purchase).where(Purchase.customer_id == customer_id)
                        .order_by(Purchase.created_at.desc(), Purchase.id.desc()).limit(limit)).all()
    return [PurchaseView(p.id, p.created_at, p.amount_cents, p.category, p.reversed_at is not None) for p in rows]
