"""Imported customers (paper card, till system) link their Telegram account by sharing their
own phone number: the imported customer takes over the Telegram account, and whatever the
fresh chat customer already had (consent, conversation, points) moves over to them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import phonenumbers
from sqlalchemy import update
from sqlmodel import Session, select

from domain import conversation, ledger, purchases, reports, surveys
from storage.models import (CampaignHoldout, ConsentRecord, ConversationState, CounterPrompt, Coupon, Customer,
                            DataRequest, Feedback, HeldBooking, MessageLog, OutboxMessage, PointsEntry, Purchase,
                            Redemption, Survey, TelegramAccount, Ticket, UsedReceipt)

# Every table whose rows belong to a customer; a merge moves them all.
_OWNED = (ConsentRecord, Coupon, Feedback, MessageLog, OutboxMessage, PointsEntry, Purchase, Redemption, Survey, Ticket,
          UsedReceipt, DataRequest, HeldBooking, CampaignHoldout, CounterPrompt)


def normalize_phone(text: str, region: str = "DE") -> str | None:
    """"0151 1234567", "+49 151 1234567", "4915112345678" -> "+4915112345678"; None if invalid."""
    raw = (text or "").strip()
    if raw and raw[0].isdigit() and not raw.startswith("0"):
        raw = "+" + raw  # Telegram clients send the own number without "+"
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# The phone-number keyboard is offered: its "skip" button is this step's answer. A day, not the
# usual half hour: the keyboard stays on the customer's screen, and skipping is harmless.
PHONE_STEP = "share_phone_number"
PHONE_STEP_LIFETIME = timedelta(days=1)


def offer_phone_number(session: Session, customer_id: int, now: datetime) -> None:
    conversation.set_step(session, customer_id, PHONE_STEP, now, lifetime=PHONE_STEP_LIFETIME)


def skip_phone_number(session: Session, customer_id: int, now: datetime) -> bool:
    """The customer pressed "skip": True when the offer was open (and is now closed)."""
    return conversation.take_step(session, customer_id, PHONE_STEP, now) is not None


def imported_waiting(session: Session) -> bool:
    """Are there imported customers who have not linked Telegram yet? (Then we offer linking.)"""
    linked = select(TelegramAccount.customer_id)
    return session.exec(
        select(Customer.id).where(Customer.external_ref.is_not(None), Customer.id.not_in(linked)).limit(1)
    ).first() is not None


def link_by_phone(session: Session, telegram_user_id: int, phone_text: str) -> tuple[str, Customer | None]:
    """Returns (outcome, customer): ``linked``, ``already_linked``, ``not_found``, ``ambiguous``
    or ``invalid``."""
    account = session.get(TelegramAccount, telegram_user_id)
    current = session.get(Customer, account.customer_id)
    if current.external_ref is not None:
        return "already_linked", current
    phone = normalize_phone(phone_text)
    if phone is None:
        return "invalid", None
    linked = select(TelegramAccount.customer_id)
    candidates = session.exec(
        select(Customer).where(Customer.phone == phone, Customer.external_ref.is_not(None), Customer.id.not_in(linked))
        .order_by(Customer.id).limit(2)
    ).all()
    if not candidates:
        return "not_found", None
    if len(candidates) > 1:  # a shared family number: staff must decide whose card it is
        return "ambiguous", None
    target = candidates[0]
    _merge(session, source=current, target=target, account=account)
    return "linked", target


def _drop_double_holdout(session: Session, source_id: int, target_id: int) -> None:
    """Held back under both ids in the same run: one row stays (the key allows one)."""
    target_runs = set(session.exec(select(CampaignHoldout.campaign_id, CampaignHoldout.run)
                                   .where(CampaignHoldout.customer_id == target_id)).all())
    for row in session.exec(select(CampaignHoldout).where(CampaignHoldout.customer_id == source_id)).all():
        if (row.campaign_id, row.run) in target_runs:
            session.delete(row)
    session.flush()


def _merge(session: Session, source: Customer, target: Customer, account: TelegramAccount) -> None:
    ledger.lock_many(session, (source.id, target.id))
    _drop_double_holdout(session, source.id, target.id)
    for table in _OWNED:
        session.execute(update(table).where(table.customer_id == source.id).values(customer_id=target.id))
    session.execute(update(Customer).where(Customer.referred_by_id == source.id).values(referred_by_id=target.id))
    purchases.refresh_stats(session, [source.id, target.id])
    reports.forget_cached(session)  # the past figures counted them as two customers
    surveys.refresh_latest_scores(session, [target.id])
    state = session.get(ConversationState, source.id)
    if state is not None:
        session.delete(state)
    target.marketing_consent, target.consent_asked = source.marketing_consent, source.consent_asked
    target.language = target.language or source.language
    target.referred_by_id = target.referred_by_id or source.referred_by_id
    target.last_seen_at = max(target.last_seen_at, source.last_seen_at)
    account.customer_id = target.id
    target.telegram_reachable = account.unreachable_since is None
    session.add_all([target, account])
    session.flush()
    session.delete(source)
    session.flush()
