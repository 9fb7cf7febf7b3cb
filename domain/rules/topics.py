"""Topics of a German free-text reason ("Der Kaffee war lauwarm und zu teuer" -> qualitaet, preis),
without I/O, by a keyword lexicon that is data an owner can read and extend: the file
``lexicons/topics.yml`` next to this module (topic -> keywords, and phrases to ignore), read once
at import and checked like any keyword (``LexiconError`` names the file, the topic and the word).

Keywords are written like a search box understands them, in normal German spelling:

- ``*qualität*``  the word may go on and start earlier, so compounds match: "Kaffeequalität",
  "Qualitätsmängel", "qualitativ" (use it for stems that are safe inside other words);
- ``wart*``       only at the start of a word: "warten", "Wartezeiten", but not "erwartet";
- ``kalt``        exactly this word ("kalte*" adds "kalter", "kalten", not "Kaltgetränk");
- ``zu teuer*``   several words in a row, separated by spaces, hyphens or apostrophes ("z'teuer");
- ``# eur``       "#" stands for a number: "4,90 eur", "5eur", "20min" (a bare "eur" is not a price).
- ``💸``          one symbol alone (``€`` or an emoji) matches wherever it stands.

Text and keywords are compared in ``match_form``: lower case, ß -> ss, ä/ö/ü -> a/o/u, and ae/oe/ue
-> a/o/u only where they can stand for an umlaut (not after a vowel or "q"), so "Qualität",
"Qualitaet" and a hurried "Qualitat" are the same word, while "euer", "teuer", "Steuer", "Feuer"
and "sauer" keep their "ue" ("euer" is never "eur", euro). Letters typed three times or more count
once ("suuuper", "LANGSAAAM"). A hit that is only a pronoun or function word (``STOP_WORDS``) never
counts, whatever keyword found it. Negation does not change a topic ("nicht freundlich" is still
about service), so it is not looked at; praise and complaints share the topics. A text that
matches nothing is ``sonstiges``.

The topics of a text come in the fixed order of ``TOPICS``, not by weight, so the same reasons
always read the same way in reports.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

TOPICS = ("qualitaet", "preis", "service", "wartezeit", "sortiment", "sauberkeit", "sonstiges")
OTHER = "sonstiges"

# Longer texts are cut: a reason is a few sentences, and a pasted novel must not cost seconds.
MAX_CHARS = 20_000


class LexiconError(ValueError):
    """A keyword or topic the lexicon cannot use; the message names it."""


_FOLDS = (("ß", "ss"), ("ä", "a"), ("ö", "o"), ("ü", "u"), ("ae", "a"), ("oe", "o"), ("ue", "u"))
_LETTER = r"[^\W_]"  # a letter or digit of any script: "crème" is one word
# Between the words of a phrase: "zu spät", "zu  spät", "Preis-Leistung", and the dialect's "z'teuer".
_GAP = r"[\s'’`-]+"
_NUMBER = r"\d+(?:[.,]\d+)*"  # what "#" in a keyword stands for: 5, 4,90, 1.234,50
_ENTRY = re.compile(r"^(?:#[ -])?\*?[^\W_]+(?:[ -][^\W_]+)*\*?$")


def fold(text: str) -> str:
    """Lower case with umlauts, ae/oe/ue and ß folded, so every spelling compares equal.

    Kept as it is for its users outside topics (category keys stored on customer rows, segment
    and /loop names), which compare folded with folded; keyword matching uses ``match_form``,
    because folding every "ue" turns "euer" into "eur" and "teuer" into "teur"."""
    folded = (text or "").lower()
    for old, new in _FOLDS:
        folded = folded.replace(old, new)
    return folded


# ae/oe/ue spell an umlaut only after a consonant or at the start of a word ("Qualitaet", "fuer",
# "Uebel"); after a vowel they are German diphthongs or endings ("euer", "teuer", "Steuer",
# "sauer", "neue", "Feuer"), and after "q" a "u" ("bequem", "Quelle", "queue").
_UMLAUT_SPELLING = re.compile(r"(?<![aeiouyäöüq])([aou])e")
_UMLAUTS = str.maketrans({"ä": "a", "ö": "o", "ü": "u"})
# A letter typed three times or more is an elongation ("suuuper", "teeeuer"), never German spelling.
_ELONGATION = re.compile(r"([^\W\d_])\1{2,}")
_INVISIBLE = dict.fromkeys(map(ord, "\ufe0e\ufe0f\u200b\u200c\u200d\u00ad"))  # emoji styles, soft hyphen


def match_form(text: str | None) -> str:
    """The form in which text and keywords are compared: lower case, umlauts folded to their
    base letter (so a missing umlaut still matches), ae/oe/ue only where they spell an umlaut,
    elongations shortened. The same function reads the lexicon, so both sides always agree."""
    form = unicodedata.normalize("NFC", text or "").translate(_INVISIBLE).casefold()  # casefold: ß -> ss
    form = _ELONGATION.sub(r"\1", form)
    form = _UMLAUT_SPELLING.sub(r"\1", form)
    return form.translate(_UMLAUTS)


# Pronouns and function words: never a topic on their own, whatever keyword matched them (the bug
# this guards against: "euer Team" read as "eur", euro). Written in match form.
STOP_WORDS = frozenset("""
    euer eure euren eurem eurer eures eur eu eich enk enker eier eue eues oi ihr ihre ihren ihrem ihrer
    ihres ich mich mir wir uns unser unsere du dich dir dein deine sie er es man der die das den dem
    des ein eine einen einem einer und oder aber zu zum zur mit von fur bei an auf in im am um aus
    nach vor so sehr nur noch schon auch nicht kein keine the a an and or to of for in on at
