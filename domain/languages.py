"""The languages the bot speaks: every text exists in each (bot/locales/<language>.yml), a
customer chooses one of them (or simply writes in it) and the shop's config names one."""

from __future__ import annotations

import re
from typing import Literal, get_args

Language = Literal["de", "en"]
LANGUAGES: tuple[str, ...] = get_args(Language)

# Words that mark a message as English or German. Words both languages use ("was", "will",
# "also", "hi", "an", "in", "so", "man", "ok") are in neither list.
ENGLISH_WORDS = frozenset("""
the a is are do does did don't can't i'm you're i you your yours my me we our us they it it's this that
what when where which who why how can could would should please thanks thank hello hey open opening
hours points point much many have has had want wanted get got buy bought to of for with from and or not no yes
there here today tomorrow tonight any some still just about your still order ordered waiting waited
card reward rewards delete stop talk someone person staff coffee cake cold terrible awful great love
""".split())
GERMAN_WORDS = frozenset("""
der die das den dem des ist sind bin bist ich du ihr sie wir mein meine meinen dein deine euer eure
wann wo wie warum welche wer habt hast hat haben kann kannst könnt koennt könnte bitte danke hallo
und oder nicht nein ja mit für fuer auf ein eine einen einem noch schon heute morgen offen geöffnet
geoeffnet punkte gibt gibts möchte moechte würde wurde mir mich uns euch eurem kaffee kuchen kalt
auch aber sehr gut schlecht leider gerne gern hab habe war waren gewartet bestellt
""".split())
_WORDS = re.compile(r"[a-zäöüß']+")
UMLAUTS = frozenset("äöüß")


def written_in(text: str | None) -> Language | None:
    """The language a customer's message is clearly written in, or None when it is short,
    mixed ("will meine points redeemen") or neither: a light check of common words, no model
    and no downloads."""
    words = _WORDS.findall((text or "").lower())
    english = sum(word in ENGLISH_WORDS for word in words)
    german = sum(word in GERMAN_WORDS for word in words) + 2 * any(c in UMLAUTS for c in (text or "").lower())
    if 3 * (english + german) < len(words):
        return None  # mostly unknown words: a name, a code, symbols with a few letters in between
    if _clearly_more(english, german):
        return "en"
    if _clearly_more(german, english):
        return "de"
    return None


def _clearly_more(these: int, those: int) -> bool:
    return (these >= 2 and those == 0) or (these >= 3 and these >= 3 * those)
