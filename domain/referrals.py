"""Customers recommending the shop: a personal deep link, and a bonus for both sides once the
new customer makes a first purchase.

Only a customer who is new when they arrive through the link can be referred; nobody refers
themselves; each side is credited once (the idempotency keys name the referred customer).
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, func, select

from domain import customers, ledger, outbox
from domain.rules import loyalty
from domain.config import LoyaltySection
from domain.outbox import MessageSpec
from storage.models import Customer, Purchase

PAYLOAD_PREFIX = "ref_"


def payload_for(customer: Customer) -> str:
    return PAYLOAD_PREFIX + customer.code


def attach(session: Session, new_customer_id: int, referrer_code: str, is_new: bool) -> str:
    """Note who referred a customer who just arrived through a link; returns the outcome:
    ``ok``, ``unknown_code``, ``self``, ``not_new`` or ``already``."""
    referrer = customers.find_by_code(session, referrer_code)
    if referrer is None:
        return "unknown_code"
    if referrer.id == new_customer_id:
        return "self"
    customer = session.get(Customer, new_customer_id)
    if customer.referred_by_id is not None:
        return "already"
    if not is_new:
        return "not_new"
    customer.referred_by_id = referrer.id
    session.add(customer)
    return "ok"


def _purchase_count(session: Session, customer_id: int) -> int:
    return session.exec(select(func.count()).select_from(Purchase).where(Purchase.customer_id == customer_id)).one()


def credit_first_purchase(session: Session, customer: Customer, rules: LoyaltySection, now: datetime) -> bool:
    """Called under the customer's lock right after a purchase was booked."""
    if customer.referred_by_id is None or rules.referral_bonus <= 0 or _purchase_count(session, customer.id) != 1:
        return False
    bonus, expires_at = rules.referral_bonus, loyalty.expiry_of(now, rules)  # bonus points expire like any
    new_entry = ledger.add_entry(session, customer.id, bonus, ledger.REFERRAL, f"referral:{customer.id}:new", now,
                                 expires_at=expires_at)
    if new_entry is None:
        return False
    ledger.lock(session, customer.referred_by_id)
    ledger.add_entry(session, customer.referred_by_id, bonus, ledger.REFERRAL, f"referral:{customer.id}:referrer",
                     now, note=customer.first_name[:200], expires_at=expires_at)
    for who, template, params in (
        (customer.id, "referral.bonus_new", {"points": bonus}),
        (customer.referred_by_id, "referral.bonus_referrer", {"points": bonus, "friend": customer.first_name}),
    ):
        account = customers.chat_of(session, who)
        if account is not None:
            outbox.enqueue(session, f"referral:{customer.id}:{who}", account.chat_id, MessageSpec(template, params),
                           outbox.SERVICE, now, customer_id=who)
    return True
