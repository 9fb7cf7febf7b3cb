"""The key figures of /bericht on a real database (SQLite and PostgreSQL), on a small shop whose
every figure is worked out by hand below.

Purchases and reversals go through the real use cases (so the figures kept on the customer rows
are the bot's own); tickets, surveys, campaign messages and redemptions are written as rows, as
only their times and states matter here. Times are UTC, the shop's zone too.

The period is October 2026 [1 Oct, 1 Nov), the one before it [31 Aug, 1 Oct) (31 days). A
person is a customer at t when they bought in the 365 days before t.

who    purchases (euros, UTC day)                          S (1 Oct)  E (1 Nov)  new in Oct
Anna   20 on 10 Mar 2026; 10 on 5 Oct; 30 on 20 Oct        yes        yes        -
Ben    50 on 15 Oct 2025                                   yes        -          -
Clara  40 on 10 Oct 2026 (her first)                       -          yes        yes
Dora   100 on 12 Oct, reversed on 13 Oct; 8 on 25 Oct      -          yes        yes (the 8)
Emil   15 on 1 May 2024; 25 on 30 Oct 2026                 - (2024)   yes        - (bought in 2024)
Greta  300 on 15 Sep 2026                                  yes        yes        -
Hans   70 on 8 Oct, reversed on 9 Oct                      -          -          - (counts nowhere)
Ida    12 on 20 Jan 2026                                   yes        yes        -
Jonas  5 on 20 Oct 2025                                    yes        -          -
Fritz  (the owner: wrote to the bot, never bought)         -          -          -

S = 5, E = 6, N = 2: Kundenbindungsrate (6 − 2) / 5 × 100 = 80.0 %.
October: buyers Anna (2), Clara, Dora, Emil = 4; purchases 5; repeat rate 1/4 = 25.0 %;
frequency 5/4 = 1.25; revenue 10+30+40+8+25 = 113 € -> average 22.60 €.
Before (31 Aug - 1 Oct): S at 31 Aug = Anna, Ben, Ida, Jonas = 4; E = 5; N = Greta = 1:
(5 − 1) / 4 = 100.0 %; one buyer, one purchase of 300 €.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlmodel import select

from domain import customers, ledger, purchases, reports
from domain.config import LoyaltySection, TierConfig
from domain.customers import TelegramProfile
from domain.rules import nps
from domain.rules.business_hours import BusinessHours
from storage.models import Campaign, Coupon, Customer, OutboxMessage, Redemption, ReportCache, Survey, Ticket


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


NOW = utc(2026, 11, 22, 9, 30)
LOYALTY = LoyaltySection(
    points_per_euro=Decimal(1), rounding="down", tier_window_months=12,
    tiers=(TierConfig(name="Bronze", threshold=0),
           TierConfig(name="Silber", threshold=250, multiplier=Decimal("1.25")),
           TierConfig(name="Gold", threshold=600, multiplier=Decimal("1.5"))),
    expiry_months=None, referral_bonus=0,
)
RULES = reports.Rules(active_days=365, timezone="UTC", loyalty=LOYALTY,
                      hours=BusinessHours.parse({"mo-fr": "08:00-18:00"}, "UTC"), first_response_minutes=60)
OCTOBER = nps.Period(utc(2026, 10, 1), utc(2026, 11, 1), "month")

PURCHASES = {  # name: [(euros, when, reversed at)]
    "Anna": [("20", utc(2026, 3, 10, 10), None), ("10", utc(2026, 10, 5, 10), None), ("30", utc(2026, 10, 20, 10), None)],
    "Ben": [("50", utc(2025, 10, 15, 10), None)],
    "Clara": [("40", utc(2026, 10, 10, 10), None)],
    "Dora": [("100", utc(2026, 10, 12, 10), utc(2026, 10, 13, 10)), ("8", utc(2026, 10, 25, 10), None)],
    "Emil": [("15", utc(2024, 5, 1, 10), None), ("25", utc(2026, 10, 30, 10), None)],
    "Greta": [("300", utc(2026, 9, 15, 10), None)],
    "Hans": [("70", utc(2026, 10, 8, 10), utc(2026, 10, 9, 10))],
    "Ida": [("12", utc(2026, 1, 20, 10), None)],
    "Jonas": [("5", utc(2025, 10, 20, 10), None)],
}


def _customer(session, name: str, number: int) -> int:
    profile = TelegramProfile(number, number, name)
    return customers.register(session, profile, utc(2024, 1, 1)).customer.id


def _shop(store) -> dict[str, int]:
    ids = {}
    with store.session() as session:
        for number, name in enumerate([*PURCHASES, "Fritz"], start=1):
            ids[name] = _customer(session, name, 1000 + number)
    for name, bought in PURCHASES.items():
        for euros, at, reversed_at in bought:
            with store.session() as session:
                booking = purchases.book_purchase(session, ids[name], Decimal(euros), LOYALTY, at,
                                                  key=f"test:{name}:{at.isoformat()}", source=purchases.COUNTER)
                purchase_id = booking.purchase.id
            if reversed_at is not None:
                with store.session() as session:
                    purchases.reverse_purchase(session, purchase_id, "Tippfehler", reversed_at, LOYALTY)
    with store.session() as session:
        _reward(session, ids["Anna"])
        _tickets(session, ids["Clara"])
        _surveys(session, ids)
        _campaign(session, ids)
    with store.session() as session:
        ledger.refresh_tier_points(session, LOYALTY, NOW)
    return ids


def _reward(session, anna: int) -> None:
    """Anna spends 40 points on a coffee on 21 Oct and gets it on 22 Oct."""
    at = utc(2026, 10, 21, 10)
    redemption = Redemption(code="KAF123", customer_id=anna, reward_key="kaffee", reward_name="Kaffee", cost=40,
                            created_at=at, expires_at=at + timedelta(days=30), used_at=utc(2026, 10, 22, 10))
    session.add(redemption)
    session.flush()
    ledger.add_entry(session, anna, -40, ledger.REWARD, "reward:anna", at, redemption_id=redemption.id)


def _ticket(session, customer_id: int, number: int, created, answered=None, resolved=None) -> None:
    session.add(Ticket(request_ref=f"t{number}", customer_id=customer_id, kind="complaint",
                       status="resolved" if resolved else "open", category="service", priority="normal",
                       created_at=created, alert_key=f"ticket:{number}", first_response_at=answered,
                       resolved_at=resolved))


def _tickets(session, customer_id: int) -> None:
    """Business hours Mon-Fri 8-18 (UTC), first answer due within 60 business minutes.
    October: #1 Mon 5 Oct 9:00, answered 9:30 (30 min), solved 13:00 (4 h);
    #2 Fri 9 Oct 17:30, answered Mon 12 Oct 8:45 (30 + 45 = 75 min; due Mon 8:30: missed), solved
    Mon 17:30 (72 h); #3 Wed 28 Oct 10:00, never answered (due 11:00: missed).
    -> 3 tickets, median first answer (30 + 75) / 2 = 52.5 min, 2 missed, median solved (4 + 72) / 2 = 38 h.
    September: #0 Tue 15 Sep 10:00, answered 10:10, solved 10:40 -> 1, 10 min, 0 missed, 0.7 h."""
    _ticket(session, customer_id, 0, utc(2026, 9, 15, 10), utc(2026, 9, 15, 10, 10), utc(2026, 9, 15, 10, 40))
    _ticket(session, customer_id, 1, utc(2026, 10, 5, 9), utc(2026, 10, 5, 9, 30), utc(2026, 10, 5, 13))
    _ticket(session, customer_id, 2, utc(2026, 10, 9, 17, 30), utc(2026, 10, 12, 8, 45), utc(2026, 10, 12, 17, 30))
    _ticket(session, customer_id, 3, utc(2026, 10, 28, 10))


