"""The domain's use cases on a real database: registration, consent, conversation steps,
and the outbox life cycle."""

import threading
from datetime import datetime, timedelta, timezone

from sqlmodel import select

from domain import consent, conversation, customers, outbox
from domain.customers import TelegramProfile
from domain.outbox import MessageSpec
from storage.models import ConsentRecord, ConsentWording, Customer, OutboxMessage

NOW = datetime(2026, 11, 22, 9, 30, tzinfo=timezone.utc)
ANNA = TelegramProfile(user_id=4242, chat_id=4242, first_name="Anna", username="anna", language_code="de")


def register(store, profile=ANNA, now=NOW):
    with store.session() as session:
        return customers.register(session, profile, now)


def test_registration_is_idempotent_and_refreshes_the_profile(store):
    first = register(store)
    again = register(store, TelegramProfile(4242, 4242, "Anna", username="anna_neu", language_code="en"),
                     NOW + timedelta(days=1))
    assert first.is_new and not again.is_new
    assert again.customer.id == first.customer.id
    with store.session() as session:
        assert len(session.exec(select(Customer)).all()) == 1
        account = customers.find_account(session, 4242)
        assert account.username == "anna_neu" and account.language_code == "en"


def test_language_follows_the_app_until_chosen(store):
    customer = register(store).customer
    assert customers.language_of(customer, "en-GB", "de") == "en"
    assert customers.language_of(customer, "fr", "de") == "de"
    with store.session() as session:
        chosen = customers.choose_language(session, customer.id, "en")
    assert customers.language_of(chosen, "de", "de") == "en"


def test_the_written_language_is_followed_unless_one_was_chosen(store):
    customer = register(store).customer
    with store.session() as session:
        assert customers.follow_written_language(session, customer.id, "en")
        assert not customers.follow_written_language(session, customer.id, "en")  # already English
    with store.session() as session:
        assert customers.language_of(session.get(Customer, customer.id), "de", "de") == "en"
        customers.choose_language(session, customer.id, "de")
    with store.session() as session:
        assert not customers.follow_written_language(session, customer.id, "en")  # /sprache wins
        assert customers.language_of(session.get(Customer, customer.id), "en", "de") == "de"


def test_consent_history_is_appended_and_wording_kept_once(store):
    customer_id = register(store).customer.id
    wording = consent.Wording("de", "Dürfen wir dir Angebote schicken?")
    with store.session() as session:
        assert consent.record_marketing_consent(session, customer_id, True, "onboarding", NOW, wording)
        assert not consent.record_marketing_consent(session, customer_id, True, "onboarding", NOW, wording)
        assert consent.record_marketing_consent(session, customer_id, False, "stop_command", NOW)
        assert consent.record_marketing_consent(session, customer_id, True, "chat", NOW, wording)
    with store.session() as session:
        history = consent.consent_history(session, customer_id)
        assert [(r.granted, r.source) for r in history] == [(True, "onboarding"), (False, "stop_command"), (True, "chat")]
        assert history[0].wording_version == wording.version and history[1].wording_version is None
        assert session.get(ConsentWording, wording.version).text == wording.text
        assert len(session.exec(select(ConsentWording)).all()) == 1
        assert session.get(Customer, customer_id).marketing_consent is True


def test_declining_first_is_recorded_even_though_no_is_the_default(store):
    customer_id = register(store).customer.id
    with store.session() as session:
        assert consent.record_marketing_consent(session, customer_id, False, "onboarding", NOW)
        assert session.get(Customer, customer_id).consent_asked
    with store.session() as session:
        assert len(session.exec(select(ConsentRecord)).all()) == 1


def test_conversation_step_survives_sessions_and_expires(store):
    customer_id = register(store).customer.id
    with store.session() as session:
        conversation.set_step(session, customer_id, "confirm_marketing", NOW, {"granted": False})
    with store.session() as session:
        step = conversation.current_step(session, customer_id, NOW + timedelta(minutes=5))
        assert step.name == "confirm_marketing" and step.data == {"granted": False}
        assert conversation.current_step(session, customer_id, NOW + timedelta(hours=1)) is None
        conversation.clear_step(session, customer_id)
    with store.session() as session:
        assert conversation.current_step(session, customer_id, NOW) is None


