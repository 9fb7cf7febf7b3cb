"""Counting the words of a message (domain.rules.words)."""

import pytest

from domain.rules.words import word_count


@pytest.mark.parametrize("text, words", [
    ("Mein Latte war kalt und der Kuchen alt.", 8),
    ("Die E-Mail kam z.B. nicht, geht's noch?", 7),
    ("Café war „kalt“ (leider) ...", 4),
    ("Cafe\u0301 mit Hafermilch", 3),  # an accent combined with its letter
    ("Super 👍 Kaffee 😀 toll lecker 👌 danke", 5),  # emoji are no words
    ("Ich war 3 mal da", 4),  # nor are numbers
    ("مرحبا بك في المتجر اليوم", 5),
    ("b`aa<r</h<xh\">b'<> b>xh<`=> ''=//`e< <ab>=/><>>", 2),  # symbols with a letter here and there
    ("", 0),
    (None, 0),
])
def test_words_are_letters_with_punctuation_around_them(text, words):
    assert word_count(text) == words