def _surveys(session, ids: dict[str, int]) -> None:
    """October: 10, 9 (promoters), 8 (passive), 3 (detractor) -> NPS (2 − 1) / 4 = 25;
    topics: service twice, price once. September: one 6 -> NPS −100."""
    answers = [("Anna", 10, utc(2026, 10, 6, 12), ["service"]), ("Clara", 9, utc(2026, 10, 13, 12), ["service"]),
               ("Dora", 8, utc(2026, 10, 27, 12), []), ("Emil", 3, utc(2026, 10, 31, 12), ["preis"]),
               ("Greta", 6, utc(2026, 9, 18, 12), ["wartezeit"])]
    for name, score, at, topics in answers:
        session.add(Survey(customer_id=ids[name], status="done", created_at=at - timedelta(days=3),
                           due_at=at - timedelta(hours=1), score=score, answered_at=at, topics=topics))


def _campaign(session, ids: dict[str, int]) -> None:
    """A campaign on 14 Oct to Anna, Clara and Ida: two delivered, Ida's skipped (weekly limit);
    Clara redeems her coupon on 16 Oct -> sent 3, reached 2, coupons 1. Nothing in September."""
    at = utc(2026, 10, 14, 9)
    campaign = Campaign(status="done", nonce="abc", segment="alle", text="Hallo", created_by=1, created_at=at)
    session.add(campaign)
    session.flush()
    for name, status in (("Anna", "sent"), ("Clara", "sent"), ("Ida", "skipped")):
        session.add(OutboxMessage(idempotency_key=f"campaign:{campaign.id}:1:{ids[name]}", chat_id=1,
                                  customer_id=ids[name], category="marketing", payload={}, status=status,
                                  not_before=at, created_at=at, campaign_id=campaign.id))
    session.add(Coupon(code="GUT123", campaign_id=campaign.id, run=1, customer_id=ids["Clara"], offer="10 %",
                       created_at=at, expires_at=at + timedelta(days=14), redeemed_at=utc(2026, 10, 16, 12)))


