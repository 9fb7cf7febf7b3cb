"""The owner home through the fake Bot API and the real bot: an owner's /start opens the home
with the setup checklist and the buttons, "Bericht" sends the dashboard, "Als Kunde ansehen"
the customer menu; a customer's /start is the onboarding as before, and a customer's forged
``home:`` press changes nothing."""

from tests.e2e.harness import ADMIN_ID
from tests.e2e.journeys import onboarded
from tests.e2e.test_authorization import snapshot

BUTTONS = [["📊 Bericht", "📣 Kampagnen"], ["🎫 Tickets", "👥 Segmente"], ["📥 Import", "📤 Export"],
           ["🙋 Als Kunde ansehen"]]


async def test_an_owners_start_opens_the_home_and_its_buttons_work(bot, api, db):
    owner = api.new_user(first_name="Ines", user_id=ADMIN_ID)
    await owner.send_command("/start")
    home = await owner.next_message()
    assert home.text.startswith("👋 Hallo Ines! Hier ist die Übersicht für Kaffeehaus Morgenrot.")
    assert "✅ Team-Gruppe verbunden" in home.text
    assert "⬜ Der Bot ist kein Admin der Team-Gruppe:" in home.text  # the test group made it a plain member
    assert "✅ Datenschutzhinweis vollständig" in home.text
    assert "⬜ Die FAQ ist noch das Beispiel" in home.text
    assert "✅ Beleg-Schlüssel gesetzt" in home.text  # the test harness sets one
    assert "✅ Alle Inhaber sind für den Bot erreichbar" in home.text
    assert home.buttons == BUTTONS
    await owner.expect_no_message()  # one message, no consent question

    await owner.press("📊 Bericht", message=home)
    await owner.next_callback_answer()
    picture = await owner.next_message(timeout=60)
    assert picture.kind == "photo" and picture.caption.startswith("📊 Kennzahlen")
    assert (await owner.next_message()).text.startswith("📊 Das Wichtigste vom")

    await owner.press("🙋 Als Kunde ansehen", message=home)
    await owner.next_callback_answer()
    menu = await owner.next_message()
    assert menu.text.startswith("Wobei kann ich helfen?")
    assert ["⭐ Meine Punkte", "🎁 Prämien ansehen"] in menu.buttons


async def test_a_customers_start_is_still_the_onboarding_and_a_forged_home_press_does_nothing(bot, api, db, staff):
    anna = api.new_user(first_name="Anna")
    await anna.send_command("/start")
    first_contact = await anna.next_message()  # greeting and consent question in one message
    assert first_contact.text.startswith("Hallo Anna! 👋") and first_contact.buttons == [["Ja, gerne", "Nein, danke"]]

    mallory = await onboarded(api, first_name="Mallory")
    before = snapshot(db)
    for action in ("report", "export", "customer"):
        await mallory.press_forged(f"home:{action}")
        answer = await mallory.next_callback_answer()
        assert answer["text"] == "Berichte und Nachrichten an Kunden gibt es nur für die Inhaber des Ladens. 🙂"
    await mallory.expect_no_message()
    await staff.expect_no_message()
    assert snapshot(db) == before
