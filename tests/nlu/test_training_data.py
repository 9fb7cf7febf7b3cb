"""The training data keeps its promises: every contract intent, enough varied examples,
no example under two labels, and a fingerprint that changes with any input."""

import re
from collections import Counter

from nlu.dataset import held_out_examples, load_dataset, load_intent_examples, write_rasa_project
from nlu.evaluation import HELD_OUT_SETS
from nlu.faq import REQUIRED_TOPICS, load_catalog
from nlu.normalise import normalise
from nlu.paths import ENGLISH_INTENT_DATA_DIR
from nlu.training import project_fingerprint

CONTRACT_INTENTS = {"greet", "goodbye", "thanks", "affirm", "deny", "help", "human_handoff", "check_points",
                    "rewards_catalog", "redeem_reward", "complaint", "feedback", "set_birthday", "opt_out",
                    "opt_in", "export_data", "delete_data"}


def normalized(text: str) -> str:
    """As the model sees it (nlu.normalise), spacing aside."""
    return " ".join(normalise(text).split())


def test_every_contract_intent_and_faq_topic_has_at_least_25_examples():
    counts = Counter(e.label for e in load_dataset())
    intents = {label for label in counts if not label.startswith("faq/")}
    assert intents == CONTRACT_INTENTS | {"out_of_scope"}  # out_of_scope reaches the bot as nlu_fallback
    assert {f"faq/{t}" for t in REQUIRED_TOPICS} <= set(counts)
    assert min(counts.values()) >= 25, counts.most_common()[-3:]


def test_no_example_is_given_two_labels():
    labels_by_text: dict[str, set[str]] = {}
    for example in load_dataset():
        labels_by_text.setdefault(normalized(example.plain_text), set()).add(example.label)
    assert not {text: labels for text, labels in labels_by_text.items() if len(labels) > 1}


def test_english_examples_cover_every_intent_and_faq_topic():
    english = Counter(e.label for e in load_intent_examples(ENGLISH_INTENT_DATA_DIR))
    assert set(english) == CONTRACT_INTENTS | {"out_of_scope"}
    assert min(english.values()) >= 25, english.most_common()[-3:]
    faq = load_catalog()
    assert min(len(topic.examples_en) for topic in faq.topics.values()) >= 15


def test_held_out_phrases_are_not_training_data():
    training = {normalized(e.plain_text) for e in load_dataset()}
    for name in HELD_OUT_SETS:
        held_out = [e.text for e in held_out_examples(name)]
        assert len(held_out) > 100, name
        assert not [p for p in held_out if normalized(p) in training], name


def test_birthday_examples_annotate_the_date_on_token_boundaries():
    dates = re.compile(r"\[([^\]]+)\]\(date\)")
    annotated = [e.text for e in load_dataset() if e.label == "set_birthday" and dates.search(e.text)]
    assert len(annotated) >= 25
    # Rasa's tokenizer drops a trailing dot, so "[3.5.](date)" could never match a token.
    assert not [t for t in annotated if any(v.endswith(".") for v in dates.findall(t))]


def test_fingerprint_follows_every_training_input(tmp_path):
    catalog = load_catalog()
    examples = load_dataset()
    write_rasa_project(tmp_path / "a", examples, catalog)
    write_rasa_project(tmp_path / "b", examples, catalog)
    assert project_fingerprint(tmp_path / "a") == project_fingerprint(tmp_path / "b")
    write_rasa_project(tmp_path / "c", examples[:-1], catalog)
    assert project_fingerprint(tmp_path / "c") != project_fingerprint(tmp_path / "a")
    changed = catalog.model_copy(update={"topics": {**catalog.topics, "contact": catalog.topics["contact"].model_copy(
        update={"answer": catalog.topics["contact"].answer.model_copy(update={"de": "Neue Nummer"})})}})
    write_rasa_project(tmp_path / "d", examples, changed)
    assert project_fingerprint(tmp_path / "d") != project_fingerprint(tmp_path / "a")
