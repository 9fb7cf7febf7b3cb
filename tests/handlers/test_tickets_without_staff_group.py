"""Without a staff group (the default) a complaint is not dropped: it becomes a ticket whose alert
the owners get privately, they answer from their private chat (a reply, or the Antworten button),
and their ordinary private messages stay ordinary. Without owners either, the customer gets the
shop's contact and nothing is stored."""

from __future__ import annotations

from sqlmodel import select

from domain import outbox
from storage.models import OutboxMessage, Ticket
from tests.handlers.conftest import ADMIN_ID, BOT_ID

CUSTOMER = 601
COMPLAINT = "Der Kaffee war heute eiskalt und keiner hat sich gekümmert"
ALERT_KEY = f"ticket:1:alert:0:{ADMIN_ID}"  # the owner's copy of ticket #1's alert
ALERT_MESSAGE_ID = 77


def without_staff_group(shop, *, owners: tuple[int, ...] = (ADMIN_ID,)) -> None:
    config = shop.services.config
    shop.services.config = config.model_copy(update={"staff": config.staff.model_copy(
        update={"staff_chat_id": None, "admin_ids": owners})})
    shop.services.__dict__.pop("ticket_rules", None)  # derived from the old config


async def complain(shop) -> None:
    await shop.chat.send(CUSTOMER, "/start")
    await shop.chat.press(CUSTOMER, "consent:no")
    await shop.chat.send(CUSTOMER, "/beschwerde")
    await shop.chat.send(CUSTOMER, COMPLAINT)


def outbox_rows(shop, like: str) -> list[OutboxMessage]:
    with shop.services.store.session() as session:
        return list(session.exec(select(OutboxMessage).where(OutboxMessage.idempotency_key.like(like))
                                 .order_by(OutboxMessage.id)))


def alert_sent(shop) -> None:
    """The owner's copy of the alert counts as delivered (the dispatcher is not running here)."""
    with shop.services.store.session() as session:
        (alert,) = [row for row in session.exec(select(OutboxMessage)) if row.idempotency_key == ALERT_KEY]
        outbox.mark_sent(session, alert.id, ALERT_MESSAGE_ID, shop.services.now())
        session.commit()


