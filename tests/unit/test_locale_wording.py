"""Every text of the locale files, rendered in German with du, German with Sie and English:
a Sie shop never slips into du (staff and owner texts included, as they are rendered in the
shop's voice), English texts carry no German, every placeholder is filled, and a count of
one reads as one ("1 Punkt", not "1 Punkte")."""

from __future__ import annotations

import re
import string

import pytest

from bot.texts import LOCALES_DIR, Texts, Voice, _read
from domain.campaigns import PLACEHOLDERS as OWNER_PLACEHOLDERS

DU, SIE, EN = Voice("de"), Voice("de", formal=True), Voice("en")
KEYS = sorted(_read(LOCALES_DIR / "de.yml"))

# Words of the du and ihr forms. "Ihr" and "Sie" are the Sie forms, so "ihr" is not listed.
DU_WORDS = re.compile(r"\b(du|dich|dir|dein|deine|deinen|deinem|deiner|deines|euch|euer|eure|euren|eurem|eurer|"
                      r"habt|seid|könnt|wollt|hast|bist|kannst|möchtest|magst|willst|bekommst|erfährst|kümmerst|"
                      r"schreib|schick|tipp|tippe|zeig|sag|nenn|lass|prüf|versuch|speichere|teile|korrigiere|"
                      r"fasse|schau|sprich|komm|empfiehl)\b", re.IGNORECASE)
GERMAN_WORDS = re.compile(r"[äöüÄÖÜß]|\b(und|oder|nicht|der|die|das|ist|bitte|für|mit|ein|eine|ich|wir|Sie|du|"
                          r"noch|schon|danke|hallo|nein|Punkte|Kasse|Einkauf|Kunde|Kunden|Stufe|Gutschein|"
                          r"Tage|Uhr|Karte)\b")
# What an English customer also reads in German on purpose: the choice of language.
BILINGUAL = {"language.choose", "language.german_button", "menu.language_button"}
# Typed by staff or owners as they are: commands, codes and the segment and time words.
LITERAL = re.compile(r"<code>.*?</code>|/[a-z_]+|“[^”]*”", re.DOTALL)
PLACEHOLDER = re.compile(r"\{[A-Za-z_]\w*\}")
# Nouns and verbs that need their singular after a count of one (up to two words between them,
# "1 noch wartende Nachrichten"; "1 deiner Punkte", "1 of your points" are right).
PLURAL_AFTER_ONE = re.compile(
    r"\b1\s+(?:(?!of\b|deiner\b|Ihrer\b|bis\b|to\b|times\b)[^\s<]+\s+){0,2}(Punkte|Einkäufe|Tage|Tagen|Jahre|Antworten|Begriffe|"
    r"Gutscheine|Einträge|Anfragen|Nachrichten|Prämien-Codes|points|purchases|days|years|answers|terms|entries|"
    r"messages|customers|codes|coupons|requests)\b|\b1\s+(?:\S+\s+){0,3}(verfallen|expire)\b|"
    r"wurden 1\b|fehlen \S+ leider noch 1\b")


@pytest.fixture(scope="module")
def texts():
    return Texts("Kaffeehaus Morgenrot")


def _names(texts: Texts, key: str) -> set[str]:
    templates = [texts.template(key, voice) for voice in (DU, SIE, EN)]
    return {name for t in templates for _, name, _, _ in string.Formatter().parse(t) if name}


def _render(texts: Texts, key: str, voice: Voice, value) -> str:
    return texts.plain(key, voice, **{name: value for name in _names(texts, key)})


@pytest.mark.parametrize("key", KEYS)
def test_sie_texts_never_say_du(texts, key):
    rendered = _render(texts, key, SIE, 7)
    assert not DU_WORDS.search(rendered), f"{key} (Sie): {DU_WORDS.search(rendered).group(0)!r} in {rendered!r}"


@pytest.mark.parametrize("key", sorted(set(KEYS) - BILINGUAL))
def test_english_texts_carry_no_german(texts, key):
    rendered = LITERAL.sub("", _render(texts, key, EN, 7))
    found = GERMAN_WORDS.search(rendered)
    assert not found, f"{key} (en): {found.group(0)!r} in {rendered!r}"


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("voice", [DU, SIE, EN], ids=["du", "sie", "en"])
def test_every_placeholder_is_filled(texts, key, voice):
    rendered = _render(texts, key, voice, 7)
    left = set(PLACEHOLDER.findall(rendered)) - {"{%s}" % name for name in OWNER_PLACEHOLDERS}
    assert not left, f"{key}: {left} in {rendered!r}"


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("voice", [DU, SIE, EN], ids=["du", "sie", "en"])
def test_a_count_of_one_reads_as_one(texts, key, voice):
    rendered = _render(texts, key, voice, 1)
    found = PLURAL_AFTER_ONE.search(rendered)
    assert not found, f"{key}: {found.group(0)!r} in {rendered!r}"


def test_plural_forms_follow_the_count():
    texts = Texts("X")
    texts._catalogs["de"]["loyalty.progress"] = "Noch {missing} {missing:Punkt|Punkte}, {missing:einer|# andere}."
    assert texts.render("loyalty.progress", DU, missing=1) == "Noch 1 Punkt, einer."
    assert texts.render("loyalty.progress", DU, missing=1234) == "Noch 1.234 Punkte, 1.234 andere."
    assert texts.render("loyalty.progress", DU, missing=0) == "Noch 0 Punkte, 0 andere."
    assert texts.render("loyalty.progress", DU, missing="1") == "Noch 1 Punkte, 1 andere."  # not a count


def test_an_override_with_a_broken_plural_is_reported(tmp_path):
    from bot.texts import TextsError

    (tmp_path / "de.yml").write_text("loyalty:\n  progress: Noch {missing} {missing:Punkte} bis {next_tier}\n")
    with pytest.raises(TextsError, match="missing:Punkt|Punkte"):
        Texts("Laden", tmp_path)
