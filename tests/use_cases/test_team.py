"""The team on SQLite and PostgreSQL: staff cannot book for their own customer account (and
the owners hear of the attempt), the staff group's move to a supergroup, and the reply to an
"Antworten" prompt."""

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlmodel import func, select

from domain import counter, coupons, ledger, outbox, team, tickets
from domain.outbox import MessageSpec
from storage.models import Coupon, OutboxMessage, PointsEntry, Purchase, StaffChat
from tests.use_cases.people import onboarded_customer
from tests.use_cases.test_tickets import CONFIG, NOW, OWNER, RULES, STAFF_CHAT, open_complaint

BEA = 5151  # a barista with a customer account of her own


def count(store, table) -> int:
    with store.session() as session:
        return session.exec(select(func.count()).select_from(table)).one()


def test_staff_cannot_book_a_purchase_for_themselves(store):
    bea, anna = onboarded_customer(store, BEA, NOW), onboarded_customer(store, 4242, NOW)
    with pytest.raises(team.SelfService) as refused, store.session() as session:  # rolled back
        counter.book_purchase_at_counter(session, bea, Decimal("25"), CONFIG, NOW, key="t:1", source="counter",
                                         booked_by=BEA)
    assert (refused.value.what, refused.value.customer_id) == (team.PURCHASE, bea)
    assert count(store, Purchase) == 0 and count(store, PointsEntry) == 0
    with store.session() as session:  # for someone else, as always
        counter.book_purchase_at_counter(session, anna, Decimal("25"), CONFIG, NOW, key="t:2", source="counter",
                                         booked_by=BEA)
    assert count(store, Purchase) == 1


def test_staff_cannot_give_themselves_goodwill(store):
    bea = onboarded_customer(store, BEA, NOW)
    ticket = open_complaint(store, bea, ref="5151:1")
    with pytest.raises(team.SelfService), store.session() as session:  # rolled back
        tickets.grant_goodwill(session, ticket.id, 50, BEA, "Bea", RULES, NOW)
    with store.session() as session:
        assert ledger.balance(session, bea) == 0
    with store.session() as session:  # a colleague may
        assert tickets.grant_goodwill(session, ticket.id, 50, 6161, "Chris", RULES, NOW).action is tickets.Action.DONE


def test_staff_cannot_redeem_their_own_coupon_and_the_owners_hear_of_it(store):
    bea = onboarded_customer(store, BEA, NOW)
    with store.session() as session:
        session.add(Coupon(code="K7QX2M9P", occasion="birthday:2026", customer_id=bea, offer="Ein Stück Kuchen",
                           created_at=NOW, expires_at=NOW + timedelta(days=14)))
    with pytest.raises(team.SelfService) as refused, store.session() as session:  # rolled back
        coupons.redeem_any(session, "k7qx-2m9p", BEA, NOW)
    with store.session() as session:
        assert session.exec(select(Coupon)).one().redeemed_at is None  # still valid
        team.report_self_service(session, refused.value.what, bea, BEA, "Bea", "k7qx-2m9p", "cb:1", (OWNER, BEA), NOW)
        team.report_self_service(session, refused.value.what, bea, BEA, "Bea", "k7qx-2m9p", "cb:1", (OWNER, BEA), NOW)
    with store.session() as session:
        rows = session.exec(select(OutboxMessage)).all()
    assert [(row.chat_id, row.payload["template"]) for row in rows] == [(OWNER, "team.self_service_refused.redemption")]
    assert rows[0].payload["params"]["staff"] == "Bea"
    with store.session() as session:
        assert coupons.redeem_any(session, "K7QX2M9P", 6161, NOW).customer_id == bea  # a colleague may


def test_the_staff_group_moves_to_its_supergroup_with_its_waiting_messages(store):
    new_chat = -1009876
    with store.session() as session:
        assert team.current_staff_chat(session, STAFF_CHAT) == STAFF_CHAT
        waiting = outbox.enqueue(session, "x:1", STAFF_CHAT, MessageSpec(text="hi"), outbox.STAFF, NOW).id
        other = outbox.enqueue(session, "x:2", 4242, MessageSpec(text="hi"), outbox.SERVICE, NOW).id
    with store.session() as session:
        assert team.follow_chat_migration(session, STAFF_CHAT, new_chat, STAFF_CHAT, (OWNER,), NOW)
    with store.session() as session:
        assert session.get(OutboxMessage, waiting).chat_id == new_chat
        assert session.get(OutboxMessage, other).chat_id == 4242
        told = session.exec(select(OutboxMessage).where(OutboxMessage.chat_id == OWNER)).one()
        assert told.payload["template"] == "team.staff_chat_moved"
        assert told.payload["params"] == {"old": str(STAFF_CHAT), "new": str(new_chat)}
        assert team.current_staff_chat(session, STAFF_CHAT) == new_chat  # the configured group became it
        assert team.current_staff_chat(session, new_chat) == new_chat
        assert team.current_staff_chat(session, -100777) == -100777  # the owner configured another group
    with store.session() as session:  # the second service message (in the new group) changes nothing
        assert not team.follow_chat_migration(session, STAFF_CHAT, new_chat, new_chat, (OWNER,), NOW)
    assert count(store, StaffChat) == 1 and count(store, OutboxMessage) == 3


def test_only_a_reply_to_the_prompt_finds_the_ticket(store):
    anna = onboarded_customer(store, 4242, NOW)
    ticket = open_complaint(store, anna)
    with store.session() as session:
        tickets.start_reply(session, ticket.id, 6161, "Chris", NOW)
        tickets.note_reply_prompt(session, ticket.id, 77)
    with store.session() as session:
        assert tickets.ticket_of_reply(session, STAFF_CHAT, 77) == ticket.id
        assert tickets.ticket_of_reply(session, STAFF_CHAT, 78) is None  # anything else stays internal


def test_effective_staff_chat_rule():
    stored = StaffChat(chat_id=-100200, migrated_from=-300, changed_at=datetime(2026, 1, 1, tzinfo=timezone.utc))
    assert team.effective_staff_chat(-300, stored) == -100200
    assert team.effective_staff_chat(-100200, stored) == -100200
    assert team.effective_staff_chat(-555, stored) == -555
    assert team.effective_staff_chat(None, stored) is None
    assert team.effective_staff_chat(-300, None) == -300
