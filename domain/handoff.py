"""A customer asks for a person: the staff chat gets a notice through the outbox.

(The complaints feature turns this into a ticket with claims, replies and SLA timers.)
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

from sqlmodel import Session, select

from domain import conversation, outbox
from domain.outbox import MessageSpec
from storage.models import Customer, TelegramAccount

EXCERPT_CHARS = 500
STEP = "handoff_requested"
# One notice per half hour is enough; more messages from an impatient customer would only
# bury the staff chat.
QUIET_PERIOD = timedelta(minutes=30)


class Handoff(enum.Enum):
    REQUESTED = "requested"
    ALREADY_REQUESTED = "already_requested"
    NO_STAFF_CHAT = "no_staff_chat"


def request_human(
    session: Session, customer_id: int, message_text: str | None, request_ref: str,
    staff_chat_id: int | None, now: datetime,
) -> Handoff:
    """Queue a notice for the staff chat. ``request_ref`` names the update that asked, so a
    redelivered update queues nothing new."""
    if staff_chat_id is None:
        return Handoff.NO_STAFF_CHAT
    step = conversation.current_step(session, customer_id, now)
    if step is not None and step.name == STEP:
        return Handoff.ALREADY_REQUESTED
    customer = session.get(Customer, customer_id)
    account = session.exec(select(TelegramAccount).where(TelegramAccount.customer_id == customer_id)).first()
    text = " ".join((message_text or "").split())
    params = {
        "name": " ".join(filter(None, [customer.first_name, customer.last_name])),
        "username": f" (@{account.username})" if account and account.username else "",
        "code": customer.code or str(customer.id),
    }
    if text:
        params["message"] = text[:EXCERPT_CHARS] + ("…" if len(text) > EXCERPT_CHARS else "")
    notice = MessageSpec(template="staff.handoff_message" if text else "staff.handoff", params=params)
    outbox.enqueue(session, f"handoff:{request_ref}", staff_chat_id, notice, outbox.STAFF, now,
                   customer_id=customer.id)
    conversation.set_step(session, customer_id, STEP, now, lifetime=QUIET_PERIOD)
    return Handoff.REQUESTED
