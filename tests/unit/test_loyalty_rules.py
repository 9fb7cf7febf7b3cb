"""The loyalty rules: rounding, multipliers, tiers, expiry oldest first."""

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from pydantic import ValidationError

from domain.config import ConfigError, LoyaltySection, RewardConfig, TierConfig, load_config
from domain.rules.loyalty import (expired_points, expiring_soon, expiry_of, next_tier, points_for_purchase,
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


# --- rounding, in detail ----------------------------------------------------------------------

@pytest.mark.parametrize(("rounding", "amount", "expected"), [
    ("down", "4.50", 4), ("nearest", "4.50", 5), ("up", "4.50", 5),
    ("down", "2.50", 2), ("nearest", "2.50", 3), ("up", "2.50", 3),  # half up, not to even
    ("down", "4.00", 4), ("nearest", "4.00", 4), ("up", "4.00", 4),  # whole amounts stay
    ("nearest", "4.51", 5), ("up", "0.01", 1), ("down", "0.01", 0), ("nearest", "0.49", 0),
])
def test_rounding_of_half_points_and_exact_amounts(rounding, amount, expected):
    rules = RULES.model_copy(update={"rounding": rounding})
    assert points_for_purchase(Decimal(amount), rules, TIERS[0]) == expected


@pytest.mark.parametrize(("rounding", "expected"), [("down", 12), ("nearest", 13), ("up", 13)])
def test_half_point_from_a_multiplier_is_rounded_as_configured(rounding, expected):
    rules = RULES.model_copy(update={"rounding": rounding})
    assert points_for_purchase(Decimal("10.00"), rules, TIERS[1]) == expected  # 10 x 1.25 = 12.5


def test_multiplier_applies_before_rounding_not_after():
    # 4.99 x 1.5 = 7.485 -> 7; rounding first would give 4 x 1.5 = 6.
    assert points_for_purchase(Decimal("4.99"), RULES, TIERS[2]) == 7
    up = RULES.model_copy(update={"rounding": "up"})
    assert points_for_purchase(Decimal("4.99"), up, TIERS[2]) == 8


def test_fractional_points_per_euro():
    rules = LoyaltySection(points_per_euro=Decimal("0.5"), rounding="down")
    assert points_for_purchase(Decimal("9.99"), rules, rules.tiers[0]) == 4
    assert points_for_purchase(Decimal("10.00"), rules, rules.tiers[0]) == 5


# --- points per purchase ----------------------------------------------------------------------

def test_tenth_coffee_free_card_ignores_the_amount_and_counts_visits():
    cafe = LoyaltySection(points_per_euro=0, points_per_purchase=1, rounding="up")
    assert {points_for_purchase(Decimal(a), cafe, cafe.tiers[0]) for a in ("0.01", "2.80", "999.99")} == {1}
    assert sum(points_for_purchase(Decimal("3.20"), cafe, cafe.tiers[0]) for _ in range(10)) == 10


def test_points_per_purchase_adds_to_points_per_euro_and_is_multiplied():
    rules = RULES.model_copy(update={"points_per_purchase": 5})
    assert points_for_purchase(Decimal("10.00"), rules, TIERS[0]) == 15
    assert points_for_purchase(Decimal("10.00"), rules, TIERS[2]) == 22  # (10 + 5) x 1.5 = 22.5


def test_tier_multiplier_with_visit_points_only():
    cafe = LoyaltySection(points_per_euro=0, points_per_purchase=2,
                          tiers=(TierConfig(name="Basis", threshold=0), TierConfig(name="Stamm", threshold=20,
                                                                                  multiplier=Decimal("2"))))
    assert points_for_purchase(Decimal("3.00"), cafe, cafe.tiers[0]) == 2
    assert points_for_purchase(Decimal("3.00"), cafe, cafe.tiers[1]) == 4


# --- tiers ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("earned", "tier", "missing"), [
    (0, "Bronze", 250), (249, "Bronze", 1), (250, "Silber", 350), (251, "Silber", 349),
    (599, "Silber", 1), (600, "Gold", None), (601, "Gold", None),
])
def test_tier_boundaries_are_reached_exactly_at_the_threshold(earned, tier, missing):
    assert tier_for(earned, RULES).name == tier
    upcoming = next_tier(earned, RULES)
    assert (upcoming[1] if upcoming else None) == missing


