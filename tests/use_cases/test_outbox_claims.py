"""The dispatcher's claims on SQLite and PostgreSQL: one row per chat and in the chat's order,
nothing of a chat that is being sent to, leases renewed and given back, 429s that do not count
as attempts, and two claimers racing on PostgreSQL never taking the same row."""

import threading
from datetime import datetime, timedelta, timezone

from sqlmodel import select

from domain import outbox
from domain.outbox import MessageSpec
from storage.models import Customer, OutboxMessage, TelegramAccount

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)


def queue(store, *rows):
    """rows: (key, chat_id[, seconds after NOW])"""
    with store.session() as session:
        for key, chat_id, *delay in rows:
            outbox.enqueue(session, key, chat_id, MessageSpec(text=key), outbox.SERVICE, NOW,
                           not_before=NOW + timedelta(seconds=delay[0] if delay else 0))


def claim(store, now=NOW, limit=50, skip_chats=()):
    with store.session() as session:
        return [r.idempotency_key for r in outbox.claim_next_per_chat(session, now, limit, skip_chats)]


def status_of(store, key):
    with store.session() as session:
        return session.exec(select(OutboxMessage).where(OutboxMessage.idempotency_key == key)).one()


def test_one_row_per_chat_oldest_first_and_none_while_the_chat_is_being_sent_to(store):
    queue(store, ("a1", 1), ("b1", 2), ("a2", 1), ("c1", 3, 60))
    assert claim(store) == ["a1", "b1"]  # c1 is not due; a2 waits for a1
    assert claim(store) == []  # chats 1 and 2 are being sent to
    with store.session() as session:
        outbox.mark_sent(session, status_of(store, "a1").id, 1, NOW)
    assert claim(store) == ["a2"]
    assert claim(store, NOW + timedelta(seconds=61)) == ["c1"]


def test_a_retried_row_keeps_its_place_in_its_chat(store):
    queue(store, ("a1", 1), ("a2", 1))
    assert claim(store) == ["a1"]
    with store.session() as session:
        outbox.mark_retry(session, status_of(store, "a1").id, "502", NOW)  # due again in 2 s
    # Meanwhile the dispatcher holds the chat (skip_chats), so a2 does not overtake it ...
    assert claim(store, NOW + timedelta(seconds=1), skip_chats={1}) == []
    # ... and once both are due, the older row goes first although a2 was due earlier.
    assert claim(store, NOW + timedelta(seconds=5)) == ["a1"]


def test_limit_and_skipped_chats(store):
    queue(store, *[(f"r{n}", n) for n in range(10)])
    assert claim(store, limit=3, skip_chats={0, 2}) == ["r1", "r3", "r4"]


def test_a_busy_chat_does_not_hold_up_the_others(store):
    queue(store, *[(f"staff{n}", -100) for n in range(100)], ("anna", 1))
    assert claim(store, limit=10) == ["staff0", "anna"]


def test_messages_that_are_not_marketing_go_first(store):
    with store.session() as session:
        for n in range(50):
            outbox.enqueue(session, f"offer{n}", 100 + n, MessageSpec(text="x"), outbox.MARKETING, NOW)
    queue(store, ("alert", -100, 5), ("points", 7, 10))
    assert claim(store, NOW + timedelta(seconds=10), limit=3) == ["alert", "points", "offer0"]


def test_leases_are_renewed_and_given_back(store):
    queue(store, ("a", 1), ("b", 2))
    claim(store)
    a, b = status_of(store, "a"), status_of(store, "b")
    later = NOW + timedelta(seconds=20)
    with store.session() as session:
        assert outbox.renew_claims(session, {a.id, b.id}, later) == {a.id, b.id}
    assert status_of(store, "a").not_before == later + outbox.CLAIM_LEASE
    with store.session() as session:  # the old lease would have run out; the renewed one has not
        assert outbox.release_expired_claims(session, NOW + outbox.CLAIM_LEASE) == 0
        assert outbox.release_expired_claims(session, later + outbox.CLAIM_LEASE, keep={a.id}) == 1
    with store.session() as session:  # b went back to pending: the old holder does not get it renewed
        assert outbox.renew_claims(session, {a.id, b.id}, later) == {a.id}
        assert outbox.release_claims(session, {a.id}, later) == 1
    a, b = status_of(store, "a"), status_of(store, "b")  # due at once, in their place (when queued)
    assert (a.status, a.attempts, a.not_before) == (outbox.PENDING, 0, NOW)
    assert (b.status, b.attempts, b.not_before) == (outbox.PENDING, 1, NOW)


def test_a_row_taken_back_from_a_dead_dispatcher_keeps_its_place(store):
    queue(store, ("early", 1))
    claim(store)  # the dispatcher dies with it
    queue(store, *[(f"later{n}", 10 + n, 10) for n in range(5)])
    after_lease = NOW + outbox.CLAIM_LEASE
    with store.session() as session:
        assert outbox.release_expired_claims(session, after_lease) == 1
    assert claim(store, after_lease, limit=2) == ["early", "later0"]


