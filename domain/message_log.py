"""A log of what customers wrote and what the bot understood."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from storage.models import MessageLog

MAX_TEXT = 1000


def log_inbound(session: Session, customer_id: int | None, chat_id: int, kind: str, text: str, now: datetime,
                intent: str | None = None, confidence: float | None = None) -> None:
    session.add(MessageLog(customer_id=customer_id, chat_id=chat_id, direction="in", kind=kind,
                           text=text[:MAX_TEXT], intent=intent, confidence=confidence, created_at=now))
