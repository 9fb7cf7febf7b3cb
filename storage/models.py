"""SQLModel tables. Later features add their tables here with a new Alembic migration.

Times are timezone-aware UTC (see ``UTCDateTime``); Telegram ids are 64-bit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


class Customer(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    first_name: str = Field(max_length=128)
    last_name: str | None = Field(default=None, max_length=128)
    # Chosen with /sprache; None means "follow the Telegram app language".
    language: str | None = Field(default=None, max_length=8)
    # Current marketing consent; ConsentRecord holds the full history behind it.
    marketing_consent: bool = Field(default=False)
    consent_asked: bool = Field(default=False)
    created_at: datetime = Field(sa_type=UTCDateTime)
    last_seen_at: datetime = Field(sa_type=UTCDateTime)


class TelegramAccount(SQLModel, table=True):
    """The Telegram identity of a customer (imported customers may have none yet)."""

    __tablename__ = "telegram_account"

    telegram_user_id: int = Field(sa_type=BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False})
    customer_id: int = Field(foreign_key="customer.id", unique=True)
    chat_id: int = Field(sa_type=BigInteger)
    username: str | None = Field(default=None, max_length=64)
    language_code: str | None = Field(default=None, max_length=16)
    # Set when Telegram says the bot was blocked or the chat is gone; no more sends then.
    unreachable_since: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ConsentWording(SQLModel, table=True):
    """The exact text a consent question showed, so every record can be traced to it."""

    __tablename__ = "consent_wording"

    version: str = Field(primary_key=True, max_length=32)
    language: str = Field(max_length=8)
    text: str
    first_used_at: datetime = Field(sa_type=UTCDateTime)


class ConsentRecord(SQLModel, table=True):
    """Append-only history of consent decisions."""

    __tablename__ = "consent_record"
    __table_args__ = (Index("ix_consent_record_customer_topic", "customer_id", "topic", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id")
    topic: str = Field(max_length=32)
    granted: bool
    wording_version: str | None = Field(default=None, foreign_key="consent_wording.version")
    source: str = Field(max_length=32)
    created_at: datetime = Field(sa_type=UTCDateTime)


class ConversationState(SQLModel, table=True):
    """The step a customer's conversation is in, kept in the database so that a restart or a
    second replica continues it."""

    __tablename__ = "conversation_state"

    customer_id: int = Field(foreign_key="customer.id", primary_key=True)
    step: str = Field(max_length=64)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class OutboxMessage(SQLModel, table=True):
    """A proactive message waiting to be sent, being sent, or done.

    The payload describes the message (a text template and its parameters, or literal text,
    plus buttons) without any Telegram types; the dispatcher renders it at send time.
    """

    __tablename__ = "outbox_message"
    __table_args__ = (
        UniqueConstraint("idempotency_key", name="uq_outbox_idempotency_key"),
        Index("ix_outbox_due", "status", "not_before"),
    )

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(max_length=200)
    chat_id: int = Field(sa_type=BigInteger)
    customer_id: int | None = Field(default=None, foreign_key="customer.id", index=True)
    category: str = Field(max_length=32)  # service | staff | marketing
    payload: dict[str, Any] = Field(sa_type=JSON)
    status: str = Field(default="pending", max_length=16)  # pending | sending | sent | failed
    attempts: int = Field(default=0)
    not_before: datetime = Field(sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=500)
    telegram_message_id: int | None = Field(default=None, sa_type=BigInteger)
    created_at: datetime = Field(sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class MessageLog(SQLModel, table=True):
    """What customers wrote and what the bot understood, for support and NLU improvement."""

    __tablename__ = "message_log"

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int | None = Field(default=None, foreign_key="customer.id", index=True)
    chat_id: int = Field(sa_type=BigInteger)
    direction: str = Field(max_length=8)  # in | out
    kind: str = Field(max_length=16)  # text | command | button
    text: str = Field(max_length=1000)
    intent: str | None = Field(default=None, max_length=64)
    confidence: float | None = None
    created_at: datetime = Field(sa_type=UTCDateTime)