@pytest.fixture
def report(store):
    _shop(store)
    with store.session() as session:
        return reports.build(session, OCTOBER, RULES, NOW)


def test_customers_and_retention(report):
    now, before = report.current, report.previous
    assert (now.customers_start, now.customers_end, now.new_customers) == (5, 6, 2)
    assert now.retention_rate == Decimal("80.0")  # (6 − 2) / 5
    assert before.period.start == utc(2026, 8, 31)
    assert (before.customers_start, before.customers_end, before.new_customers) == (4, 5, 1)
    assert before.retention_rate == Decimal("100.0")  # (5 − 1) / 4


def test_purchase_figures_leave_reversed_purchases_out(report):
    now, before = report.current, report.previous
    assert (now.buyers, now.repeat_buyers, now.purchases, now.revenue_cents) == (4, 1, 5, 11300)
    assert now.repeat_rate == Decimal("25.0")
    assert now.frequency == Decimal("1.25")
    assert now.average_cents == Decimal(2260)
    assert (before.buyers, before.repeat_buyers, before.purchases, before.revenue_cents) == (1, 0, 1, 30000)
    assert before.repeat_rate == Decimal("0.0") and before.average_cents == Decimal(30000)


def test_abc_over_the_last_twelve_months(report):
    """Revenue 1 Nov 2025 - 1 Nov 2026: Greta 300, Anna 60, Clara 40, Emil 25, Ida 12, Dora 8
    (Dora's reversed 100 and Hans's 70 do not count; Ben and Jonas bought before) = 445 €.
    80 % = 356, 95 % = 422.75. Greta (before her 0) and Anna (300) are A; Clara (360) and Emil
    (400) B; Ida (425) and Dora C."""
    abc = report.current.abc
    assert (abc.a.customers, abc.a.revenue_cents) == (2, 36000)
    assert (abc.b.customers, abc.b.revenue_cents) == (2, 6500)
    assert (abc.c.customers, abc.c.revenue_cents) == (2, 2000)
    assert abc.revenue_share(abc.a) == Decimal("80.9")  # 360 / 445
    assert abc.customer_share(abc.a) == Decimal("33.3")


def test_tiers_of_the_customers_at_the_end(report):
    """Greta's 300 € bring 300 points in the tier window: Silber; everyone else is Bronze."""
    assert report.current.tiers == (("Bronze", 5), ("Silber", 1), ("Gold", 0))
    assert report.previous.tiers == (("Bronze", 4), ("Silber", 1), ("Gold", 0))  # Anna, Ben, Ida, Jonas; Greta


