"""Linking an imported customer to a Telegram account by the customer's own phone number."""

from datetime import datetime, timezone

import pytest
from sqlmodel import SQLModel, select

from domain import customers, feedback, ledger, linking, surveys, tickets
from domain.config import ShopConfig, ShopSection
from storage.models import ConsentRecord, Customer, Feedback, Survey, TelegramAccount, Ticket
from tests.kept_figures import assert_kept_figures_agree
from tests.use_cases.people import onboarded_customer

NOW = datetime(2026, 11, 22, 9, 30, tzinfo=timezone.utc)


@pytest.mark.parametrize("typed, expected", [
    ("+49 151 12345678", "+4915112345678"),
    ("4915112345678", "+4915112345678"),  # Telegram clients send the own number without "+"
    ("0151 12345678", "+4915112345678"),
    ("+43 664 1234567", "+436641234567"),
    ("12345", None),
    ("", None),
    ("keine Nummer", None),
])
def test_phone_numbers_are_normalized(typed, expected):
    assert linking.normalize_phone(typed) == expected


def imported(store, ref: str, phone: str, points: int = 0) -> int:
    with store.session() as session:
        customer = Customer(code=customers.unused_customer_code(session), first_name="Imported " + ref,
                            external_ref=ref, phone=phone, created_at=NOW, last_seen_at=NOW)
        session.add(customer)
        session.flush()
        if points:
            ledger.add_entry(session, customer.id, points, ledger.IMPORT, f"import:opening:{ref}", NOW)
        return customer.id


def chat_customer(store, user_id: int, consent_granted: bool = True) -> int:
    return onboarded_customer(store, user_id, NOW, consent_granted)


def link(store, user_id: int, phone: str):
    with store.session() as session:
        outcome, customer = linking.link_by_phone(session, user_id, phone)
        return outcome, customer.id if customer else None


def test_the_imported_card_takes_over_the_account_and_what_the_chat_customer_had(store):
    card = imported(store, "K-1", "+4915112345678", points=120)
    fresh = chat_customer(store, 4242)
    assert link(store, 4242, "4915112345678") == ("linked", card)
    with store.session() as session:
        assert session.get(TelegramAccount, 4242).customer_id == card
        assert session.get(Customer, fresh) is None
        assert session.get(Customer, card).marketing_consent
        assert [r.customer_id for r in session.exec(select(ConsentRecord))] == [card]
        assert ledger.balance(session, card) == 120
        assert session.get(Customer, card).telegram_reachable
    assert link(store, 4242, "4915112345678") == ("already_linked", card)
    assert_kept_figures_agree(store)


def test_feedback_tickets_and_survey_answers_move_with_the_merge(store):
    card = imported(store, "K-1", "+4915112345678")
    fresh = chat_customer(store, 4242)
    with store.session() as session:
        session.add(Survey(customer_id=fresh, status=surveys.DONE, created_at=NOW, due_at=NOW, score=3, answered_at=NOW))
        surveys.refresh_latest_scores(session, [fresh])
        feedback.record(session, fresh, "Tolle Torte!", None, "feedback:1", NOW)
        tickets.open_ticket(session, fresh, tickets.KINDS[0], "Kaffee war kalt", "ticket:1",
                            tickets.rules_from(ShopConfig(shop=ShopSection(name="Kaffeehaus"))), NOW)
    assert link(store, 4242, "+4915112345678") == ("linked", card)
    with store.session() as session:
        assert session.get(Customer, fresh) is None
        for table in (Survey, Feedback, Ticket):
            assert [row.customer_id for row in session.exec(select(table))] == [card], table
        assert session.get(Customer, card).nps_score == 3  # the nps:detraktor segment finds the card now
    assert_kept_figures_agree(store)


def test_unknown_shared_and_invalid_numbers_link_nothing(store):
    imported(store, "K-1", "+4915111111111")
    imported(store, "K-2", "+4915111111111")  # one number for two cards: a family
    fresh = chat_customer(store, 4242)
    assert link(store, 4242, "+4915111111111") == ("ambiguous", None)
    assert link(store, 4242, "+4915199999999") == ("not_found", None)
    assert link(store, 4242, "nonsense") == ("invalid", None)
    with store.session() as session:
        assert session.get(TelegramAccount, 4242).customer_id == fresh


def test_the_merge_moves_every_table_that_belongs_to_a_customer():
    """A table added later with a customer_id would otherwise keep the merged customer's rows,
    and deleting that customer would fail on its foreign key."""
    handled_apart = {"customer", "telegram_account", "conversation_state"}  # referred_by, the account, the state
    owning = {table.name for table in SQLModel.metadata.tables.values()
              if any(fk.column.table.name == "customer" for fk in table.foreign_keys)}
    assert owning - handled_apart == {model.__tablename__ for model in linking._OWNED}
