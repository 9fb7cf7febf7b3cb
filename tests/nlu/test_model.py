"""The real trained model, served by the real Rasa server, on phrases it never saw."""

import pytest

from nlu.client import NluClient, canonical_intent
from nlu.dataset import held_out_examples, held_out_raw
from nlu.evaluation import FLOORS, SPLIT_MACRO_F1_FLOOR, evaluate_split, predict, score, write_report
from tests.conftest import wait_for_background_training

HELD_OUT = held_out_raw("de_clean")


@pytest.fixture
async def nlu(rasa_url):
    client = NluClient(rasa_url, timeout=10)
    yield client
    await client.aclose()


@pytest.mark.parametrize("name", sorted(FLOORS))
async def test_every_held_out_set_reaches_its_floor(rasa_url, name):
    """German as written by the team, German as customers write it, English: each on its own."""
    examples = [e for e in held_out_examples(name) if e.label != "out_of_scope"]
    pairs = await predict(rasa_url, examples)
    evaluation = score(pairs)
    misses = [f"{e.plain_text!r}: {e.label} -> {p}" for e, (_, p) in zip(examples, pairs) if p != canonical_intent(e.label)]
    print(f"{name}: accuracy {evaluation.accuracy:.3f}; misses:\n" + "\n".join(misses))
    assert not FLOORS[name].misses(evaluation), misses
    assert not [s.label for s in evaluation.shop_scores if s.recall == 0], "a label nobody recognises"


async def test_nonsense_falls_back(nlu):
    results = [await nlu.parse(text) for text in HELD_OUT["nonsense"]]
    understood = [(text, r.label) for text, r in zip(HELD_OUT["nonsense"], results) if r.intent != "nlu_fallback"]
    assert len(understood) <= len(results) // 4, understood


async def test_birthday_dates_are_extracted(nlu):
    for text, date in [("Mein Geburtstag ist am 3. Mai", "3. Mai"), ("ich bin am 30.09.1985 geboren", "30.09.1985"),
                       ("Mein Geburtstag ist am 3. März", "3. März"), ("my birthday is on May 3rd", "May 3rd")]:
        result = await nlu.parse(text)
        assert result.intent == "set_birthday" and result.entity("date") == date, result


# Waits for the split's model, trained in the background from the start of the test run when the
# training data changed (about half an hour of one core on a slow machine, shared with the suite).
@pytest.mark.timeout(3600)
async def test_held_out_split_reaches_its_floor(tmp_path, nlu_settings):
    """Trains on 80 % of every label (cached like the main model) and tests on the rest."""
    wait_for_background_training("split")
    evaluation = await evaluate_split(nlu_settings, progress=print)
    report = write_report({"split": evaluation}, tmp_path)
    print(report.read_text())
    assert evaluation.macro_f1 >= SPLIT_MACRO_F1_FLOOR
