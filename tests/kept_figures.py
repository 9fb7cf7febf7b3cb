"""The figures the domain keeps on customer rows for fast segments, checked against the tables
they repeat. Storage tests call this after the use cases they run; the end-to-end tests after
every bot process stopped, so every journey checks that no code path forgot to keep them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, select

from domain import ledger, loyalty
from domain.config import LoyaltySection
from storage.models import Customer, CustomerCategory, Purchase, TelegramAccount


def drift(store, rules: LoyaltySection | None = None, now: datetime | None = None) -> dict[str, list]:
    """What disagrees, by figure (empty lists when all is well). The tier points are checked
    only with ``rules`` and ``now`` (they depend on the window)."""
    with store.session() as session:
        reachable_account = exists().where(TelegramAccount.customer_id == Customer.id,
                                           TelegramAccount.unreachable_since.is_(None))
        flags = session.execute(select(Customer.id, Customer.telegram_reachable, reachable_account)).all()
        kept = set(session.execute(select(CustomerCategory.customer_id, CustomerCategory.category)).all())
        bought = set(session.execute(select(Purchase.customer_id, Purchase.category).distinct().where(
            Purchase.category.is_not(None), Purchase.reversed_at.is_(None))).all())
        found = {
            "telegram_reachable": [row.id for row in flags if bool(row[1]) != bool(row[2])],
            "categories": sorted(kept ^ bought),
        }
        if rules is not None:
            start = loyalty.window_start(now, rules)
            points = session.execute(select(Customer.id, ledger.tier_points_column(session, rules, now))).all()
            found["tier_points"] = [(cid, value, ledger.earned_since(session, cid, start)) for cid, value in points
                                    if value != ledger.earned_since(session, cid, start)]
    return found


def assert_kept_figures_agree(store, rules: LoyaltySection | None = None, now: datetime | None = None) -> None:
    wrong = {name: rows for name, rows in drift(store, rules, now).items() if rows}
    assert not wrong, f"figures kept on customer rows disagree with their sources: {wrong}"
