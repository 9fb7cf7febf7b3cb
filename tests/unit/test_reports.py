"""The rules of /bericht without a database: periods, the ABC split and the derived figures,
worked out by hand."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain import reports, surveys
from domain.rules import nps

NOW = datetime(2026, 11, 22, 9, 30, tzinfo=timezone.utc)
BERLIN = "Europe/Berlin"


def figures(**values) -> reports.Figures:
    """Figures with zeros everywhere but the values given."""
    period = nps.Period(NOW, NOW, "days")
    base = dict(period=period, customers_start=0, customers_end=0, new_customers=0, buyers=0, repeat_buyers=0,
                purchases=0, revenue_cents=0, abc=reports.Abc(), nps=surveys.Report(nps.Summary(), [], []),
                tickets=0, first_answer_minutes=None, deadlines_missed=0, solved_hours=None, points_issued=0,
                points_redeemed=0, points_outstanding=0, rewards_redeemed=0, campaign_sent=0, campaign_reached=0,
                coupons_redeemed=0, tiers=())
    return reports.Figures(**(base | values))


def test_the_articles_example():
    """1000 customers at the start, 1100 at the end, 500 of them new: (1100 − 500) / 1000 = 60 %."""
    assert figures(customers_start=1000, customers_end=1100, new_customers=500).retention_rate == Decimal("60.0")


def test_rates_round_half_up_and_are_none_without_a_base():
    f = figures(customers_start=3, customers_end=3, new_customers=1, buyers=3, repeat_buyers=1, purchases=4,
                revenue_cents=1001)
    assert f.retention_rate == Decimal("66.7")  # 2 / 3
    assert f.repeat_rate == Decimal("33.3")
    assert f.frequency == Decimal("1.33")
    assert f.average_cents == Decimal(250)  # 1001 / 4 = 250.25
    empty = figures()
    assert (empty.retention_rate, empty.repeat_rate, empty.frequency, empty.average_cents) == (None,) * 4


def test_abc_twenty_percent_bring_eighty():
    """Ten customers: two bring 400 € each, three 50 €, five 10 € = 1000 €. A: the two (800 =
    80 %: the second starts at 400 < 800); B: 800 ≤ before < 950: three 50s (before 800, 850,
    900); C: the five 10s. So 20 % of the customers bring 80 % of the revenue."""
    abc = reports.split_abc([(40000, 2), (5000, 3), (1000, 5)])
    assert (abc.a.customers, abc.a.revenue_cents) == (2, 80000)
    assert (abc.b.customers, abc.b.revenue_cents) == (3, 15000)
    assert (abc.c.customers, abc.c.revenue_cents) == (5, 5000)
    assert abc.customer_share(abc.a) == Decimal("20.0") and abc.revenue_share(abc.a) == Decimal("80.0")


def test_abc_splits_a_group_of_equal_revenue():
    """Ten customers with 10 € each (100 €): the first eight are A (the eighth starts at 70 €,
    below 80); the ninth starts at 80 € (not below 80) and the tenth at 90 € (below 95): B."""
    abc = reports.split_abc([(1000, 10)])
    assert (abc.a.customers, abc.b.customers, abc.c.customers) == (8, 2, 0)
    assert reports.split_abc([]) == reports.Abc()


def test_periods_as_nps_takes_them_default_thirty_days():
    period = reports.parse_period("", NOW, BERLIN)
    assert (period.end - period.start).days == 30 and period.end == NOW
    october = reports.parse_period("oktober 2026", NOW, BERLIN)
    assert october.start == datetime(2026, 9, 30, 22, tzinfo=timezone.utc)
    assert reports.parse_period("letzte woche", NOW, BERLIN).kind == "week"


def test_a_date_range_includes_both_days():
    period = reports.parse_period("01.01.2026-31.03.2026", NOW, BERLIN)
    assert period.start == datetime(2025, 12, 31, 23, tzinfo=timezone.utc)
    assert period.end == datetime(2026, 3, 31, 22, tzinfo=timezone.utc)  # 1 April, summer time
    assert reports.parse_period("1.10.2026 bis 22.11.2026", NOW, BERLIN).end == NOW  # never after now
    before = reports.previous(period)
    assert before.end == period.start and before.end - before.start == period.end - period.start


@pytest.mark.parametrize("text, reason", [
    ("31.03.2026-01.01.2026", "period_order"), ("30.02.2026-01.03.2026", "period_date"),
    ("01.01.2027-31.01.2027", "period_future"), ("irgendwann", "period_format"), ("0", "period_days"),
])
def test_bad_periods_are_refused_with_a_reason(text, reason):
    with pytest.raises(nps.PeriodError) as refused:
        reports.parse_period(text, NOW, BERLIN)
    assert refused.value.reason == reason


def _split_one_by_one(groups: list[tuple[int, int]]) -> tuple:
    """The ABC rule walked customer by customer with decimal limits: the reference."""
    total = sum(revenue * count for revenue, count in groups)
    limits = (Decimal(total) * reports.A_SHARE, Decimal(total) * reports.B_SHARE)
    classes, before = [[0, 0], [0, 0], [0, 0]], 0
    for revenue, count in groups:
        for _ in range(count):
            which = 0 if before < limits[0] else 1 if before < limits[1] else 2
            classes[which][0] += 1
            classes[which][1] += revenue
            before += revenue
    return tuple(map(tuple, classes))


@given(st.dictionaries(st.integers(1, 500_000), st.integers(1, 40), max_size=40))
def test_the_abc_split_by_groups_is_the_split_customer_by_customer(revenues):
    groups = sorted(revenues.items(), reverse=True)
    abc = reports.split_abc(groups)
    split = tuple((cls.customers, cls.revenue_cents) for cls in (abc.a, abc.b, abc.c))
    assert split == _split_one_by_one(groups)
