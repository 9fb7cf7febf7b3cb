"""Topics of a German free-text reason ("Der Kaffee war lauwarm und zu teuer" -> qualitaet, preis),
without I/O, by a keyword lexicon that is data: a dict of topic -> keywords an owner can extend.

Keywords are written like a search box understands them, in normal German spelling:

- ``*qualität*``  the word may go on and start earlier, so compounds match: "Kaffeequalität",
  "Qualitätsmängel", "qualitativ" (use it for stems that are safe inside other words);
- ``wart*``       only at the start of a word: "warten", "Wartezeiten", but not "erwartet";
- ``kalt``        exactly this word ("kalte*" adds "kalter", "kalten", not "Kaltgetränk");
- ``zu teuer*``   several words in a row, separated by spaces or hyphens.

Text and keywords are compared folded: lower case, ß -> ss, and ä/ae -> a, ö/oe -> o, ü/ue -> u,
so "Qualität", "Qualitaet" and a hurried "Qualitat" are the same word. Negation does not change
a topic ("nicht freundlich" is still about service), so it is not looked at; praise and
complaints share the topics. A text that matches nothing is ``sonstiges``.

The topics of a text come in the fixed order of ``TOPICS``, not by weight, so the same reasons
always read the same way in reports.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

TOPICS = ("qualitaet", "preis", "service", "wartezeit", "sortiment", "sauberkeit", "sonstiges")
OTHER = "sonstiges"

# Longer texts are cut: a reason is a few sentences, and a pasted novel must not cost seconds.
MAX_CHARS = 20_000

TOPIC_KEYWORDS: dict[str, tuple[str, ...]] = {
    "qualitaet": (
        "*qualität*", "*quallität*", "*geschmack*", "geschmeckt", "schmeckt*", "schmecken*", "*lecker*",
        "köstlich*", "*aroma*", "aromen", "fad", "fade", "fader", "fades", "faden", "*wässrig*",
        "bitter*", "zu sauer", "säuerlich*", "zu süß*", "zu salzig*", "versalzen*", "zu stark*", "zu dünn*",
        "*verbrannt*", "angebrannt*", "lauwarm*", "kalt", "kalte*", "*frisch*", "altbacken*", "*abgestanden*",
        "trocken*", "matschig*", "labberig*", "labbrig*", "pappig*", "zäh", "zähe*", "*röstung*", "geröstet*",
        "röstgrad*", "crema*", "*milchschaum*", "*verdorben*", "*ranzig*", "*schimmel*", "schimmlig*",
        "hochwertig*", "minderwertig*", "*kaputt*", "*beschädigt*", "zerbrochen*", "defekt*", "*temperatur*",
        "*splitter*", "*scherbe*", "*fremdkörper*", "*vergiftung*",  # something in the food is the product's fault
    ),
    "preis": (
        "*preis*", "teuer*", "*überteuer*", "sauteuer*", "schweineteuer*", "teurer*", "teuerste*", "billig*",
        "*günstig*", "*kosten*", "kostet*", "geld*", "*wucher*",
        "*abzocke*", "abgezockt*", "*rabatt*", "*sonderangebot*", "*bezahlbar*", "euro", "eur", "€",
        "*aufschlag*", "*pfand*",
    ),
    "service": (
        "*service*", "*freundlich*", "*freudlich*", "*bedien*", "bedinung*", "personal*", "*mitarbeiter*",
        "team*", "barista*", "kellner*", "*verkäufer*", "nett", "nette*", "*höflich*", "*hilfsbereit*",
        "*kompetent*", "*berat*", "*kundendienst*", "support*", "*lächel*", "*arrogant*", "*patzig*",
        "*pampig*", "*genervt*", "*motiviert*", "*aufmerksam*", "*zuvorkommend*", "herzlich", "*herzlichkeit*",
        "angeschnauzt*", "*angemotzt*", "ignoriert*", "*kulanz*", "kulant*", "antwort*", "geantwortet*",
        "*erreichbar*", "*rückmeld*", "*gastfreund*", "begrüß*", "empfang",
    ),
    "wartezeit": (
        "wart*", "gewartet*", "*wartezeit*", "*warteschlange*", "schlange*", "anstehen*", "angestanden*",
        "dauert*", "dauerte*", "gedauert*", "*lieferdauer*", "*liefer*", "*liefr*", "*versand*", "versandt*",
        "verschickt*", "*paket*", "päckchen*", "*sendung*", "post", "*postbote*", "dhl*", "dpd*", "hermes*", "gls",
        "zu spät*", "*verspät*", "*pünktlich*", "schnell*", "langsam*", "ewig*", "minuten*", "min", "stunde*", "std",
        "*zustell*", "zugestellt*", "angekommen*", "noch nicht da", "noch immer nicht da", "zügig*", "flott*",
        "*tracking*",
    ),
    "sortiment": (
        "*sortiment*", "*auswahl*", "ausverkauft*", "*vorrätig*", "*vergriffen*", "*verfügbar*", "*sorte*",
        "*vielfalt*", "angebot*", "*abwechslung*", "*vegan*", "vegetarisch*", "glutenfrei*", "laktosefrei*",
        "*hafermilch*", "*sojamilch*", "*mandelmilch*", "*pflanzenmilch*", "*milchalternative*",
        "*entkoffeiniert*", "koffeinfrei*", "speisekarte*", "getränkekarte*", "*produktpalette*", "*regal*",
    ),
    "sauberkeit": (
        "*sauber*", "*dreck*", "drekig*", "*schmutz*", "*hygien*", "*toilet*", "klo", "klos", "klopapier*",
        "wc*", "*putz*", "*staub*", "*klebrig*", "*krümel*", "*fleck*", "haar", "haare", "haaren", "*fliege*",
        "*ungeziefer*", "*kakerlake*", "*müll*", "*gewischt*", "*abwisch*", "schmierig*",
        "*verschmiert*", "*gespült*",
    ),
}

# Phrases blanked out before matching, because a keyword in them means something else.
IGNORED_PHRASES: tuple[str, ...] = (
    "bitter enttäuscht*",      # disappointed, not a bitter coffee
    "*umweltfreundlich*",      # the packaging, not the staff
    "*geldbörse*", "*geldbeutel*",  # a lost wallet is not a price
)


class LexiconError(ValueError):
    """A keyword or topic the lexicon cannot use; the message names it."""


_FOLDS = (("ß", "ss"), ("ä", "a"), ("ö", "o"), ("ü", "u"), ("ae", "a"), ("oe", "o"), ("ue", "u"))
_LETTER = r"[^\W_]"  # a letter or digit of any script: "crème" is one word
_GAP = r"[\s-]+"  # between the words of a phrase: "zu spät", "zu  spät", "Preis-Leistung"
_ENTRY = re.compile(r"^\*?[^\W_]+(?:[ -][^\W_]+)*\*?$|^€$")


def fold(text: str) -> str:
    """Lower case with umlauts, ae/oe/ue and ß folded, so every spelling compares equal."""
    folded = (text or "").lower()
    for old, new in _FOLDS:
        folded = folded.replace(old, new)
    return folded


def _pattern(entry: str) -> str:
    folded = fold(entry.strip())
    if not _ENTRY.match(folded):
        raise LexiconError(f"keyword {entry!r}: use letters, spaces or hyphens, with * only at the start or end")
    if folded == "€":
        return "€"
    words = [re.escape(word) for word in re.split(r"[ -]", folded.strip("*"))]
    before = _LETTER + "*" if folded.startswith("*") else ""
    after = _LETTER + "*" if folded.endswith("*") else ""
    return f"(?<!{_LETTER}){before}{_GAP.join(words)}{after}(?!{_LETTER})"


def _compile(entries: Iterable[str]) -> re.Pattern | None:
    patterns = [_pattern(entry) for entry in entries]
    return re.compile("|".join(patterns)) if patterns else None


class Lexicon:
    """Keywords per key, in a fixed key order; shared by topics and complaint priority."""

    def __init__(self, entries: Mapping[str, Iterable[str]], ignore: Iterable[str] = ()):
        self.entries = {key: tuple(words) for key, words in entries.items()}
        self.ignore = tuple(ignore)
        self._patterns = {key: _compile(words) for key, words in self.entries.items()}
        self._ignored = _compile(self.ignore)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(self.entries)

    def extended(self, extra: Mapping[str, Iterable[str]]) -> "Lexicon":
        """This lexicon plus more keywords (an owner's additions); unknown keys are refused."""
        unknown = sorted(set(extra) - set(self.entries))
        if unknown:
            raise LexiconError(f"unknown key(s) {', '.join(unknown)}; known are {', '.join(self.entries)}")
        return Lexicon({key: words + tuple(extra.get(key, ())) for key, words in self.entries.items()}, self.ignore)

    def matches(self, text: str) -> dict[str, tuple[str, ...]]:
        """The words that matched, per key that matched at all, in key order."""
        folded = fold((text or "")[:MAX_CHARS])
        if self._ignored:
            folded = self._ignored.sub(lambda match: " " * len(match.group(0)), folded)
        found = {}
        for key, pattern in self._patterns.items():
            hits = tuple(match.group(0) for match in pattern.finditer(folded)) if pattern else ()
            if hits:
                found[key] = hits
        return found


def topic_lexicon(extra: Mapping[str, Iterable[str]] | None = None) -> Lexicon:
    """The built-in topic keywords, plus an owner's ``extra`` ones (never for ``sonstiges``)."""
    if extra and OTHER in extra:
        raise LexiconError(f"'{OTHER}' is what matches nothing else; it takes no keywords")
    lexicon = Lexicon(TOPIC_KEYWORDS, IGNORED_PHRASES)
    return lexicon.extended(extra) if extra else lexicon


DEFAULT_LEXICON = topic_lexicon()


def tag_topics(text: str, lexicon: Lexicon = DEFAULT_LEXICON) -> tuple[str, ...]:
    """The topics of a reason in the order of ``TOPICS``; ``("sonstiges",)`` when none matched."""
    found = lexicon.matches(text)
    return tuple(topic for topic in TOPICS if topic in found) or (OTHER,)


def main_topic(text: str, lexicon: Lexicon = DEFAULT_LEXICON) -> str:
    """The topic with the most keyword hits (ties: the earlier in ``TOPICS``), else ``sonstiges``."""
    found = lexicon.matches(text)
    ranked = sorted(found, key=lambda topic: (-len(found[topic]), TOPICS.index(topic)))
    return ranked[0] if ranked else OTHER
