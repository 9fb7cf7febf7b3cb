"""Migrations, column types and constraints on SQLite and PostgreSQL."""

from datetime import datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel

from storage.db import Store, schema_is_current
from storage.models import Customer, TelegramAccount

NOW = datetime(2026, 11, 22, 9, 30, tzinfo=timezone.utc)
TABLES = {"customer", "telegram_account", "consent_wording", "consent_record", "conversation_state",
          "outbox_message", "message_log", "purchase", "points_entry", "redemption", "used_receipt", "survey", "feedback",
          "alembic_version"}


def test_migrations_create_every_table_and_are_idempotent(store):
    assert TABLES <= set(inspect(store.engine).get_table_names())
    assert schema_is_current(store.engine)
    store.migrate()  # a second start must not fail or change anything
    assert schema_is_current(store.engine)


def test_migrations_match_the_models(store):
    """A model change without its migration would break only on a customer's database."""
    with store.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert differences == []


def test_fresh_database_is_not_current(database_url):
    store = Store(database_url)
    try:
        assert not schema_is_current(store.engine)
    finally:
        store.dispose()


def test_sqlite_uses_wal(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'x.db'}")
    with store.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    store.dispose()


def test_times_come_back_aware_in_utc(store):
    berlin = timezone(timedelta(hours=1))
    with store.session() as session:
        customer = Customer(first_name="Anna", created_at=NOW.astimezone(berlin), last_seen_at=NOW)
        session.add(customer)
    with store.session() as session:
        loaded = session.get(Customer, customer.id)
        assert loaded.created_at == NOW and loaded.created_at.tzinfo is not None


def test_naive_times_are_refused(store):
    with pytest.raises(Exception, match="naive datetime"):
        with store.session() as session:
            session.add(Customer(first_name="Anna", created_at=datetime(2026, 1, 1), last_seen_at=NOW))


def test_telegram_ids_are_64_bit_and_unique(store):
    big = 7_000_000_000  # Telegram user ids exceed 32 bits
    with store.session() as session:
        customer = Customer(first_name="Anna", created_at=NOW, last_seen_at=NOW)
        session.add(customer)
        session.flush()
        session.add(TelegramAccount(telegram_user_id=big, customer_id=customer.id, chat_id=big))
    with store.session() as session:
        assert session.get(TelegramAccount, big).chat_id == big
    with pytest.raises(IntegrityError):
        with store.session() as session:
            session.add(TelegramAccount(telegram_user_id=big, customer_id=customer.id, chat_id=1))


def test_foreign_keys_are_enforced(store):
    with pytest.raises(IntegrityError):
        with store.session() as session:
            session.add(TelegramAccount(telegram_user_id=5, customer_id=999_999, chat_id=5))
