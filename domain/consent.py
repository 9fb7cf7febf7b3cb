"""Marketing consent: an append-only record of every decision, with the exact wording the
customer saw, and the current state on the customer for fast segment queries.

The default is no marketing: nothing is sent until a customer says yes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from domain import conversation
from storage.models import ConsentRecord, ConsentWording, Customer

MARKETING = "marketing"


@dataclass(frozen=True)
class Wording:
    language: str
    text: str

    @property
    def version(self) -> str:
        return hashlib.sha256(f"{self.language}\n{self.text}".encode()).hexdigest()[:16]


def _remember_wording(session: Session, wording: Wording, now: datetime) -> str:
    if session.get(ConsentWording, wording.version) is None:
        session.add(ConsentWording(version=wording.version, language=wording.language,
                                   text=wording.text, first_used_at=now))
        session.flush()
    return wording.version


def record_marketing_consent(
    session: Session, customer_id: int, granted: bool, source: str, now: datetime,
    wording: Wording | None = None,
) -> bool:
    """Record a decision that changes the customer's consent; return False (and record
    nothing) when it changes nothing, e.g. a double tap on the same button."""
    customer = session.get(Customer, customer_id)
    if customer.consent_asked and customer.marketing_consent == granted:
        return False
    version = _remember_wording(session, wording, now) if wording else None
    session.add(ConsentRecord(customer_id=customer_id, topic=MARKETING, granted=granted,
                              wording_version=version, source=source, created_at=now))
    customer.marketing_consent = granted
    customer.consent_asked = True
    session.add(customer)
    return True


def consent_history(session: Session, customer_id: int) -> list[ConsentRecord]:
    return list(session.exec(
        select(ConsentRecord).where(ConsentRecord.customer_id == customer_id).order_by(ConsentRecord.id)
    ))


# --- what customers do -----------------------------------------------------------------------

MARKETING_STEP = "confirm_marketing"


def ask_to_change_marketing(session: Session, customer_id: int, granted: bool, now: datetime) -> None:
    """opt_in / opt_out in free text: the change waits for a confirmation (button or typed yes/no)."""
    conversation.set_step(session, customer_id, MARKETING_STEP, now, {"granted": granted})


def change_marketing(session: Session, customer_id: int, granted: bool, source: str, now: datetime,
                     wording: Wording | None = None) -> bool:
    """A confirmed change (the button, a typed yes): the open question is settled with it.
    True when the consent changed."""
    conversation.clear_step(session, customer_id)
    return record_marketing_consent(session, customer_id, granted, source, now, wording)


def keep_marketing(session: Session, customer_id: int) -> None:
    """"No" to the question: nothing changes, and the question is settled."""
    conversation.clear_step(session, customer_id)
