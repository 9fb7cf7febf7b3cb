"""Complaints and tickets end to end: the customer's chat, the staff group's alert and buttons,
replies both ways, goodwill, resolution (confirmed first, undone within its minute) and
follow-up, SLA reminders and escalation with a movable clock (STAMMGAST_TEST_CLOCK_FILE), a
restart with a deadline running, forged buttons and a customer who blocked the bot.

The team works around the clock in these tests (a copy of config.yml with business hours
00:00-24:00), so deadlines are exactly 60 minutes after a ticket opened whatever the real time.
"""

import asyncio
import re
import time

from sqlmodel import select

from storage.models import OutboxMessage, PointsEntry, Ticket, TicketEvent
from tests.e2e.harness import ADMIN_ID, config_file
from tests.e2e.journeys import customer_of, onboarded

MINUTE = 60
DAY = 86400
ALERT_BUTTONS = [["🙋 Übernehmen", "✍️ Antworten"], ["✅ Gelöst", "🎁 Kulanz"]]
CONFIRM_BUTTONS = [["Wirklich gelöst? ✅ Ja", "Abbrechen"]]


def always_open_config(tmp_path) -> str:
    return config_file(tmp_path, {"shop": {"opening_hours": {"mo-so": "00:00-24:00"}, "holidays": []},
                                  "complaints": {"first_response_minutes": 60, "reminder_minutes_before": 15}})


async def start(bots, tmp_path):
    clock = tmp_path / "clock"
    process = await bots(STAMMGAST_TEST_CLOCK_FILE=str(clock), STAMMGAST_CONFIG=always_open_config(tmp_path))
    return process, clock


def tickets_in(db) -> list[Ticket]:
    with db.session() as session:
        return list(session.exec(select(Ticket).order_by(Ticket.id)))


def events_of(db, ticket_id) -> list[str]:
    with db.session() as session:
        return [e.kind for e in session.exec(select(TicketEvent).where(TicketEvent.ticket_id == ticket_id)
                                             .order_by(TicketEvent.id))]


