"""Customers' rights to their data through the real bot: /meinedaten sends the documents,
/loeschen asks and erases only on its own button, and an owner executes a request by code."""

import json

from sqlmodel import select

from storage.models import Customer, DataRequest, TelegramAccount
from tests.e2e.harness import ADMIN_ID
from tests.e2e.journeys import customer_of, onboarded


async def test_my_data_then_erasure_with_a_forged_button_first(bot, api, db):
    anna = await onboarded(api, last_name="Quackenbusch", username="anna_q")
    await anna.send_command("/meinedaten")
    assert (await anna.next_message()).text.startswith("📄 Hier ist alles, was wir über dich gespeichert haben")
    readable, machine = await anna.next_message(), await anna.next_message()
    assert (readable.method, readable.filename.endswith(".txt")) == ("sendDocument", True)
    assert (machine.method, machine.filename.endswith(".json")) == ("sendDocument", True)
    text = readable.document.decode("utf-8")
    assert text.startswith("Deine Daten bei Kaffeehaus Morgenrot") and "Quackenbusch" in text
    assert "Einwilligungen (Werbung und Neuigkeiten)" in text and "Wortlaut: „" in text
    data = json.loads(machine.document)
    assert data["tables"]["customer"][0]["last_name"] == "Quackenbusch"
    assert data["tables"]["telegram_account"][0]["username"] == "anna_q"
    assert data["tables"]["consent_record"][0]["granted"] is True

    await anna.send_command("/loeschen")
    question = await anna.next_message()
    assert question.text.startswith("🗑 Sollen wir deine Daten löschen?") and "• 0 Punkte" in question.text
    assert question.buttons == [["Ja, alles löschen", "Nein, behalten"]]
    await anna.press_forged("erase:0123456789ab", message=question)
    assert (await anna.next_callback_answer())["text"] == "Schon erledigt 👍"
    assert customer_of(db, anna) is not None  # nothing happened
    await anna.press("Ja, alles löschen", message=question)
    await anna.next_callback_answer()
    assert (await anna.next_edit()).text.endswith("✅")
    assert (await anna.next_message()).text.startswith("✅ Erledigt – deine Daten sind gelöscht.")
    with db.session() as session:
        assert session.get(TelegramAccount, anna.id) is None
        (erased,) = session.exec(select(Customer)).all()
        assert (erased.first_name, erased.last_name, erased.erased_at is not None) == ("", None, True)

    await anna.send_command("/start")  # she may come back, as a new customer
    assert "Anna" in (await anna.next_message()).text
    assert customer_of(db, anna).id != erased.id


async def test_an_owner_erases_a_customer_by_code_and_nobody_else_may(bot, api, db):
    ben = await onboarded(api, first_name="Ben")
    code = customer_of(db, ben).code
    mallory = await onboarded(api, first_name="Mallory")
    await mallory.send_command("/kunde_loeschen", code)
    assert (await mallory.next_message()).text == ("Berichte und Nachrichten an Kunden gibt es nur für die "
                                                   "Inhaber des Ladens. 🙂")
    owner = api.new_user(first_name="Ines", user_id=ADMIN_ID)
    await owner.send_command("/kunde_loeschen", code)
    question = await owner.next_message()
    assert question.text.startswith(f"🗑 Die Daten von Kunde {code} löschen?")
    confirm = question.callback_data[0]
    await mallory.send_command("/punkte")
    own_message = await mallory.next_message()
    await mallory.press_forged(confirm, message=own_message)  # the owner's real button, pressed by her
    assert (await mallory.next_callback_answer())["text"] == ("Berichte und Nachrichten an Kunden gibt es nur für "
                                                              "die Inhaber des Ladens. 🙂")
    assert customer_of(db, ben) is not None
    await owner.press("Ja, alles löschen", message=question)
    await owner.next_callback_answer()
    assert (await owner.next_edit()).text.endswith(f"✅ Die Daten von Kunde {code} sind gelöscht.")
    with db.session() as session:
        assert session.get(TelegramAccount, ben.id) is None
        assert session.exec(select(DataRequest.kind, DataRequest.executed_by)).all() == [("erasure", ADMIN_ID)]
    assert customer_of(db, mallory).first_name == "Mallory"


async def test_asked_in_own_words_and_cancelled(bot, api, db):
    carla = await onboarded(api, first_name="Carla")
    await carla.send_text("Welche Daten habt ihr von mir gespeichert?")
    assert (await carla.next_message()).text.startswith("📄 Hier ist alles, was wir über dich gespeichert haben")
    assert [(await carla.next_message()).method for _ in range(2)] == ["sendDocument", "sendDocument"]
    await carla.send_text("Bitte löscht alle meine Daten")
    question = await carla.next_message()
    assert question.text.startswith("🗑 Sollen wir deine Daten löschen?")
    await carla.press("Nein, behalten", message=question)
    await carla.next_callback_answer()
    assert (await carla.next_edit()).text.endswith("Gut, wir behalten alles wie bisher. 🙂")
    await carla.press("Ja, alles löschen", message=question, stale_ok=True)  # the old question: nothing
    assert (await carla.next_callback_answer())["text"] == "Schon erledigt 👍"
    assert customer_of(db, carla).first_name == "Carla"
