"""A customer's points account: the append-only ledger, balance, tier and history.

Every change of a customer's points runs inside ``locked(...)``: it first bumps
``customer.points_version`` with an UPDATE, which takes the row lock on PostgreSQL and the
write lock on SQLite. Two redemptions of the same points, or a purchase booked twice at
once, therefore run one after the other, and the second sees the first's entries.
Queries touch one customer's entries only (index ``customer_id, id``), never the ledger of
all customers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, exists, func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from domain.rules import loyalty
from domain.config import LoyaltySection, TierConfig
from storage.models import Customer, PointsEntry

PURCHASE, REWARD, REFERRAL, GOODWILL, EXPIRY, CORRECTION, IMPORT, GIFT = (
    "purchase", "reward", "referral", "goodwill", "expiry", "correction", "import", "gift")
# GIFT: a milestone's points (birthday, anniversary of the first purchase).
REASONS = (PURCHASE, REWARD, REFERRAL, GOODWILL, EXPIRY, CORRECTION, IMPORT, GIFT)


class UnknownCustomer(LookupError):
    pass


def lock(session: Session, customer_id: int) -> int:
    """Serialize all point changes of one customer; returns the new points version."""
    result = session.execute(
        update(Customer).where(Customer.id == customer_id)
        .values(points_version=Customer.points_version + 1, tier_points_since=None)  # see tier_points_column
        .returning(Customer.points_version)
    ).first()
    if result is None:
        raise UnknownCustomer(customer_id)
    return result[0]


LOCK_BATCH = 500


def lock_many(session: Session, customer_ids: Iterable[int]) -> None:
    """``lock`` for many customers (imports, merges), a batch per statement. Rows are locked
    in id order everywhere, so two transactions locking overlapping sets cannot deadlock."""
    ordered = sorted(set(customer_ids))
    for start in range(0, len(ordered), LOCK_BATCH):
        chunk = ordered[start:start + LOCK_BATCH]
        # The id range keeps each batch an index range scan.
        in_chunk = (Customer.id.between(chunk[0], chunk[-1]), Customer.id.in_(chunk))
        session.exec(select(Customer.id).where(*in_chunk).order_by(Customer.id).with_for_update()).all()
        session.execute(update(Customer).where(*in_chunk).values(points_version=Customer.points_version + 1,
                                                                 tier_points_since=None))


def entry_exists(session: Session, key: str) -> bool:
    return session.exec(select(PointsEntry.id).where(PointsEntry.idempotency_key == key)).first() is not None


def add_entry(session: Session, customer_id: int, amount: int, reason: str, key: str, now: datetime,
              **fields) -> PointsEntry | None:
    """Append one entry, once per idempotency key; None when the key was already booked."""
    if reason not in REASONS:
        raise ValueError(f"unknown ledger reason {reason!r}")
    if entry_exists(session, key):
        return None
    entry = PointsEntry(idempotency_key=key, customer_id=customer_id, amount=amount, reason=reason,
                        created_at=now, **fields)
    try:
        with session.begin_nested():  # a concurrent writer may have used the same key
            session.add(entry)
    except IntegrityError:
        return None
    return entry


def balance(session: Session, customer_id: int) -> int:
    return session.exec(
        select(func.coalesce(func.sum(PointsEntry.amount), 0)).where(PointsEntry.customer_id == customer_id)
    ).one()


def earned_since(session: Session, customer_id: int, since: datetime) -> int:
    """Points from purchases (net of reversals) that count for the tier since ``since``."""
    return session.exec(
        select(func.coalesce(func.sum(PointsEntry.amount), 0))
        .where(PointsEntry.customer_id == customer_id, PointsEntry.tier_at >= since)
    ).one()


def _lots(session: Session, customer_id: int) -> list[loyalty.Lot]:
    rows = session.exec(
        select(PointsEntry.created_at, PointsEntry.amount, PointsEntry.expires_at)
        .where(PointsEntry.customer_id == customer_id)
    ).all()
    return loyalty.remaining_lots([tuple(row) for row in rows])


def settle_expiry(session: Session, customer_id: int, version: int, now: datetime) -> int:
    """Book the expiry of points past their date (oldest first); call under ``lock``.

    The points version makes the key unique per locked transaction, and after settling
    nothing expired is left, so running it again books nothing.
    """
    expired = loyalty.expired_points(_lots(session, customer_id), now)
    if expired:
        add_entry(session, customer_id, -expired, EXPIRY, f"expiry:{customer_id}:{version}", now)
    return expired


@dataclass(frozen=True)
class TierStatus:
    tier: TierConfig
    earned_in_window: int
    next_tier: TierConfig | None
    missing_for_next: int


def tier_status(session: Session, customer_id: int, rules: LoyaltySection, now: datetime) -> TierStatus:
    earned = earned_since(session, customer_id, loyalty.window_start(now, rules))
    upcoming = loyalty.next_tier(earned, rules)
    return TierStatus(loyalty.tier_for(earned, rules), earned, upcoming[0] if upcoming else None,
                      upcoming[1] if upcoming else 0)


# --- The tier points of all customers at once (segments) -------------------------------------
#
# Summing every customer's ledger over the tier window reads millions of entries; the customer
# row keeps the sum instead (Customer.tier_points). It stays right until a points change (which
# clears tier_points_since under ``lock``) or until the oldest counted points leave the window.

TIER_REFRESH_BATCH = 2000


def _window_sum(start: datetime):
    return (select(func.coalesce(func.sum(PointsEntry.amount), 0))
            .where(PointsEntry.customer_id == Customer.id, PointsEntry.tier_at >= start).scalar_subquery())


def _tier_points_fresh(start: datetime):
    """The kept figures hold exactly the points with ``tier_at >= start``: they were summed from
    an earlier (or the same) start, and none of the points counted then is older than ``start``."""
    return and_(Customer.tier_points_since.is_not(None), Customer.tier_points_since <= start,
                or_(Customer.tier_points_oldest.is_(None), Customer.tier_points_oldest >= start))


def _tier_points_stale(start: datetime):
    """The opposite of ``_tier_points_fresh``, as three tests that each have an index."""
    return or_(Customer.tier_points_since.is_(None), Customer.tier_points_since > start,
               Customer.tier_points_oldest < start)


def tier_points_all_fresh(session: Session, start: datetime) -> bool:
    """No customer's kept tier points need the ledger (three index lookups)."""
    checks = (exists().where(Customer.tier_points_since.is_(None)),
              exists().where(Customer.tier_points_since > start),
              exists().where(Customer.tier_points_oldest < start))
    return not any(session.execute(select(*checks)).one())


