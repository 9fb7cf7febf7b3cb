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

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from domain import loyalty
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
        .values(points_version=Customer.points_version + 1)
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
        session.execute(update(Customer).where(*in_chunk).values(points_version=Customer.points_version + 1))


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
