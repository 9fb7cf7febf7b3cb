"""Customers' rights to their data on SQLite and PostgreSQL: the export holds every table with a
customer reference (walked from the models here, independently of the export's own walk), and
the erasure leaves no trace of the person in any text or JSON column while the shop's figures
stay exactly as they were; the same Telegram user comes back as a new customer."""

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import JSON, BigInteger, String, func, select
from sqlmodel import SQLModel

from domain import consent, counter, customers, data_rights, feedback, ledger, referrals, surveys, tickets
from domain.config import ShopConfig
from domain.customers import TelegramProfile
from domain.message_log import log_inbound
from storage.models import (ConsentRecord, Customer, DataRequest, OutboxMessage, PointsEntry, Purchase, RevenueGroup,
                            Survey, TelegramAccount)
from tests.kept_figures import assert_kept_figures_agree
from tests.use_cases.people import onboarded_customer

NOW = datetime(2026, 11, 24, 15, 30, tzinfo=timezone.utc)  # a Tuesday afternoon in Berlin
STAFF_CHAT, OWNER, STAFF = -100500, 777, 888
CONFIG = ShopConfig.model_validate({
    "shop": {"name": "Kaffeehaus Morgenrot"},
    "staff": {"admin_ids": [OWNER], "staff_chat_id": STAFF_CHAT},
    "loyalty": {"referral_bonus": 50},
})
RULES = tickets.rules_from(CONFIG)

USER_ID = 987654321987
PERSON = TelegramProfile(USER_ID, USER_ID, "Wilhelmina", "Quackenbusch", "wquack77", "de")
PHONE = "+4915112345678"
WORDS = ["Zimtschneckenteig", "Blaubeermuffinquittung", "Haselnusstorte", "Espressomaschinengeräusch",
         "Pfefferkuchenpaket"]
TRACES = ["Wilhelmina", "Quackenbusch", "wquack77", PHONE, PHONE[3:], str(USER_ID), *WORDS]
# The only link to a customer an export leaves out (other people); everything else must be in it.
LEFT_OUT = {("customer", "referred_by_id")}


def full_customer(store, invited_by: int | None = None) -> int:
    """Everything a customer can leave with the shop: consent with its wording, a birthday and
    phone, purchases (with a survey, answered with a reason), a complaint with messages both
    ways (urgent, so the owners heard of it), feedback, and what they wrote to the bot; invited
    by ``invited_by``, whose referral bonus then names them."""
    with store.session() as session:
        customer_id = customers.register(session, PERSON, NOW).customer.id
        if invited_by is not None:
            assert referrals.attach(session, customer_id, session.get(Customer, invited_by).code, True) == "ok"
    with store.session() as session:
        consent.record_marketing_consent(session, customer_id, True, "onboarding", NOW,
                                         consent.Wording("de", "Möchtest du Angebote und Neuigkeiten bekommen?"))
        customers.set_birthday(session, customer_id, 3, 5, 1990)
        session.get(Customer, customer_id).phone = PHONE
    with store.session() as session:
        counter.book_purchase_at_counter(session, customer_id, Decimal("12.40"), CONFIG, NOW, key="c:1",
                                         source="counter", category="Kuchen", booked_by=STAFF)
    with store.session() as session:
        counter.book_purchase_at_counter(session, customer_id, Decimal("4.50"), CONFIG, NOW + timedelta(hours=1),
                                         key="c:2", source="counter", category="Kaffee", booked_by=STAFF)
    later = NOW + timedelta(days=4)
    with store.session() as session:
        survey = surveys.open_survey(session, customer_id, later)
        surveys.record_score(session, customer_id, survey.id, 4, later)
        surveys.record_reason(session, customer_id, survey.id, f"Das {WORDS[3]} im Laden ist zu laut")
    with store.session() as session:
        ticket = tickets.open_ticket(session, customer_id, tickets.COMPLAINT,
                                     f"Der {WORDS[0]} war klitschig, mein Anwalt hört davon", f"{USER_ID}:10",
                                     RULES, later)
        ticket_id = ticket.id
    with store.session() as session:
        tickets.relay_from_customer(session, ticket_id, customer_id, f"Hier die {WORDS[1]}", None, f"{USER_ID}:11",
                                    RULES, later)
    with store.session() as session:
        tickets.reply_to_customer(session, ticket_id, STAFF, "Mia", "Das tut uns leid, liebe Wilhelmina!",
                                  f"{STAFF_CHAT}:12", later)
    with store.session() as session:
        feedback.record(session, customer_id, f"Eure {WORDS[2]} ist phänomenal, wirklich", STAFF_CHAT,
                        f"{USER_ID}:13", later)
        log_inbound(session, customer_id, USER_ID, "text", f"Wo bleibt mein {WORDS[4]}?", later, "faq", 0.91)
    return customer_id


def other_customer(store) -> int:
    customer_id = onboarded_customer(store, 4242, NOW)
    with store.session() as session:
        counter.book_purchase_at_counter(session, customer_id, Decimal("12.40"), CONFIG, NOW, key="o:1",
                                         source="counter", category="Kaffee", booked_by=STAFF)
    return customer_id