def test_negative_tier_points_stay_in_the_first_tier():
    # A reversal of a purchase whose points counted can leave the window sum below zero.
    assert tier_for(-40, RULES).name == "Bronze"
    assert next_tier(-40, RULES) == (TIERS[1], 290)


def test_single_tier_has_no_next():
    rules = LoyaltySection()
    assert tier_for(10**6, rules).name == "Bronze" and next_tier(0, rules) is None


def test_tier_window_boundary_just_inside_and_outside():
    start = window_start(NOW, RULES)
    counts = lambda earned_at: earned_at >= start  # the ledger's condition: tier_at >= window start
    assert counts(NOW - timedelta(days=365)) and counts(NOW - timedelta(days=364, hours=23))
    assert not counts(NOW - timedelta(days=365, seconds=1))


@pytest.mark.parametrize(("months", "days"), [(1, 30), (6, 183), (12, 365), (24, 730), (60, 1826)])
def test_window_and_expiry_lengths_in_days(months, days):
    rules = RULES.model_copy(update={"tier_window_months": months, "expiry_months": months})
    assert NOW - window_start(NOW, rules) == timedelta(days=days)
    assert expiry_of(NOW, rules) - NOW == timedelta(days=days)


# --- expiry, oldest first ---------------------------------------------------------------------

def _at(days_ago: int) -> datetime:
    return NOW - timedelta(days=days_ago)


def _earned(days_ago: int, amount: int, rules=RULES):
    return (_at(days_ago), amount, expiry_of(_at(days_ago), rules))


def test_interleaved_deductions_use_up_the_oldest_points_first():
    entries = [
        _earned(900, 100),            # oldest: 100
        (_at(850), -60, None),        # a reward takes 60 of them
        _earned(800, 50),
        (_at(790), -70, None),        # takes the last 40 of the oldest and 30 of the second
        _earned(100, 80),
        (_at(50), -10, None),         # takes 10 of the second
    ]
    lots = remaining_lots(entries)
    assert [(lot.earned_at, lot.remaining) for lot in lots] == [(_at(800), 10), (_at(100), 80)]
    # the second lot (800 days ago) is past its 730 days, the third is not
    assert expired_points(lots, NOW) == 10


def test_deductions_larger_than_everything_leave_nothing():
    lots = remaining_lots([_earned(10, 30), (_at(5), -50, None), _earned(1, 5)])
    assert lots == []  # 35 earned, 50 taken: nothing left to expire, the balance is -15
    assert expired_points(lots, NOW) == 0


def test_order_of_entries_in_the_list_does_not_matter():
    entries = [_earned(10, 20), (_at(5), -25, None), _earned(800, 10), _earned(400, 30)]
    forward = remaining_lots(entries)
    assert forward == remaining_lots(list(reversed(entries)))
    assert [(lot.earned_at, lot.remaining) for lot in forward] == [(_at(400), 15), (_at(10), 20)]


def test_expiry_is_settled_once_book_it_and_nothing_more_is_due():
    entries = [_earned(800, 100), _earned(10, 40)]
    due = expired_points(remaining_lots(entries), NOW)
    assert due == 100
    entries.append((NOW, -due, None))  # the expiry entry the ledger books
    assert expired_points(remaining_lots(entries), NOW) == 0
    assert [(lot.earned_at, lot.remaining) for lot in remaining_lots(entries)] == [(_at(10), 40)]


