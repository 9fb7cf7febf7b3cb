"""The bot keeps its promises when parts fail: the NLU server stops, the bot restarts or
crashes, Telegram answers with errors, a customer blocks the bot. Logs never show the token."""

import json
import os
import signal
import socket
from datetime import datetime, timezone

from sqlmodel import select

from domain import outbox
from domain.outbox import MessageSpec
from storage.models import Customer, OutboxMessage, TelegramAccount
from tests.e2e.gate import Gate
from tests.e2e.journeys import faq_answer, onboarded
from tests.fakebotapi import DEFAULT_TOKEN

FAQ_QUESTION = "Bis wann kann ich heute noch bei euch einen Kaffee trinken?"
OPENING_HOURS = faq_answer("opening_hours")


async def test_bot_keeps_working_while_the_nlu_server_is_down(bots, api, rasa_url):
    """The session's real Rasa server behind a gate: closing it is, for the bot, the server
    stopping (connections refused, open ones cut); the bundled server's test below kills and
    restarts a real one."""
    nlu = Gate(int(rasa_url.rsplit(":", 1)[1]))
    await nlu.open()
    try:
        bot = await bots(nlu_url=nlu.url)
        anna = await onboarded(api)
        await anna.send_text(FAQ_QUESTION)
        assert (await anna.next_message()).text == OPENING_HOURS

        await nlu.close()
        await anna.send_text(FAQ_QUESTION.upper())  # asked before: answered from the parse cache
        assert (await anna.next_message()).text == OPENING_HOURS
        for text in ("hallo?", "ich will mit jemandem reden", FAQ_QUESTION):
            await anna.send_text(text)
            reply = await anna.next_message()
            assert reply.text.startswith("Freie Texte kann ich gerade leider nicht verstehen")
            assert reply.buttons[0] == ["❓ Häufige Fragen"]
        await anna.press("Häufige Fragen", message=reply)  # buttons still work
        await anna.press("Öffnungszeiten", message=(await anna.next_edit()).message)
        assert (await anna.next_message()).text == OPENING_HOURS
        await anna.send_command("/hilfe")  # and commands
        assert "So funktioniert's" in (await anna.next_message()).text

        await nlu.open()
        await anna.send_text(FAQ_QUESTION)
        assert (await anna.next_message()).text == OPENING_HOURS
        log = bot.log()
        assert log.count("nlu server unreachable") == 1  # once per outage, not per message
        assert log.count("nlu server reachable again") == 1
    finally:
        await nlu.close()


async def test_conversation_step_survives_a_restart(bots, api, db):
    first = await bots()
    anna = await onboarded(api)
    await anna.send_text("Bitte schickt mir keine Werbung mehr")
    assert (await anna.next_message()).text.startswith("Möchtest du wirklich keine Angebote")
    await first.stop()
    await bots()
    await anna.send_text("ja")
    assert (await anna.next_message()).text.startswith("Erledigt – du bekommst keine Angebote")
    with db.session() as session:
        account = session.get(TelegramAccount, anna.id)
        assert not session.get(Customer, account.customer_id).marketing_consent


async def test_pending_outbox_rows_are_sent_once_after_a_restart(bots, api, staff, db):
    first = await bots()
    await first.stop()
    now = datetime.now(timezone.utc)
    with db.session() as session:
        outbox.enqueue(session, "test:pending", staff.chat_id, MessageSpec(text="Zeile eins"), outbox.STAFF, now)
        in_flight = outbox.enqueue(session, "test:inflight", staff.chat_id, MessageSpec(text="Zeile zwei"),
                                   outbox.STAFF, now)
        in_flight.status = outbox.SENDING  # as if the process died while sending it
        session.add(in_flight)
    second = await bots()
    received = {(await staff.next_message()).text, (await staff.next_message()).text}
    assert received == {"Zeile eins", "Zeile zwei"}
    await second.stop()
    with db.session() as session:
        assert {r.status for r in session.exec(select(OutboxMessage))} == {"sent"}
    await bots()
    await staff.expect_no_message(within=2)
    assert len(api.sent_messages(staff.chat_id)) == 2


