"""What staff do at the counter, as use cases: book a purchase (its survey is scheduled in the
same transaction), credit a scanned receipt, look a customer up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlmodel import Session

from domain import ledger, purchases, receipts, rewards, surveys, team
from domain.config import LoyaltySection, ShopConfig
from storage.models import Redemption


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
