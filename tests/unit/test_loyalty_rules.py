"""The loyalty rules: rounding, multipliers, tiers, expiry oldest first."""

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from domain.config import LoyaltySection, TierConfig
from domain.loyalty import (expired_points, expiring_soon, expiry_of, next_tier, points_for_purchase,
                            remaining_lots, tier_for, window_start)

TIERS = (TierConfig(name="Bronze", threshold=0), TierConfig(name="Silber", threshold=250, multiplier=Decimal("1.25")),
         TierConfig(name="Gold", threshold=600, multiplier=Decimal("1.5")))
RULES = LoyaltySection(tiers=TIERS)
NOW = datetime(2026, 11, 22, 12, tzinfo=timezone.utc)


@pytest.mark.parametrize(("rounding", "amount", "expected"), [
    ("down", "4.99", 4), ("nearest", "4.50", 5), ("nearest", "4.49", 4), ("up", "4.01", 5), ("down", "0.99", 0),
])
def test_rounding(rounding, amount, expected):
    rules = RULES.model_copy(update={"rounding": rounding})
    assert points_for_purchase(Decimal(amount), rules, TIERS[0]) == expected


def test_multiplier_applies_to_the_rounded_total():
    assert points_for_purchase(Decimal("10.00"), RULES, TIERS[1]) == 12  # 12.5 rounded down
    assert points_for_purchase(Decimal("10.00"), RULES, TIERS[2]) == 15


def test_every_tenth_coffee_free_is_one_point_per_purchase():
    cafe = LoyaltySection(points_per_euro=0, points_per_purchase=1)
    assert points_for_purchase(Decimal("3.20"), cafe, cafe.tiers[0]) == 1
    assert points_for_purchase(Decimal("45.00"), cafe, cafe.tiers[0]) == 1


def test_tiers_and_the_next_one():
    assert tier_for(0, RULES).name == "Bronze"
    assert tier_for(249, RULES).name == "Bronze"
    assert tier_for(250, RULES).name == "Silber"
    assert tier_for(10_000, RULES).name == "Gold"
    assert next_tier(200, RULES) == (TIERS[1], 50)
    assert next_tier(600, RULES) is None


def test_tier_window_is_twelve_months():
    assert NOW - window_start(NOW, RULES) == timedelta(days=365)


def test_deductions_use_the_oldest_points_first():
    jan, feb, mar = (NOW.replace(month=m) for m in (1, 2, 3))
    lots = remaining_lots([(jan, 100, None), (mar, 30, None), (feb, 50, None), (mar, -120, None)])
    assert [(lot.earned_at, lot.remaining) for lot in lots] == [(feb, 30), (mar, 30)]


def test_expiry_takes_what_is_left_of_old_points_only():
    earned = NOW - timedelta(days=800)
    recent = NOW - timedelta(days=10)
    entries = [(earned, 100, expiry_of(earned, RULES)), (recent, 40, expiry_of(recent, RULES)), (recent, -30, None)]
    lots = remaining_lots(entries)
    assert expired_points(lots, NOW) == 70  # 30 of the old 100 were already spent
    soon, first = expiring_soon(lots, NOW - timedelta(days=90), timedelta(days=120))
    assert soon == 70 and first == expiry_of(earned, RULES)


def test_no_expiry_when_switched_off():
    assert expiry_of(NOW, RULES.model_copy(update={"expiry_months": None})) is None
