"""Nonsense the fuzz test (tests/e2e/test_fuzz.py) found crashing a handler: each gets a calm
answer and changes nothing."""

from __future__ import annotations

import pytest
from sqlmodel import select

from domain import customers
from nlu.client import ParseResult
from storage.models import Feedback, Ticket
from tests.handlers.conftest import ADMIN_ID
from tests.handlers.test_wiring import CUSTOMER, known_customer


@pytest.mark.parametrize("data", ["loyalty:card\n", "loyalty:points\n", "lang:de\n", "lang:en\n"])
async def test_forged_button_data_with_a_trailing_line_break_is_an_old_button(shop, data):
    # The buttons' patterns end in "$", which also matches before a final line break.
    await known_customer(shop)
    sent = len(shop.telegram.sent(CUSTOMER))
    await shop.chat.press(CUSTOMER, data)
    assert not shop.errors
    assert shop.telegram.toasts()[-1] == shop.text("errors.stale_button")
    assert len(shop.telegram.sent(CUSTOMER)) == sent
    with shop.services.store.session() as session:
        assert customers.get(session, 1).language is None


@pytest.mark.parametrize("text", ["7" * 12000, "8/" + "1" * 5000, "9" * 5000 + " von 10"])
async def test_a_number_with_thousands_of_digits_is_no_score_and_no_crash(shop, text):
    # Python's int() refuses more than 4300 digits; every free text is checked for a typed score.
    await known_customer(shop)
    sent = len(shop.telegram.sent(CUSTOMER))
    await shop.chat.send(CUSTOMER, text)
    assert not shop.errors
    assert len(shop.telegram.sent(CUSTOMER)) > sent  # answered like any text the bot does not understand


async def test_a_ticket_number_of_superscript_digits_gets_the_usage(shop):
    await shop.chat.send(ADMIN_ID, "/ticket ²")  # str.isdigit() says yes, int() says no
    assert not shop.errors
    assert shop.telegram.sent(ADMIN_ID)[-1] == shop.text("tickets.usage_ticket")


async def test_an_nps_period_of_thousands_of_days_is_refused(shop):
    await shop.chat.send(ADMIN_ID, "/nps " + "9" * 5000)
    assert not shop.errors
    assert shop.telegram.sent(ADMIN_ID)[-2].startswith("Das geht leider nicht: „" + "9" * 40 + "“.")


SYMBOLS = 'b`aa<r</h<xh">b\'<> b>xh<`=> \'\'=//`e< <ab>=/><>>\'ba&e&>e\'\'>>f<<>\'>\'r>=\'<</&b>=b\'eh=hh&<<>`e<b\'>`r&>=<x/>>>e\'b>e/"/>< /<=x'


@pytest.mark.parametrize("intent", ["feedback", "complaint"])
async def test_symbols_the_nlu_takes_for_feedback_or_a_complaint_are_no_feedback_and_no_ticket(shop, intent):
    # The real model read this string (found by the fuzz) as feedback with 0.995.
    await known_customer(shop)
    shop.nlu.understood[SYMBOLS] = ParseResult(intent, 0.995)
    await shop.chat.send(CUSTOMER, SYMBOLS)
    assert not shop.errors
    with shop.services.store.session() as session:
        assert not session.exec(select(Feedback)).all() and not session.exec(select(Ticket)).all()
    asked = "feedback.ask" if intent == "feedback" else "tickets.complaint_ask"
    assert shop.telegram.sent(CUSTOMER)[-1] == shop.text(asked, name="Lena")  # it asks what they want to tell


async def test_symbols_the_nlu_takes_for_a_wish_to_talk_to_the_team_open_no_ticket(shop):
    garbage = "‰e££slx€%yex‰k€B‰yiX%i%€‰vb€€C££gp€e£a€u"  # human_handoff at 0.48 by the real model
    await known_customer(shop)
    shop.nlu.understood[garbage] = ParseResult("human_handoff", 0.48)
    await shop.chat.send(CUSTOMER, garbage)
    assert not shop.errors
    with shop.services.store.session() as session:
        assert not session.exec(select(Ticket)).all()
    assert shop.telegram.sent(CUSTOMER)[-1] == shop.text("understanding.fallback", name="Lena")
    shop.nlu.understood["Mitarbeiter!!"] = ParseResult("human_handoff", 0.9)  # a word is enough
    await shop.chat.send(CUSTOMER, "Mitarbeiter!!")
    with shop.services.store.session() as session:
        assert len(session.exec(select(Ticket)).all()) == 1
