"""The light check of the language a customer writes in (no model, no downloads)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.languages import written_in


@pytest.mark.parametrize("text", [
    "How many points do I have?", "Hello, what are your opening hours?", "I want to talk to a person",
    "waited 20 mins for a flat white and it was lukewarm", "Do you have oat milk?", "where is the shop pls",
])
def test_english_messages_are_english(text):
    assert written_in(text) == "en"


@pytest.mark.parametrize("text", [
    "Wann habt ihr offen?", "hobts ihr am sonntag offen", "ich möchte mit jemandem sprechen",
    "Habt ihr Hafermilch?", "wie viele Punkte hab ich", "Der Kaffee war kalt und ich hab ewig gewartet",
])
def test_german_messages_are_german(text):
    assert written_in(text) == "de"


@pytest.mark.parametrize("text", ["hi", "ok", "thanks", "will meine points redeemen", "👍", "", "12,50", "Latte"])
def test_short_or_mixed_messages_change_nothing(text):
    assert written_in(text) is None


@given(st.text(max_size=300))
def test_any_text_gives_a_language_or_none(text):
    assert written_in(text) in ("de", "en", None)


def test_letters_between_symbols_are_no_language():
    assert written_in("‰e££slx€%yex‰k€B‰yiX%i%€‰vb€€C££gp€e£a€u") is None