def test_outbox_enqueue_is_idempotent(store):
    spec = MessageSpec(text="Hallo")
    with store.session() as session:
        first = outbox.enqueue(session, "k1", 1, spec, outbox.SERVICE, NOW)
        again = outbox.enqueue(session, "k1", 1, MessageSpec(text="anders"), outbox.SERVICE, NOW)
        assert again.id == first.id
    with store.session() as session:
        rows = session.exec(select(OutboxMessage)).all()
        assert len(rows) == 1 and rows[0].payload["text"] == "Hallo"


def test_concurrent_enqueue_of_one_key_makes_one_row(store):
    barrier = threading.Barrier(4)
    errors = []

    def writer():
        try:
            barrier.wait()
            with store.session() as session:
                outbox.enqueue(session, "race", 1, MessageSpec(text="x"), outbox.SERVICE, NOW)
        except Exception as error:  # SQLite may report a busy database instead of a duplicate
            errors.append(error)

    threads = [threading.Thread(target=writer) for _ in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert not errors
    with store.session() as session:
        assert len(session.exec(select(OutboxMessage).where(OutboxMessage.idempotency_key == "race")).all()) == 1


def test_outbox_claims_due_rows_in_order_and_tracks_attempts(store):
    with store.session() as session:
        for key, delay in (("late", 60), ("first", 0), ("second", 1)):
            outbox.enqueue(session, key, 1, MessageSpec(text=key), outbox.SERVICE, NOW,
                           not_before=NOW + timedelta(seconds=delay))
    with store.session() as session:
        claimed = outbox.claim_due(session, NOW + timedelta(seconds=5))
        assert [r.idempotency_key for r in claimed] == ["first", "second"]
        assert all(r.status == outbox.SENDING and r.attempts == 1 for r in claimed)
    with store.session() as session:
        assert outbox.claim_due(session, NOW + timedelta(seconds=5)) == []  # claimed rows are not handed out twice
        outbox.mark_sent(session, claimed[0].id, 77, NOW)
        assert outbox.mark_retry(session, claimed[1].id, "502", NOW) == outbox.PENDING
    with store.session() as session:
        retried = session.get(OutboxMessage, claimed[1].id)
        assert retried.not_before == NOW + outbox.retry_delay(1)
        assert session.get(OutboxMessage, claimed[0].id).telegram_message_id == 77


def test_outbox_gives_up_after_max_attempts(store):
    with store.session() as session:
        row = outbox.enqueue(session, "flaky", 1, MessageSpec(text="x"), outbox.SERVICE, NOW)
    moment = NOW
    for attempt in range(1, outbox.MAX_ATTEMPTS + 1):
        moment += timedelta(hours=1)
        with store.session() as session:
            (claimed,) = outbox.claim_due(session, moment)
            status = outbox.mark_retry(session, claimed.id, "timeout", moment)
        assert status == (outbox.FAILED if attempt == outbox.MAX_ATTEMPTS else outbox.PENDING)
    with store.session() as session:
        assert session.get(OutboxMessage, row.id).status == outbox.FAILED


def test_rows_in_flight_at_a_crash_are_released_once_their_lease_ran_out(store):
    with store.session() as session:
        outbox.enqueue(session, "inflight", 1, MessageSpec(text="x"), outbox.SERVICE, NOW)
    with store.session() as session:
        outbox.claim_due(session, NOW)
    during_lease = NOW + outbox.CLAIM_LEASE - timedelta(seconds=1)
    with store.session() as session:  # a live dispatcher (a replica) may still be sending it
        assert outbox.release_expired_claims(session, during_lease) == 0
        assert outbox.claim_due(session, during_lease) == []
    after_lease = NOW + outbox.CLAIM_LEASE
    with store.session() as session:
        assert outbox.release_expired_claims(session, after_lease) == 1
    with store.session() as session:
        assert [r.idempotency_key for r in outbox.claim_due(session, after_lease)] == ["inflight"]


def test_unreachable_chat_is_marked_and_cleared(store):
    register(store)
    with store.session() as session:
        assert customers.mark_unreachable(session, 4242, NOW)
        assert not customers.mark_unreachable(session, 4242, NOW)
    with store.session() as session:
        assert customers.find_account(session, 4242).unreachable_since == NOW
    register(store)  # writing to the bot again makes them reachable
    with store.session() as session:
        assert customers.find_account(session, 4242).unreachable_since is None
