"""Topic tagging of German reasons: the lexicon, its folding of spellings, compounds, and 80 reasons
as a café with a roastery and an online shop gets them."""

import subprocess
import sys
from pathlib import Path

import pytest

from domain.rules.topics import (DEFAULT_LEXICON, MAX_CHARS, OTHER, TOPIC_KEYWORDS, TOPICS, Lexicon, LexiconError, fold,
                           main_topic, read_lexicon_file, tag_topics, topic_lexicon)

REASONS = [
    # quality: taste, temperature, freshness, roast, the product itself
    ("Der Cappuccino war nur lauwarm.", ("qualitaet",)),
    ("Kaffee schmeckt verbrannt und bitter", ("qualitaet",)),
    ("Die Kaffeequalität hat in letzter Zeit echt nachgelassen", ("qualitaet",)),
    ("Bester Espresso der Stadt, super Crema!", ("qualitaet",)),
    ("Der Kuchen war trocken und irgendwie altbacken", ("qualitaet",)),
    ("croissants waren nicht frisch, eher von gestern", ("qualitaet",)),
    ("Die Bohnen aus eurer Rösterei sind der Hammer, tolles Aroma", ("qualitaet",)),
    ("Filterkaffee war total wässrig", ("qualitaet",)),
    ("Qualitaet stimmt einfach, immer lecker", ("qualitaet",)),
    ("Die neue Röstung ist mir zu sauer", ("qualitaet",)),
    ("Milchschaum zusammengefallen, Latte kalt", ("qualitaet",)),
    ("Auf dem Käsekuchen war Schimmel!!", ("qualitaet",)),
    ("Mega leckerer Flat White 😍", ("qualitaet",)),
    ("schmeckt einfach nach nix", ("qualitaet",)),
    ("Die Tasse hatte einen Sprung, Henkel kaputt", ("qualitaet",)),
    ("Bohnen kamen gut verpackt und frisch geröstet an", ("qualitaet",)),
    ("Die Mühle aus dem Shop war nach zwei Wochen defekt", ("qualitaet",)),
    ("Glassplitter im Muffin", ("qualitaet",)),
    # price
    ("Zu teuer für das, was man bekommt", ("preis",)),
    ("4,90 € für einen Cappuccino ist überteuert", ("preis",)),
    ("Preis-Leistung passt absolut", ("preis",)),
    ("Die Preise sind schon wieder gestiegen", ("preis",)),
    ("Für Hafermilch 60 Cent Aufschlag? Echt jetzt?", ("preis", "sortiment")),
    ("Günstiger als die Ketten und trotzdem gut", ("preis",)),
    ("Versandkosten ab 30 Euro gratis wären schön", ("preis", "wartezeit")),  # shipping is delivery, too
    ("Die Kaffeebohnen im Onlineshop kosten fast das Doppelte wie im Laden", ("preis",)),
    ("Teuer, aber jeden Cent wert", ("preis",)),
    ("sauteuer geworden", ("preis",)),
    # service and friendliness
    ("Die Bedienung war super nett und hat mich gut beraten", ("service",)),
    ("Sehr unfreundliche Mitarbeiterin an der Kasse", ("service",)),
    ("Der Barista war total genervt und hat nicht mal gegrüßt", ("service",)),
    ("nicht freundlich, eher pampig", ("service",)),
    ("Auf meine Mail kam nie eine Antwort", ("service",)),
    ("Ihr seid so ein herzliches Team ❤️", ("service",)),
    ("Personal unaufmerksam, wir wurden einfach ignoriert", ("service",)),
    ("Kundenservice hat sofort Ersatz geschickt, top!", ("service",)),
    ("Die Chefin hat uns herzlich empfangen", ("service",)),
    ("Die Mitarbeiter:innen sind immer freundlich", ("service",)),
    # waiting time and delivery
    ("Ewig gewartet, bis überhaupt jemand kam", ("wartezeit",)),
    ("Wartezeiten am Wochenende sind zu lang", ("wartezeit",)),
    ("Paket kam zu spät, Geschenk war dann nicht rechtzeitig da", ("wartezeit",)),
    ("Lieferzeit über eine Woche, das geht schneller", ("wartezeit",)),
    ("Versand super schnell, am nächsten Tag da", ("wartezeit",)),
    ("Die Schlange war bis vor die Tür", ("wartezeit",)),
    ("Haben 25 min auf zwei Kaffee gewartet", ("wartezeit",)),
    ("DHL hat das Päckchen beim Nachbarn abgegeben, der nie da ist", ("wartezeit",)),
    ("Die Sendungsverfolgung zeigt seit Tagen nichts an", ("wartezeit",)),
    ("Bestellung wurde verspätet zugestellt", ("wartezeit",)),
    ("Es dauert morgens immer so lange", ("wartezeit",)),
    ("Online bestellt, nach 10 Tagen immer noch nicht da", ("wartezeit",)),
    ("Das Abo klappt reibungslos, jeden Monat pünktlich", ("wartezeit",)),
    # assortment
    ("Mehr vegane Kuchen wären toll", ("sortiment",)),
    ("Die Auswahl an Bohnen im Shop ist riesig", ("sortiment",)),
    ("Mein Lieblingsespresso ist schon wieder ausverkauft", ("sortiment",)),
    ("Gibt es keine laktosefreie Milch?", ("sortiment",)),
    ("Bitte mehr Sorten entkoffeiniert anbieten", ("sortiment",)),
    ("Das Angebot an Snacks ist etwas mager", ("sortiment",)),
    ("Schöne Vielfalt an Kaffeesorten aus aller Welt", ("sortiment",)),
    # cleanliness
    ("Die Toiletten waren dreckig", ("sauberkeit",)),
    ("Tische klebrig und voller Krümel", ("sauberkeit",)),
    ("Alles blitzsauber, sehr angenehm", ("sauberkeit",)),
    ("Haare im Kuchen. Unhygienisch!", ("sauberkeit",)),
    ("Obstfliegen an der Theke", ("sauberkeit",)),
    ("Das Klo hatte kein Klopapier und der Mülleimer lief über", ("sauberkeit",)),
    ("Tasse hatte noch Lippenstift dran, nicht richtig gespült", ("sauberkeit",)),
    # several topics, always in the fixed order of TOPICS
    ("Die Bedienung war langsam und unfreundlich", ("service", "wartezeit")),
    ("Lecker, aber zu teuer", ("qualitaet", "preis")),
    ("Leckerer Kuchen, nette Leute, nur die Toiletten könnten sauberer sein",
     ("qualitaet", "service", "sauberkeit")),
    ("Lieferung kam schnell, aber die Bohnen waren schon abgestanden", ("qualitaet", "wartezeit")),
    ("Große Auswahl, faire Preise", ("preis", "sortiment")),
    ("Lange Wartezeit und der Kaffee war dann kalt", ("qualitaet", "wartezeit")),
    ("Zu teuer, zu dreckig, zu langsam", ("preis", "wartezeit", "sauberkeit")),
    ("Der Barista-Kurs war ein echtes Geschmacksabenteuer", ("qualitaet", "service")),
    # umlauts typed as ae/oe/ue or left out, typos, colloquial, shouting
    ("Qualitaet war frueher besser", ("qualitaet",)),
    ("Qualitat lasst nach", ("qualitaet",)),
    ("viel zu teuer fuer so ne kleine tasse", ("preis",)),
    ("Sauberkeit laesst zu wuenschen uebrig", ("sauberkeit",)),
    ("suuuper nett hier und schnell", ("service", "wartezeit")),
    ("UNFREUNDLICH!!!", ("service",)),
    ("unfreudliche bedinung", ("service",)),
    ("bedinung war voll lieb", ("service",)),
    ("Toilete dreckich", ("sauberkeit",)),
    ("Kaffe war zu stark", ("qualitaet",)),
    ("Strassenverkauf war voll teuer", ("preis",)),
    # nothing the lexicon knows
    ("Schöne Musik und gemütliche Atmosphäre", ("sonstiges",)),
    ("Weiter so!", ("sonstiges",)),
    ("Ich hatte mehr erwartet", ("sonstiges",)),  # "erwartet" is not waiting
    ("Bitter enttäuscht.", ("sonstiges",)),       # not a bitter coffee
    ("Parkplätze gibt es leider kaum", ("sonstiges",)),
    ("Kaffee gut, Kuchen gut", ("sonstiges",)),   # a product without a judgement word is no topic
    ("Umweltfreundliche Verpackung, danke!", ("sonstiges",)),
]