def bot_message(message_id: int) -> dict:
    return {"message_id": message_id, "date": 0, "text": "…", "chat": {"id": ADMIN_ID, "type": "private"},
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Morgenrot"}}


def answers_to_customer(shop) -> list[OutboxMessage]:
    return outbox_rows(shop, "ticket:1:out:%")


async def test_a_complaint_becomes_a_ticket_and_the_owner_gets_the_alert_privately(shop):
    without_staff_group(shop)
    await complain(shop)
    with shop.services.store.session() as session:
        ticket = session.get(Ticket, 1)
    assert ticket is not None and ticket.text == COMPLAINT and ticket.status == "open"
    (alert,) = outbox_rows(shop, "ticket:1:alert:%")
    assert (alert.idempotency_key, alert.chat_id, alert.payload["template"]) == (ALERT_KEY, ADMIN_ID, "tickets.alert")
    told = shop.telegram.sent(CUSTOMER)
    assert any("#1" in text for text in told)  # the ticket's number, as with a staff group
    assert told[-1].startswith(shop.text("handoff.urgent_contact"))  # and how to reach the shop at once
    assert shop.errors == []


async def test_the_owner_answers_with_a_reply_to_the_alert(shop):
    without_staff_group(shop)
    await complain(shop)
    alert_sent(shop)
    await shop.chat.send(ADMIN_ID, "Das tut uns leid, Lena!", first_name="Olga",
                         reply_to_message=bot_message(ALERT_MESSAGE_ID))
    (answer,) = answers_to_customer(shop)
    assert answer.chat_id == CUSTOMER and answer.payload["params"]["text"] == "Das tut uns leid, Lena!"
    assert shop.telegram.sent(ADMIN_ID)[-1] == shop.text("tickets.reply_sent", name="Lena", number=1)
    edited = [(int(params["chat_id"]), params["message_id"]) for name, params in shop.telegram.calls
              if name == "editMessageText" and int(params["chat_id"]) == ADMIN_ID]
    assert edited == [(ADMIN_ID, ALERT_MESSAGE_ID)]  # the owner's copy shows who answered
    assert shop.errors == []


async def test_the_owner_answers_with_a_file_replying_to_the_alert(shop):
    """A file in an owner's private chat is their import, unless it replies to a ticket's message."""
    without_staff_group(shop)
    await complain(shop)
    alert_sent(shop)
    await shop.chat.media(ADMIN_ID, "document", "Ihre Gutschrift", file_id="PDF9", first_name="Olga",
                          reply_to_message=bot_message(ALERT_MESSAGE_ID))
    (answer,) = answers_to_customer(shop)
    assert answer.chat_id == CUSTOMER and answer.payload["params"]["text"] == "Ihre Gutschrift"
    assert outbox.MessageSpec.from_payload(answer.payload).attachment == outbox.Attachment(outbox.DOCUMENT, "PDF9")
    assert shop.telegram.sent(ADMIN_ID)[-1] == shop.text("tickets.reply_sent", name="Lena", number=1)
    assert shop.errors == []


async def test_the_owner_answers_with_the_reply_button_in_their_private_chat(shop):
    without_staff_group(shop)
    await complain(shop)
    alert_sent(shop)
    await shop.chat.press(ADMIN_ID, "tkt:reply:1")  # pressed under the alert in the owner's chat
    with shop.services.store.session() as session:
        prompt_id = session.get(Ticket, 1).reply_prompt_id
    assert prompt_id is not None
    await shop.chat.send(ADMIN_ID, "Wir bringen dir morgen einen neuen.", first_name="Olga",
                         reply_to_message=bot_message(prompt_id))
    (answer,) = answers_to_customer(shop)
    assert answer.chat_id == CUSTOMER and answer.payload["params"]["text"] == "Wir bringen dir morgen einen neuen."
    assert shop.errors == []


async def test_the_owners_ordinary_private_messages_are_no_ticket_answers(shop):
    without_staff_group(shop)
    await complain(shop)
    alert_sent(shop)
    before = len(shop.telegram.sent(ADMIN_ID))
    await shop.chat.send(ADMIN_ID, "Wie viele Punkte habe ich?", first_name="Olga")
    await shop.chat.send(ADMIN_ID, "Danke!", first_name="Olga", reply_to_message=bot_message(5))  # not a ticket's
    assert answers_to_customer(shop) == []
    answered = shop.telegram.sent(ADMIN_ID)[before:]
    assert len(answered) >= 2  # the bot answered them as any customer
    assert shop.text("tickets.reply_sent", name="Lena", number=1) not in answered
    assert shop.errors == []


async def test_a_customer_replying_to_a_ticket_message_is_not_taken_for_staff(shop):
    without_staff_group(shop)
    await complain(shop)
    alert_sent(shop)
    # The customer's chat has no copy of the alert; even a reply to a message with its id is theirs.
    await shop.chat.send(CUSTOMER, "Hallo?", reply_to_message={**bot_message(ALERT_MESSAGE_ID),
                                                                "chat": {"id": CUSTOMER, "type": "private"}})
    assert answers_to_customer(shop) == []
    assert shop.errors == []


async def test_a_request_for_a_person_also_reaches_the_owner(shop):
    without_staff_group(shop)
    await shop.chat.send(CUSTOMER, "/start")
    await shop.chat.press(CUSTOMER, "consent:no")
    await shop.chat.press(CUSTOMER, "handoff")
    assert outbox_rows(shop, "ticket:%") == []  # first: what is it about?
    await shop.chat.send(CUSTOMER, "Kann ich für Samstag einen Tisch für 8 reservieren?")
    (alert,) = outbox_rows(shop, "ticket:1:alert:%")
    assert alert.chat_id == ADMIN_ID
    with shop.services.store.session() as session:
        assert session.get(Ticket, 1).kind == "question"


async def test_without_owners_either_the_customer_gets_the_contact_and_nothing_is_stored(shop):
    without_staff_group(shop, owners=())
    await complain(shop)
    assert shop.telegram.sent(CUSTOMER)[-1].startswith(shop.text("handoff.no_staff_chat"))
    with shop.services.store.session() as session:
        assert session.exec(select(Ticket)).all() == []
    assert outbox_rows(shop, "ticket:%") == []
    assert shop.errors == []


async def test_claiming_in_the_private_chat_works_even_when_a_copy_cannot_be_edited(shop, monkeypatch):
    without_staff_group(shop)
    await complain(shop)
    alert_sent(shop)
    answer = shop.telegram.do_request

    async def copy_deleted(url, method, request_data=None, **kwargs):
        if url.endswith("/editMessageText"):
            return 400, b'{"ok": false, "error_code": 400, "description": "Bad Request: message to edit not found"}'
        return await answer(url, method, request_data, **kwargs)

    monkeypatch.setattr(shop.telegram, "do_request", copy_deleted)
    await shop.chat.press(ADMIN_ID, "tkt:claim:1")
    assert shop.telegram.toasts()[-1] == shop.text("tickets.claimed_toast", number=1)
    with shop.services.store.session() as session:
        assert session.get(Ticket, 1).claimed_by_id == ADMIN_ID
    assert shop.errors == []
