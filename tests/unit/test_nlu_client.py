"""Mapping Rasa's /model/parse JSON onto the bot's typed result, and the held-out split."""

from nlu.client import ParseResult, parse_response
from nlu.dataset import Example, plain_text, stratified_split
from nlu.evaluation import score


def test_retrieval_intent_carries_the_faq_topic():
    result = parse_response({
        "text": "wann habt ihr auf",
        "intent": {"name": "faq", "confidence": 0.97},
        "entities": [],
        "response_selector": {"faq": {"response": {"intent_response_key": "faq/opening_hours", "confidence": 0.91}}},
    })
    assert result == ParseResult("faq", 0.97, (), "opening_hours", 0.91)
    assert result.label == "faq/opening_hours"


def test_entities_and_fallback():
    result = parse_response({
        "intent": {"name": "set_birthday", "confidence": 0.8},
        "entities": [{"entity": "date", "value": "3. Mai", "start": 22, "end": 28}],
    })
    assert result.entity("date") == "3. Mai" and result.entity("other") is None
    assert parse_response({"intent": None}).intent == "nlu_fallback"


def test_entity_markup_is_removed_for_parsing():
    assert plain_text("Mein Geburtstag ist am [3. Mai](date)!") == "Mein Geburtstag ist am 3. Mai!"


def test_split_holds_out_a_share_of_every_label_deterministically():
    examples = [Example(label, f"{label} {i}") for label in ("a", "b") for i in range(10)] + [Example("c", "c 0")]
    train, test = stratified_split(examples)
    assert sorted(e.label for e in test) == ["a", "a", "b", "b", "c"]
    assert not set(train) & set(test)
    assert stratified_split(examples) == (train, test)


def test_scores():
    evaluation = score([("a", "a"), ("a", "b"), ("b", "b"), ("b", "b")])
    by_label = {s.label: s for s in evaluation.scores}
    assert by_label["a"].precision == 1.0 and by_label["a"].recall == 0.5
    assert round(by_label["b"].precision, 3) == 0.667 and by_label["b"].recall == 1.0
    assert evaluation.confusions == [("a", "b", 1)]
    assert evaluation.accuracy == 0.75


def test_off_topic_is_scored_but_not_averaged():
    evaluation = score([("a", "a"), ("nlu_fallback", "a"), ("nlu_fallback", "nlu_fallback")])
    assert [s.label for s in evaluation.shop_scores] == ["a"]
    assert evaluation.macro_f1 == 2 * 0.5 * 1.0 / 1.5  # "a": precision 1/2, recall 1
    assert evaluation.off_topic.recall == 0.5


def test_out_of_scope_reaches_the_bot_as_fallback():
    assert parse_response({"intent": {"name": "out_of_scope", "confidence": 0.9}}).intent == "nlu_fallback"


def test_a_date_tagged_in_pieces_is_joined_from_the_original_text():
    result = parse_response({
        "text": "Mein Geburtstag ist am 3. Mai, und am 4.",
        "intent": {"name": "set_birthday", "confidence": 0.99},
        "entities": [{"entity": "date", "value": "3", "start": 23, "end": 24},
                     {"entity": "date", "value": "Mai", "start": 26, "end": 29},
                     {"entity": "date", "value": "4", "start": 38, "end": 39}],
    })
    assert [e.value for e in result.entities] == ["3. Mai", "4"]
