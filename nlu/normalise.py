"""Text normalisation in front of the model, the same in training and at run time.

Customers write "Öffnungszeiten", "oeffnungszeiten" and "offnungszeiten"; "suuuper" and
"super"; "wv pkt hab ich". The model learns from character n-grams, so every spelling of
one word it has to learn separately costs examples. Folding the spellings into one form
before the model sees them lets the examples teach meaning instead of spelling:

- lower case;
- umlauts to their base letter (ä, ae → a; ö, oe → o; ü, ue → u after a consonant, so
  "euer", "neue" and "Feuer" keep their e), ß → ss;
- a letter repeated three times or more to two ("suuuper" → "suuper", "Kaffeeee" → "kaffee"),
  repeated punctuation to one;
- a word said four times or more in a row counts once ("kaffee kaffee kaffee kaffee …" →
  "kaffee"): a stuck key or a pasted flood is not a long message (the model reads long
  messages as complaints, and would open a ticket for it); no training example repeats a
  word that often;
- a few chat abbreviations spelled out (whole words only).

Rasa answers entity positions in the text it was sent; ``normalise_with_origin`` keeps, for
every character of the normalised text, the position it came from, so the client can point
entities back into what the customer wrote.
"""

from __future__ import annotations

import re

_UMLAUTS = {"ä": "a", "ö": "o", "ü": "u", "ß": "ss"}
# "ae"/"oe" stand for umlauts wherever they occur in German words; "ue" only after a
# consonant ("fuer", "Tuer", "Stueck"), since "eue"/"aue" are diphthongs ("euer", "Bauer").
_DIGRAPH = re.compile(r"ae|oe|(?<=[bcdfghjklmnpqrstvwxz])ue")
_ABBREVIATIONS = {
    "pkt": "punkte",
    "pkte": "punkte",
    "telnr": "telefonnummer",
    "wv": "wie viele",
    "wieviel": "wie viel",
    "wieviele": "wie viele",
    "gebtag": "geburtstag",
    "bday": "birthday",
    "pls": "please",
    "plz": "please",
    "thx": "thanks",
    "ty": "thank you",
}
_WORD = re.compile(r"[a-z0-9]+")
_SAID_FOUR_TIMES = re.compile(r"\b(\w+)(?:\W+\1\b){3,}")


def normalise(text: str) -> str:
    return normalise_with_origin(text)[0]


def normalise_with_origin(text: str) -> tuple[str, list[int]]:
    """The normalised text and, per character of it, the index of its origin in ``text``."""
    chars = [(c, i) for i, c in enumerate(text)]
    for step in STEPS:
        chars = step(chars)
    return "".join(c for c, _ in chars), [i for _, i in chars]


def _lower_and_fold(chars):
    folded = []
    for char, origin in chars:
        lowered = char.lower()
        if len(lowered) != 1:  # "İ".lower() is two characters; keep the letter as it is
            lowered = char
        folded += [(c, origin) for c in _UMLAUTS.get(lowered, lowered)]
    return folded


def _fold_digraphs(chars):
    text = "".join(c for c, _ in chars)
    starts = {m.start() for m in _DIGRAPH.finditer(text)}
    folded, skip = [], False
    for index, pair in enumerate(chars):
        if skip:
            skip = False
            continue
        folded.append(pair)
        skip = index in starts  # keep the vowel, drop its "e"
    return folded


def _shorten_repeats(chars):
    kept = []
    for char, origin in chars:
        run = 0
        while run < len(kept) and kept[-1 - run][0] == char:
            run += 1
        limit = 2 if char.isalpha() else 1 if char in "!?.,;:" else None
        if limit is not None and run >= limit:
            continue
        kept.append((char, origin))
    return kept


def _collapse_repeated_words(chars):
    text = "".join(c for c, _ in chars)
    kept, position = [], 0
    for match in _SAID_FOUR_TIMES.finditer(text):
        kept += chars[position:match.end(1)]  # the word once, without its repetitions
        position = match.end()
    return kept + chars[position:]


def _expand_abbreviations(chars):
    text = "".join(c for c, _ in chars)
    expanded, position = [], 0
    for match in _WORD.finditer(text):
        replacement = _ABBREVIATIONS.get(match.group())
        if replacement is None or not _stands_alone(text, match):
            continue
        expanded += chars[position:match.start()]
        # The spelled-out word points at the abbreviation's first character.
        expanded += [(c, chars[match.start()][1]) for c in replacement]
        position = match.end()
    return expanded + chars[position:]


def _stands_alone(text: str, match: re.Match) -> bool:
    """Not part of a code or a number such as "R2-D2" or "u2"."""
    before = text[match.start() - 1] if match.start() else " "
    after = text[match.end()] if match.end() < len(text) else " "
    return not (before.isalnum() or before in "-_/" or after.isalnum() or after in "-_/")


# In this order: folding first (the later steps see plain lower-case letters), abbreviations
# last (they are whole words, found once repeats and runs are gone).
STEPS = (_lower_and_fold, _fold_digraphs, _shorten_repeats, _collapse_repeated_words, _expand_abbreviations)