def customer_references() -> list[tuple[str, str]]:
    """Every (table, column) with a foreign key to a customer, straight from the models."""
    return sorted((table.name, fk.parent.name) for table in SQLModel.metadata.sorted_tables
                  for fk in table.foreign_keys if fk.column.table.name == "customer")


def shop_figures(store) -> dict:
    with store.session() as session:
        return {
            "revenue": session.execute(select(func.sum(Purchase.amount_cents))).scalar(),
            "purchases": session.execute(select(func.count(Purchase.id))).scalar(),
            "points": session.execute(select(func.sum(PointsEntry.amount))).scalar(),
            "groups": sorted(session.execute(select(RevenueGroup.revenue_cents, RevenueGroup.customers)).all()),
            "kept": sorted(session.execute(select(
                Customer.id, Customer.purchase_count, Customer.revenue_cents, Customer.first_purchase_at,
                Customer.last_purchase_at, Customer.category_keys, Customer.nps_score)).all()),
        }


def _holds_text(column) -> bool:
    """Text and JSON columns, SQLModel's AutoString (a type decorator over String) included."""
    kind = getattr(column.type, "impl", column.type)
    return isinstance(kind, (String, JSON)) or isinstance(column.type, JSON)


def test_the_scan_reads_every_kind_of_text_column():
    names = {(table.name, column.name) for table in SQLModel.metadata.sorted_tables for column in table.columns
             if _holds_text(column)}
    assert {("outbox_message", "idempotency_key"), ("outbox_message", "payload"), ("customer", "first_name"),
            ("telegram_account", "username"), ("message_log", "text"), ("customer", "category_keys")} <= names


def traces_left(store) -> list[tuple[str, str, str]]:
    """Every text or JSON value in the database that still names the person or repeats their
    words, and every 64-bit id column holding their Telegram id."""
    found = []
    with store.session() as session:
        for table in SQLModel.metadata.sorted_tables:
            for column in table.columns:
                if _holds_text(column):
                    for (value,) in session.execute(select(column).where(column.is_not(None))):
                        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                        found += [(table.name, column.name, trace) for trace in TRACES
                                  if trace.lower() in text.lower()]
                elif isinstance(column.type, BigInteger):
                    if session.execute(select(func.count()).where(column == USER_ID)).scalar():
                        found.append((table.name, column.name, str(USER_ID)))
    return found


def test_the_export_holds_every_table_with_a_customer_reference(store):
    customer_id = full_customer(store)
    other_customer(store)
    with store.session() as session:
        export = data_rights.export_my_data(session, customer_id, NOW)
    references = [ref for ref in customer_references() if ref not in LEFT_OUT]
    assert references, "the models have tables with a customer reference"
    with store.session() as session:
        for table_name, column_name in references:
            table = SQLModel.metadata.tables[table_name]
            stored = session.execute(select(table).where(table.c[column_name] == customer_id)).all()
            assert table_name in export.tables, f"{table_name} is missing from the export"
            exported = [row for row in export.tables[table_name] if row[column_name] == customer_id]
            assert len(exported) == len(stored), f"{table_name}: {len(exported)} of {len(stored)} rows exported"
    tables = export.tables
    (profile,) = tables["customer"]
    assert (profile["first_name"], profile["last_name"], profile["phone"], profile["birthday_day"]) == (
        "Wilhelmina", "Quackenbusch", PHONE, 3)
    assert [row["username"] for row in tables["telegram_account"]] == ["wquack77"]
    # consent history with the exact wording and time of the answer
    (answer,) = tables["consent_record"]
    (wording,) = [w for w in tables["consent_wording"] if w["version"] == answer["wording_version"]]
    assert (answer["granted"], wording["text"]) == (True, "Möchtest du Angebote und Neuigkeiten bekommen?")
    assert answer["created_at"] == NOW.isoformat()
    assert sorted(row["amount_cents"] for row in tables["purchase"]) == [450, 1240]
    assert len(tables["points_entry"]) == 2 and len(tables["survey"]) == 1
    assert any(WORDS[1] in (event["text"] or "") for event in tables["ticket_event"])  # reached through the ticket
    assert WORDS[2] in tables["feedback"][0]["text"] and WORDS[4] in tables["message_log"][0]["text"]
    assert {row["idempotency_key"] for row in tables["outbox_message"]} >= {"purchase:1:credited", "survey:1"}
    assert len(tables["customer"]) == 1  # their row, nobody else's
    assert json.loads(json.dumps(export.as_json()))["customer_id"] == customer_id  # plain JSON values
    with store.session() as session:
        assert session.execute(select(DataRequest.kind, DataRequest.executed_by)).all() == [("export", None)]


