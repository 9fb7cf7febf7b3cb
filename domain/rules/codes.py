"""Short codes people read aloud and type: customer codes on the loyalty card, reward codes.

The alphabet leaves out 0/O and 1/I, which look alike on a phone screen and on a till
receipt, so a code read from a card cannot be mistyped into another valid-looking one.
"""

from __future__ import annotations

import re
import secrets

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CUSTOMER_CODE_LENGTH = 6  # 32**6: about a billion, so guessing a customer's code is hopeless
REWARD_CODE_LENGTH = 8
_SEPARATORS = re.compile(r"[\s\-_.]")


def new_code(length: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def normalize(text: str, length: int) -> str | None:
    """"k7q-x2m" -> "K7QX2M"; None when it cannot be a code of that length."""
    cleaned = _SEPARATORS.sub("", (text or "").strip())
    if not cleaned.isascii():  # "ß".upper() is "SS": a 5-letter typo must not become a valid code
        return None
    cleaned = cleaned.upper()
    if len(cleaned) != length or any(char not in ALPHABET for char in cleaned):
        return None
    return cleaned


def grouped(code: str) -> str:
    """Easier to read aloud: "K7QX-2M9P" for 8 characters, 6-character codes stay whole."""
    return f"{code[:4]}-{code[4:]}" if len(code) == 8 else code
