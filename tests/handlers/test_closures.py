"""/geschlossen through the real wiring: the owner closes today and a customer who asks whether
the shop is open hears it; anyone else's /geschlossen, bad dates and past days change nothing."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select

from nlu.client import ParseResult
from storage.models import Closure
from tests.fakebotapi import parse_html
from tests.handlers.conftest import ADMIN_ID

CUSTOMER = 501
QUESTION = "Habt ihr heute offen?"
TODAY = date(2026, 12, 2)  # the shop's clock: Wednesday 2 December 2026, 11:00 in Berlin


def stored(shop) -> list[tuple]:
    with shop.services.store.session() as session:
        return [(c.first_day, c.last_day, c.reason) for c in session.exec(select(Closure).order_by(Closure.id))]


async def ask(shop) -> str:
    if not shop.telegram.sent(CUSTOMER):  # a known customer: a newcomer also gets the consent question
        await shop.chat.send(CUSTOMER, "/start")
        await shop.chat.press(CUSTOMER, "consent:no")
    shop.nlu.understood[QUESTION] = ParseResult("faq", 0.95, faq_topic="opening_hours", faq_confidence=0.95)
    await shop.chat.send(CUSTOMER, QUESTION)
    return parse_html(shop.telegram.sent(CUSTOMER)[-1]).text


async def owner_says(shop, text: str) -> str:
    await shop.chat.send(ADMIN_ID, text, first_name="Lena")
    return parse_html(shop.telegram.sent(ADMIN_ID)[-1]).text


async def test_the_owner_closes_today_and_a_customer_who_asks_hears_it_first(shop):
    before = await ask(shop)
    assert before.startswith("Unsere Öffnungszeiten\nMo–Fr 8:00–18:00 Uhr")  # from config.yml, not faq.yml
    answer = await owner_says(shop, "/geschlossen heute Inventur")
    assert answer.startswith("✅ Eingetragen: geschlossen Mi., 02.12.2026.")
    assert stored(shop) == [(TODAY, TODAY, "Inventur")]
    after = await ask(shop)
    assert after.startswith("🚪 Heute haben wir geschlossen: Inventur\n"
                            "Ab morgen um 8:00 Uhr sind wir wieder für dich da.\n\nUnsere Öffnungszeiten")
    assert not shop.errors


async def test_the_owner_lists_and_removes_closures(shop):
    await owner_says(shop, "/geschlossen 24.12.2026-26.12.2026 Betriebsferien")
    await owner_says(shop, "/closed 29.12.2026")
    listing = await owner_says(shop, "/geschlossen")
    assert listing.startswith("Eingetragene Schließtage\n• Do., 24.12.2026 – Sa., 26.12.2026 – Betriebsferien\n"
                              "• Di., 29.12.2026\n")
    answer = await owner_says(shop, "/geschlossen weg 25.12.2026")
    assert answer == "✅ Wieder geöffnet: Do., 24.12.2026 – Sa., 26.12.2026."
    assert stored(shop) == [(date(2026, 12, 29), date(2026, 12, 29), None)]
    assert "Di., 29.12.2026" in await ask(shop)  # within the next weeks: named in the answer


@pytest.mark.parametrize(("typed", "refusal"), [
    ("/geschlossen morgen-gestern", "„morgen-gestern“ ist kein Tag, den ich verstehe. Nichts eingetragen."),
    ("/geschlossen 1.12.2026", "1.12.2026 liegt in der Vergangenheit. Nichts eingetragen."),
    ("/geschlossen 30.02.2027", "„30.02.2027“ ist kein Tag, den ich verstehe. Nichts eingetragen."),
    ("/geschlossen 1.1.2027-1.1.2028 Umbau", "Mehr als 365 Tage am Stück – das ist wohl ein Tippfehler."),
    ("/geschlossen heute " + "sehr lang " * 40, "Der Grund ist zu lang (höchstens 200 Zeichen)."),
    ("/geschlossen weg 5.12.2026", "Am Sa., 05.12.2026 ist kein Schließtag eingetragen. Nichts geändert."),
])
async def test_bad_input_gets_a_friendly_answer_and_stores_nothing(shop, typed, refusal):
    answer = await owner_says(shop, typed)
    assert answer.startswith(refusal), answer
    assert "/geschlossen weg 24.12.2026" in answer  # and how to write it
    assert stored(shop) == []
    assert not shop.errors


async def test_a_customers_geschlossen_changes_nothing(shop):
    await shop.chat.send(CUSTOMER, "/geschlossen heute")
    assert shop.telegram.sent(CUSTOMER)[-1] == shop.text("reports.not_admin")
    assert stored(shop) == []
    assert not (await ask(shop)).startswith("🚪")
