"""Names as people typed them into Telegram, made safe to show and store.

Zero-width characters and bidirectional controls (Unicode category "Cf": U+200B-U+200F,
U+202A-U+202E, U+2066-U+2069, U+FEFF, the soft hyphen ...) and control characters let one
person's name look like another's ("Anna" with a hidden mark, or a name that turns the rest
of a staff line around). They are removed, runs of spaces become one, and the result is cut
to the column's size.
"""

from __future__ import annotations

import unicodedata

_HIDDEN = {"Cf", "Cc", "Cs", "Co"}  # format/bidi controls, control characters, surrogates, private use


def clean_name(name: str | None, limit: int) -> str | None:
    """``name`` without hidden characters, spaces folded, at most ``limit`` characters; None
    when nothing visible is left."""
    if not name:
        return None
    visible = "".join(ch if unicodedata.category(ch) not in _HIDDEN else (" " if ch in "\t\n\r" else "")
                      for ch in name)
    return " ".join(visible.split())[:limit].rstrip() or None