def test_points_that_never_expire_are_not_used_up_by_an_expiry():
    # A referral bonus (no expiry date) older than purchase points that did expire: booking the
    # expiry must take the expired points, not the bonus, or the expiry would be booked again.
    entries = [(_at(900), 50, None), _earned(800, 100)]
    due = expired_points(remaining_lots(entries), NOW)
    assert due == 100
    entries.append((NOW, -due, None))
    lots = remaining_lots(entries)
    assert expired_points(lots, NOW) == 0
    assert [(lot.earned_at, lot.remaining, lot.expires_at) for lot in lots] == [(_at(900), 50, None)]


def test_point_expiring_exactly_now_is_expired():
    earned = NOW - (expiry_of(NOW, RULES) - NOW)
    lots = remaining_lots([(earned, 7, NOW)])
    assert expired_points(lots, NOW) == 7
    assert expired_points(lots, NOW - timedelta(seconds=1)) == 0


def test_expiring_soon_window_excludes_now_and_includes_its_end():
    within = timedelta(days=30)
    lots = remaining_lots([
        (_at(800), 5, NOW),                          # expires now: already expired, not "soon"
        (_at(700), 10, NOW + timedelta(days=1)),
        (_at(690), 20, NOW + within),                # exactly at the end of the window
        (_at(680), 40, NOW + within + timedelta(seconds=1)),
        (_at(1), 80, None),                          # never expires
    ])
    assert expiring_soon(lots, NOW, within) == (30, NOW + timedelta(days=1))
    assert expiring_soon(lots, NOW, timedelta(hours=1)) == (0, None)


def test_expiring_soon_counts_only_what_is_left_after_deductions():
    lots = remaining_lots([(_at(700), 100, NOW + timedelta(days=10)), (_at(600), 50, NOW + timedelta(days=60)),
                           (_at(5), -90, None)])
    assert expiring_soon(lots, NOW, timedelta(days=30)) == (10, NOW + timedelta(days=10))


# --- config validation ------------------------------------------------------------------------

def test_tiers_must_start_at_zero():
    with pytest.raises(ValidationError, match="start at threshold 0"):
        LoyaltySection(tiers=(TierConfig(name="Silber", threshold=10),))


@pytest.mark.parametrize("thresholds", [(0, 250, 250), (0, 600, 250)])
def test_tiers_must_rise(thresholds):
    tiers = tuple(TierConfig(name=f"T{i}", threshold=t) for i, t in enumerate(thresholds))
    with pytest.raises(ValidationError, match="rise"):
        LoyaltySection(tiers=tiers)


def test_tiers_cannot_be_empty_and_multipliers_stay_sane():
    with pytest.raises(ValidationError):
        LoyaltySection(tiers=())
    with pytest.raises(ValidationError):
        TierConfig(name="Blech", threshold=0, multiplier=Decimal("0.5"))


def test_reward_keys_must_be_unique():
    rewards = (RewardConfig(key="kaffee", name="Kaffee", cost=40), RewardConfig(key="kaffee", name="Espresso", cost=30))
    with pytest.raises(ValidationError, match="own key"):
        LoyaltySection(rewards=rewards)


def test_somebody_must_earn_points():
    with pytest.raises(ValidationError, match="both 0"):
        LoyaltySection(points_per_euro=0, points_per_purchase=0)
    assert LoyaltySection(points_per_euro=0, points_per_purchase=1).points_per_purchase == 1


@pytest.mark.parametrize("reward", [{"key": "Kaffee", "name": "x", "cost": 1}, {"key": "kaffee", "name": "x", "cost": 0}])
def test_reward_key_and_cost_are_checked(reward):
    with pytest.raises(ValidationError):
        RewardConfig(**reward)


def test_loyalty_errors_in_config_yml_name_the_key(tmp_path):
    path = tmp_path / "config.yml"
    path.write_text("shop: {name: Test}\nloyalty:\n  points_per_euro: 0\n  points_per_purchase: 0\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"loyalty: .*both 0"):
        load_config(path)