async def recorded_as_sent(db, message, timeout: float = 10.0) -> None:
    """Wait until the bot recorded its message as sent: a reply to it finds its ticket only then."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with db.session() as session:
            if session.exec(select(OutboxMessage.id).where(OutboxMessage.chat_id == message.chat_id,
                                                           OutboxMessage.telegram_message_id == message.message_id)
                            ).first() is not None:
                return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{message!r} was not recorded as sent")


async def complain(user, text):
    await user.send_command("/beschwerde")
    assert (await user.next_message()).text.startswith(f"Das tut mir leid, {user.first_name}")
    await user.send_text(text)
    return await user.next_message()


async def test_complaint_from_alert_to_claim_replies_goodwill_resolution_and_a_reopening(bots, api, staff, db,
                                                                                           tmp_path):
    _, clock = await start(bots, tmp_path)
    anna = await onboarded(api, username="anna_k")
    bea, chris = api.new_user(first_name="Bea"), api.new_user(first_name="Chris")
    opened = await complain(anna, "Bestellnummer 4711: Die Bohnen waren verbrannt und total bitter")
    assert "Es tut uns wirklich leid" in opened.text and "Ticket #1" in opened.text
    alert = await staff.next_message()
    assert alert.text.startswith("🆕 Beschwerde #1 · Priorität normal")
    assert "Anna (@anna_k) · Code " in alert.text and "Kategorie: Qualität" in alert.text
    assert "Bon/Bestellung: 4711" in alert.text and "Die Bohnen waren verbrannt" in alert.text
    assert alert.buttons == ALERT_BUTTONS

    await staff.press(bea, "🙋 Übernehmen", message=alert)
    assert (await staff.next_callback_answer())["text"] == "Du kümmerst dich um Ticket #1."
    claimed = await staff.next_edit()
    assert claimed.text.endswith("👤 Übernommen von Bea") and claimed.buttons == [["✍️ Antworten"],
                                                                                   ["✅ Gelöst", "🎁 Kulanz"]]
    await staff.press_forged(chris, "tkt:claim:1", message=alert)  # a second claim changes nothing
    assert (await staff.next_callback_answer())["text"] == "Bea kümmert sich schon darum."

    # A Telegram reply to the alert goes to the customer in the shop's name ...
    await staff.reply_to(bea, alert, "Oh nein, das tut uns leid! Wir legen dir eine frische Packung zurück.")
    assert (await anna.next_message()).text == ("💬 Kaffeehaus Morgenrot: Oh nein, das tut uns leid! "
                                                "Wir legen dir eine frische Packung zurück.")
    assert (await staff.next_message()).text == "✅ An Anna geschickt (Ticket #1)."
    answered = await staff.next_edit()  # the first answer meets the deadline: it leaves the alert
    assert "Erste Antwort fällig" in claimed.text and "Erste Antwort fällig" not in answered.text
    # ... and her answer comes back into the staff group as a reply to the alert.
    await anna.send_text("Danke, ich komme morgen vorbei")
    assert (await anna.next_message()).text == "📨 Weitergeleitet (Ticket #1)."
    relayed = await staff.next_message()
    assert relayed.text == "💬 Anna (#1): Danke, ich komme morgen vorbei"
    assert relayed.reply_to_message_id == alert.message_id

    # "Antworten": a reply to the prompt is the answer; a plain message right after it is not.
    await staff.press(chris, "✍️ Antworten", message=alert)
    await staff.next_callback_answer()
    prompt = await staff.next_message()
    assert prompt.text.startswith("✍️ Chris, schreib deine Antwort an Anna") and "Wort für Wort" in prompt.text
    assert prompt.reply_markup["force_reply"] is True
    await staff.send_text(chris, "Bea, weißt du, ob noch Bohnen da sind?")  # not a reply: stays in the team
    await anna.expect_no_message(within=1.0)
    await staff.reply_to(chris, prompt, "Bis morgen, Anna!")
    assert (await anna.next_message()).text == "💬 Kaffeehaus Morgenrot: Bis morgen, Anna!"
    assert (await staff.next_message()).text == "✅ An Anna geschickt (Ticket #1)."
    await staff.send_text(chris, "Ich mach dann mal Pause")  # talk among the team stays there
    await anna.expect_no_message(within=1.0)

    await staff.press(bea, "🎁 Kulanz", message=alert)
    assert (await staff.next_callback_answer())["text"] == "Wie viele Punkte Kulanz für Ticket #1?"
    assert (await staff.next_edit()).buttons == [["+25", "+50", "+100"], ["↩️ Zurück"]]
    await staff.press(bea, "+50", message=alert)
    await staff.next_callback_answer()
    assert (await staff.next_message()).text == "🎁 50 Punkte für Anna gebucht (neuer Punktestand: 50)."
    assert "Kulanz: 50 Punkte" in (await staff.next_edit()).text
    assert (await anna.next_message()).text.startswith("🎁 Als kleine Entschuldigung haben wir dir 50 Punkte")
    await staff.press_forged(bea, "tkt:gw:1:100", message=alert)  # once per ticket
    assert (await staff.next_callback_answer())["text"] == "Für dieses Ticket gab es schon Kulanz (50 Punkte)."

    await staff.press(bea, "✅ Gelöst", message=alert)  # asks first
    assert (await staff.next_callback_answer())["text"] == "Wirklich gelöst? Der Kunde bekommt dann Bescheid."
    assert (await staff.next_edit()).buttons == CONFIRM_BUTTONS
    await staff.press(bea, "Wirklich gelöst? ✅ Ja", message=alert)
    assert (await staff.next_callback_answer())["text"].startswith("Ticket #1 ist gelöst.")
    solved = await staff.next_edit()
    assert solved.text.endswith("✅ Gelöst (Bea)") and solved.buttons == [["↩️ Rückgängig"]]
    await anna.expect_no_message(within=1.0)  # told once the minute for "Rückgängig" is over
    clock.write_text(str(61))
    assert (await anna.next_message()).text.startswith("✅ Unser Team hat dein Anliegen (Ticket #1)")
    with db.session() as session:
        goodwill = session.exec(select(PointsEntry).where(PointsEntry.reason == "goodwill")).all()
    assert [(e.amount, e.customer_id) for e in goodwill] == [(50, customer_of(db, anna).id)]

    await anna.expect_no_message(within=1.0)  # the follow-up waits a few days
    clock.write_text(str(4 * DAY))
    follow_up = await anna.next_message()
    assert follow_up.text == ("Hallo Anna, vor ein paar Tagen hattest du uns wegen Ticket #1 geschrieben. "
                              "Ist alles wieder gut?")
    await anna.press("Nein, leider nicht", message=follow_up)
    await anna.next_callback_answer()
    assert (await anna.next_message()).text.startswith("Oh, das tut mir leid. Ich habe Ticket #1 wieder geöffnet")
    again = await staff.next_message()
    assert again.text.startswith("🆕 Beschwerde #1") and "🔁 Wieder geöffnet (1×)" in again.text
    assert again.buttons == ALERT_BUTTONS
    await anna.press("👍 Ja, alles gut", message=follow_up, stale_ok=True)  # the old question is answered
    assert (await anna.next_callback_answer())["text"] == "Schon erledigt 👍"
    (ticket,) = tickets_in(db)
    assert (ticket.status, ticket.times_reopened, ticket.goodwill_points) == ("open", 1, 50)
    assert events_of(db, ticket.id) == ["opened", "claimed", "staff_reply", "customer_message", "staff_reply",
                                        "goodwill", "resolved", "follow_up", "reopened"]


async def test_all_good_closes_the_ticket_and_staff_see_lists_and_history(bots, api, staff, db, tmp_path):
    _, clock = await start(bots, tmp_path)
    ben = await onboarded(api, first_name="Ben")
    bea = api.new_user(first_name="Bea")
    await ben.send_text("Ich möchte bitte mit einem Mitarbeiter sprechen")
    assert (await ben.next_message()).text.startswith("Ich habe unserem Team Bescheid gesagt.")
    alert = await staff.next_message()
    assert alert.text.startswith("🆕 Anfrage #1")
    await staff.send_command(bea, "/tickets")
    listing = (await staff.next_message()).text
    assert listing.startswith("Offene Tickets: 1") and re.search(r"#1 Anfrage · Ben · .* · noch (59|60) Min\.", listing)
    await staff.send_command(bea, "/ticket", "1")
    assert "eröffnet: Ich möchte bitte mit einem Mitarbeiter sprechen" in (await staff.next_message()).text
    await staff.send_command(bea, "/ticket", "abc")
    assert (await staff.next_message()).text.startswith("So geht's: /ticket 12")
    await staff.press(bea, "✅ Gelöst", message=alert)
    await staff.next_callback_answer()
    assert (await staff.next_edit()).buttons == CONFIRM_BUTTONS
    await staff.press(bea, "Abbrechen", message=alert)  # second thoughts: the alert as it was
    await staff.next_callback_answer()
    assert (await staff.next_edit()).buttons == ALERT_BUTTONS
    await staff.press(bea, "✅ Gelöst", message=alert)
    await staff.next_callback_answer()
    await staff.next_edit()
    await staff.press(bea, "Wirklich gelöst? ✅ Ja", message=alert)
    await staff.next_callback_answer()
    solved = await staff.next_edit()
    assert "✅ Gelöst (Bea) – ⚠️ ohne Antwort an den Kunden" in solved.text
    await staff.press(bea, "↩️ Rückgängig", message=alert)  # within the minute
    assert (await staff.next_callback_answer())["text"] == "Rückgängig gemacht: Ticket #1 ist wieder offen."
    assert (await staff.next_edit()).buttons == [["✍️ Antworten"], ["✅ Gelöst", "🎁 Kulanz"]]  # Bea has it
    assert [t.status for t in tickets_in(db)] == ["open"]
    clock.write_text(str(2 * MINUTE))
    await ben.expect_no_message(within=1.5)  # the undone solution never reaches Ben
    await staff.press(bea, "✅ Gelöst", message=alert)
    await staff.next_callback_answer()
    await staff.next_edit()
    await staff.press(bea, "Wirklich gelöst? ✅ Ja", message=alert)
    await staff.next_callback_answer()
    await staff.next_edit()
    await staff.send_command(bea, "/tickets")
    listing = (await staff.next_message()).text
    assert listing.startswith("Keine offenen Tickets. 🎉") and "Gelöst ohne Antwort an den Kunden" in listing
    clock.write_text(str(4 * MINUTE))
    assert (await ben.next_message()).text.startswith("✅ Unser Team hat dein Anliegen (Ticket #1)")
    await staff.press(bea, "↩️ Rückgängig", message=alert)  # too late: stays solved
    assert (await staff.next_callback_answer())["text"].startswith("„Rückgängig“ geht nur in der ersten Minute")
    assert (await staff.next_edit()).buttons == []
    assert [t.status for t in tickets_in(db)] == ["resolved"]
    clock.write_text(str(4 * DAY))
    await ben.press("👍 Ja, alles gut", message=await ben.next_message())
    await ben.next_callback_answer()
    assert (await ben.next_message()).text.startswith("Das freut uns sehr!")
    assert [t.status for t in tickets_in(db)] == ["closed"]
    await staff.send_command(bea, "/tickets")
    assert (await staff.next_message()).text == "Keine offenen Tickets. 🎉"
    mallory = api.new_user(first_name="Mallory")
    await mallory.send_command("/tickets")  # customers cannot list tickets
    assert (await mallory.next_message()).text == "Diesen Befehl kann nur unser Team benutzen."


async def test_sla_reminder_then_escalation_to_the_owner_and_high_priority_at_once(bots, api, staff, db, tmp_path):
    _, clock = await start(bots, tmp_path)
    owner = api.new_user(first_name="Ines", user_id=ADMIN_ID)
    ben = await onboarded(api, first_name="Ben")
    await ben.send_text("Das ist Betrug, ihr habt doppelt abgebucht! Ich gehe zum Anwalt.")
    assert "Ticket #1" in (await ben.next_message()).text
    alert = await staff.next_message()
    assert "Priorität ❗ hoch" in alert.text and "Warum: Anwalt/Behörde, Betrugsvorwurf" in alert.text
    assert (await owner.next_message()).text.startswith("📣 Ticket #1 von Ben, Priorität ❗ hoch")
    clock.write_text(str(46 * MINUTE))
    reminder = await staff.next_message()
    assert re.fullmatch(r"⏰ Ticket #1 wartet noch auf eine erste Antwort – fällig .* \(noch 1[34] Min\.\)\.",
                        reminder.text)
    assert reminder.reply_to_message_id == alert.message_id
    await owner.expect_no_message(within=1.0)  # not yet
    clock.write_text(str(61 * MINUTE))
    assert (await owner.next_message()).text.startswith(
        "⚠️ Ticket #1 von Ben hat die Frist für die erste Antwort überschritten (übernommen: –).")
    assert (await staff.next_message()).text.startswith("⚠️ Ticket #1: Frist für die erste Antwort überschritten.")
    clock.write_text(str(120 * MINUTE))
    await owner.expect_no_message(within=1.5)  # escalated once
    await staff.expect_no_message(within=0.1)
    assert events_of(db, 1) == ["opened", "reminder", "escalated"]


async def test_a_restart_keeps_the_ticket_and_its_running_deadline(bots, api, staff, db, tmp_path):
    first, clock = await start(bots, tmp_path)
    owner = api.new_user(first_name="Ines", user_id=ADMIN_ID)
    anna = await onboarded(api)
    opened = await complain(anna, "Die Milch im Cappuccino war sauer")
    assert "Ticket #1" in opened.text
    alert = await staff.next_message()
    await first.stop()
    clock.write_text(str(61 * MINUTE))  # the deadline passes while the bot is down
    await bots(STAMMGAST_TEST_CLOCK_FILE=str(clock), STAMMGAST_CONFIG=always_open_config(tmp_path))
    reminder, breach = await staff.next_message(), await staff.next_message()
    assert reminder.text.startswith("⏰ Ticket #1") and breach.text.startswith("⚠️ Ticket #1")
    assert (await owner.next_message()).text.startswith("⚠️ Ticket #1 von Anna")
    # The thread still works after the restart: her message goes under the old alert.
    await anna.send_text("Hallo? Meldet sich noch jemand?")
    assert (await anna.next_message()).text == "📨 Weitergeleitet (Ticket #1)."
    assert (await staff.next_message()).reply_to_message_id == alert.message_id


async def test_forged_ticket_buttons_from_customers_change_nothing(bots, api, staff, db, tmp_path):
    await start(bots, tmp_path)
    anna = await onboarded(api)
    mallory = await onboarded(api, first_name="Mallory")
    await complain(anna, "Der Kuchen war total trocken")
    await staff.next_message()
    await mallory.send_command("/punkte")
    own_message = await mallory.next_message()
    for forged in ("tkt:claim:1", "tkt:solved:1", "tkt:confirm:1", "tkt:undo:1:1796000000", "tkt:gw:1:100",
                   "tkt:reply:1", "tkt:goodwill:1"):
        await mallory.press_forged(forged, message=own_message)
        assert (await mallory.next_callback_answer())["text"] == "Dieser Knopf ist nicht mehr aktuell."
    await mallory.press_forged("tkt:ok:1:no", message=own_message)  # Anna's follow-up, not hers
    assert (await mallory.next_callback_answer())["text"] == "Schon erledigt 👍"
    await staff.press_forged(api.new_user(first_name="Bea"), "tkt:gw:1:999")  # not a preset
    assert (await staff.next_callback_answer())["text"] == "Dieser Knopf ist nicht mehr aktuell."
    (ticket,) = tickets_in(db)
    assert (ticket.status, ticket.claimed_by_id, ticket.goodwill_points) == ("open", None, 0)
    with db.session() as session:
        assert session.exec(select(PointsEntry)).all() == []
    await anna.expect_no_message(within=0.5)


async def test_a_customer_who_blocked_the_bot_cannot_be_answered_and_staff_are_told(bots, api, staff, db, tmp_path):
    process, _ = await start(bots, tmp_path)
    anna = await onboarded(api, phone_number="+4915112345678")
    bea = api.new_user(first_name="Bea")
    await complain(anna, "Mein Paket kam kaputt an, alles voller Scherben")
    alert = await staff.next_message()
    # the bot knows the alert once the send is recorded (a reply before that finds no ticket)
    await process.wait_for_log("outbox message sent", f'"chat_id": {staff.id}')
    await anna.block()
    await process.wait_for_log("customer blocked the bot")
    await staff.reply_to(bea, alert, "Das tut uns leid, wir schicken Ersatz.")
    notice = await staff.next_message()
    assert notice.text.startswith("⚠️ Anna hat den Bot blockiert oder den Chat gelöscht")
    assert events_of(db, 1) == ["opened"]  # nothing was sent, the SLA still runs
    assert tickets_in(db)[0].first_response_at is None


async def test_a_photo_with_the_complaint_goes_to_the_staff_chat_under_the_alert(bots, api, staff, db, tmp_path):
    await start(bots, tmp_path)
    anna = await onboarded(api)
    await anna.send_command("/beschwerde")
    await anna.next_message()
    await anna.send_photo(b"\x89PNG fake cake", caption="So sah der Kuchen aus, total verbrannt")
    assert "Ticket #1" in (await anna.next_message()).text
    alert = await staff.next_message()
    assert "So sah der Kuchen aus" in alert.text
    photo = await staff.next_message()
    assert photo.photo == b"\x89PNG fake cake" and photo.reply_to_message_id == alert.message_id
    assert photo.caption.startswith("📷 Anna (#1)")
    await anna.send_photo(b"second")  # a later photo on the open ticket is relayed too
    assert (await anna.next_message()).text == "📨 Weitergeleitet (Ticket #1)."
    assert (await staff.next_message()).photo == b"second"


async def test_staff_answer_a_ticket_with_a_photo_or_a_file_and_the_customer_gets_it(bots, api, staff, db, tmp_path):
    await start(bots, tmp_path)
    anna = await onboarded(api)
    await complain(anna, "Die Bohnen, die ich gekauft habe, waren leider falsch gemahlen")
    alert = await staff.next_message()
    barista = api.new_user(first_name="Bea")
    staff.add_member(barista)

    await staff.reply_with_photo(barista, alert, b"\x89PNG replacement", caption="So sieht der Ersatz aus.\nLiegt bereit!")
    photo = await anna.next_message()
    assert photo.photo == b"\x89PNG replacement"
    assert photo.caption == "💬 Kaffeehaus Morgenrot: So sieht der Ersatz aus.\nLiegt bereit!"  # line breaks kept
    sent = await staff.next_message()
    assert sent.text.startswith("✅") and sent.disable_notification  # the team hears it went out, without a ring

    await staff.reply_with_document(barista, alert, "gutschrift.pdf", b"%PDF-1.4 credit note")
    document = await anna.next_message()
    assert document.document == b"%PDF-1.4 credit note" and document.caption == "💬 Kaffeehaus Morgenrot"
    await staff.next_message()
    assert events_of(db, 1).count("staff_reply") == 2 and tickets_in(db)[0].first_response_at is not None

    await staff.send_document(barista, "dienstplan.pdf", b"%PDF team only")  # not a reply: the team's own business
    await anna.expect_no_message()


async def test_the_team_button_asks_what_it_is_about_first_and_the_ticket_opens_with_the_answer(bots, api, staff, db,
                                                                                              tmp_path):
    await start(bots, tmp_path)
    anna = await onboarded(api)
    menu = anna.messages[-1]
    await anna.press("🙋 Mit dem Team sprechen", message=menu)
    await anna.next_callback_answer()
    question = await anna.next_edit()  # the menu becomes the question: no new message, no ticket yet
    assert question.text.startswith("🙋 Worum geht es?") and question.buttons == [["✖️ Abbrechen"]]
    assert tickets_in(db) == []

    await anna.press("Abbrechen", message=question.message)  # changed her mind: the menu again
    await anna.next_callback_answer()
    assert (await anna.next_edit()).buttons[0] == ["❓ Häufige Fragen"]
    await anna.send_text("Hallo")
    assert (await anna.next_message()).text.startswith("Hallo Anna!")  # an ordinary message, not a ticket
    assert tickets_in(db) == []

    await anna.press("🙋 Mit dem Team sprechen", message=menu)
    await anna.next_callback_answer()
    await anna.next_edit()
    await anna.send_text("Kann ich für Samstag einen Tisch für acht Leute reservieren?")
    assert "Ticket #1" in (await anna.next_message()).text
    alert = await staff.next_message()
    assert alert.text.startswith("🆕 Anfrage #1") and "Tisch für acht Leute" in alert.text
    (ticket,) = tickets_in(db)
    assert ticket.kind == "question" and ticket.text == "Kann ich für Samstag einen Tisch für acht Leute reservieren?"
    # with the ticket open, the button says so instead of asking again
    await anna.send_command("/start")
    await anna.press("🙋 Mit dem Team sprechen", message=await anna.next_message())
    await anna.next_callback_answer()
    assert "#1" in (await anna.next_message()).text and len(tickets_in(db)) == 1


async def test_a_customers_voice_message_and_file_reach_the_staff_group_and_a_reply_to_the_voice_comes_back(
        bots, api, staff, db, tmp_path):
    await start(bots, tmp_path)
    anna = await onboarded(api)
    await complain(anna, "Die Torte zum Geburtstag war leider matschig und total schief")
    alert = await staff.next_message()
    bea = api.new_user(first_name="Bea")
    staff.add_member(bea)

    await anna.send_voice(b"OggS Anna erzaehlt", duration=12)
    acknowledged = await anna.next_message()
    assert acknowledged.text == "📨 Weitergeleitet (Ticket #1)." and acknowledged.disable_notification
    voice = await staff.next_message()  # who sent it on which ticket: staff can answer with a reply
    assert (voice.method, voice.voice, voice.caption) == ("sendVoice", b"OggS Anna erzaehlt", "🎤 Anna (#1)")
    assert voice.reply_to_message_id == alert.message_id
    await anna.send_document("kassenbon.pdf", b"%PDF-1.4 receipt", "application/pdf", caption="Hier der Bon")
    file = await staff.next_message()
    assert (file.document, file.filename, file.caption) == (b"%PDF-1.4 receipt", "kassenbon.pdf",
                                                            "📎 Anna (#1) Hier der Bon")
    assert file.reply_to_message_id == alert.message_id
    await anna.expect_no_message(within=1.0)  # right after the voice message: no second "Weitergeleitet"

    await recorded_as_sent(db, voice)
    await staff.reply_to(bea, voice, "Danke dir, wir backen dir eine neue!")
    assert (await anna.next_message()).text == "💬 Kaffeehaus Morgenrot: Danke dir, wir backen dir eine neue!"
    assert (await staff.next_message()).text == "✅ An Anna geschickt (Ticket #1)."
    assert events_of(db, 1) == ["opened", "customer_voice", "customer_document", "claimed", "staff_reply"]


async def test_quick_messages_on_a_ticket_are_acknowledged_once_and_quietly(bots, api, staff, db, tmp_path):
    _, clock = await start(bots, tmp_path)
    anna = await onboarded(api)
    await complain(anna, "Der Kaffee war kalt und der Kuchen vom Vortag")
    await staff.next_message()
    # Three messages in a few seconds (each once the one before reached the team: all at once
    # would be a flood the inbound limit drops).
    for text in ("Und die Sahne war sauer", "Und keiner hat sich entschuldigt", "Ich warte auf eure Antwort"):
        await anna.send_text(text)
        await api.wait_until(lambda: any(text in (m.text or "") for m in staff.messages), 20, repr(text))
    acknowledged = await anna.next_message()
    assert acknowledged.text == "📨 Weitergeleitet (Ticket #1)." and acknowledged.disable_notification
    await anna.expect_no_message(within=1.5)  # one "Weitergeleitet" for the three

    clock.write_text(str(4 * MINUTE))  # after a pause, the next message is acknowledged again
    await anna.send_text("Hallo? Ist da jemand?")
    assert (await anna.next_message()).text == "📨 Weitergeleitet (Ticket #1)."
    assert events_of(db, 1).count("customer_message") == 4
