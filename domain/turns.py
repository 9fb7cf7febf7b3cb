"""A customer's message, as the business sees it before it is understood: who wrote (registered
on first contact), the step their conversation is in, their open ticket and, when the message
may be a score, their open survey. Read in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from domain import conversation, customers, surveys, tickets
from domain.conversation import Step
from domain.customers import Registration, TelegramProfile
from storage.models import ConversationState, Customer


# The account and the customer, with their step and open ticket (built once, as that query).
_TURN_OF_ACCOUNT = (
    customers.ACCOUNT_AND_CUSTOMER.add_columns(ConversationState, tickets.open_ticket_id_of(Customer.id))
    .outerjoin(ConversationState, ConversationState.customer_id == Customer.id)
)


@dataclass(frozen=True)
class Turn:
    registration: Registration
    step: Step | None
    open_ticket_id: int | None
    open_survey_id: int | None


def begin(session: Session, profile: TelegramProfile, now: datetime, *, open_survey: bool = False) -> Turn:
    """``open_survey``: look for an open survey too (only a message outside any step that may
    be a score needs it)."""
    return _turn(session, customers.register(session, profile, now), now, open_survey)


def peek(session: Session, profile: TelegramProfile, now: datetime, *, open_survey: bool = False) -> Turn | None:
    """``begin`` for a known customer whose data it would not change, reading only (no write
    lock); None when ``begin`` has something to write.

    Every message of a regular takes this path, so the account, the customer, the step and
    the open ticket come in one query: each round trip costs more Python than its SQL, and in a
    worker thread each is a point where the thread waits for the event loop to let go of the GIL."""
    row = session.exec(_TURN_OF_ACCOUNT, params={"user_id": profile.user_id}).first()
    if row is None:
        return None
    account, customer, state, ticket_id = row
    registration = customers.unchanged_registration(account, customer, profile, now)
    if registration is None:
        return None
    step = conversation.step_of(state, now)
    return Turn(registration, step, ticket_id, _open_survey_id(session, customer.id, now, open_survey and step is None))


def _turn(session: Session, registration: Registration, now: datetime, open_survey: bool) -> Turn:
    customer_id = registration.customer.id
    step = conversation.current_step(session, customer_id, now)
    ticket = tickets.open_ticket_of(session, customer_id)
    return Turn(registration, step, ticket.id if ticket else None,
                _open_survey_id(session, customer_id, now, open_survey and step is None))


def _open_survey_id(session: Session, customer_id: int, now: datetime, wanted: bool) -> int | None:
    survey = surveys.open_survey(session, customer_id, now) if wanted else None
    return survey.id if survey else None
