"""The ticket alert's buttons for a team in a rush: "Gelöst" asks first, "Rückgängig" undoes it
within a minute (and the customer never hears of an undone solution), later or forged presses
change nothing, a solution without a word to the customer is marked, and a staff reply keeps its
line breaks."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlmodel import select

from domain import outbox, tickets
from domain.outbox import MessageSpec
from storage.models import OutboxMessage, Ticket, TicketEvent
from tests.handlers.conftest import ADMIN_ID, BOT_ID, STAFF_CHAT_ID

CUSTOMER = 601
ALERT_MESSAGE_ID = 77
COMPLAINT = "Der Kaffee war heute eiskalt und keiner hat sich gekümmert"


async def open_ticket(shop) -> None:
    """A customer's complaint opens ticket #1; its alert counts as sent to the staff group."""
    await shop.chat.send(CUSTOMER, "/start")
    await shop.chat.press(CUSTOMER, "consent:no")
    await shop.chat.send(CUSTOMER, "/beschwerde")
    await shop.chat.send(CUSTOMER, COMPLAINT)
    with shop.services.store.session() as session:
        alert = session.exec(select(OutboxMessage).where(OutboxMessage.idempotency_key == "ticket:1:alert:0")).one()
        outbox.mark_sent(session, alert.id, ALERT_MESSAGE_ID, shop.services.now())
        session.commit()


async def press(shop, data: str) -> str:
    """A staff member (an owner) presses a button in the staff group; returns the toast."""
    await shop.chat.press(ADMIN_ID, data, chat_id=STAFF_CHAT_ID)
    return shop.telegram.toasts()[-1]


def ticket(shop) -> Ticket:
    with shop.services.store.session() as session:
        return session.get(Ticket, 1)


def edits(shop) -> list[dict]:
    return [params for name, params in shop.telegram.calls if name.startswith("editMessage")]


def buttons(params: dict) -> list[list[tuple[str, str]]]:
    markup = params.get("reply_markup")
    markup = json.loads(markup) if isinstance(markup, str) else markup or {"inline_keyboard": []}
    return [[(b["text"], b["callback_data"]) for b in row] for row in markup["inline_keyboard"]]


def customer_notices(shop) -> list[OutboxMessage]:
    with shop.services.store.session() as session:
        return list(session.exec(select(OutboxMessage).where(OutboxMessage.idempotency_key.like("ticket:1:resolved:%"))))


def later(shop, seconds: float) -> None:
    shop.services.clock.moment += timedelta(seconds=seconds)


async def test_solved_asks_first_then_can_be_undone_within_the_minute(shop):
    await open_ticket(shop)
    deadline_before = ticket(shop).response_due_at

    assert await press(shop, "tkt:solved:1") == shop.text("tickets.confirm_solved_toast", number=1)
    assert buttons(edits(shop)[-1]) == [[(shop.text("tickets.button_confirm_solved"), "tkt:confirm:1"),
                                         (shop.text("tickets.button_cancel"), "tkt:back:1")]]
    assert ticket(shop).status == "open" and customer_notices(shop) == []  # nothing happened yet

    later(shop, 5)
    assert await press(shop, "tkt:confirm:1") == shop.text("tickets.solved_toast", number=1)
    solved = ticket(shop)
    stamp = tickets.undo_stamp(solved)
    assert solved.status == "resolved"
    alert = edits(shop)[-1]
    assert alert["message_id"] == ALERT_MESSAGE_ID
    assert buttons(alert) == [[(shop.text("tickets.button_undo"), f"tkt:undo:1:{stamp}")]]
    assert "ohne Antwort an den Kunden" in alert["text"]  # nobody wrote to the customer
    (notice,) = customer_notices(shop)  # waits out the minute in which it can be undone
    assert notice.status == outbox.PENDING and notice.not_before == solved.resolved_at + tickets.UNDO_WINDOW

    later(shop, 50)
    assert await press(shop, f"tkt:undo:1:{stamp}") == shop.text("tickets.undone_toast", number=1)
    reopened = ticket(shop)
    assert (reopened.status, reopened.resolved_at, reopened.follow_up_due_at) == ("open", None, None)
    assert reopened.response_due_at == deadline_before and reopened.first_response_at is None  # the deadline runs on
    assert customer_notices(shop) == []  # the customer never hears of it
    assert buttons(edits(shop)[-1])[-1] == [(shop.text("tickets.button_solved"), "tkt:solved:1"),
                                            (shop.text("tickets.button_goodwill"), "tkt:goodwill:1")]
    with shop.services.store.session() as session:
        kinds = [e.kind for e in session.exec(select(TicketEvent).where(TicketEvent.ticket_id == 1)
                                              .order_by(TicketEvent.id))]
    assert kinds[-2:] == ["resolved", "resolve_undone"]

    # the same button again, now that the ticket is open: a toast, nothing else
    calls = len(shop.telegram.calls)
    assert await press(shop, f"tkt:undo:1:{stamp}") == shop.text("errors.stale_button")
    assert ticket(shop).status == "open" and len(shop.telegram.calls) == calls + 1
    assert not shop.errors


async def test_cancel_brings_the_alert_back_unchanged(shop):
    await open_ticket(shop)
    await press(shop, "tkt:solved:1")
    await press(shop, "tkt:back:1")
    assert ticket(shop).status == "open" and customer_notices(shop) == []
    assert buttons(edits(shop)[-1])[-1][0] == (shop.text("tickets.button_solved"), "tkt:solved:1")