def test_erasure_leaves_no_trace_keeps_the_figures_and_a_new_start_is_a_new_customer(store):
    other = other_customer(store)
    customer_id = full_customer(store, invited_by=other)
    before = shop_figures(store)
    assert len(traces_left(store)) > 10  # the scan finds what is there
    with store.session() as session:
        lost = data_rights.ask_to_erase_my_data(session, customer_id, "a1b2c3d4e5f6", NOW)
    with store.session() as session:
        balance = ledger.current_balance(session, customer_id, NOW)
    assert balance > 0 and (lost.balance, lost.open_tickets) == (balance, 1)
    with store.session() as session:  # a forged nonce erases nothing
        with pytest.raises(data_rights.RightsRefusal):
            data_rights.confirm_my_erasure(session, USER_ID, "de", "de", "ffffffffffff", NOW)
    assert len(traces_left(store)) > 10
    with store.session() as session:
        erased = data_rights.confirm_my_erasure(session, USER_ID, "de", "de", "a1b2c3d4e5f6", NOW)
    assert (erased.customer_id, erased.language) == (customer_id, "de")
    with store.session() as session:  # the same button again: nothing
        with pytest.raises(data_rights.RightsRefusal):
            data_rights.confirm_my_erasure(session, USER_ID, "de", "de", "a1b2c3d4e5f6", NOW)

    assert traces_left(store) == []
    assert shop_figures(store) == before
    assert_kept_figures_agree(store, CONFIG.loyalty, NOW)
    with store.session() as session:
        row = session.get(Customer, customer_id)
        assert (row.code, row.birthday_year, row.erased_at, row.telegram_reachable) == (None, None, NOW, False)
        assert session.get(TelegramAccount, USER_ID) is None
        assert session.execute(select(func.count(ConsentRecord.id))).scalar() == 2  # kept, on the anonymous row
        their_survey = session.execute(select(Survey.id).where(Survey.customer_id == customer_id)).scalar_one()
        pending = session.execute(select(OutboxMessage.status, OutboxMessage.last_error)
                                  .where(OutboxMessage.idempotency_key == f"survey:{their_survey}")).one()
        assert tuple(pending) == ("skipped", data_rights.SKIPPED_REASON)
        assert session.execute(select(DataRequest.kind)).scalars().all() == ["erasure"]
        assert session.get(Customer, other).first_name == "Anna"  # nobody else is touched
        bonus = session.execute(select(PointsEntry.amount, PointsEntry.note).where(
            PointsEntry.idempotency_key == f"referral:{customer_id}:referrer")).one()
        assert tuple(bonus) == (50, None)  # Anna keeps the bonus for inviting them, not their name
    with store.session() as session:
        again = customers.register(session, PERSON, NOW + timedelta(days=1))
        assert again.is_new and again.customer.id != customer_id
        assert ledger.balance(session, again.customer.id) == 0


def test_an_owner_erases_by_customer_code_only_with_their_own_confirmation(store):
    customer_id = full_customer(store)
    owner_row = onboarded_customer(store, OWNER, NOW)
    other_owner = onboarded_customer(store, 778, NOW)
    with store.session() as session:
        code = session.get(Customer, customer_id).code
    with store.session() as session:
        with pytest.raises(data_rights.RightsRefusal) as refused:
            data_rights.ask_to_erase_for_owner(session, owner_row, "K7Q", "0123456789ab", NOW)
        assert refused.value.reason == "invalid_code"
    with store.session() as session:
        data_rights.ask_to_erase_for_owner(session, owner_row, code.lower(), "0123456789ab", NOW)
    with store.session() as session:  # another owner pressing the same button: nothing
        with pytest.raises(data_rights.RightsRefusal):
            data_rights.confirm_erasure(session, other_owner, "0123456789ab", NOW, executed_by=778)
    with store.session() as session:
        erased = data_rights.confirm_erasure(session, owner_row, "0123456789ab", NOW, executed_by=OWNER)
    assert (erased.customer_id, erased.code) == (customer_id, code)
    assert traces_left(store) == []
    with store.session() as session:
        assert session.execute(select(DataRequest.customer_id, DataRequest.executed_by)).all() == [
            (customer_id, OWNER)]
        with pytest.raises(data_rights.RightsRefusal) as refused:  # the code is gone with the person
            data_rights.export_for_owner(session, code, OWNER, NOW)
        assert refused.value.reason == "unknown_code"


def test_inactive_customers_are_due_for_erasure_after_the_configured_years(store):
    active = full_customer(store)  # registered and bought on 24 Nov 2026
    quiet = onboarded_customer(store, 4242, NOW - timedelta(days=30))  # 25 Oct 2026, never again
    assert CONFIG.privacy.inactive_years == 3
    with store.session() as session:
        assert data_rights.due_for_erasure(session, datetime(2029, 10, 20, tzinfo=timezone.utc), 3) == []
        due = data_rights.due_for_erasure(session, datetime(2029, 11, 10, tzinfo=timezone.utc), 3)
    assert due == [quiet]
    with store.session() as session:
        assert data_rights.erase_customer(session, quiet, NOW, executed_by=data_rights.RETENTION_JOB)
    with store.session() as session:
        assert data_rights.erase_customer(session, quiet, NOW) is False  # once
        assert data_rights.due_for_erasure(session, datetime(2029, 12, 1, tzinfo=timezone.utc), 3) == [active]
