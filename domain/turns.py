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
    lock); None when ``begin`` has something to write."""
    registration = customers.known(session, profile, now)
    return _turn(session, registration, now, open_survey) if registration is not None else None


def _turn(session: Session, registration: Registration, now: datetime, open_survey: bool) -> Turn:
    customer_id = registration.customer.id
    step = conversation.current_step(session, customer_id, now)
    ticket = tickets.open_ticket_of(session, customer_id)
    survey = surveys.open_survey(session, customer_id, now) if open_survey and step is None else None
    return Turn(registration, step, ticket.id if ticket else None, survey.id if survey else None)