def tier_points_column(session: Session, rules: LoyaltySection, now: datetime):
    """Every customer's points in the tier window as a SQL expression on the customer row (what
    ``earned_since`` gives for one). The kept sum when all of them fit (the usual case right
    after the job ran); otherwise, for the rows it does not fit (changed since the last
    refresh, or older points gone from the window), the sum from the ledger. The plain column
    matters beyond its speed: PostgreSQL prices the ledger subquery for every row, even though
    it seldom runs it, and then prefers far worse plans around it."""
    start = loyalty.window_start(now, rules)
    if tier_points_all_fresh(session, start):
        return Customer.tier_points
    return case((_tier_points_fresh(start), Customer.tier_points), else_=_window_sum(start))


def tier_points_at(session: Session, rules: LoyaltySection, t: datetime, now: datetime):
    """Every customer's tier points as they stood at ``t``, as SQL on the customer row: the kept
    figure when ``t`` is now (a report that ends today), else the ledger's points that counted
    for the tier in the window before ``t`` (a past period's report shows the tiers of then)."""
    if t >= now:
        return tier_points_column(session, rules, now)
    start = loyalty.window_start(t, rules)
    return (select(func.coalesce(func.sum(PointsEntry.amount), 0))
            .where(PointsEntry.customer_id == Customer.id, PointsEntry.tier_at >= start, PointsEntry.tier_at < t)
            .scalar_subquery())


def refresh_tier_points(session: Session, rules: LoyaltySection, now: datetime, after: int = 0,
                        batch: int = TIER_REFRESH_BATCH) -> tuple[int, int] | None:
    """Sum the tier points again for up to ``batch`` customers (ids above ``after``) whose kept
    figures no longer fit; returns how many and the last id done, None when there was none
    left (call again with that id, one transaction per batch). Rows are locked (FOR UPDATE SKIP LOCKED) before they
    are summed, so a purchase booked meanwhile waits and clears the figures again after it; a
    replica doing the same takes other rows."""
    start = loyalty.window_start(now, rules)
    if after == 0 and tier_points_all_fresh(session, start):
        return None  # the usual case: three index lookups rather than a scan in id order
    ids = session.exec(select(Customer.id).where(Customer.id > after, _tier_points_stale(start))
                       .order_by(Customer.id).limit(batch).with_for_update(skip_locked=True)).all()
    if not ids:
        return None
    oldest = (select(func.min(PointsEntry.tier_at))
              .where(PointsEntry.customer_id == Customer.id, PointsEntry.tier_at >= start).scalar_subquery())
    session.execute(update(Customer).where(Customer.id.in_(ids))
                    .values(tier_points=_window_sum(start), tier_points_oldest=oldest, tier_points_since=start)
                    .execution_options(synchronize_session=False))
    return len(ids), ids[-1]


@dataclass(frozen=True)
class EntryView:
    created_at: datetime
    amount: int
    reason: str
    note: str | None


@dataclass(frozen=True)
class AccountStatus:
    customer_id: int
    code: str | None
    first_name: str
    balance: int
    tier: TierStatus
    expiring_points: int
    expiring_on: datetime | None
    recent: tuple[EntryView, ...]


def recent_entries(session: Session, customer_id: int, limit: int = 5) -> tuple[EntryView, ...]:
    rows = session.exec(
        select(PointsEntry).where(PointsEntry.customer_id == customer_id)
        .order_by(PointsEntry.id.desc()).limit(limit)
    ).all()
    return tuple(EntryView(r.created_at, r.amount, r.reason, r.note) for r in rows)


def settle_due_expiry(session: Session, customer_id: int, now: datetime) -> None:
    """Book expired points if there are any; takes the customer's lock only then, so looking
    at an account stays a read."""
    if loyalty.expired_points(_lots(session, customer_id), now):
        settle_expiry(session, customer_id, lock(session, customer_id), now)  # recounted under the lock


def current_balance(session: Session, customer_id: int, now: datetime) -> int:
    """The balance with due expiries booked: what the customer can spend now."""
    settle_due_expiry(session, customer_id, now)
    return balance(session, customer_id)


def account_status(session: Session, customer_id: int, rules: LoyaltySection, now: datetime) -> AccountStatus:
    """Everything /punkte shows. Books due expiries first, so the balance shown is true."""
    settle_due_expiry(session, customer_id, now)
    customer = session.get(Customer, customer_id)
    soon, first_date = loyalty.expiring_soon(
        _lots(session, customer_id), now, timedelta(days=rules.expiry_warning_days))
    return AccountStatus(
        customer_id=customer_id, code=customer.code, first_name=customer.first_name,
        balance=balance(session, customer_id), tier=tier_status(session, customer_id, rules, now),
        expiring_points=soon, expiring_on=first_date, recent=recent_entries(session, customer_id),
    )
