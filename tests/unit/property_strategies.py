"""Strategies the property tests share: what people (and attackers) type."""

from __future__ import annotations

from hypothesis import strategies as st

# Every code point except surrogates, control characters included.
any_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=60)
# What breaks parsers: controls, invisible and bidi marks, other scripts' digits, lookalikes.
_tricky_chars = st.sampled_from(
    list("\x00\x01\x1b\x7f\t\n\r\x0b\x0c\x85\u2028\u2029\u00a0\u200b\u200e\u202e\u2066\ufeff\u00ad")
    + list("٣۹०௫𝟗²³¹½⅓①ⅷ") + list("ßẞİıﬀ℃€$£,.;:-_/!?\"'„“”«»()[]{}<>%#@&*+=|\\~^`")
    + list("äöüÄÖÜéèçñ") + list("0123456789 ")
)
tricky_text = st.text(_tricky_chars, max_size=40)
# Huge inputs: a long run of one character (fast to build), e.g. a 5000-digit number.
huge_text = st.builds(lambda piece, count: piece * count,
                      st.sampled_from(["9", "1", "0", "a", " ", ",", ".", "\n", "ä", "€", "1.", "12,", '"', "8 ", "x:"]),
                      st.integers(min_value=1000, max_value=30_000))
nasty_text = st.one_of(any_text, tricky_text, huge_text)


def mixed(*realistic: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Realistic input, nasty input, and realistic input with nasty bits around or inside it."""
    real = st.one_of(*realistic)
    spliced = st.builds(lambda a, b, c: a + b + c, tricky_text, real, tricky_text)
    return st.one_of(real, real, spliced, nasty_text)
