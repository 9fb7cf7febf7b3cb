"""Migrations, column types and constraints on SQLite and PostgreSQL."""

from datetime import datetime, timedelta, timezone

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel

from storage.db import Store, _alembic_config, schema_is_current
from storage.models import Customer, TelegramAccount
from tests.kept_figures import drift

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


@pytest.mark.postgres
def test_postgres_plans_every_query_for_its_values(postgres_server_url):
    """A generic plan (PostgreSQL's choice for a statement psycopg prepared) once walked a whole
    date index for an id range that matched nothing: 16 s at a million customers instead of a
    millisecond. No JIT either (seconds of compiling before a half-second query)."""
    store = Store(postgres_server_url)
    try:
        with store.engine.connect() as connection:
            assert connection.execute(text("SHOW plan_cache_mode")).scalar() == "force_custom_plan"
            assert connection.execute(text("SHOW jit")).scalar() == "off"
    finally:
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


def test_migration_0007_fills_the_new_figures_from_what_0006_kept(database_url):
    """An existing shop upgraded to 0007: categories (from 0006's customer_category), the latest
    NPS answers and the revenue groups are filled in, and agree with their sources."""
    store = Store(database_url)
    try:
        command.upgrade(_alembic_config(store.engine), "0006")
        with store.engine.begin() as connection:
            for cid, name in ((1, "Anna"), (2, "Ben"), (3, "Cem")):
                connection.execute(text(
                    "INSERT INTO customer (id, first_name, marketing_consent, consent_asked, created_at, last_seen_at, "
                    "points_version, purchase_count, revenue_cents, tier_points, telegram_reachable) "
                    "VALUES (:id, :name, false, false, :now, :now, 0, 0, :revenue, 0, false)"),
                    {"id": cid, "name": name, "now": NOW, "revenue": {1: 800, 2: 500, 3: 0}[cid]})
            for pid, cid, cents, category, reversed_at in ((1, 1, 300, "Kaffee", None), (2, 1, 500, "Gebäck", None),
                                                           (3, 2, 500, "gebaeck", None), (4, 2, 200, "Tee", NOW)):
                connection.execute(text(
                    "INSERT INTO purchase (id, idempotency_key, customer_id, amount_cents, category, source, "
                    "created_at, reversed_at) VALUES (:id, :key, :cid, :cents, :category, 'counter', :now, :rev)"),
                    {"id": pid, "key": f"k{pid}", "cid": cid, "cents": cents, "category": category, "now": NOW,
                     "rev": reversed_at})
                if reversed_at is None:
                    connection.execute(text("INSERT INTO customer_category (customer_id, category) VALUES (:c, :n)"),
                                       {"c": cid, "n": category})
            for sid, cid, score, hours in ((1, 1, 10, 1), (2, 1, 3, 2), (3, 2, None, None)):
                connection.execute(text(
                    "INSERT INTO survey (id, customer_id, status, created_at, due_at, score, answered_at, topics) "
                    "VALUES (:id, :cid, 'done', :now, :now, :score, :at, '[]')"),
                    {"id": sid, "cid": cid, "score": score, "now": NOW,
                     "at": NOW + timedelta(hours=hours) if hours else None})
        store.migrate()
        with store.engine.connect() as connection:
            rows = connection.execute(text("SELECT id, category_keys, nps_score FROM customer ORDER BY id")).all()
            groups = connection.execute(text("SELECT revenue_cents, customers FROM revenue_group "
                                             "ORDER BY revenue_cents")).all()
        assert [tuple(row) for row in rows] == [(1, "|geback|kaffee|", 3), (2, "|geback|", None), (3, "", None)]
        assert [tuple(row) for row in groups] == [(500, 1), (800, 1)]
        assert "customer_category" not in inspect(store.engine).get_table_names()
        assert not any(drift(store).values())
    finally:
        store.dispose()


def test_migration_0011_makes_waiting_rows_normal_and_campaigns_idle(database_url):
    """An existing shop upgraded to 0011: its outbox rows are of normal priority, and no
    campaign is in the middle of queuing a run."""
    store = Store(database_url)
    try:
        command.upgrade(_alembic_config(store.engine), "0010")
        with store.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO outbox_message (idempotency_key, chat_id, category, payload, status, attempts, "
                "not_before, created_at) VALUES ('k1', -100, 'staff', '{}', 'pending', 0, :now, :now)"), {"now": NOW})
            connection.execute(text(
                "INSERT INTO campaign (status, nonce, segment, runs, created_by, created_at) "
                "VALUES ('done', 'abc', 'alle', 1, 1, :now)"), {"now": NOW})
        store.migrate()
        with store.engine.connect() as connection:
            assert connection.execute(text("SELECT priority FROM outbox_message")).scalar_one() == 0
            assert connection.execute(text("SELECT queue_cursor, run_queued FROM campaign")).one() == (None, 0)
    finally:
        store.dispose()


def test_migration_0018_fills_the_kept_year_revenue_from_the_purchases(database_url):
    """An existing shop upgraded to 0018: every customer's kept year revenue starts as all their
    purchases (reversals left out), the oldest in whole seconds, rounded down."""
    store = Store(database_url)
    try:
        command.upgrade(_alembic_config(store.engine), "0017")
        first = datetime(2025, 12, 31, 9, 2, 22, 999999)  # stored as UTC without a zone
        with store.engine.begin() as connection:
            for cid, name in ((1, "Anna"), (2, "Ben")):
                connection.execute(text(
                    "INSERT INTO customer (id, first_name, marketing_consent, consent_asked, created_at, last_seen_at, "
                    "points_version, purchase_count, revenue_cents, tier_points, telegram_reachable, category_keys) "
                    "VALUES (:id, :name, false, false, :now, :now, 0, 0, 0, 0, false, '')"),
                    {"id": cid, "name": name, "now": NOW.replace(tzinfo=None)})
            for pid, cid, cents, at, reversed_at in ((1, 1, 300, first, None), (2, 1, 500, first + timedelta(days=30), None),
                                                     (3, 2, 200, first, first)):
                connection.execute(text(
                    "INSERT INTO purchase (id, idempotency_key, customer_id, amount_cents, source, created_at, "
                    "reversed_at) VALUES (:id, :key, :cid, :cents, 'counter', :at, :rev)"),
                    {"id": pid, "key": f"k{pid}", "cid": cid, "cents": cents, "at": at, "rev": reversed_at})
        store.migrate()
        with store.engine.connect() as connection:
            rows = connection.execute(text("SELECT id, year_revenue_cents, year_revenue_oldest FROM customer "
                                           "ORDER BY id")).all()
        seconds = int(first.replace(tzinfo=timezone.utc).timestamp())
        assert [tuple(row) for row in rows] == [(1, 800, seconds), (2, 0, None)]
        assert drift(store)["year_revenue"] == []
    finally:
        store.dispose()
