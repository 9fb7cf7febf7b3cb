"""The kept midnights of the report (domain.report_days) on a real database: a standing taken
from the midnight before a moment and what happened since is exactly what counting from the
purchases and the ledger gives, on the hand-worked shop of test_reports and on a random one, and
kept days that a late booking, a reversal, a merge or other rules make wrong are not used."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlmodel import select

from domain import customers, purchases, report_days, reports
from domain.config import LoyaltySection, TierConfig
from domain.customers import TelegramProfile
from domain.rules import nps
from storage.models import Customer, Purchase, ReportDay
from tests.use_cases.test_reports import LOYALTY, NOW, OCTOBER, RULES, _shop, utc

COUNTING = report_days.Counting(active_days=RULES.active_days, loyalty=LOYALTY)
UTC = ZoneInfo("UTC")
BERLIN = ZoneInfo("Europe/Berlin")


def _keep_all(store, counting=COUNTING, zone=UTC, now=NOW) -> int:
    """The bot's job until it has nothing left to add; how many days it added."""
    added = 0
    while True:
        with store.session() as session:
            done = report_days.keep(session, counting, zone, now)
        if not done:
            return added
        added += done


def _report(store, period, now=NOW) -> reports.Report:
    with store.reading() as session:
        return reports.build(session, period, RULES, now)


def _kept_days(store) -> list:
    with store.session() as session:
        return [row.at for row in session.exec(select(ReportDay).order_by(ReportDay.at)).all()]


def test_the_reports_from_kept_days_are_those_counted(store):
    _shop(store)
    last_30_days = nps.Period(NOW - timedelta(days=30), NOW, "days")
    counted = [_report(store, period) for period in (OCTOBER, last_30_days)]
    assert _keep_all(store) == report_days.KEEP_DAYS + 1
    kept = _kept_days(store)
    assert kept[0] == utc(2026, 11, 22) - timedelta(days=report_days.KEEP_DAYS) and kept[-1] == utc(2026, 11, 22)
    from_kept = [_report(store, period) for period in (OCTOBER, last_30_days)]
    assert [(r.current, r.previous) for r in from_kept] == [(r.current, r.previous) for r in counted]
    october = from_kept[0].current
    assert (october.customers_start, october.customers_end, dict(october.tiers)["Silber"]) == (5, 6, 1)  # Greta
    assert _keep_all(store) == 0  # nothing more to do


def _random_shop(store, seed: int) -> None:
    """40 people buying at random over two years (some purchases reversed later), a Silber tier
    at 150 points: customers come, go and change tiers every few days."""
    rng = random.Random(seed)
    first_day = NOW - timedelta(days=700)
    with store.session() as session:
        ids = [customers.register(session, TelegramProfile(5000 + n, 5000 + n, f"K{n}"), first_day).customer.id
               for n in range(40)]
    bookings = sorted((first_day + timedelta(minutes=rng.randrange(700 * 24 * 60)), rng.choice(ids),
                       Decimal(rng.randrange(3, 90))) for _ in range(400))
    for number, (at, customer_id, euros) in enumerate(bookings):
        with store.session() as session:
            purchase = purchases.book_purchase(session, customer_id, euros, LOYALTY_150, at, key=f"r{number}",
                                               source=purchases.COUNTER).purchase
            if rng.random() < 0.05:
                purchases.reverse_purchase(session, purchase.id, "Fehler", at + timedelta(hours=2), LOYALTY_150)


LOYALTY_150 = LoyaltySection(points_per_euro=Decimal(1), rounding="down", tier_window_months=6,
                             tiers=(TierConfig(name="Bronze", threshold=0), TierConfig(name="Silber", threshold=150),
                                    TierConfig(name="Gold", threshold=400)),
                             expiry_months=None, referral_bonus=0)
COUNTING_150 = report_days.Counting(active_days=90, loyalty=LOYALTY_150)


def _moments(rng: random.Random, count: int) -> list:
    oldest = NOW - timedelta(days=report_days.KEEP_DAYS)
    return [oldest + timedelta(seconds=rng.randrange(int((NOW - oldest).total_seconds()))) for _ in range(count)]


def test_a_standing_from_the_midnight_before_is_the_counted_one(store):
    _random_shop(store, seed=7)
    _keep_all(store, COUNTING_150, BERLIN)
    rng = random.Random(1)
    with store.reading() as session:
        for t in [*_moments(rng, 25), NOW]:
            kept, counted = report_days.standing_at(session, t, COUNTING_150), report_days.counted(session, t, COUNTING_150)
            assert kept == counted, t
            assert report_days.customers_at_kept(session, t, COUNTING_150) == counted.customers
            assert counted.customers and len(counted.revenues) > 3  # a shop with something to count


def test_a_late_booking_or_a_reversal_makes_the_days_after_it_count_again(store):
    _random_shop(store, seed=11)
    _keep_all(store, COUNTING_150, BERLIN)
    dated, t = NOW - timedelta(days=20, hours=3), NOW - timedelta(days=5, hours=7)
    with store.session() as session:  # an import of a purchase made 20 days ago
        customer_id = session.exec(select(Customer.id)).first()
        purchases.book_purchase(session, customer_id, Decimal(500), LOYALTY_150, dated, key="late",
                                source=purchases.IMPORT)
    with store.reading() as session:
        assert report_days.standing_at(session, t, COUNTING_150) is None  # not used: counted again
        assert report_days.standing_at(session, dated - timedelta(days=1), COUNTING_150) is not None
    before = len(_kept_days(store))
    assert _keep_all(store, COUNTING_150, BERLIN) == 20  # the midnights of 3 to 22 November, again
    assert len(_kept_days(store)) == before
    with store.reading() as session:
        assert report_days.standing_at(session, t, COUNTING_150) == report_days.counted(session, t, COUNTING_150)
        old = session.exec(select(Purchase).where(Purchase.reversed_at.is_(None), Purchase.created_at > t - timedelta(days=60))
                           .order_by(Purchase.created_at)).first()
    with store.session() as session:
        purchases.reverse_purchase(session, old.id, "Storno", NOW, LOYALTY_150)
    _keep_all(store, COUNTING_150, BERLIN)
    with store.reading() as session:
        for moment in (old.created_at + timedelta(hours=1), t):
            assert report_days.standing_at(session, moment, COUNTING_150) == report_days.counted(
                session, moment, COUNTING_150)


def test_other_rules_or_a_merge_leave_no_kept_day(store):
    _shop(store)
    _keep_all(store)
    higher = report_days.Counting(active_days=180, loyalty=LOYALTY)
    with store.reading() as session:
        assert report_days.standing_at(session, NOW, higher) is None
    assert _keep_all(store, higher) == report_days.KEEP_DAYS + 1  # counted again by the new rules
    with store.session() as session:
        reports.forget_cached(session)  # what merging two customers' records does (domain.linking)
    assert _kept_days(store) == []


def test_the_day_of_a_change_of_time_counts_from_its_own_midnight(store):
    """Berlin's midnights are 23:00 or 22:00 UTC: the kept days follow the shop's clock."""
    _random_shop(store, seed=3)
    _keep_all(store, COUNTING_150, BERLIN)
    kept = _kept_days(store)
    assert {moment.astimezone(BERLIN).time().hour for moment in kept} == {0}
    assert {moment.astimezone(UTC).hour for moment in kept} == {22, 23}  # summer and winter time
