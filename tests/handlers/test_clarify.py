"""When the model is torn between two intents that lead to different places, the customer is
asked with two buttons, and the button sends the waiting message where they meant it to go."""

from __future__ import annotations

from sqlmodel import select

from nlu.client import ParseResult
from storage.models import Feedback, Ticket
from tests.handlers.test_rights import keyboard_data
from tests.handlers.test_wiring import CUSTOMER, known_customer

STORY = "hab heut 20 min auf meinen flat white gewartet und der war dann lauwarm"


def torn(first: str, second: str, confidence: float = 0.5) -> ParseResult:
    return ParseResult(first, confidence, ranking=((first, confidence), (second, confidence - 0.1), ("greet", 0.05)))


def tickets_and_feedback(shop) -> tuple[int, int]:
    with shop.services.store.session() as session:
        return len(session.exec(select(Ticket)).all()), len(session.exec(select(Feedback)).all())


async def test_torn_between_feedback_and_a_complaint_the_customer_chooses_and_the_story_becomes_a_ticket(shop):
    await known_customer(shop)
    shop.nlu.understood[STORY] = torn("feedback", "complaint")
    await shop.chat.send(CUSTOMER, STORY)
    assert shop.telegram.sent(CUSTOMER)[-1] == shop.text("clarify.question")
    assert keyboard_data(shop, CUSTOMER) == ["clarify:0", "clarify:1"]
    assert tickets_and_feedback(shop) == (0, 0)  # nothing happens before the answer

    await shop.chat.press(CUSTOMER, "clarify:1")  # "Etwas ist schiefgelaufen"
    assert not shop.errors
    assert tickets_and_feedback(shop) == (1, 0)
    with shop.services.store.session() as session:
        assert session.exec(select(Ticket)).one().text == STORY

    await shop.chat.press(CUSTOMER, "clarify:0")  # a second tap on the old question
    assert shop.telegram.toasts()[-1] == shop.text("errors.stale_button")
    assert tickets_and_feedback(shop) == (1, 0)


async def test_the_first_guess_chosen_is_taken_as_the_model_guessed_it(shop):
    await known_customer(shop)
    text = "euer neuer espresso ist echt ne wucht, nur die tassen sind mir etwas klein"
    shop.nlu.understood[text] = torn("feedback", "complaint", 0.55)
    await shop.chat.send(CUSTOMER, text)
    await shop.chat.press(CUSTOMER, "clarify:0")
    assert not shop.errors
    assert tickets_and_feedback(shop) == (0, 1)


async def test_a_sure_model_or_two_intents_that_lead_to_the_same_place_ask_nothing(shop):
    await known_customer(shop)
    shop.nlu.understood["punkte"] = ParseResult("check_points", 0.93, ranking=(("check_points", 0.93),
                                                                                ("rewards_catalog", 0.05)))
    shop.nlu.understood["prämien"] = torn("rewards_catalog", "redeem_reward")  # both show the rewards
    for text in ("punkte", "prämien"):
        await shop.chat.send(CUSTOMER, text)
        assert shop.telegram.sent(CUSTOMER)[-1] != shop.text("clarify.question")
    assert not shop.errors


async def test_a_forged_answer_without_a_question_changes_nothing(shop):
    await known_customer(shop)
    await shop.chat.press(CUSTOMER, "clarify:1")
    assert not shop.errors
    assert shop.telegram.toasts()[-1] == shop.text("errors.stale_button")
    assert tickets_and_feedback(shop) == (0, 0)
