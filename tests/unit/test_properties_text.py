"""Properties of free text and small arguments: names as typed into Telegram, ticket numbers
(``/ticket``), the ``/loop`` request, order references and the topics and priority of a
complaint. Every input gives a result or a refusal, never another exception."""

from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.handlers.tickets import ticket_number
from domain import loop
from domain.rules import priority, topics
from domain.rules.names import clean_name
from domain.tickets import order_reference
from tests.unit.property_strategies import mixed, nasty_text

names = st.sampled_from(["Anna", "Jürgen Müller", "  Zoë  ", "O'Brien", "李小龙", "Анна", "Ali\u200b", "\u202eannA",
                         "Ann\u00ada", "Marie-Luise", "\tBen\n", "🙂", "ẞtefan"])


@given(mixed(names), st.integers(1, 128))
@example("\u200b\u200e\ufeff", 64)
@example("a" * 30_000, 64)
def test_a_clean_name_or_none(name, limit):
    cleaned = clean_name(name, limit)
    if cleaned is None:
        return
    assert 0 < len(cleaned) <= limit and cleaned == cleaned.strip()
    assert not any(unicodedata.category(ch) in {"Cf", "Cc", "Cs", "Co"} for ch in cleaned)
    assert "  " not in cleaned
    assert clean_name(cleaned, limit) == cleaned  # cleaning twice changes nothing


@given(mixed(st.integers(0, 10**13).map(str), st.integers(0, 10**13).map(lambda n: f"#{n}")))
@example("²")
@example("#¹²")
@example("١٢")
@example("9" * 5000)
def test_a_ticket_number_or_none(text):
    number = ticket_number(text)
    assert number is None or 0 <= number < 10**12


@given(st.integers(0, 10**12 - 1))
def test_a_ticket_number_reads_back(number):
    assert ticket_number(str(number)) == ticket_number(f"#{number}") == number


@pytest.mark.parametrize("text", ["²", "#³", "1²", "٣"])
def test_a_ticket_number_is_ascii_digits(text):
    """"/ticket ²" raised ValueError: "²".isdigit() is True, int("²") is an error."""
    assert ticket_number(text) is None


LOOP_NAMES = {"preis": ["Preis", "Preise"], "wartezeit": ["Wartezeit", "Warten an der Kasse"],
              "qualitaet": ["Qualität"]}
loop_requests = st.builds(lambda topic, sep, message: f"{topic}{sep}{message}",
                          st.sampled_from(["preis", "Preise", "qualitaet", "QUALITÄT", "Warten an der Kasse",
                                           "wartezeit:", "„Preis“", "unbekannt", ""]),
                          st.sampled_from([" ", "\n", ": ", " – ", ""]), st.text(max_size=80))


@given(mixed(loop_requests))
@example("preis " + "x" * 5000)
@example("preis \n\n –")
def test_a_loop_request_or_a_refusal(text):
    try:
        request = loop.parse_request(text, LOOP_NAMES)
    except loop.LoopError as error:
        assert error.reason in {"topic_missing", "topic_unknown", "message_missing", "message_too_long"}
        return
    assert request.topic in LOOP_NAMES
    assert request.message and len(request.message) <= loop.MAX_CHARS


@given(mixed(st.sampled_from(["Bestellnummer 4711", "Bon-Nr. 0815", "Rechnung: RE-2026-42", "order no. A123",
                              "#12345", "Beleg", "Bon #"]).map(lambda ref: f"Mein Kaffee war kalt, {ref}!")))
def test_an_order_reference_or_none(text):
    reference = order_reference(text)
    assert reference is None or (reference and reference in text)


NOW = datetime(2026, 11, 22, 10, tzinfo=timezone.utc)


@settings(max_examples=100)  # texts of up to 30,000 characters take a while
@given(nasty_text, st.one_of(st.none(), st.integers(0, 10)), st.booleans())
@example("A" * 30_000, 0, True)
@example("!!!" * 5000, None, False)
def test_topics_and_priority_of_any_text(text, score, vip):
    tagged = topics.tag_topics(text)
    assert tagged and set(tagged) <= set(topics.TOPICS)
    assessment = priority.assess_priority(text, score=score, now=NOW, previous_complaints=[NOW - timedelta(days=1)],
                                          vip=vip)
    assert assessment.priority in set(priority.Priority)
    assert priority.guess_category(text)