def test_there_are_enough_reasons_and_every_topic_is_covered():
    assert len(REASONS) >= 60
    assert {topic for _, topics in REASONS for topic in topics} == set(TOPICS)


@pytest.mark.parametrize(("reason", "expected"), REASONS, ids=[reason[:40] for reason, _ in REASONS])
def test_reason_is_tagged(reason, expected):
    assert tag_topics(reason) == expected


# --- folding ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("a", "b"), [
    ("Qualität", "Qualitaet"), ("Qualität", "qualitat"), ("überteuert", "ueberteuert"), ("Größe", "Groesse"),
    ("Straße", "Strasse"), ("SÜSS", "süß"), ("Mülleimer", "Muelleimer"),
])
def test_spellings_fold_to_the_same_word(a, b):
    assert fold(a) == fold(b)


def test_fold_of_nothing():
    assert fold("") == "" and fold(None) == ""


# --- how keywords match -----------------------------------------------------------------------

def test_stars_at_both_ends_find_compounds():
    lexicon = Lexicon({"qualitaet": ["*qualität*"]})
    for text in ("Qualität", "Kaffeequalität", "Qualitätsmängel", "qualitativ hochwertig", "Kaffee-Qualität"):
        assert lexicon.matches(text), text


def test_a_trailing_star_matches_only_at_the_start_of_a_word():
    lexicon = Lexicon({"wartezeit": ["wart*"]})
    assert lexicon.matches("Wartezeiten") == {"wartezeit": ("wartezeiten",)}
    assert lexicon.matches("warten") and not lexicon.matches("erwartet") and not lexicon.matches("Erwartungen")


