"""Reading without the write lock: a regular's message is looked up in a read-only transaction
(``Store.reading``), and only a new customer or a changed profile takes the write path."""

from datetime import timedelta

import pytest
from sqlmodel import select

from domain import conversation, customers, turns
from domain.customers import LAST_SEEN_RESOLUTION, TelegramProfile
from storage.db import ReadOnlySessionError
from storage.models import Customer, Ticket
from tests.use_cases.test_use_cases import ANNA, NOW, register


def known(store, profile=ANNA, now=NOW):
    with store.reading() as session:
        return customers.known(session, profile, now)


def test_a_regular_is_known_without_writing(store):
    registered = register(store)
    found = known(store, now=NOW + LAST_SEEN_RESOLUTION - timedelta(seconds=1))
    assert found is not None and not found.is_new
    assert found.customer.id == registered.customer.id and found.account.chat_id == ANNA.chat_id


@pytest.mark.parametrize("change", [
    {"username": "anna_neu"}, {"language_code": "en"}, {"chat_id": 99}, {"username": None},
])
def test_a_changed_profile_takes_the_write_path(store, change):
    register(store)
    assert known(store, TelegramProfile(**{**ANNA.__dict__, **change})) is None


def test_a_stranger_and_a_stale_last_seen_take_the_write_path(store):
    assert known(store) is None  # nobody yet
    register(store)
    assert known(store, now=NOW + LAST_SEEN_RESOLUTION) is None
    register(store, now=NOW + LAST_SEEN_RESOLUTION)  # the write path refreshes it ...
    assert known(store, now=NOW + LAST_SEEN_RESOLUTION) is not None  # ... so the next message reads only


def test_an_unreachable_customer_takes_the_write_path(store):
    customer_id = register(store).customer.id
    with store.session() as session:
        account = customers.find_account(session, ANNA.user_id)
        account.unreachable_since = NOW
        session.get(Customer, customer_id).telegram_reachable = False
        session.add(account)
    assert known(store) is None
    register(store)  # they wrote again: reachable
    assert known(store) is not None


def test_peek_sees_what_begin_sees(store):
    begun = None
    with store.session() as session:
        begun = turns.begin(session, ANNA, NOW, open_survey=True)
    with store.reading() as session:
        peeked = turns.peek(session, ANNA, NOW, open_survey=True)
    assert peeked is not None
    assert (peeked.step, peeked.open_ticket_id, peeked.open_survey_id) == (begun.step, begun.open_ticket_id,
                                                                            begun.open_survey_id)
    assert peeked.registration.customer.id == begun.registration.customer.id


def _ticket(customer_id: int, ref: str, status: str) -> Ticket:
    return Ticket(request_ref=ref, customer_id=customer_id, kind="question", status=status, category="service",
                  priority="normal", created_at=NOW, alert_key=f"ticket:{ref}")


@pytest.mark.parametrize("step_lifetime", [None, timedelta(minutes=5), timedelta(0)], ids=["no step", "step",
                                                                                           "expired step"])
@pytest.mark.parametrize("tickets_of_anna", [(), ("open",), ("open", "open", "closed")],
                         ids=["no ticket", "open ticket", "newest open of several"])
def test_peek_reads_the_step_and_the_open_ticket_as_begin_does(store, step_lifetime, tickets_of_anna):
    """``peek`` reads everything in one query; it must find the same step and ticket as
    ``begin``'s separate reads, and no other customer's."""
    anna = register(store).customer.id
    bert = register(store, TelegramProfile(user_id=2, chat_id=2, first_name="Bert")).customer.id
    with store.session() as session:
        session.add(_ticket(bert, "bert-open", "open"))
        if step_lifetime is not None:
            conversation.set_step(session, anna, "complaint.details", NOW, {"kind": "complaint"},
                                  lifetime=step_lifetime)
    with store.session() as session:
        for number, status in enumerate(tickets_of_anna):
            session.add(_ticket(anna, f"anna-{number}", status))
        session.add(_ticket(bert, "bert-newest", "open"))  # the newest open ticket of all: not Anna's
    with store.reading() as session:
        peeked = turns.peek(session, ANNA, NOW)
    with store.session() as session:
        begun = turns.begin(session, ANNA, NOW)
    assert peeked is not None
    assert (peeked.step, peeked.open_ticket_id) == (begun.step, begun.open_ticket_id)
    assert (peeked.step is None) == (step_lifetime in (None, timedelta(0)))
    assert (peeked.open_ticket_id is None) == (not tickets_of_anna)


def test_reading_does_not_wait_for_a_writer(store):
    """A write transaction holds the lock (on SQLite the whole database's); a read in the middle
    of it neither waits for it (it would fail with "database is locked" after the busy timeout)
    nor sees its uncommitted change."""
    customer_id = register(store).customer.id
    with store.session() as writing:
        writing.get(Customer, customer_id).first_name = "Anne"
        writing.flush()
        with store.reading() as reading:
            assert reading.get(Customer, customer_id).first_name == "Anna"
    with store.reading() as reading:
        assert reading.get(Customer, customer_id).first_name == "Anne"


def test_writing_in_a_read_session_is_refused_and_changes_nothing(store):
    customer_id = register(store).customer.id
    with pytest.raises(ReadOnlySessionError):
        with store.reading() as session:
            session.get(Customer, customer_id).first_name = "Eve"
            session.flush()
    with pytest.raises(ReadOnlySessionError):
        with store.reading() as session:
            session.add(Customer(first_name="Eve", created_at=NOW, last_seen_at=NOW))
            session.flush()
    with store.reading() as session:
        assert [c.first_name for c in session.exec(select(Customer))] == ["Anna"]
