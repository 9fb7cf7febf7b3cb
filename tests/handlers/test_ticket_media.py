"""A customer's voice messages, videos, video notes, audio files, GIFs and files on their open
ticket reach the team (through the wiring: the conversation, and the file handler that otherwise
takes owners' CSV imports), each sent by the dispatcher with its own Bot API method and captioned
with who sent it on which ticket. "Weitergeleitet" comes once for a burst, without a sound.
Without an open ticket they get the answers they got before."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.dispatcher import OutboxDispatcher
from domain import outbox
from storage.models import OutboxMessage
from tests.handlers.conftest import ADMIN_ID, STAFF_CHAT_ID

CUSTOMER = 602
COMPLAINT = "Der Kaffee war heute eiskalt und keiner hat sich gekümmert"


async def complain(shop) -> None:
    await shop.chat.send(CUSTOMER, "/start")
    await shop.chat.press(CUSTOMER, "consent:no")
    await shop.chat.send(CUSTOMER, "/beschwerde")
    await shop.chat.send(CUSTOMER, COMPLAINT)


def relayed_rows(shop) -> list[OutboxMessage]:
    with shop.services.store.session() as session:
        rows = session.exec(select(OutboxMessage).where(OutboxMessage.idempotency_key.like("ticket:1:in:%"))
                             .order_by(OutboxMessage.id)).all()
        for row in rows:
            session.expunge(row)
        return list(rows)


def sends_to(shop, chat_id: int) -> list[tuple[str, dict]]:
    return [(name, params) for name, params in shop.telegram.calls
            if name.startswith("send") and int(params.get("chat_id", 0)) == chat_id]


def acknowledgements(shop) -> list[dict]:
    relayed = shop.text("tickets.relayed", number=1)
    return [params for name, params in sends_to(shop, CUSTOMER) if params.get("text") == relayed]


async def test_voice_video_note_file_and_gif_on_an_open_ticket_reach_the_staff_group(shop):
    await complain(shop)
    await shop.chat.media(CUSTOMER, "voice", file_id="VOICE1")
    await shop.chat.media(CUSTOMER, "video_note", file_id="NOTE1")
    await shop.chat.media(CUSTOMER, "document", "Der Kassenbon", file_id="PDF1")  # not an owner's import
    await shop.chat.media(CUSTOMER, "animation", file_id="GIF1")  # a GIF comes with a document too
    await shop.chat.media(CUSTOMER, "audio", file_id="AUDIO1")
    await shop.chat.media(CUSTOMER, "video", "So sah es aus", file_id="VIDEO1")
    assert shop.errors == []
    rows = relayed_rows(shop)
    attachments = [outbox.MessageSpec.from_payload(row.payload).attachment for row in rows]
    assert [(a.kind, a.file_id) if a else None for a in attachments] == [
        ("voice", "VOICE1"), None, ("video_note", "NOTE1"), ("document", "PDF1"), ("animation", "GIF1"),
        ("audio", "AUDIO1"), ("video", "VIDEO1")]  # the video note's line (None) just before it

    dispatcher = OutboxDispatcher(shop.services, shop.application.bot, outbox.Hooks(shop.services.config))
    for row in rows:
        await dispatcher._deliver(row)
    sent = sends_to(shop, STAFF_CHAT_ID)[-len(rows):]
    assert [name for name, _ in sent] == ["sendVoice", "sendMessage", "sendVideoNote", "sendDocument",
                                          "sendAnimation", "sendAudio", "sendVideo"]
    assert [params.get("caption") or params.get("text") for _, params in sent] == [
        "🎤 <b>Lena</b> (#1) ", "📹 <b>Lena</b> (#1) hat eine Videonachricht geschickt:", None,
        "📎 <b>Lena</b> (#1) Der Kassenbon", "🎞️ <b>Lena</b> (#1) ", "🎵 <b>Lena</b> (#1) ",
        "🎬 <b>Lena</b> (#1) So sah es aus"]
    assert "caption" not in sent[2][1] and sent[2][1]["video_note"] == "NOTE1"
    assert all(row.status == outbox.SENT for row in relayed_rows(shop))
    assert len(acknowledgements(shop)) == 1  # a burst: "Weitergeleitet" once


async def test_a_burst_of_texts_is_acknowledged_once_and_quietly(shop):
    await complain(shop)
    for text in ("Hallo?", "Ist da jemand?", "Ich warte"):
        await shop.chat.send(CUSTOMER, text)
    (acknowledged,) = acknowledgements(shop)
    assert acknowledged["disable_notification"] is True
    shop.services.clock.moment += timedelta(minutes=4)  # a pause: the next message is acknowledged again
    await shop.chat.send(CUSTOMER, "Immer noch nichts")
    assert len(acknowledgements(shop)) == 2
    assert shop.errors == []


async def test_without_an_open_ticket_voice_messages_and_files_get_the_answers_they_got_before(shop):
    await shop.chat.send(CUSTOMER, "/start")
    await shop.chat.press(CUSTOMER, "consent:no")
    await shop.chat.media(CUSTOMER, "voice")
    assert shop.telegram.sent(CUSTOMER)[-1] == shop.text("understanding.not_text")
    await shop.chat.media(CUSTOMER, "document")
    assert shop.telegram.sent(CUSTOMER)[-1] == shop.text("understanding.not_text")
    await shop.chat.media(CUSTOMER, "document", document={"file_id": "CSV1", "file_unique_id": "u-CSV1",
                                                          "file_name": "kunden.csv", "mime_type": "text/csv"})
    assert shop.telegram.sent(CUSTOMER)[-1] == shop.text("import.not_admin")
    assert relayed_rows(shop) == [] and shop.errors == []


async def test_an_owners_file_is_still_their_import_and_not_a_ticket_message(shop):
    await shop.chat.media(ADMIN_ID, "document", first_name="Olga")  # a PDF: not a CSV to import
    assert shop.telegram.sent(ADMIN_ID)[-1] == shop.text("import.not_csv")
    assert shop.errors == []