def test_a_word_without_stars_matches_only_itself():
    lexicon = Lexicon({"qualitaet": ["kalt", "kalte*"]})
    assert lexicon.matches("kalt") and lexicon.matches("kalter Kaffee") and lexicon.matches("KALTEN")
    assert not lexicon.matches("Kaltgetränke") and not lexicon.matches("eiskalt")


def test_phrases_match_across_spaces_and_hyphens():
    lexicon = Lexicon({"preis": ["zu teuer*", "preis leistung"]})
    assert lexicon.matches("viel zu   teuer") == {"preis": ("zu   teuer",)}
    assert lexicon.matches("Preis-Leistung top")
    assert not lexicon.matches("zuteuer") and not lexicon.matches("zu, teuer")


def test_negation_does_not_change_the_topic():
    assert tag_topics("nicht freundlich") == tag_topics("freundlich") == ("service",)
    assert tag_topics("gar nicht teuer") == ("preis",)


def test_matches_name_every_hit_in_folded_form():
    found = DEFAULT_LEXICON.matches("Ewig gewartet, Kaffee lauwarm und überteuert")
    assert found == {"qualitaet": ("lauwarm",), "preis": ("uberteuert",), "wartezeit": ("ewig", "gewartet")}


def test_order_is_fixed_whatever_the_order_in_the_text():
    assert tag_topics("dreckig und zu teuer") == tag_topics("zu teuer und dreckig") == ("preis", "sauberkeit")


def test_main_topic_is_the_most_named_and_ties_go_to_the_earlier_topic():
    assert main_topic("Ewig gewartet, Lieferung zu spät, und der Kaffee war kalt") == "wartezeit"
    assert main_topic("Kalt und teuer") == "qualitaet"
    assert main_topic("Schöne Musik") == OTHER


# --- edge cases -------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["", None, "   ", "☕️👍😊", "🤮🤮🤮", "?!", "12345", "<br/>"])
def test_texts_without_words_are_sonstiges_and_never_empty(text):
    assert tag_topics(text) == (OTHER,)


def test_a_5000_character_text():
    text = ("Wir kommen seit Jahren gern, die Atmosphäre ist schön. " * 100)[:4_985] + " Aber zu teuer."
    assert len(text) == 5_000
    assert tag_topics(text) == ("preis",)


