"""The normalisation in front of the model: spellings of one word fold into one form, the same
in training and at run time, and entities still point into what the customer wrote."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nlu.client import Entity, ParseResult, point_into
from nlu import normalise as normalise_module
from nlu.dataset import load_dataset, normalised_markup
from nlu.normalise import normalise, normalise_with_origin


@pytest.mark.parametrize("spellings", [
    ("Öffnungszeiten", "oeffnungszeiten", "offnungszeiten", "ÖFFNUNGSZEITEN"),
    ("Für mich", "fuer mich", "fur mich"),
    ("super", "SUPER"),
    ("Straße", "strasse"),
    ("März", "Maerz", "marz"),
])
def test_spellings_of_one_word_fold_into_one_form(spellings):
    assert len({normalise(s) for s in spellings}) == 1, [normalise(s) for s in spellings]


@pytest.mark.parametrize(("text", "expected"), [
    ("suuuuper!!!", "suuper!"),
    ("Kaffeeeee", "kaffee"),
    ("wv pkt hab ich", "wie viele punkte hab ich"),
    ("thx", "thanks"),
    ("euer Team", "euer team"),  # "ue" after a vowel is no umlaut
    ("neue Bohnen", "neue bohnen"),
    ("Code PKT-123", "code pkt-123"),  # part of a code, not an abbreviation
    ("1000 Punkte", "1000 punkte"),  # digits are never shortened
    ("Kaffee " * 585, "kaffee "),  # a flood of one word is that word, not a long message
    ("nein, nein, nein, nein!", "nein!"),
    ("Tee Tee Tee Tee und Kuchen", "tee und kuchen"),
    ("stop stop stop keine Nachrichten mehr", "stop stop stop keine nachrichten mehr"),  # three times: meant
])
def test_normalised_forms(text, expected):
    assert normalise(text) == expected


@given(st.text(max_size=300))
def test_every_normalised_character_points_into_the_original(text):
    normalised, origin = normalise_with_origin(text)
    assert len(origin) == len(normalised)
    assert all(0 <= index < len(text) for index in origin)
    assert origin == sorted(origin)


def test_no_training_example_says_a_word_four_times_in_a_row():
    """Collapsing such runs must not change what the model was trained on (nor its fingerprint,
    so the cached model stays valid)."""
    changed = [example.plain_text for example in load_dataset()
               if normalise(example.plain_text) != _without_collapsing(example.plain_text)]
    assert changed == []


def _without_collapsing(text: str) -> str:
    chars = [(c, i) for i, c in enumerate(text)]
    for step in normalise_module.STEPS:
        if step is not normalise_module._collapse_repeated_words:
            chars = step(chars)
    return "".join(c for c, _ in chars)


def test_training_examples_keep_their_entity_markup():
    assert normalised_markup("Geburtstag am [3. März](date)!!!") == "geburtstag am [3. marz](date)!"


def test_entities_point_back_into_the_customers_text():
    original = "Mein GEBURTSTAG ist am 3. März!!!"
    normalised, origin = normalise_with_origin(original)
    start = normalised.index("3. marz")
    parsed = ParseResult("set_birthday", 0.9, (Entity("date", "3. marz", start, start + len("3. marz")),))
    entity = point_into(parsed, original, origin).entities[0]
    assert entity.value == "3. März" and original[entity.start:entity.end] == "3. März"
