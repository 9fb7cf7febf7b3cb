"""Staff booking for their own customer account, held for a colleague's confirmation (config
``staff.self_booking: confirm``; the default ``refuse`` refuses it, see ``domain.team``).

The booking a staff member asked for (a purchase, goodwill points, a redemption) is kept with
what is needed to book it later; the staff group (or, without one, the owners) gets it with a
confirm and a decline button. Another member of the team or an owner - never the one who asked,
never someone booking for their own account - confirms it: the booking is then done in the same
transaction, exactly as if that staff member had been allowed to, and everyone hears of it.
A button carries a nonce; a double press, an old or a forged button does nothing.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlmodel import Session

from domain import coupons, counter, outbox, purchases, team, tickets
from domain.config import ShopConfig
from domain.outbox import Button, MessageSpec
from domain.rules.errors import Refusal
from storage.models import Customer, HeldBooking

HELD, BOOKED, DECLINED = "held", "booked", "declined"
CALLBACK = "held"
PATTERN = r"^held:(ok|no):\d{1,12}:[0-9a-f]{12}$"


class HoldRefusal(Refusal):
    """``reason``: already_done (double press, old or forged button), own_request (the one who
    asked cannot confirm it)."""


@dataclass(frozen=True)
class Decided:
    held: HeldBooking
    booked: bool


def hold(session: Session, refusal: team.SelfService, staff_user_id: int, staff_name: str, detail: str,
         staff_chat_id: int | None, owner_ids: tuple[int, ...], now: datetime) -> HeldBooking:
    """Keep a refused self-booking for a colleague's confirmation and ask for it."""
    held = HeldBooking(nonce=secrets.token_hex(6), kind=refusal.what, customer_id=refusal.customer_id,
                       requested_by=staff_user_id, requested_name=staff_name, details=refusal.details,
                       status=HELD, created_at=now)
    session.add(held)
    session.flush()
    customer = session.get(Customer, refusal.customer_id)
    suffix = f"{held.id}:{held.nonce}"
    request = MessageSpec(f"team.self_booking_held.{refusal.what}", {
        "staff": staff_name, "detail": detail, "code": (customer.code if customer else None) or "–"}, buttons=((
            Button("team.self_booking_confirm", callback=f"{CALLBACK}:ok:{suffix}"),
            Button("team.self_booking_decline", callback=f"{CALLBACK}:no:{suffix}"),
        ),))
    # The team sees it where it works; the owners also privately (the one who asked excepted).
    recipients = ([staff_chat_id] if staff_chat_id is not None else []) + [
        owner for owner in owner_ids if owner != staff_user_id]
    for chat_id in recipients:
        outbox.enqueue(session, f"held:{held.id}:{chat_id}", chat_id, request, outbox.STAFF, now)
    return held


def decide(session: Session, held_id: int, nonce: str, approver_id: int, confirmed: bool, config: ShopConfig,
           now: datetime) -> Decided:
    """A colleague's answer: the booking is done (as the one who asked would have done it) or
    dropped; the one who asked hears of it."""
    held = session.get(HeldBooking, held_id)
    if held is None or held.nonce != nonce or held.status != HELD:
        raise HoldRefusal("already_done")
    if approver_id == held.requested_by:
        raise HoldRefusal("own_request")
    if confirmed:
        team.refuse_self_service(session, held.kind, held.customer_id, approver_id)  # not for their own either
        team.approve(session, held.customer_id)
        _book(session, held, config, now)
    held.status, held.decided_by, held.decided_at = (BOOKED if confirmed else DECLINED), approver_id, now
    session.add(held)
    outbox.enqueue(session, f"held:{held.id}:decided", held.requested_by,
                   MessageSpec("team.self_booking_booked" if confirmed else "team.self_booking_declined",
                               {"number": held.id}), outbox.STAFF, now)
    return Decided(held, confirmed)


def _book(session: Session, held: HeldBooking, config: ShopConfig, now: datetime) -> None:
    details = held.details
    if held.kind == team.PURCHASE:
        counter.book_purchase_at_counter(session, held.customer_id, Decimal(details["amount"]), config, now,
                                         key=details["key"], source=purchases.COUNTER,
                                         category=details.get("category"), booked_by=held.requested_by)
    elif held.kind == team.GOODWILL:
        tickets.grant_goodwill(session, details["ticket_id"], details["points"], held.requested_by,
                               held.requested_name, tickets.rules_from(config), now)
    else:
        coupons.redeem_any(session, details["code"], held.requested_by, now)