def test_text_beyond_the_limit_is_not_read():
    assert tag_topics("x" * MAX_CHARS + " dreckig") == (OTHER,)
    assert tag_topics("y " * (MAX_CHARS // 2 - 10) + " dreckig") == ("sauberkeit",)


def test_one_very_long_word_is_handled():
    assert tag_topics("a" * 5_000 + "qualität" + "b" * 5_000) == ("qualitaet",)


def test_html_like_text_is_read_as_text():
    assert tag_topics("<p>Der <b>Service</b> war <i>kalt</i></p>") == ("qualitaet", "service")
    assert tag_topics("<script>alert('hallo')</script>") == (OTHER,)
    assert tag_topics("<teuer>") == ("preis",)


# --- the lexicon as data ----------------------------------------------------------------------

def test_lexicon_is_plain_data_for_every_topic_but_sonstiges():
    assert set(TOPIC_KEYWORDS) == set(TOPICS) - {OTHER}
    assert all(isinstance(word, str) and word for words in TOPIC_KEYWORDS.values() for word in words)
    assert DEFAULT_LEXICON.keys == TOPICS[:-1]


def test_an_owner_can_add_keywords():
    lexicon = topic_lexicon({"qualitaet": ["*plörre*"], "sortiment": ["chai*"]})
    assert tag_topics("Der Kaffee ist Plörre", lexicon) == ("qualitaet",)
    assert tag_topics("Chai Latte fehlt", lexicon) == ("sortiment",)
    assert tag_topics("Der Kaffee ist Plörre") == (OTHER,)  # the built-in lexicon is unchanged
    assert tag_topics("zu teuer", lexicon) == ("preis",)     # and still there in the extended one


@pytest.mark.parametrize("extra", [{"laerm": ["laut*"]}, {"sonstiges": ["egal"]}])
def test_unknown_topics_are_refused(extra):
    with pytest.raises(LexiconError):
        topic_lexicon(extra)


@pytest.mark.parametrize("word", ["", "*", "**", "te*uer", "teuer!", "zu  *teuer", "a_b"])
def test_malformed_keywords_are_refused_with_the_keyword_named(word):
    with pytest.raises(LexiconError) as caught:
        topic_lexicon({"preis": [word]})
    assert repr(word) in str(caught.value)


# --- the lexicon files (domain/rules/lexicons/*.yml) -------------------------------------------

KEYS = ("preis", "service")


def lexicon_file(tmp_path, text: str):
    path = tmp_path / "lexicon.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_lexicon_files_are_found_from_any_working_directory(tmp_path):
    repo = Path(__file__).parents[2]
    code = ("import sys; sys.path.insert(0, sys.argv[1]);"
            "from domain.rules import priority, topics;"
            "print(topics.tag_topics('zu teuer'), priority.assess_priority('Anwalt').reasons)")
    result = subprocess.run([sys.executable, "-c", code, str(repo)], cwd=tmp_path, capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "('preis',) ('legal_threat',)"


def test_a_lexicon_file_is_read_in_the_order_of_its_keys(tmp_path):
    lexicon = read_lexicon_file(lexicon_file(tmp_path, """
keywords:
  service: ["*freundlich*"]
  preis: ["teuer*", "€"]
ignore: ["*umweltfreundlich*"]
"""), KEYS)
    assert lexicon.keys == KEYS
    assert lexicon.entries == {"preis": ("teuer*", "€"), "service": ("*freundlich*",)}
    assert lexicon.matches("Umweltfreundlich, aber teuer") == {"preis": ("teuer",)}  # "teuer" keeps its "ue"


@pytest.mark.parametrize(("text", "message"), [
    ("keywords:\n  preis: [*teuer*]\n  service: []\n", "line 2"),                   # an unquoted * is YAML's alias
    ("keywords:\n  preis: []\n  service: []\n  preis: [teuer]\n", "'preis' is written twice"),
    ("- teuer\n", "needs 'keywords:'"),
    ("keywords:\n  preis: []\n  service: []\nextra: []\n", "unknown entry 'extra'"),
    ("keywords:\n  preis: []\n  service: []\n  laerm: [laut]\n", "unknown key 'laerm'"),
    ("keywords:\n  preis: []\n", "keywords for 'service' are missing"),
    ("keywords:\n  preis: teuer\n  service: []\n", "preis: needs a list"),
    ("keywords:\n  preis: [10]\n  service: []\n", "keyword 10 is not text"),
    ("keywords:\n  preis: ['te*uer']\n  service: []\n", "preis: keyword 'te*uer'"),
    ("keywords:\n  preis: []\n  service: []\nignore: ['a_b']\n", "ignore: keyword 'a_b'"),
])
def test_a_mistake_in_a_lexicon_file_is_named(tmp_path, text, message):
    path = lexicon_file(tmp_path, text)
    with pytest.raises(LexiconError) as caught:
        read_lexicon_file(path, KEYS)
    assert str(path) in str(caught.value) and message in str(caught.value)


def test_a_missing_lexicon_file_is_named(tmp_path):
    with pytest.raises(LexiconError, match="cannot be read"):
        read_lexicon_file(tmp_path / "nowhere.yml", KEYS)


def test_an_empty_list_or_no_ignore_is_fine(tmp_path):
    lexicon = read_lexicon_file(lexicon_file(tmp_path, "keywords:\n  preis:\n  service: []\n"), KEYS)
    assert lexicon.entries == {"preis": (), "service": ()} and lexicon.ignore == ()
    assert lexicon.matches("teuer") == {}
