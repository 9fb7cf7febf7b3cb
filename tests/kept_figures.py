"""The figures the domain keeps on customer rows for fast segments, checked against the tables
they repeat. Storage tests call this after the use cases they run; the end-to-end tests after
every bot process stopped, so every journey checks that no code path forgot to keep them."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timezone

from sqlalchemy import exists, func, select

from domain import ledger, purchases
from domain.rules import loyalty
from domain.config import LoyaltySection
from storage.models import Customer, Purchase, RevenueGroup, Survey, TelegramAccount


def drift(store, rules: LoyaltySection | None = None, now: datetime | None = None) -> dict[str, list]:
    """What disagrees, by figure (empty lists when all is well). The tier points are checked
    only with ``rules`` and ``now`` (they depend on the window)."""
    with store.session() as session:
        reachable_account = exists().where(TelegramAccount.customer_id == Customer.id,
                                           TelegramAccount.unreachable_since.is_(None))
        rows = session.execute(select(Customer.id, Customer.telegram_reachable, reachable_account,
                                      Customer.category_keys, Customer.nps_score)).all()
        bought = defaultdict(list)
        for customer_id, category in session.execute(select(Purchase.customer_id, Purchase.category).distinct().where(
                Purchase.category.is_not(None), Purchase.reversed_at.is_(None))):
            bought[customer_id].append(category)
        answers = session.execute(select(Survey.customer_id, Survey.score).where(Survey.score.is_not(None))
                                  .order_by(Survey.answered_at, Survey.id)).all()
        latest_score = dict(answers)  # the last answer by time, then id, wins
        groups = dict(session.execute(select(Customer.revenue_cents, func.count()).where(Customer.revenue_cents > 0)
                                      .group_by(Customer.revenue_cents)).all())
        kept_groups = dict(session.execute(select(RevenueGroup.revenue_cents, RevenueGroup.customers)).all())
        found = {
            "telegram_reachable": [row.id for row in rows if bool(row[1]) != bool(row[2])],
            "category_keys": [(row.id, row.category_keys) for row in rows
                              if row.category_keys != purchases.category_keys(bought[row.id])],
            "nps_score": [(row.id, row.nps_score) for row in rows if row.nps_score != latest_score.get(row.id)],
            "revenue_groups": sorted(set(groups.items()) ^ set(kept_groups.items())),
            "year_revenue": _year_revenue_drift(session, now),
        }
        if rules is not None:
            start = loyalty.window_start(now, rules)
            points = session.execute(select(Customer.id, ledger.tier_points_column(session, rules, now))).all()
            found["tier_points"] = [(cid, value, ledger.earned_since(session, cid, start)) for cid, value in points
                                    if value != ledger.earned_since(session, cid, start)]
    return found


def _year_revenue_drift(session, now: datetime | None) -> list:
    """The kept year revenue is the sum of the purchases from its oldest on (kept in whole
    seconds); at ``now`` (when given) the revenue of the year before it, as the report reads it.
    Summed here in Python, from the purchases alone."""
    bought = defaultdict(list)
    for customer_id, at, cents in session.execute(select(Purchase.customer_id, Purchase.created_at,
                                                         Purchase.amount_cents).where(Purchase.reversed_at.is_(None))):
        bought[customer_id].append((_seconds(at), cents))
    wrong = []
    for customer_id, kept, oldest in session.execute(select(Customer.id, Customer.year_revenue_cents,
                                                            Customer.year_revenue_oldest)).all():
        from_oldest = sum(cents for at, cents in bought[customer_id] if oldest is not None and at >= oldest)
        if kept != from_oldest:
            wrong.append((customer_id, kept, from_oldest, oldest))
    if now is not None:
        start, end = _seconds(now - purchases.YEAR), _seconds(now)
        for customer_id, read in session.execute(select(Customer.id, purchases.year_revenue_column(session, now))):
            year = sum(cents for at, cents in bought[customer_id] if start <= at < end)
            if read != year:
                wrong.append((customer_id, read, year))
    return wrong


def _seconds(moment: datetime) -> float:
    """Seconds since the epoch; SQLite gives back UTC times without their zone."""
    return (moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)).timestamp()


def assert_kept_figures_agree(store, rules: LoyaltySection | None = None, now: datetime | None = None) -> None:
    wrong = {name: rows for name, rows in drift(store, rules, now).items() if rows}
    assert not wrong, f"figures kept on customer rows disagree with their sources: {wrong}"
