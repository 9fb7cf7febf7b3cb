"""Complaint priority: words, shouting, repeated complaints, detractor scores, VIP customers, the
reasons staff see, and the category guess."""

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from domain.config import LoyaltySection, TierConfig
from domain.rules.priority import (REASONS, Assessment, Priority, PriorityRules, assess_priority, guess_category, is_shouting,
                             is_vip, priority_lexicon)
from domain.rules.topics import LexiconError

NOW = datetime(2026, 11, 18, 10, tzinfo=timezone.utc)


@pytest.mark.parametrize("text", [
    "Lebensmittelvergiftung nach eurem Brunch", "Ich bin nach dem Kuchen krank geworden", "Glassplitter im Muffin",
    "Mir ist danach richtig übel geworden", "Mir war übel", "Allergische Reaktion, obwohl ich nach Nüssen gefragt habe",
    "Auf dem Brot war Schimmel", "Hab mich verbrüht, der Deckel war nicht richtig drauf",
    "Ich habe mich übergeben", "Hab die ganze Nacht gekotzt", "Da war ein Fremdkörper im Salat", "Eine Scherbe im Glas",
    "Mein Sohn war in der Notaufnahme",
])
def test_health_risks_are_urgent(text):
    assert assess_priority(text) == Assessment(Priority.URGENT, ("health_risk",))


@pytest.mark.parametrize(("text", "reason"), [
    ("Ich schalte jetzt meinen Anwalt ein", "legal_threat"),
    ("Meine Rechtsanwältin meldet sich", "legal_threat"),
    ("Ich wende mich an die Verbraucherzentrale", "legal_threat"),
    ("Das melde ich dem Gesundheitsamt", "legal_threat"),
    ("Ich rufe die Polizei", "legal_threat"),
    ("Ich werde rechtliche Schritte einleiten", "legal_threat"),
    ("Das ist Betrug", "fraud_accusation"),
    ("Ihr habt mich betrogen", "fraud_accusation"),
    ("Reine Abzocke", "fraud_accusation"),
    ("Mir wurde doppelt abgebucht", "fraud_accusation"),
    ("Nie wieder!", "churn_threat"),
    ("NIE   WIEDER bestelle ich bei euch", "churn_threat"),
    ("Das war das letzte Mal", "churn_threat"),
    ("Ich kündige mein Abo", "churn_threat"),
    ("Ich war Stammkunde, aber so nicht", "churn_threat"),
    ("Ich will mein Geld zurück", "refund_demand"),
    ("Bitte um Rückerstattung", "refund_demand"),
    ("Dafür gibt es eine schlechte Bewertung", "public_threat"),
    ("Das schreibe ich auf Google", "public_threat"),
    ("Das landet auf Instagram", "public_threat"),
])
def test_strong_words_make_it_high_and_say_why(text, reason):
    assert assess_priority(text) == Assessment(Priority.HIGH, (reason,))


@pytest.mark.parametrize("text", [
    "Der Kaffee war kalt", "Die Wartezeit war etwas lang", "Meine Bewertung: der Kuchen war trocken",
    "Das Paket wurde mir übergeben, aber die Verpackung war eingedrückt", "Nicht übel, aber zu teuer",
    "Der Service ist zum Kotzen", "Das war echt übel",
    "Scampi-Sandwich war versalzen", "Bitte ruft mich zurück", "", "😡",
])
def test_an_ordinary_complaint_is_normal(text):
    assert assess_priority(text) == Assessment(Priority.NORMAL, ())


def test_negation_is_not_read_a_false_alarm_is_cheaper_than_a_missed_one():
    assert assess_priority("Ich will nicht gleich mit dem Anwalt drohen, aber").priority is Priority.HIGH


# --- shouting, a weak signal ------------------------------------------------------------------

@pytest.mark.parametrize(("text", "shouting"), [
    ("ICH BIN WIRKLICH SEHR ENTTÄUSCHT", True), ("Kaffee war kalt!!!", True), ("Kalt!! Teuer!! Laut!!", True),
    ("DAS IST eine FRECHHEIT UND UNVERSCHÄMT", True),
    ("OK", False), ("DHL UPS", False), ("Danke!", False), ("Kalt!!", False), ("Der Kaffee war kalt.", False),
    ("", False), ("Bitte prüft die HACCP Liste", False),
])
def test_shouting(text, shouting):
    assert is_shouting(text) is shouting


def test_shouting_alone_stays_normal_but_is_shown():
    assert assess_priority("DER KAFFEE WAR KALT UND DER KUCHEN TROCKEN!!!") == Assessment(Priority.NORMAL,
                                                                                          ("shouting",))


def test_two_weak_signals_make_it_high():
    assert assess_priority("Kaffee war kalt!!!", score=5) == Assessment(Priority.HIGH,
                                                                         ("shouting", "mild_detractor_score"))


# --- scores -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("score", "priority", "reasons"), [
    (0, Priority.HIGH, ("detractor_score",)), (3, Priority.HIGH, ("detractor_score",)),
    (4, Priority.NORMAL, ("mild_detractor_score",)), (6, Priority.NORMAL, ("mild_detractor_score",)),
    (7, Priority.NORMAL, ()), (10, Priority.NORMAL, ()), (None, Priority.NORMAL, ()),
])
def test_very_low_scores_are_high_and_mild_detractors_a_weak_signal(score, priority, reasons):
    assert assess_priority("Kuchen war trocken", score=score) == Assessment(priority, reasons)


