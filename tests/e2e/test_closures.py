"""One-off closures through the real bot and the real model: the owner posts "heute geschlossen",
a customer who asks in their own words whether the shop is open today is told it is closed; a
customer's /geschlossen changes nothing."""

from sqlmodel import select

from storage.models import Closure
from tests.e2e.harness import ADMIN_ID
from tests.e2e.journeys import faq_answer, onboarded

QUESTION = "Habt ihr heute offen?"
NOT_OWNER = "Berichte und Nachrichten an Kunden gibt es nur für die Inhaber des Ladens. 🙂"


def closures(db) -> list[Closure]:
    with db.session() as session:
        return list(session.exec(select(Closure)))


async def test_the_owner_closes_today_and_a_customer_who_asks_is_told_first(bot, api, db):
    anna = await onboarded(api)
    await anna.send_text(QUESTION)
    assert (await anna.next_message()).text == faq_answer("opening_hours")  # the hours of config.yml

    owner = api.new_user(first_name="Ines", user_id=ADMIN_ID)
    await owner.send_command("/geschlossen", "heute Inventur")
    assert (await owner.next_message()).text.startswith("✅ Eingetragen: geschlossen ")
    assert [(c.first_day == c.last_day, c.reason) for c in closures(db)] == [(True, "Inventur")]

    await anna.send_text(QUESTION)
    answer = (await anna.next_message()).text
    assert answer.startswith("🚪 Heute haben wir geschlossen: Inventur\nAb "), answer
    assert "sind wir wieder für dich da." in answer and "Unsere Öffnungszeiten\nMo–Fr 8:00–18:00 Uhr" in answer


async def test_a_customers_geschlossen_changes_nothing(bot, api, db):
    mallory = await onboarded(api, first_name="Mallory")
    await mallory.send_command("/geschlossen", "heute Betriebsferien")
    assert (await mallory.next_message()).text == NOT_OWNER
    assert closures(db) == []
    await mallory.send_text(QUESTION)
    assert (await mallory.next_message()).text == faq_answer("opening_hours")
