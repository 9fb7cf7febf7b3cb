"""Customers for storage tests, made the way the bot makes them."""

from datetime import datetime

from domain import consent, customers
from domain.customers import TelegramProfile


def onboarded_customer(store, user_id: int, now: datetime, consent_granted: bool = True) -> int:
    """A customer who started the bot and answered the marketing question."""
    with store.session() as session:
        customer_id = customers.register(session, TelegramProfile(user_id, user_id, "Anna"), now).customer.id
    with store.session() as session:
        consent.record_marketing_consent(session, customer_id, consent_granted, "onboarding", now)
    return customer_id
