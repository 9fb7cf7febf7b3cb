"""Loyalty rules, without I/O: points for a purchase, tiers, expiry.

Points are whole numbers. A purchase earns ``amount x points_per_euro`` (rounded as
configured) plus ``points_per_purchase``, times the multiplier of the customer's tier. Tiers
follow the points earned by purchases in the last ``tier_window_months``. Points expire
``expiry_months`` after they were earned, oldest first: every deduction (a reward, a
reversal, an expiry) uses up the oldest points still there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

from domain.config import LoyaltySection, TierConfig

ROUNDING = {"down": ROUND_FLOOR, "nearest": ROUND_HALF_UP, "up": ROUND_CEILING}


def _whole(value: Decimal, rounding: str) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUNDING[rounding]))


def points_for_purchase(amount: Decimal, rules: LoyaltySection, tier: TierConfig) -> int:
    base = Decimal(amount) * rules.points_per_euro + rules.points_per_purchase
    return _whole(base * tier.multiplier, rules.rounding)


def tier_for(earned_in_window: int, rules: LoyaltySection) -> TierConfig:
    """The highest tier whose threshold the customer reached."""
    # Fix: a window sum below 0 (a correction counted without its purchase) raised IndexError;
    # the first tier (threshold 0) is the floor.
    reached = [t for t in rules.tiers if t.threshold <= earned_in_window]
    return reached[-1] if reached else rules.tiers[0]


def next_tier(earned_in_window: int, rules: LoyaltySection) -> tuple[TierConfig, int] | None:
    """The next tier and the points still missing for it, or None at the top."""
    # Fix: skip the first tier; everybody is in it, so it is never the next one (below 0 it was).
    higher = [t for t in rules.tiers[1:] if t.threshold > earned_in_window]
    return (higher[0], higher[0].threshold - earned_in_window) if higher else None


def window_start(now: datetime, rules: LoyaltySection) -> datetime:
    return now - timedelta(days=round(rules.tier_window_months * 365.25 / 12))


def expiry_of(earned_at: datetime, rules: LoyaltySection) -> datetime | None:
    if rules.expiry_months is None:
        return None
    return earned_at + timedelta(days=round(rules.expiry_months * 365.25 / 12))


@dataclass(frozen=True)
class Lot:
    """Points earned at one moment, and what is left of them."""

    earned_at: datetime
    remaining: int
    expires_at: datetime | None


def remaining_lots(entries: list[tuple[datetime, int, datetime | None]]) -> list[Lot]:
    """Apply all deductions to the oldest earned points first.

    ``entries`` are (created_at, signed amount, expires_at) of a customer's ledger.
    """
    # Fix: deduct from the points that expire first (never-expiring ones last), then the oldest.
    # Sorting by earned time alone let an expiry entry eat older points that never expire (a
    # referral bonus) and leave the expired ones, which were then booked as expired again.
    # With one expiry period for all points this is the same as "oldest first".
    lots = sorted(((at, amount, expires) for at, amount, expires in entries if amount > 0),
                  key=lambda e: (e[2] is None, e[2] or e[0], e[0]))
    to_deduct = -sum(amount for _, amount, _ in entries if amount < 0)
    result = []
    for earned_at, amount, expires_at in lots:
        used = min(amount, to_deduct)
        to_deduct -= used
        if amount - used:
            result.append(Lot(earned_at, amount - used, expires_at))
    return result


def expired_points(lots: list[Lot], now: datetime) -> int:
    return sum(lot.remaining for lot in lots if lot.expires_at is not None and lot.expires_at <= now)


def expiring_soon(lots: list[Lot], now: datetime, within: timedelta) -> tuple[int, datetime | None]:
    """Points that expire within ``within`` and the first date they do."""
    soon = [lot for lot in lots if lot.expires_at is not None and now < lot.expires_at <= now + within]
    return sum(lot.remaining for lot in soon), min((lot.expires_at for lot in soon), default=None)
