"""Reading what people type: German money amounts and dates.

Both return a value or raise ``InputError`` with a reason key the bot turns into a friendly
sentence; neither ever guesses silently (``1.234`` is one thousand two hundred thirty-four
euros, ``4.50`` is four euros fifty, ``4,505`` is refused).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from domain.rules.errors import Refusal


class InputError(Refusal):
    """Input that cannot be accepted; ``reason`` names why (for the texts)."""


# --- whole numbers ---------------------------------------------------------------------------


def whole_number(digits: str, limit: int) -> int:
    """ASCII ``digits`` as a number, where every number above ``limit`` is ``limit + 1``: int()
    refuses strings of more than 4300 digits with a ValueError of its own, and a number that
    large is refused by the caller anyway ("00030" is 30, as int() reads it)."""
    significant = digits.lstrip("0") or "0"
    if len(significant) > len(str(limit)):
        return limit + 1
    return min(int(significant), limit + 1)


# --- amounts -------------------------------------------------------------------------------

# ASCII digits only: "\d" would also accept Arabic or Devanagari digits.
_GERMAN_AMOUNT = re.compile(r"^\d{1,3}(?:\.\d{3})*(?:,\d{1,2})?$|^\d+(?:,\d{1,2})?$", re.ASCII)
_DOT_DECIMAL = re.compile(r"^\d+\.\d{1,2}$", re.ASCII)


def parse_amount(text: str, maximum: Decimal | None = None) -> Decimal:
    """"4,50", "12", "1.234,50", "4.50", "12 €", "EUR 3,20" -> Decimal with two places."""
    cleaned = re.sub(r"(?i)\s*(€|eur|euro)\s*", "", (text or "").strip()).replace(" ", "").replace("\u00a0", "")
    if cleaned.startswith("-"):
        raise InputError("amount_negative", text)
    if _GERMAN_AMOUNT.match(cleaned):
        normalized = cleaned.replace(".", "").replace(",", ".")
    elif _DOT_DECIMAL.match(cleaned):
        normalized = cleaned  # "4.50": people type the dot on phone keyboards
    else:
        raise InputError("amount_format", text)
    try:
        amount = Decimal(normalized).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise InputError("amount_format", text) from None
    if amount <= 0:
        raise InputError("amount_zero", text)
    if maximum is not None and amount > maximum:
        raise InputError("amount_too_large", text)
    return amount


# --- dates -----------------------------------------------------------------------------------

MONTHS = {
    "januar": 1, "jan": 1, "jänner": 1, "jaenner": 1, "january": 1,
    "februar": 2, "feb": 2, "february": 2,
    "märz": 3, "maerz": 3, "marz": 3, "mär": 3, "mrz": 3, "march": 3,
    "april": 4, "apr": 4,
    "mai": 5, "may": 5,
    "juni": 6, "jun": 6, "june": 6,
    "juli": 7, "jul": 7, "july": 7,
    "august": 8, "aug": 8,
    "september": 9, "sep": 9, "sept": 9,
    "oktober": 10, "okt": 10, "october": 10, "oct": 10,
    "november": 11, "nov": 11,
    "dezember": 12, "dez": 12, "december": 12, "dec": 12,
}
_UNITS = {"ers": 1, "er": 1, "zwei": 2, "drit": 3, "vier": 4, "fünf": 5, "fuenf": 5, "sechs": 6, "sieb": 7, "sieben": 7,
          "ach": 8, "acht": 8, "neun": 9}
_TEENS = {"zehn": 10, "elf": 11, "zwölf": 12, "zwoelf": 12, "dreizehn": 13, "vierzehn": 14, "fünfzehn": 15,
          "fuenfzehn": 15, "sechzehn": 16, "siebzehn": 17, "achtzehn": 18, "neunzehn": 19}
_TENS = {"zwanzig": 20, "dreißig": 30, "dreissig": 30}
_ORDINAL_ENDINGS = (re.compile(r"ste[nrs]?$"), re.compile(r"te[nrs]?$"))


@dataclass(frozen=True)
class DayOfYear:
    """A birthday: day and month, the year only if given."""

    day: int
    month: int
    year: int | None = None


def _ordinal_word(word: str) -> int | None:
    """"erster" -> 1, "dritten" -> 3, "einundzwanzigster" -> 21, "dreißigsten" -> 30."""
    for ending in _ORDINAL_ENDINGS:
        stem = ending.sub("", word)
        for table in (_UNITS, _TEENS, _TENS):
            if stem in table:
                return table[stem]
    stem = _ORDINAL_ENDINGS[0].sub("", word)
    match = re.match(r"^(ein|zwei|drei|vier|fünf|fuenf|sechs|sieben|acht|neun)und(zwanzig|dreißig|dreissig)$", stem)
    if match:
        unit = {"ein": 1, "zwei": 2, "drei": 3, "vier": 4, "fünf": 5, "fuenf": 5, "sechs": 6, "sieben": 7,
                "acht": 8, "neun": 9}[match.group(1)]
        return _TENS[match.group(2)] + unit
    return None


_NUMERIC_DATE = re.compile(r"(?<![0-9])([0-9]{1,2})\s*[./-]\s*([0-9]{1,2})(?:\s*[./-]\s*([0-9]{4}|[0-9]{2}))?(?![0-9])")
_MONTH_NAMES = "|".join(sorted(MONTHS, key=len, reverse=True))
# "3. Mai", "erster Juni", "3rd of May", "3 May 1990"
_NAMED_MONTH = re.compile(r"(?<![\w])([0-9]{1,2}|[a-zäöüß]+)(?:st|nd|rd|th)?\.?\s+(?:of\s+)?(" + _MONTH_NAMES
                          + r")\.?(?:\s+([0-9]{4}))?(?![a-zäöüß])")
# English month first: "May 3rd", "May 3, 1990"
_MONTH_FIRST = re.compile(r"(?<![\w])(" + _MONTH_NAMES + r")\.?\s+([0-9]{1,2})(?:st|nd|rd|th)?(?![0-9])"
                          r"(?:,?\s+([0-9]{4}))?")


def parse_day_of_year(text: str, today: date) -> DayOfYear:
    """Find a date in free text: "am 3. Mai", "30.09.1985", "1.4.", "erster Juni", "24.12",
    "May 3rd", "3rd of May"."""
    lowered = (text or "").lower()
    named = _NAMED_MONTH.search(lowered)
    if named:
        day_text, month_text, year_text = named.groups()
        day = int(day_text) if day_text.isdigit() else _ordinal_word(day_text)
        if day is not None:
            return _validated(day, MONTHS[month_text], year_text, text, today)
    month_first = _MONTH_FIRST.search(lowered)
    if month_first:
        month_text, day_text, year_text = month_first.groups()
        return _validated(int(day_text), MONTHS[month_text], year_text, text, today)
    numeric = _NUMERIC_DATE.search(lowered)
    if numeric:
        day_text, month_text, year_text = numeric.groups()
        return _validated(int(day_text), int(month_text), year_text, text, today)
    raise InputError("date_format", text)


def _validated(day: int, month: int, year_text: str | None, original: str, today: date) -> DayOfYear:
    year = None
    if year_text:
        year = int(year_text)
        if len(year_text) == 2:  # "85" -> 1985, "07" -> 2007
            year += 2000 if 2000 + year <= today.year else 1900
        if year > today.year:
            raise InputError("date_future", original)
        if year < today.year - 120:
            raise InputError("date_year", original)
    try:
        date(year or 2000, month, day)  # 2000 is a leap year: 29.2. is a valid birthday
    except ValueError:
        raise InputError("date_invalid", original) from None
    if year is not None and date(year, month, day) > today:
        raise InputError("date_future", original)
    return DayOfYear(day, month, year)
