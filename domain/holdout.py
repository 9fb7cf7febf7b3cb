"""A campaign's control group: did the message make people buy?

A share of the segment (``Campaign.holdout_percent``) does not get the message. Who is held back
follows from a hash of the campaign id and the customer id: random across customers, but the
same answer every time, so a page queued again after a crash (or a later run of a recurring
campaign) holds back the same people. They get no outbox row, only a ``campaign_holdout`` row.

The effect is measured ``effect_days`` after the campaign's first run, for the customers of that
run: recipients (everyone an outbox row was queued for, also when the weekly cap or a withdrawn
consent skipped it later, because the control group holds such customers too) against the held
back. For each group: the share who bought in the window (reversed purchases left out) and the
revenue per customer; the uplift is the difference. Small groups differ by chance, so below
``MIN_GROUP`` customers in either group the figures come with a warning.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import distinct, func
from sqlmodel import Session, select

from storage import sql
from storage.models import Campaign, CampaignHoldout, OutboxMessage, Purchase

MIN_GROUP = 20  # fewer customers in a group, and a difference of a few buyers is chance
MAX_PERCENT = 50  # as in the config: holding back more than half would withhold too much
_BUCKETS = 10_000  # hash buckets: percentages with two decimals would still be exact


def held_back(campaign_id: int, customer_id: int, percent: int) -> bool:
    """Whether the customer is in the campaign's control group: the same answer on every call."""
    if percent <= 0:
        return False
    digest = hashlib.sha256(f"holdout:{campaign_id}:{customer_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % _BUCKETS < percent * _BUCKETS // 100


def split(campaign_id: int, percent: int, found: list[tuple[int, int]]) -> tuple[list[tuple[int, int]], list[int]]:
    """A page of (customer id, chat id): the recipients, and the ids of the held back."""
    recipients, held = [], []
    for customer_id, chat_id in found:
        if held_back(campaign_id, customer_id, percent):
            held.append(customer_id)
        else:
            recipients.append((customer_id, chat_id))
    return recipients, held


def record(session: Session, campaign_id: int, run: int, customer_ids: list[int]) -> None:
    """Note the held back of a run; a page queued again notes nobody twice."""
    if customer_ids:
        sql.insert_new(session, CampaignHoldout.__table__,
                       [{"campaign_id": campaign_id, "run": run, "customer_id": customer_id}
                        for customer_id in customer_ids], key=["campaign_id", "run", "customer_id"])


# --- the effect ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Group:
    customers: int
    buyers: int  # customers who bought (not reversed) in the window
    revenue_cents: int

    @property
    def share_bought(self) -> float:
        """Buyers per customer, 0 to 1."""
        return self.buyers / self.customers if self.customers else 0.0

    @property
    def revenue_per_customer_cents(self) -> float:
        return self.revenue_cents / self.customers if self.customers else 0.0


@dataclass(frozen=True)
class Effect:
    ready_at: datetime  # first run + effect_days: the window is over
    recipients: Group | None = None  # None until ready_at
    held: Group | None = None

    @property
    def ready(self) -> bool:
        return self.recipients is not None

    @property
    def too_small(self) -> bool:
        return self.ready and min(self.recipients.customers, self.held.customers) < MIN_GROUP

    @property
    def uplift_points(self) -> float:
        """Share who bought, recipients minus held back, in percentage points."""
        return 100 * (self.recipients.share_bought - self.held.share_bought)

    @property
    def uplift_revenue_cents(self) -> float:
        """Revenue per customer, recipients minus held back."""
        return self.recipients.revenue_per_customer_cents - self.held.revenue_per_customer_cents


def effects(session: Session, campaign_ids: list[int], effect_days: int, now: datetime) -> dict[int, Effect]:
    """The effect of each campaign that had a control group and has run; not yet measured
    (only ``ready_at``) while its window is open."""
    listed = session.exec(select(Campaign).where(Campaign.id.in_(campaign_ids), Campaign.holdout_percent > 0,
                                                 Campaign.first_run_at.is_not(None))).all()
    return {campaign.id: effect(session, campaign, effect_days, now) for campaign in listed}


def started_between(session: Session, start: datetime, end: datetime, effect_days: int,
                    now: datetime) -> list[tuple[Campaign, Effect]]:
    """The campaigns with a control group whose first run fell in [start, end), oldest first,
    each with its effect (only ``ready_at`` while its window is still open): a report of a
    period answers "did what I sent then bring anyone in?"."""
    listed = session.exec(select(Campaign).where(Campaign.holdout_percent > 0, Campaign.first_run_at >= start,
                                                 Campaign.first_run_at < end)
                          .order_by(Campaign.first_run_at, Campaign.id)).all()
    return [(campaign, effect(session, campaign, effect_days, now)) for campaign in listed]


def effect(session: Session, campaign: Campaign, effect_days: int, now: datetime) -> Effect:
    start = campaign.first_run_at
    end = start + timedelta(days=effect_days)
    if now < end:
        return Effect(end)
    first_run_recipients = (select(OutboxMessage.customer_id)
                            .where(OutboxMessage.campaign_id == campaign.id,
                                   OutboxMessage.idempotency_key.like(f"campaign:{campaign.id}:1:%")))
    first_run_held = select(CampaignHoldout.customer_id).where(CampaignHoldout.campaign_id == campaign.id,
                                                               CampaignHoldout.run == 1)
    return Effect(end, _group(session, first_run_recipients, start, end), _group(session, first_run_held, start, end))


def _group(session: Session, members, start: datetime, end: datetime) -> Group:
    members = members.subquery()
    customers = session.exec(select(func.count(distinct(members.c.customer_id)))).one()
    buyers, revenue = session.exec(
        select(func.count(distinct(Purchase.customer_id)), func.coalesce(func.sum(Purchase.amount_cents), 0))
        .where(Purchase.customer_id.in_(select(members.c.customer_id)), Purchase.created_at >= start,
               Purchase.created_at < end, Purchase.reversed_at.is_(None))).one()
    return Group(customers, buyers, int(revenue))
