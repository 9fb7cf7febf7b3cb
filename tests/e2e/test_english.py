"""English customers through the real bot and the real model: one model understands German
and English, and a customer who writes English is answered in English, whatever their app's
language (and remembered, unless they chose a language with /sprache)."""

from __future__ import annotations

from domain import languages
from tests.e2e.journeys import customer_of, faq_answer, onboarded


def answer_text(topic: str, language: str) -> str:
    return faq_answer(topic, language)


async def test_an_english_question_from_a_german_app_gets_the_english_answer_and_english_from_then_on(bot, api, db):
    emma = await onboarded(api, first_name="Emma")  # her app is German: the bot greeted her in German
    question = "hey, are you guys open on sundays?"
    assert languages.written_in(question) == "en"
    await emma.send_text(question)
    assert (await emma.next_message()).text == answer_text("opening_hours", "en")
    assert customer_of(db, emma).language == "en"
    await emma.send_text("where exactly is the cafe")
    assert (await emma.next_message()).text == answer_text("location", "en")


async def test_an_english_customer_asks_for_points_and_gets_the_balance_in_english(bot, api):
    tom = await onboarded(api, first_name="Tom", consent="Yes, please", language_code="en")
    await tom.send_text("how many points have i got so far?")
    reply = await tom.next_message()
    assert reply.text.startswith("⭐ Your points") and "Balance: 0 points" in reply.text, reply.text


async def test_an_english_complaint_that_never_says_complaint_becomes_a_ticket(bot, api, staff):
    tom = await onboarded(api, first_name="Tom", consent="Yes, please", language_code="en")
    await tom.send_text("waited 20 minutes for my flat white and when it finally came it was lukewarm")
    reply = await tom.next_message()
    assert reply.text.startswith("Thank you, Tom. We're truly sorry") and "#1" in reply.text, reply.text
    alert = await staff.next_message()
    assert "lukewarm" in alert.text