def test_a_past_period_shows_the_tiers_of_then(store):
    """Anna's 250 € on 10 Nov make her Silber now; October's report still has her in Bronze."""
    ids = _shop(store)
    with store.session() as session:
        purchases.book_purchase(session, ids["Anna"], Decimal(250), LOYALTY, utc(2026, 11, 10, 10),
                                key="test:Anna:late", source=purchases.COUNTER)
    with store.session() as session:
        ledger.refresh_tier_points(session, LOYALTY, NOW)
        october = reports.build(session, OCTOBER, RULES, NOW)
        until_now = reports.build(session, nps.Period(utc(2026, 11, 1), NOW, "days"), RULES, NOW)
    assert october.current.tiers == (("Bronze", 5), ("Silber", 1), ("Gold", 0))
    assert until_now.current.tiers[1] == ("Silber", 2)  # Greta and Anna


def test_points(report):
    """October issues 10+30+40+8+25 = 113 (Dora's 100 and Hans's 70 are taken back in October
    too); Anna redeems 40. At 1 Oct the customers hold Anna 20, Ben 50, Emil 15, Greta 300,
    Ida 12, Jonas 5 = 402; at 1 Nov 402 + 113 − 40 = 475."""
    now, before = report.current, report.previous
    assert (now.points_issued, now.points_redeemed, now.points_outstanding, now.rewards_redeemed) == (113, 40, 475, 1)
    assert (before.points_issued, before.points_redeemed, before.points_outstanding) == (300, 0, 402)


def test_tickets(report):
    now, before = report.current, report.previous
    assert (now.tickets, now.first_answer_minutes, now.deadlines_missed, now.solved_hours) == (
        3, Decimal("52.5"), 2, Decimal("38.0"))
    assert (before.tickets, before.first_answer_minutes, before.deadlines_missed, before.solved_hours) == (
        1, Decimal("10.0"), 0, Decimal("0.7"))


def test_nps_and_campaigns(report):
    now, before = report.current, report.previous
    assert now.nps.summary.nps == 25 and now.nps.summary.count == 4
    assert now.nps.top_topics[0] == ("service", 2)
    assert before.nps.summary.nps == -100
    assert (now.campaign_sent, now.campaign_reached, now.coupons_redeemed) == (3, 2, 1)
    assert (before.campaign_sent, before.campaign_reached, before.coupons_redeemed) == (0, 0, 0)


def test_the_owner_who_never_bought_is_no_customer(store, report):
    with store.session() as session:
        assert len(session.exec(select(Customer.id)).all()) == 10  # Fritz has a row, and counts nowhere
    assert report.current.customers_end == 6


# --- the kept year revenue and the cache of past periods (fast at a million customers) ----------

def _abc_of(report_abc: reports.Abc) -> tuple:
    return tuple((cls.customers, cls.revenue_cents) for cls in (report_abc.a, report_abc.b, report_abc.c))


def _abc_from_purchases(session, at) -> tuple:
    """The ABC split at ``at`` summed from the purchases (a moment after it makes it a past end)."""
    return _abc_of(reports.abc(session, at, at + timedelta(seconds=1)))


def test_a_period_ending_now_ranks_by_the_kept_year_revenue(store):
    """Until now (22 Nov 2026) the year's revenue is Greta 300, Anna 60, Clara 40, Emil 25, Ida 12,
    Dora 8 (Anna's 20 of 10 Mar still counts; Ben's and Jonas's are older): as summed from the
    purchases. Half a year later, before the refresh job ran, the kept figures whose oldest
    purchase left the year are summed from the purchases; the job then counts them again."""
    _shop(store)
    until_now = nps.Period(utc(2026, 11, 1), NOW, "days")
    with store.session() as session:
        kept = _abc_of(reports.build(session, until_now, RULES, NOW).current.abc)
        assert kept == _abc_from_purchases(session, NOW) == ((2, 36000), (2, 6500), (2, 2000))
    later = NOW + timedelta(days=200)  # Anna's 10 Mar and Ida's 20 Jan have left the year
    with store.session() as session:
        assert not purchases.year_revenue_all_fresh(session, later)
        stale = _abc_of(reports.abc(session, later, later))
        assert stale == _abc_from_purchases(session, later)
    with store.session() as session:
        assert purchases.refresh_year_revenue(session, later) >= 2
    with store.session() as session:
        assert purchases.year_revenue_all_fresh(session, later)
        assert _abc_of(reports.abc(session, later, later)) == stale
        assert purchases.refresh_year_revenue(session, later) == 0  # nothing left to do