def test_the_score_limit_is_a_rule():
    strict = PriorityRules(high_score_max=6)
    assert assess_priority("", score=6, rules=strict).priority is Priority.HIGH
    lenient = PriorityRules(high_score_max=0)
    assert assess_priority("", score=1, rules=lenient).reasons == ("mild_detractor_score",)


@pytest.mark.parametrize("score", [-1, 11, True, 7.5])
def test_impossible_scores_are_refused(score):
    with pytest.raises(ValueError):
        assess_priority("", score=score)


@pytest.mark.parametrize("kwargs", [{"high_score_max": 7}, {"high_score_max": -1}, {"repeat_window_days": -1}])
def test_impossible_rules_are_refused(kwargs):
    with pytest.raises(ValueError):
        PriorityRules(**kwargs)


# --- repeated complaints ----------------------------------------------------------------------

@pytest.mark.parametrize(("days_ago", "repeated"), [(0, True), (10, True), (30, True), (30.01, False), (90, False)])
def test_a_complaint_within_the_window_is_a_repeat(days_ago, repeated):
    result = assess_priority("Schon wieder kalt", now=NOW, previous_complaints=[NOW - timedelta(days=days_ago)])
    assert (result.priority is Priority.HIGH) is repeated
    assert ("repeat_complaint" in result.reasons) is repeated


def test_the_repeat_window_is_a_rule():
    earlier = [NOW - timedelta(days=200), NOW - timedelta(days=45)]
    assert assess_priority("", now=NOW, previous_complaints=earlier).priority is Priority.NORMAL
    assert assess_priority("", now=NOW, previous_complaints=earlier,
                           rules=PriorityRules(repeat_window_days=60)).reasons == ("repeat_complaint",)


def test_a_complaint_dated_after_now_is_not_an_earlier_one():
    assert assess_priority("", now=NOW, previous_complaints=[NOW + timedelta(minutes=5)]).reasons == ()


def test_earlier_complaints_need_now():
    with pytest.raises(ValueError):
        assess_priority("", previous_complaints=[NOW])
    assert assess_priority("", previous_complaints=[]).priority is Priority.NORMAL


# --- VIP --------------------------------------------------------------------------------------

TIERS = (TierConfig(name="Bronze", threshold=0), TierConfig(name="Silber", threshold=250, multiplier=Decimal("1.25")),
         TierConfig(name="Gold", threshold=600, multiplier=Decimal("1.5")))


def test_the_top_tier_is_vip():
    rules = LoyaltySection(tiers=TIERS)
    assert is_vip(TIERS[2], rules) and not is_vip(TIERS[1], rules) and not is_vip(TIERS[0], rules)


def test_with_a_single_tier_nobody_is_vip():
    rules = LoyaltySection()
    assert not is_vip(rules.tiers[0], rules)


def test_a_vip_complaint_is_high_unless_switched_off():
    assert assess_priority("Kaffee kalt", vip=True) == Assessment(Priority.HIGH, ("vip_customer",))
    assert assess_priority("Kaffee kalt", vip=True, rules=PriorityRules(vip_is_high=False)).reasons == ()


# --- reasons together -------------------------------------------------------------------------

def test_all_reasons_strongest_first():
    result = assess_priority("BETRUG!!! ICH GEHE ZUM ANWALT UND KOMME NIE WIEDER", score=0, vip=True, now=NOW,
                             previous_complaints=[NOW - timedelta(days=3)])
    assert result == Assessment(Priority.HIGH, ("legal_threat", "fraud_accusation", "churn_threat", "repeat_complaint",
                                                "detractor_score", "vip_customer", "shouting"))


def test_a_health_risk_is_urgent_whatever_else_and_comes_first():
    result = assess_priority("Glassplitter im Kuchen, ich gehe zum Anwalt", score=9)
    assert result == Assessment(Priority.URGENT, ("health_risk", "legal_threat"))


def test_reasons_and_priorities_are_plain_strings_in_a_known_order():
    assert set(assess_priority("Betrug, Schimmel, nie wieder!!!", score=5, vip=True).reasons) <= set(REASONS)
    assert [p.value for p in Priority] == ["normal", "high", "urgent"]
    assert Priority.NORMAL.rank < Priority.HIGH.rank < Priority.URGENT.rank
    assert max([Priority.HIGH, Priority.URGENT, Priority.NORMAL], key=lambda p: p.rank) is Priority.URGENT


def test_an_owner_can_add_words_to_a_reason():
    lexicon = priority_lexicon({"legal_threat": ["*mahnbescheid*"]})
    assert assess_priority("Sie bekommen einen Mahnbescheid", lexicon=lexicon).reasons == ("legal_threat",)
    assert assess_priority("Sie bekommen einen Mahnbescheid").reasons == ()
    with pytest.raises(LexiconError):
        priority_lexicon({"wut": ["*grr*"]})


# --- category ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "category"), [
    ("Glassplitter im Muffin", "qualitaet"),
    ("Wir haben 40 Minuten gewartet und dann war der Kaffee kalt", "wartezeit"),
    ("Die Mitarbeiterin war unfreundlich und hat mich angeschnauzt", "service"),
    ("Paket nie angekommen", "wartezeit"),
    ("Viel zu teuer und der Kaffee war lauwarm", "qualitaet"),  # a tie goes to the earlier topic
    ("Die Toilette war eklig dreckig", "sauberkeit"),
    ("Schon wieder ausverkauft", "sortiment"),
    ("Das ist Betrug", "sonstiges"),
])
def test_category_is_the_most_named_topic(text, category):
    assert guess_category(text) == category