""".split())


def _is_symbol(entry: str) -> bool:
    return len(entry) == 1 and unicodedata.category(entry).startswith("S")  # "€", "💸", "🐌"


def _pattern(entry: str) -> str:
    form = match_form(entry.strip())
    if _is_symbol(form):
        return re.escape(form)
    if not _ENTRY.match(form):
        raise LexiconError(f"keyword {entry!r}: use letters, spaces or hyphens, with * only at the start or end"
                           " (or \"# \" for a number first, or one symbol like € alone)")
    number = form.startswith("#")
    core = form.lstrip("#").strip(" -")
    words = [re.escape(word) for word in re.split(r"[ -]", core.strip("*"))]
    before = _LETTER + "*" if core.startswith("*") else ""
    after = _LETTER + "*" if core.endswith("*") else ""
    phrase = f"{before}{_GAP.join(words)}{after}(?!{_LETTER})"
    # A number may touch its unit ("20min", "5€"), a word may not touch another letter.
    return f"(?<![^\\W_]){_NUMBER}\\s*-?\\s*{phrase}" if number else f"(?<!{_LETTER}){phrase}"


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
        """The words that matched (in match form), per key that matched at all, in key order."""
        form = match_form((text or "")[:MAX_CHARS])
        if self._ignored:
            form = self._ignored.sub(lambda match: " " * len(match.group(0)), form)
        found = {}
        for key, pattern in self._patterns.items():
            hits = tuple(_hits(pattern, form)) if pattern else ()
            if hits:
                found[key] = hits
        return found


def _hits(pattern: re.Pattern, form: str) -> Iterable[str]:
    """The matches of a keyword pattern, less those that are only a stop word."""
    for match in pattern.finditer(form):
        if match.group(0) not in STOP_WORDS:
            yield match.group(0)


# --- the lexicon files ------------------------------------------------------------------------
# Data that ships with the code, read once per process (like a module), never at call time.

LEXICON_DIR = Path(__file__).resolve().parent / "lexicons"


class _Loader(yaml.SafeLoader):
    """Safe YAML that refuses a key written twice (YAML would keep the last list silently)."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"'{key}' is written twice; keep one list",
                                                        key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep)


@functools.cache
def load_lexicon(name: str, keys: tuple[str, ...]) -> Lexicon:
    """The lexicon of ``lexicons/<name>.yml`` (read once); its keys are exactly ``keys``, in that order."""
    return read_lexicon_file(LEXICON_DIR / f"{name}.yml", keys)


def read_lexicon_file(path: Path, keys: tuple[str, ...]) -> Lexicon:
    """A lexicon file checked completely: any mistake is a ``LexiconError`` naming the file (and
    the line, the key and the keyword where it can)."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except OSError as error:
        raise LexiconError(f"{path}: cannot be read ({error.strerror or error})") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark else ""
        raise LexiconError(f"{path}{where}: not valid YAML ({getattr(error, 'problem', None) or error}); "
                           'put every keyword in quotes, like "*preis*"') from None
    return lexicon_from_data(data, keys, str(path))


def lexicon_from_data(data: Any, keys: tuple[str, ...], source: str) -> Lexicon:
    """A lexicon from a lexicon file's content (``keywords:`` per key, optional ``ignore:``)."""
    if not isinstance(data, dict) or not isinstance(data.get("keywords"), dict):
        raise LexiconError(f"{source}: needs 'keywords:' with a list of keywords for each of {', '.join(keys)}")
    unknown = [str(entry) for entry in data if entry not in ("keywords", "ignore")]
    if unknown:
        raise LexiconError(f"{source}: unknown entry '{unknown[0]}'; a lexicon file has 'keywords' and 'ignore'")
    keywords = data["keywords"]
    unknown = [str(key) for key in keywords if key not in keys]
    if unknown:
        raise LexiconError(f"{source}: unknown key '{unknown[0]}' under keywords; known are {', '.join(keys)}")
    missing = [key for key in keys if key not in keywords]
    if missing:
        raise LexiconError(f"{source}: keywords for '{missing[0]}' are missing (an empty list [] is fine)")
    entries = {key: _keywords(keywords[key], f"{source}, {key}") for key in keys}
    return Lexicon(entries, _keywords(data.get("ignore"), f"{source}, ignore"))


def _keywords(words: Any, where: str) -> tuple[str, ...]:
    if words is None:
        return ()
    if not isinstance(words, list):
        raise LexiconError(f"{where}: needs a list of keywords, like [\"*preis*\", \"teuer*\"]")
    for word in words:
        if not isinstance(word, str):
            raise LexiconError(f"{where}: keyword {word!r} is not text; put it in quotes")
        try:
            _pattern(word)
        except LexiconError as error:
            raise LexiconError(f"{where}: {error}") from None
    return tuple(words)


_BUILT_IN = load_lexicon("topics", TOPICS[:-1])
TOPIC_KEYWORDS: dict[str, tuple[str, ...]] = dict(_BUILT_IN.entries)
# Phrases blanked out before matching, because a keyword in them means something else.
IGNORED_PHRASES: tuple[str, ...] = _BUILT_IN.ignore


def topic_lexicon(extra: Mapping[str, Iterable[str]] | None = None) -> Lexicon:
    """The topic keywords of ``lexicons/topics.yml``, plus an owner's ``extra`` ones (never for
    ``sonstiges``)."""
    if extra and OTHER in extra:
        raise LexiconError(f"'{OTHER}' is what matches nothing else; it takes no keywords")
    return _BUILT_IN.extended(extra) if extra else _BUILT_IN


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
