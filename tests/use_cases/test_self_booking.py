"""staff.self_booking: confirm, on SQLite and PostgreSQL: a staff member's booking on their own
account is held, asked for in the staff group and privately of the owners, and done (exactly
once) when a colleague or an owner confirms it; never by the one who asked, never twice."""

from decimal import Decimal

import pytest
from sqlmodel import func, select

from domain import counter, coupons, data_rights, ledger, self_booking, team, tickets
from storage.models import Coupon, HeldBooking, OutboxMessage, Purchase
from tests.use_cases.people import onboarded_customer
from tests.use_cases.test_team import BEA
from tests.use_cases.test_tickets import CONFIG, NOW, OWNER, RULES, STAFF_CHAT, open_complaint

CHRIS = 6161  # a colleague


def held_purchase(store, bea: int) -> HeldBooking:
    with pytest.raises(team.SelfService) as refused, store.session() as session:
        counter.book_purchase_at_counter(session, bea, Decimal("25"), CONFIG, NOW, key="telegram:1:2",
                                         source="counter", category="Kaffee", booked_by=BEA)
    with store.session() as session:
        return self_booking.hold(session, refused.value, BEA, "Bea", "25,00 €", STAFF_CHAT, (OWNER, BEA), NOW)


def test_a_held_purchase_is_asked_for_and_booked_once_a_colleague_confirms(store):
    bea = onboarded_customer(store, BEA, NOW)
    held = held_purchase(store, bea)
    with store.session() as session:
        asked = session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        assert session.exec(select(func.count()).select_from(Purchase)).one() == 0
    assert [row.chat_id for row in asked] == [STAFF_CHAT, OWNER]  # not Bea herself
    assert asked[0].payload["template"] == "team.self_booking_held.purchase"
    assert asked[0].payload["buttons"][0][0]["callback"] == f"held:ok:{held.id}:{held.nonce}"
    with pytest.raises(self_booking.HoldRefusal) as own, store.session() as session:
        self_booking.decide(session, held.id, held.nonce, BEA, True, CONFIG, NOW)
    assert own.value.reason == "own_request"
    with pytest.raises(self_booking.HoldRefusal), store.session() as session:  # a forged nonce
        self_booking.decide(session, held.id, "0" * 12, CHRIS, True, CONFIG, NOW)
    with store.session() as session:
        assert self_booking.decide(session, held.id, held.nonce, CHRIS, True, CONFIG, NOW).booked
    with pytest.raises(self_booking.HoldRefusal) as again, store.session() as session:
        self_booking.decide(session, held.id, held.nonce, OWNER, True, CONFIG, NOW)
    assert again.value.reason == "already_done"
    with store.session() as session:
        purchase = session.exec(select(Purchase)).one()
        assert (purchase.customer_id, purchase.amount_cents, purchase.booked_by) == (bea, 2500, BEA)
        assert ledger.balance(session, bea) > 0
        told = session.exec(select(OutboxMessage).where(OutboxMessage.chat_id == BEA,
                                                        OutboxMessage.category == "staff")).one()
        assert told.payload["template"] == "team.self_booking_booked"


def test_a_declined_booking_books_nothing(store):
    bea = onboarded_customer(store, BEA, NOW)
    held = held_purchase(store, bea)
    with store.session() as session:
        assert not self_booking.decide(session, held.id, held.nonce, OWNER, False, CONFIG, NOW).booked
    with store.session() as session:
        assert session.exec(select(func.count()).select_from(Purchase)).one() == 0
        assert session.get(HeldBooking, held.id).status == self_booking.DECLINED


def test_held_goodwill_and_redemption_are_done_on_confirmation(store):
    bea = onboarded_customer(store, BEA, NOW)
    ticket = open_complaint(store, bea, ref="5151:1")
    with store.session() as session:
        session.add(Coupon(code="K7QX2M9P", occasion="birthday:2026", customer_id=bea, offer="Kuchen",
                           created_at=NOW, expires_at=NOW.replace(year=NOW.year + 1)))
    held = []
    for attempt in (lambda s: tickets.grant_goodwill(s, ticket.id, 50, BEA, "Bea", RULES, NOW),
                    lambda s: coupons.redeem_any(s, "k7qx-2m9p", BEA, NOW)):
        with pytest.raises(team.SelfService) as refused, store.session() as session:
            attempt(session)
        with store.session() as session:
            held.append(self_booking.hold(session, refused.value, BEA, "Bea", "x", STAFF_CHAT, (OWNER,), NOW))
    for booking in held:
        with store.session() as session:
            self_booking.decide(session, booking.id, booking.nonce, CHRIS, True, CONFIG, NOW)
    with store.session() as session:
        assert ledger.balance(session, bea) == 50
        assert session.exec(select(Coupon)).one().redeemed_at is not None


def test_erasing_the_customer_erases_their_held_bookings(store):
    bea = onboarded_customer(store, BEA, NOW)
    held_purchase(store, bea)
    with store.session() as session:
        assert data_rights.erase_customer(session, bea, NOW)
    with store.session() as session:
        assert session.exec(select(HeldBooking)).all() == []


def test_the_retention_purge_empties_decided_held_bookings(store):
    from datetime import timedelta

    from domain import retention
    from domain.config import RetentionConfig

    bea = onboarded_customer(store, BEA, NOW)
    held = held_purchase(store, bea)
    with store.session() as session:
        self_booking.decide(session, held.id, held.nonce, CHRIS, False, CONFIG, NOW)
    rules = retention.Rules(RetentionConfig(), retention.ZoneInfo("Europe/Berlin"))
    with store.session() as session:  # within the period: kept
        assert retention.purge_batch(session, rules, NOW + timedelta(days=89)).held_bookings == 0
    with store.session() as session:
        assert retention.purge_batch(session, rules, NOW + timedelta(days=91)).held_bookings == 1
    with store.session() as session:
        row = session.get(HeldBooking, held.id)
        assert (row.requested_name, row.details, row.status) == ("", {}, self_booking.DECLINED)
        assert retention.purge_batch(session, rules, NOW + timedelta(days=92)).held_bookings == 0
