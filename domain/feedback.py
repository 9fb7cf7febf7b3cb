"""Praise and suggestions (/feedback and the feedback intent): stored with their topics and
passed on to the staff group through the outbox - praise too, it makes the team's day."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from domain import conversation, outbox
from domain.rules import topics
from domain.rules.words import word_count
from domain.outbox import MessageSpec
from storage.models import Customer, Feedback

MAX_CHARS = 2000
EXCERPT_CHARS = 1000


def record(session: Session, customer_id: int, text: str, staff_chat_id: int | None, request_ref: str,
           now: datetime, lexicon: topics.Lexicon = topics.DEFAULT_LEXICON) -> Feedback:
    """Store the feedback and queue the staff notice; ``request_ref`` names the customer's
    message, so a redelivered update queues no second notice."""
    existing = session.exec(select(Feedback).where(Feedback.request_ref == request_ref)).first()
    if existing is not None:
        return existing
    cleaned = " ".join((text or "").split())[:MAX_CHARS]
    entry = Feedback(request_ref=request_ref, customer_id=customer_id, text=cleaned,
                     topics=list(topics.tag_topics(cleaned, lexicon)), created_at=now)
    session.add(entry)
    session.flush()
    if staff_chat_id is not None:
        customer = session.get(Customer, customer_id)
        excerpt = cleaned[:EXCERPT_CHARS] + ("…" if len(cleaned) > EXCERPT_CHARS else "")
        notice = MessageSpec("staff.feedback", {"name": customer.first_name, "code": customer.code or "",
                                                "message": excerpt, "topics": ", ".join(entry.topics)},
                             silent=True)  # praise and ideas can wait; a new ticket's alert rings
        outbox.enqueue(session, f"feedback:{request_ref}", staff_chat_id, notice, outbox.STAFF, now,
                       customer_id=customer_id)
    return entry


# --- what customers do -----------------------------------------------------------------------

FEEDBACK_STEP = "awaiting_feedback"
# "Ich hab Feedback" asks for it; a message that already says something is the feedback.
MIN_WORDS = 5


def says_enough(text: str) -> bool:
    return word_count(text) >= MIN_WORDS  # words, not any five tokens: "<a> `=> '' //" says nothing


def ask_for_feedback(session: Session, customer_id: int, now: datetime) -> None:
    """/feedback: the customer's next text is the feedback."""
    conversation.set_step(session, customer_id, FEEDBACK_STEP, now)


def give_feedback(session: Session, customer_id: int, text: str, staff_chat_id: int | None, request_ref: str,
                  now: datetime) -> Feedback:
    """The feedback itself (after /feedback, or a message that already says it)."""
    conversation.take_step(session, customer_id, FEEDBACK_STEP, now)
    return record(session, customer_id, text, staff_chat_id, request_ref, now)
