"""Linking an imported customer to a Telegram account by the customer's own phone number."""

from datetime import datetime, timezone

import pytest
from sqlmodel import select

from domain import customers, ledger, linking
from storage.models import ConsentRecord, Customer, TelegramAccount
from tests.kept_figures import assert_kept_figures_agree
from tests.storage.people import onboarded_customer

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


def test_unknown_shared_and_invalid_numbers_link_nothing(store):
    imported(store, "K-1", "+4915111111111")
    imported(store, "K-2", "+4915111111111")  # one number for two cards: a family
    fresh = chat_customer(store, 4242)
    assert link(store, 4242, "+4915111111111") == ("ambiguous", None)
    assert link(store, 4242, "+4915199999999") == ("not_found", None)
    assert link(store, 4242, "nonsense") == ("invalid", None)
    with store.session() as session:
        assert session.get(TelegramAccount, 4242).customer_id == fresh
