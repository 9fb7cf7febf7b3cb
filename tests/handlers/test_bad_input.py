"""Nonsense the fuzz test (tests/e2e/test_fuzz.py) found crashing a handler: each gets a calm
answer and changes nothing."""

from __future__ import annotations

import pytest

from domain import customers
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