def _october(store) -> reports.Figures:
    """October's report as /bericht makes it: read, then what was counted is cached."""
    with store.reading() as session:
        report = reports.build(session, OCTOBER, RULES, NOW)
    with store.session() as session:
        reports.remember(session, report)
    return report.current


def test_a_past_period_is_counted_once_and_again_after_a_late_booking(store):
    """October has ended: its costly figures are cached. A purchase booked later with an
    October date (an import), and a reversal of an October purchase, count at once."""
    ids = _shop(store)
    first = _october(store)
    with store.session() as session:
        assert len(session.exec(select(ReportCache)).all()) == 2  # October and September are cached
    with store.reading() as session:
        again = reports.build(session, OCTOBER, RULES, NOW)
    assert again.current == first and again.counted == ()  # nothing counted again
    with store.session() as session:  # booked after the report, dated in October
        late = purchases.book_purchase(session, ids["Ida"], Decimal(20), LOYALTY, utc(2026, 10, 28, 10),
                                       key="test:Ida:late", source=purchases.IMPORT).purchase.id
    with_late = _october(store)
    assert (with_late.buyers, with_late.purchases, with_late.revenue_cents) == (5, 6, 13300)
    assert with_late.points_issued == first.points_issued + 20
    with store.session() as session:
        purchases.reverse_purchase(session, late, "Doppelt importiert", NOW, LOYALTY)
    reversed_again = _october(store)
    assert (reversed_again.buyers, reversed_again.purchases, reversed_again.revenue_cents) == (4, 5, 11300)


def test_a_purchase_after_a_past_period_keeps_its_cached_figures(store):
    ids = _shop(store)
    first = _october(store)
    with store.session() as session:
        marks_before = [(row.key, row.purchase_mark) for row in session.exec(select(ReportCache)).all()]
        purchases.book_purchase(session, ids["Clara"], Decimal(7), LOYALTY, NOW, key="test:Clara:today",
                                source=purchases.COUNTER)
    assert _october(store) == first
    with store.session() as session:  # still the rows of before: nothing was counted again
        assert [(row.key, row.purchase_mark) for row in session.exec(select(ReportCache)).all()] == marks_before


def test_the_last_30_days_are_not_cached(store):
    """The period before "the last 30 days" moves with the clock: nobody asks for it again."""
    _shop(store)
    last_30_days = nps.Period(NOW - timedelta(days=30), NOW, "days")
    with store.reading() as session:
        report = reports.build(session, last_30_days, RULES, NOW)
    assert report.counted == ()
    assert report.previous.period.end == last_30_days.start and report.previous.customers_end == report.current.customers_start


def test_figures_nobody_asked_for_in_months_leave_the_cache(store):
    """October was counted at NOW; September's report counted 100 days later drops October's rows
    (counted more than ``CACHE_DAYS`` before) and keeps its own."""
    _shop(store)
    _october(store)
    later = NOW + timedelta(days=reports.CACHE_DAYS + 10)
    september = nps.Period(utc(2026, 9, 1), utc(2026, 10, 1), "month")
    with store.reading() as session:
        report = reports.build(session, september, RULES, later)
    with store.session() as session:
        reports.remember(session, report)
    with store.session() as session:
        kept = session.exec(select(ReportCache)).all()
        assert {row.computed_at.replace(tzinfo=None) for row in kept} == {later.replace(tzinfo=None)}
        assert len(kept) == 2  # September and August, counted at ``later``