async def test_undo_after_the_minute_is_refused_kindly_and_the_customer_is_told(shop):
    await open_ticket(shop)
    await press(shop, "tkt:solved:1")
    await press(shop, "tkt:confirm:1")
    stamp = tickets.undo_stamp(ticket(shop))
    later(shop, 61)
    assert await press(shop, f"tkt:undo:1:{stamp}") == shop.text("tickets.undo_expired_toast", number=1)
    assert ticket(shop).status == "resolved"
    (notice,) = customer_notices(shop)
    assert notice.status == outbox.PENDING  # still goes out
    assert buttons(edits(shop)[-1]) == []  # the expired button leaves the alert
    assert not shop.errors


async def test_forged_or_stale_ticket_buttons_change_nothing(shop):
    await open_ticket(shop)
    await press(shop, "tkt:solved:1")
    await press(shop, "tkt:confirm:1")
    stamp = tickets.undo_stamp(ticket(shop))
    for forged in (f"tkt:undo:1:{stamp + 1}", f"tkt:undo:1:{stamp - 3600}", "tkt:undo:99:1", "tkt:confirm:99",
                   "tkt:solved:99", f"tkt:undo:1:{stamp}:x", "tkt:undo:1:-5", "tkt:undo:1:", "tkt:confirm:1x"):
        assert await press(shop, forged) == shop.text("errors.stale_button"), forged
    # a second "Ja" on the old keyboard does not solve it twice
    assert await press(shop, "tkt:confirm:1") == shop.text("tickets.not_open_toast")
    assert ticket(shop).status == "resolved" and len(customer_notices(shop)) == 1
    # a customer who presses the team's buttons changes nothing either
    await shop.chat.press(CUSTOMER, f"tkt:undo:1:{stamp}")
    assert shop.telegram.toasts()[-1] == shop.text("errors.stale_button")
    assert ticket(shop).status == "resolved"
    assert not shop.errors


async def test_a_staff_reply_keeps_its_line_breaks_and_the_solution_is_not_marked_unanswered(shop):
    await open_ticket(shop)
    reply_to = {"message_id": ALERT_MESSAGE_ID, "date": 0, "text": "🆕 Beschwerde #1",
                "chat": {"id": STAFF_CHAT_ID, "type": "supergroup"},
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "Morgenrot"}}
    text = "Hallo Lena,\n\n\n  das tut uns leid.   \n1 < 2 & <b>3</b>\n– Bea"
    await shop.chat.send(ADMIN_ID, text, chat_id=STAFF_CHAT_ID, first_name="Bea", reply_to_message=reply_to)
    assert shop.telegram.sent(STAFF_CHAT_ID)[-1] == shop.text("tickets.reply_sent", name="Lena", number=1)
    with shop.services.store.session() as session:
        row = session.exec(select(OutboxMessage).where(OutboxMessage.idempotency_key.like("ticket:1:out:%"))).one()
    spec = MessageSpec.from_payload(row.payload)
    rendered = shop.services.texts.render(spec.template, shop.services.voice("de"), **spec.params)
    assert rendered.endswith(": Hallo Lena,\n\ndas tut uns leid.\n1 &lt; 2 &amp; &lt;b&gt;3&lt;/b&gt;\n– Bea")

    await press(shop, "tkt:solved:1")
    await press(shop, "tkt:confirm:1")
    assert "ohne Antwort" not in edits(shop)[-1]["text"]
    await shop.chat.send(ADMIN_ID, "/tickets", chat_id=STAFF_CHAT_ID)
    assert "ohne Antwort" not in shop.telegram.sent(STAFF_CHAT_ID)[-1]
    assert not shop.errors


async def test_tickets_and_ticket_name_a_solution_without_an_answer(shop):
    await open_ticket(shop)
    await press(shop, "tkt:solved:1")
    await press(shop, "tkt:confirm:1")
    await shop.chat.send(ADMIN_ID, "/tickets", chat_id=STAFF_CHAT_ID)
    listing = shop.telegram.sent(STAFF_CHAT_ID)[-1]
    assert listing.startswith(shop.text("tickets.list_empty"))
    assert "Gelöst ohne Antwort an den Kunden" in listing and "<b>#1</b> Beschwerde · Lena" in listing
    await shop.chat.send(ADMIN_ID, "/ticket 1", chat_id=STAFF_CHAT_ID)
    assert "gelöst ohne Antwort an den Kunden" in shop.telegram.sent(STAFF_CHAT_ID)[-1]
    later(shop, 25 * 3600)  # a day later the list is about open tickets again
    await shop.chat.send(ADMIN_ID, "/tickets", chat_id=STAFF_CHAT_ID)
    assert shop.telegram.sent(STAFF_CHAT_ID)[-1] == shop.text("tickets.list_empty")
    assert not shop.errors


async def test_the_customer_hears_the_deadline_as_people_say_it(shop):
    await open_ticket(shop)  # Wednesday 2 December 2026, 11:00 in Berlin; an hour of business time
    assert "jemand meldet sich heute bis 12:00 Uhr hier im Chat bei dir." in shop.telegram.sent(CUSTOMER)[-1]
    shop.services.clock.moment += timedelta(hours=6, minutes=40)  # 17:40: the hour ends tomorrow at 8:40
    await shop.chat.send(CUSTOMER + 1, "/start")
    await shop.chat.press(CUSTOMER + 1, "consent:no")
    await shop.chat.send(CUSTOMER + 1, "/beschwerde")
    await shop.chat.send(CUSTOMER + 1, COMPLAINT)
    assert "jemand meldet sich morgen bis 8:40 Uhr hier im Chat bei dir." in shop.telegram.sent(CUSTOMER + 1)[-1]
