"""A campaign's control group on the database: held back customers get no outbox row, a page
queued again holds back the same people, and the effect leaves reversed purchases out."""

from datetime import timedelta
from decimal import Decimal

from sqlmodel import select

from domain import campaigns, holdout, purchases, segments
from storage.models import CampaignHoldout, OutboxMessage
from tests.use_cases.test_campaigns import CONFIG, NOW, OWNER_USER, RULES, confirm, customer, owner


def test_the_held_back_get_no_message_and_the_effect_counts_only_valid_purchases(store):
    owner_id = owner(store)
    people = [customer(store, 1000 + n) for n in range(60)]
    with store.session() as session:
        campaign = campaigns.start(session, owner_id, OWNER_USER, segments.parse("alle", RULES.segments), None, NOW,
                                   holdout_percent=50)
        campaigns.set_message(session, campaign.id, campaigns.read_message("Hallo!"), None)
    confirm(store, campaign, owner_id)
    with store.session() as session:
        sent = set(session.exec(select(OutboxMessage.customer_id).where(OutboxMessage.campaign_id == campaign.id)))
        held = set(session.exec(select(CampaignHoldout.customer_id).where(CampaignHoldout.campaign_id == campaign.id)))
    assert sent | held == set(people) and not sent & held
    assert held == {c for c in people if holdout.held_back(campaign.id, c, 50)}
    with store.session() as session:  # a page queued again after a crash: nobody new, nobody twice
        holdout.record(session, campaign.id, 1, sorted(held))
    bought_later = NOW + timedelta(days=3)
    buyer, reversed_buyer = sorted(held)[:2]
    with store.session() as session:
        purchases.book_purchase(session, buyer, Decimal(20), CONFIG.loyalty, bought_later, "t:1", purchases.COUNTER)
        wrong_id = purchases.book_purchase(session, reversed_buyer, Decimal(50), CONFIG.loyalty, bought_later, "t:2",
                                        purchases.COUNTER).purchase.id
    with store.session() as session:
        purchases.reverse_purchase(session, wrong_id, "Versehen",
                                   bought_later + timedelta(hours=1), CONFIG.loyalty)
    with store.session() as session:
        waiting = holdout.effects(session, [campaign.id], 14, NOW + timedelta(days=13))[campaign.id]
        assert not waiting.ready and waiting.ready_at == NOW + timedelta(days=14)
        effect = holdout.effects(session, [campaign.id], 14, NOW + timedelta(days=14))[campaign.id]
    assert (effect.held.customers, effect.held.buyers, effect.held.revenue_cents) == (len(held), 1, 2000)
    assert (effect.recipients.customers, effect.recipients.buyers) == (len(sent), 0)