async def test_a_crash_while_telegram_fails_loses_nothing(bots, api, staff):
    api.inject_error("sendMessage", 502, chat_id=staff.chat_id, times=1)
    first = await bots()
    anna = await onboarded(api)
    await anna.send_text("Ich möchte bitte mit einem Mitarbeiter sprechen")
    await anna.next_message()
    await api.wait_for_call("sendMessage", lambda call: call.chat_id == staff.chat_id and call.status == 502)
    await first.kill()
    await bots()
    notice = await staff.next_message(timeout=45)  # the row may wait out its claim lease (30 s)
    assert notice.text.startswith("🆕 Anfrage #1") and "Anna" in notice.text
    await staff.expect_no_message(within=3)  # longer than the retry delay
    assert len(api.sent_messages(staff.chat_id)) == 1


async def test_blocking_the_bot_marks_the_customer_unreachable(bots, api, db):
    bot = await bots()
    anna = await onboarded(api)
    await anna.block()
    await api.wait_until(lambda: not api.pending_updates, description="the bot to fetch the update")
    await bot.stop()  # a graceful stop finishes the updates it fetched
    with db.session() as session:
        assert session.get(TelegramAccount, anna.id).unreachable_since is not None


async def test_logs_are_json_and_never_contain_the_token(bot, api):
    anna = await onboarded(api)
    await anna.send_text("hallo")
    await anna.next_message()
    await bot.stop()
    log = bot.log()
    assert DEFAULT_TOKEN not in log and DEFAULT_TOKEN.split(":")[1] not in log
    entries = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert any(e["message"] == "bot started" for e in entries)
    assert all({"time", "level", "logger", "message"} <= set(e) for e in entries)


async def test_bundled_nlu_server_starts_and_stops_with_the_bot(bots, api, nlu_model):
    bot = await bots(nlu_url=None)
    anna, ben = api.new_user(first_name="Anna"), api.new_user(first_name="Ben")
    await anna.send_text(FAQ_QUESTION)  # Rasa is still loading: Anna's first question waits for it ...
    await ben.send_command("/hilfe")  # ... and commands work meanwhile
    assert "So funktioniert's" in (await ben.next_message()).text
    assert '"nlu server started"' not in bot.log()
    started = json.loads(await bot.wait_for_log('"nlu server started"', timeout=180))
    # Her question waited for the NLU instead of being answered "I can't understand"; as a
    # newcomer she is asked for consent after the answer.
    assert (await anna.next_message()).text == OPENING_HOURS
    assert (await anna.next_message()).text.startswith("Dürfen wir dir ab und zu Angebote")
    ready = json.loads(await bot.wait_for_log('"nlu ready for the bot"'))
    assert ready["seconds_after_start"] > 0
    await anna.send_text(FAQ_QUESTION)
    assert (await anna.next_message()).text == OPENING_HOURS

    os.killpg(started["pid"], signal.SIGKILL)  # the NLU server dies ...
    await ben.send_text(FAQ_QUESTION.rstrip("?"))  # ... under a question (not one the parse cache knows)
    await bot.wait_for_log('"the NLU server stopped; starting it again"')
    await bot.wait_for_log('"nlu ready for the bot"', '"starts": 2', timeout=180)
    # Ben's question waited for the restarted server and was understood.
    while (reply := await ben.next_message()).text != OPENING_HOURS:
        assert "Freie Texte" not in reply.text
    assert not any("Freie Texte kann ich gerade" in (m.text or "") for m in anna.messages + ben.messages)
    await bot.stop()
    with socket.socket() as probe:  # the bundled Rasa server went down with the bot
        assert probe.connect_ex(("127.0.0.1", int(started["url"].rsplit(":", 1)[1]))) != 0