def test_rate_limited_attempts_do_not_count(store):
    queue(store, ("a", 1))
    moment = NOW
    for _ in range(outbox.MAX_ATTEMPTS * 2):
        moment += timedelta(minutes=1)
        with store.session() as session:
            (row,) = outbox.claim_next_per_chat(session, moment)
            status = outbox.mark_retry(session, row.id, "429 retry after 3 s", moment, timedelta(seconds=3),
                                       counts=False)
        assert status == outbox.PENDING
    row = status_of(store, "a")
    assert (row.attempts, row.last_error, row.not_before) == (0, "429 retry after 3 s", moment + timedelta(seconds=3))


def test_rows_for_an_unreachable_chat_are_skipped(store):
    with store.session() as session:
        customer = Customer(first_name="Anna", created_at=NOW, last_seen_at=NOW)
        session.add(customer)
        session.flush()
        session.add(TelegramAccount(telegram_user_id=5, customer_id=customer.id, chat_id=5, unreachable_since=NOW))
    queue(store, ("blocked", 5), ("staff", -100))
    blocked, staff = status_of(store, "blocked").id, status_of(store, "staff").id
    with store.session() as session:
        assert outbox.skip_if_unreachable(session, blocked)
        assert not outbox.skip_if_unreachable(session, staff)
    row = status_of(store, "blocked")
    assert (row.status, row.last_error) == (outbox.SKIPPED, "unreachable")


def test_racing_claimers_never_take_the_same_row(store):
    """Four threads claim in small batches until nothing is left; on PostgreSQL they really run
    at once (FOR UPDATE SKIP LOCKED), on SQLite one after another (BEGIN IMMEDIATE)."""
    queue(store, *[(f"r{n}", n % 40) for n in range(400)])
    taken: list[list[str]] = [[] for _ in range(4)]
    errors: list[Exception] = []
    barrier = threading.Barrier(4)

    def claimer(mine: list[str]) -> None:
        try:
            barrier.wait()
            while True:
                with store.session() as session:
                    rows = outbox.claim_next_per_chat(session, NOW, 7)
                    for row in rows:
                        outbox.mark_sent(session, row.id, 1, NOW)
                if not rows:
                    with store.session() as session:  # done only when nothing is pending any more
                        if not session.exec(select(OutboxMessage).where(OutboxMessage.status == outbox.PENDING)).first():
                            return
                mine.extend(r.idempotency_key for r in rows)
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=claimer, args=(mine,)) for mine in taken]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert not errors
    everything = [key for mine in taken for key in mine]
    assert sorted(everything) == sorted(f"r{n}" for n in range(400))  # each exactly once


def test_the_staff_groups_most_urgent_row_goes_next_and_the_rest_keep_their_order(store):
    """A full staff group (20 a minute): alerts, reminders and escalations overtake relayed
    customer messages and notices that were queued earlier; those keep their own order."""
    group = -100
    with store.session() as session:
        for key, priority in (("relay1", outbox.NORMAL), ("feedback", outbox.NORMAL), ("alert", outbox.URGENT),
                              ("relay2", outbox.NORMAL), ("reminder", outbox.URGENT), ("relay3", outbox.NORMAL)):
            outbox.enqueue(session, key, group, MessageSpec(text=key), outbox.STAFF, NOW, priority=priority)
    sent = []
    while claimed := claim(store):
        sent += claimed
        with store.session() as session:
            for key in claimed:
                outbox.mark_sent(session, status_of(store, key).id, 1, NOW)
    assert sent == ["alert", "reminder", "relay1", "feedback", "relay2", "relay3"]


def test_an_urgent_row_queued_while_the_group_waits_is_the_next_one(store):
    group = -100
    with store.session() as session:
        for n in range(3):
            outbox.enqueue(session, f"relay{n}", group, MessageSpec(text="x"), outbox.STAFF, NOW)
    assert claim(store) == ["relay0"]
    with store.session() as session:
        outbox.mark_sent(session, status_of(store, "relay0").id, 1, NOW)
    # The group's minute is full: the dispatcher holds it (skip_chats) and claims nothing of it ...
    assert claim(store, skip_chats={group}) == []
    with store.session() as session:  # ... meanwhile a ticket's deadline warning comes in
        outbox.enqueue(session, "breach", group, MessageSpec(text="!"), outbox.STAFF, NOW + timedelta(seconds=30),
                       priority=outbox.URGENT)
    assert claim(store, NOW + timedelta(seconds=60)) == ["breach"]


def test_urgent_heads_go_first_among_the_chats(store):
    queue(store, ("anna", 1), ("ben", 2))
    with store.session() as session:
        outbox.enqueue(session, "alert", -100, MessageSpec(text="!"), outbox.STAFF, NOW + timedelta(seconds=5),
                       priority=outbox.URGENT)
    assert claim(store, NOW + timedelta(seconds=5), limit=2) == ["alert", "anna"]
