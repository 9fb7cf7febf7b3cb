"""The step a customer's conversation is in ("confirm opt-out", later "awaiting complaint
details" ...), stored in the database with an expiry so a forgotten question does not turn
a "ja" days later into an action."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from storage.models import ConversationState

DEFAULT_LIFETIME = timedelta(minutes=30)


@dataclass(frozen=True)
class Step:
    name: str
    data: dict[str, Any] = field(default_factory=dict)


def set_step(session: Session, customer_id: int, name: str, now: datetime,
             data: dict[str, Any] | None = None, lifetime: timedelta = DEFAULT_LIFETIME) -> None:
    state = session.get(ConversationState, customer_id) or ConversationState(customer_id=customer_id, step=name,
                                                                               expires_at=now, updated_at=now)
    state.step, state.data = name, dict(data or {})
    state.expires_at, state.updated_at = now + lifetime, now
    session.add(state)


def current_step(session: Session, customer_id: int, now: datetime) -> Step | None:
    return step_of(session.get(ConversationState, customer_id), now)


def step_of(state: ConversationState | None, now: datetime) -> Step | None:
    """The step a stored state stands for: none when there is none or it has expired."""
    if state is None or state.expires_at <= now:
        return None
    return Step(state.step, dict(state.data or {}))


def clear_step(session: Session, customer_id: int) -> None:
    state = session.get(ConversationState, customer_id)
    if state is not None:
        session.delete(state)


def take_step(session: Session, customer_id: int, name: str, now: datetime) -> Step | None:
    """The open step if it is ``name``, cleared in the same transaction (a second tap finds none)."""
    step = current_step(session, customer_id, now)
    if step is None or step.name != name:
        return None
    clear_step(session, customer_id)
    return step
