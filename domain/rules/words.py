"""How many words a message holds: what makes a message tell something (a complaint that tells
the story, feedback that says enough) rather than being a string of symbols, digits or emoji."""

from __future__ import annotations

import string
import unicodedata

_AROUND = string.punctuation + "„“”‚‘’«»‹›…–—¡¿"  # taken off a word's ends: "super," "(danke)" "„kalt“"
_INSIDE = "-'’."  # may stand inside a word: "E-Mail", "geht's", "z.B."


def _letter_like(ch: str) -> bool:
    # letters, the accents combined with them, and the invisible format characters between them
    return ch.isalpha() or unicodedata.category(ch)[0] == "M" or unicodedata.category(ch) == "Cf"


def word_count(text: str | None) -> int:
    """The tokens between spaces that are words: letters (perhaps with a hyphen, apostrophe or
    dot inside), once the punctuation around them is taken off. Numbers, emoji and runs of
    symbols ("<a>'`=>") do not count."""
    count = 0
    for token in (text or "").split():
        core = token.strip(_AROUND)
        if any(ch.isalpha() for ch in core) and all(_letter_like(ch) or ch in _INSIDE for ch in core):
            count += 1
    return count
