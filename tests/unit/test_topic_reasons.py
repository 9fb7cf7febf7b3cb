"""The tagger on the hand-written reasons of ``topic_reasons`` (about 300, per topic, German with
dialect and typos, some English): every text right except the listed known misses, and targeted
regressions for the words that fooled it ("euer" read as "eur", euro)."""

import pytest

from domain.rules.topics import TOPICS, match_form, tag_topics
from tests.unit.topic_reasons import GROUPS, KNOWN_MISSES, NOTHING, SEVERAL, cases

CASES = cases()


def test_the_set_is_large_and_covers_every_topic():
    assert len(CASES) >= 300
    assert {topic for _, expected, _ in CASES for topic in expected} == set(TOPICS)
    assert all(len(texts) >= 25 for texts in GROUPS.values()) and len(SEVERAL) >= 20 and len(NOTHING) >= 30
    assert set(KNOWN_MISSES) <= {text for text, _, _ in CASES}


@pytest.mark.parametrize(("text", "expected", "group"), [case for case in CASES if case[0] not in KNOWN_MISSES],
                         ids=[f"{case[2]}:{case[0][:40]}" for case in CASES if case[0] not in KNOWN_MISSES])
def test_reason_is_tagged_right(text, expected, group):
    assert tag_topics(text) == expected


@pytest.mark.parametrize("text", KNOWN_MISSES)
def test_known_misses_are_still_missed(text):
    # When one of these passes, the tagger got better: take the text off KNOWN_MISSES.
    (expected,) = [expected for case_text, expected, _ in CASES if case_text == text]
    assert tag_topics(text) != expected, f"{text!r} is right now; take it off KNOWN_MISSES"


def test_accuracy_per_group_stays_above_the_floor():
    # The known misses are the only wrong ones; this says how many a group may have at most.
    groups: dict[str, list[bool]] = {}
    for text, expected, group in CASES:
        groups.setdefault(group, []).append(tag_topics(text) == expected)
    accuracy = {group: sum(right) / len(right) for group, right in groups.items()}
    assert all(value >= 0.90 for value in accuracy.values()), accuracy


# --- regressions ------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["Ganz großes Lob an euer Team", "Ganz grosses Lob an EUER Team",
                                  "Großes Lob an eure Mitarbeiter", "Danke an eur Team"])
def test_praise_of_your_team_is_service_not_price(text):
    assert tag_topics(text) == ("service",)


@pytest.mark.parametrize("text", ["viel zu teuer", "Preise sind happig", "die Preis-Leistung passt", "TEUER!!",
                                  "Teuerung überall", "zu teuer", "teurer als früher", "4,90 € ist frech",
                                  "4,50 EUR für einen Espresso", "5eur für nen Latte", "z'teuer"])
def test_price_is_still_price(text):
    assert tag_topics(text) == ("preis",)


@pytest.mark.parametrize("text", ["Die Steuer", "Mehrwertsteuer", "Feuer im Kamin", "Ein Abenteuer", "Euer Laden",
                                  "eure neue Website", "Europas bester Kaffee", "Das ist mir neu",
                                  "Er hat es beteuert", "Preiselbeeren", "Auf Dauer gut"])
def test_words_that_only_look_like_price_are_not_price(text):
    assert "preis" not in tag_topics(text)


@pytest.mark.parametrize(("a", "b"), [("Qualität", "Qualitaet"), ("Qualität", "qualitat"), ("Mülleimer", "Muelleimer"),
                                      ("SÜSS", "süß"), ("Größe", "Groesse"), ("suuuper", "super"),
                                      ("LANGSAAAM", "langsam"), ("☕️", "☕")])
def test_spellings_that_are_the_same_word(a, b):
    assert match_form(a) == match_form(b)


@pytest.mark.parametrize(("word", "form"), [("euer", "euer"), ("teuer", "teuer"), ("Steuer", "steuer"),
                                            ("sauer", "sauer"), ("neue", "neue"), ("bequem", "bequem"),
                                            ("für", "fur"), ("fuer", "fur"), ("Uebel", "ubel")])
def test_ue_is_an_umlaut_only_where_it_can_be_one(word, form):
    assert match_form(word) == form
