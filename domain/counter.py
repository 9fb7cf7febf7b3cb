"""What staff do at the counter, as use cases: book a purchase (its survey is scheduled in the
same transaction), credit a scanned receipt, look a customer up; after a scanned card, book the
amount the staff member answers; take back a booking made a moment ago."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import and_, delete, or_
from sqlmodel import Session, select

from domain import ledger, outbox, purchases, receipts, rewards, surveys, team
from domain.config import LoyaltySection, ShopConfig
from domain.rules.errors import Refusal
from storage.models import CounterPrompt, Purchase, Redemption

# A scanned card's "Betrag?" waits this long for the amount; the customer is at the till now.
AMOUNT_PROMPT_LIFETIME = timedelta(minutes=10)
# A counter booking can be taken back with one press this long ("oops, wrong amount"); later
# it takes /storno with a reason, which the customer is told.
UNDO_WINDOW = timedelta(minutes=10)
UNDO_REASON = "undone at the counter"  # kept on the purchase for the team; the customer gets their own text


def book_purchase_at_counter(session: Session, customer_id: int, amount: Decimal, config: ShopConfig,
                             now: datetime, **booking) -> purchases.Booking:
    """Book a purchase and, in the same transaction, schedule its NPS survey. Staff cannot book
    for their own customer account (``team.SelfService``)."""
    if booking.get("booked_by") is not None:
        team.refuse_self_service(session, team.PURCHASE, customer_id, booking["booked_by"], amount=str(amount),
                                 category=booking.get("category"), key=booking.get("key"))
    result = purchases.book_purchase(session, customer_id, amount, config.loyalty, now, **booking)
    _survey_after(session, result, config, now)
    return result


def credit_scanned_receipt(session: Session, customer_id: int, receipt: receipts.Receipt, config: ShopConfig,
                           now: datetime) -> purchases.Booking:
    """A customer scanned a receipt QR code: its points once, and the survey as for any purchase."""
    result = receipts.redeem(session, customer_id, receipt, config.loyalty, now)
    _survey_after(session, result, config, now)
    return result


def _survey_after(session: Session, booking: purchases.Booking, config: ShopConfig, now: datetime) -> None:
    if not booking.duplicate:
        surveys.schedule_after_purchase(session, booking.customer.id, booking.purchase.id, booking.purchase.created_at,
                                        config.nps, config.shop.timezone, now, config.milestones.post_purchase)


@dataclass(frozen=True)
class CustomerSummary:
    status: ledger.AccountStatus
    recent: list[purchases.PurchaseView]
    open_codes: list[Redemption]


def look_up_customer(session: Session, customer_id: int, rules: LoyaltySection, now: datetime) -> CustomerSummary:
    """/kunde and a scanned card: tier, balance, the last purchases and open reward codes."""
    return CustomerSummary(ledger.account_status(session, customer_id, rules, now),
                           purchases.last_purchases(session, customer_id),
                           rewards.open_redemptions(session, customer_id, now))


# --- a scanned card asks for the amount --------------------------------------------------------

def ask_for_amount(session: Session, chat_id: int, message_id: int, customer_id: int, staff_user_id: int,
                   now: datetime) -> None:
    """Remember the "Betrag?" message: one open question per staff member and chat (a newer scan
    replaces the older one); questions that ran out are cleared on the way."""
    session.execute(delete(CounterPrompt).where(or_(
        CounterPrompt.expires_at <= now,
        and_(CounterPrompt.chat_id == chat_id, CounterPrompt.staff_user_id == staff_user_id))))
    session.add(CounterPrompt(chat_id=chat_id, message_id=message_id, customer_id=customer_id,
                              staff_user_id=staff_user_id, created_at=now, expires_at=now + AMOUNT_PROMPT_LIFETIME))


def forget_expired_questions(session: Session, now: datetime) -> int:
    """Delete the "Betrag?" questions that ran out (who scanned whose card, and when): the
    nightly purge calls it, so a chat that never scans again keeps none. How many went."""
    return session.execute(delete(CounterPrompt).where(CounterPrompt.expires_at <= now)).rowcount


def open_amount_question(session: Session, chat_id: int, staff_user_id: int, replied_message_id: int | None,
                         now: datetime) -> int | None:
    """The open "Betrag?" message a text answers: the one it replies to, or else the staff
    member's own latest question in this chat. None when there is none (or it ran out)."""
    query = select(CounterPrompt.message_id).where(CounterPrompt.chat_id == chat_id, CounterPrompt.expires_at > now)
    if replied_message_id is not None:
        query = query.where(CounterPrompt.message_id == replied_message_id)
    else:
        query = query.where(CounterPrompt.staff_user_id == staff_user_id)
    return session.exec(query.order_by(CounterPrompt.created_at.desc())).first()


class AmountQuestionGone(Refusal):
    """The "Betrag?" was answered already, or ran out (reason ``gone``)."""


def book_answered_amount(session: Session, chat_id: int, prompt_message_id: int, amount: Decimal,
                         config: ShopConfig, now: datetime, **booking) -> purchases.Booking:
    """Book the amount for the scanned customer and close the question, in one transaction."""
    prompt = session.get(CounterPrompt, (chat_id, prompt_message_id))
    if prompt is None or prompt.expires_at <= now:
        raise AmountQuestionGone("gone")
    result = book_purchase_at_counter(session, prompt.customer_id, amount, config, now, **booking)
    session.delete(prompt)
    return result


def close_amount_question(session: Session, chat_id: int, prompt_message_id: int) -> bool:
    """"abbrechen": nothing is booked. False when the question was not open anymore."""
    prompt = session.get(CounterPrompt, (chat_id, prompt_message_id))
    if prompt is None:
        return False
    session.delete(prompt)
    return True


# --- undo a booking made a moment ago -----------------------------------------------------------

class UndoRefusal(Refusal):
    """``reason``: unknown (no such counter booking), too_late (use /storno), already_reversed."""


def undo_counter_booking(session: Session, purchase_id: int, now: datetime,
                         rules: LoyaltySection) -> purchases.Reversal:
    """Take back a counter booking within ``UNDO_WINDOW``. When the customer has not yet been
    told of their points, they are told nothing (the message is withdrawn); otherwise they hear
    that the booking was corrected."""
    purchase = session.get(Purchase, purchase_id)
    if purchase is None or purchase.source != purchases.COUNTER:
        raise UndoRefusal("unknown")
    if purchase.reversed_at is not None:
        raise UndoRefusal("already_reversed")
    if now - purchase.created_at > UNDO_WINDOW:
        raise UndoRefusal("too_late")
    withdrawn = outbox.withdraw(session, f"purchase:{purchase.id}:credited")
    outbox.withdraw(session, f"purchase:{purchase.id}:upgrade")
    surveys.forget_undone_purchase(session, purchase.id)
    try:
        return purchases.reverse_purchase(session, purchase.id, UNDO_REASON, now, rules,
                                          tell_customer=not withdrawn, customer_template="loyalty.undone")
    except purchases.ReversalError as error:
        raise UndoRefusal(error.reason) from None
