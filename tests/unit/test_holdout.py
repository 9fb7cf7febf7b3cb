"""The control group's rules: who is held back (random, reproducible) and how the effect reads."""

from datetime import datetime, timezone

import pytest

from domain import holdout
from domain.holdout import Effect, Group

READY = datetime(2026, 12, 20, tzinfo=timezone.utc)


def test_the_same_campaign_and_customer_always_get_the_same_answer():
    first = [holdout.held_back(7, customer_id, 10) for customer_id in range(1, 500)]
    assert first == [holdout.held_back(7, customer_id, 10) for customer_id in range(1, 500)]
    assert first != [holdout.held_back(8, customer_id, 10) for customer_id in range(1, 500)]  # another campaign


@pytest.mark.parametrize("percent", [5, 10, 20, 50])
def test_the_share_held_back_is_about_the_percent(percent):
    held = sum(holdout.held_back(3, customer_id, percent) for customer_id in range(1, 20_001))
    assert abs(held / 20_000 - percent / 100) < 0.01


def test_nobody_is_held_back_at_zero_percent():
    assert not any(holdout.held_back(3, customer_id, 0) for customer_id in range(1, 2000))


def test_split_keeps_the_chat_ids_of_the_recipients_and_the_ids_of_the_held():
    found = [(customer_id, 1000 + customer_id) for customer_id in range(1, 200)]
    recipients, held = holdout.split(5, 20, found)
    assert sorted([c for c, _ in recipients] + held) == list(range(1, 200))
    assert all(chat == 1000 + c for c, chat in recipients) and held


def test_uplift_in_points_and_revenue_per_customer():
    effect = Effect(READY, Group(200, 50, 200 * 300), Group(40, 6, 40 * 250))
    assert effect.ready and not effect.too_small
    assert effect.uplift_points == pytest.approx(10.0)  # 25 % against 15 %
    assert effect.uplift_revenue_cents == pytest.approx(50)


def test_small_groups_come_with_a_warning_and_an_open_window_with_its_date():
    assert Effect(READY, Group(200, 50, 0), Group(holdout.MIN_GROUP - 1, 2, 0)).too_small
    waiting = Effect(READY)
    assert not waiting.ready and not waiting.too_small


def test_an_empty_group_reads_as_nothing_bought():
    assert Group(0, 0, 0).share_bought == 0 and Group(0, 0, 0).revenue_per_customer_cents == 0
