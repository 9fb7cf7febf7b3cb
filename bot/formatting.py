"""Numbers, money and dates in the customer's language (Babel), and splitting long HTML
messages at Telegram's 4096-character limit without breaking tags or entities."""

from __future__ import annotations

import re
from functools import cache
from datetime import date, datetime
from decimal import Decimal

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal
from babel.units import format_unit

LOCALES = {"de": "de_DE", "en": "en_GB"}
TELEGRAM_TEXT_LIMIT = 4096


def babel_locale(language: str) -> str:
    return LOCALES.get(language, "de_DE")


def number(value: int | float | Decimal, language: str) -> str:
    return format_decimal(value, locale=babel_locale(language))


def signed_number(value: int | float | Decimal, language: str) -> str:
    """"+3,5" / "−1,2" / "0": a difference, with its sign even when it is positive."""
    if not value:
        return number(0, language)
    return format_decimal(value, format="+#,##0.#;-#,##0.#", locale=babel_locale(language))


def plural_form(count: int | float | Decimal, language: str) -> str:
    """The CLDR plural category of a count: "one" for 1 in German and English, else "other"."""
    return _plural_rule(babel_locale(language))(count)


@cache
def _plural_rule(locale: str):
    return Locale.parse(locale).plural_form


def money(amount: Decimal | float, language: str, currency: str = "EUR") -> str:
    """"1.234,50 €" / "1,234.50 €": in English too the sign follows the amount, as in the FAQ."""
    return format_currency(amount, currency, format="#,##0.00\xa0¤", locale=babel_locale(language))


def signed_money(amount: Decimal | float, language: str, currency: str = "EUR") -> str:
    """"+1,20 €" / "-0,80 €": a difference of amounts, with its sign (none for no difference)."""
    if not amount:
        return money(0, language, currency)
    return format_currency(amount, currency, format="+#,##0.00\xa0¤;-#,##0.00\xa0¤", locale=babel_locale(language))


def period(days: int, language: str) -> str:
    """A retention period: whole years as years ("2 Jahre"), anything else in days ("90 Tage")."""
    if days % 365 == 0:
        return format_unit(days // 365, "duration-year", locale=babel_locale(language))
    return format_unit(days, "duration-day", locale=babel_locale(language))


def day_month(day: date, language: str) -> str:
    """"3. Mai" / "3 May"."""
    return format_date(day, "d. MMMM" if language == "de" else "d MMMM", locale=babel_locale(language))


def short_date(day: date, language: str) -> str:
    """"03.05.2026" / "3 May 2026" for lists."""
    return format_date(day, "dd.MM.yyyy" if language == "de" else "d MMM yyyy", locale=babel_locale(language))


def time_of_day(moment, language: str) -> str:
    """"14:30" in both languages (24-hour clock, as shops in Germany print it)."""
    return moment.strftime("%H:%M")


def weekday_time(moment: datetime, language: str) -> str:
    """"Mo., 24.11., 09:20" / "Mon 24 Nov, 09:20" for deadlines within a few days."""
    pattern = "EEE, dd.MM., HH:mm" if language == "de" else "EEE d MMM, HH:mm"
    return format_datetime(moment, pattern, tzinfo=moment.tzinfo, locale=babel_locale(language))


_DEADLINE_DAY = {"de": {0: "heute", 1: "morgen"}, "en": {0: "today", 1: "tomorrow"}}
_DEADLINE_PATTERNS = {"de": ("EEE, d.M.", "{day} bis {time} Uhr", "H:mm"),
                      "en": ("EEE d MMM", "{day} by {time}", "h:mm a")}


def deadline(moment: datetime, as_of: datetime, language: str) -> str:
    """A deadline as people say it: "heute bis 15:30 Uhr", "morgen bis 9:20 Uhr", else
    "Mo., 7.12. bis 9:00 Uhr" / "today by 3:30 pm", "Mon 7 Dec by 9:00 am". Today and tomorrow
    are calendar days in ``moment``'s time zone (the shop's), counted from ``as_of``."""
    language = language if language in _DEADLINE_PATTERNS else "de"
    date_pattern, sentence, time_pattern = _DEADLINE_PATTERNS[language]
    days_ahead = (moment.date() - as_of.astimezone(moment.tzinfo).date()).days
    day = _DEADLINE_DAY[language].get(days_ahead) or format_datetime(
        moment, date_pattern, tzinfo=moment.tzinfo, locale=babel_locale(language))
    time = format_datetime(moment, time_pattern, tzinfo=moment.tzinfo, locale=babel_locale(language))
    return sentence.format(day=day, time=time)


def long_date(day: date, language: str) -> str:
    """"3. Mai 2026" / "3 May 2026"."""
    return format_date(day, "long", locale=babel_locale(language))


def birthday(day: int, month: int, year: int | None, language: str) -> str:
    """"3. Mai 1990", or "3. Mai" when the customer left the year out."""
    moment = date(year or 2000, month, day)  # 2000: a leap year, so 29 February is a day
    return long_date(moment, language) if year else day_month(moment, language)


# --- splitting ---------------------------------------------------------------------------

_TOKEN = re.compile(r"<[^>]*>|&[#\w]+;|[^<&]", re.DOTALL)
_TAG = re.compile(r"<\s*(/?)\s*([a-zA-Z-]+)")


def _utf16_len(text: str) -> int:
    # Telegram counts UTF-16 code units: an emoji outside the BMP counts twice.
    return len(text.encode("utf-16-le")) // 2


def _apply_tag(stack: list[str], token: str) -> None:
    match = _TAG.match(token)
    if not match:
        return
    closing, name = match.group(1) == "/", match.group(2).lower()
    if closing:
        if name in (_tag_name(t) for t in stack):
            while stack and _tag_name(stack.pop()) != name:
                pass
    else:
        stack.append(token)


def _tag_name(open_tag: str) -> str:
    return _TAG.match(open_tag).group(2).lower()


def _closers(stack: list[str]) -> str:
    return "".join(f"</{_tag_name(tag)}>" for tag in reversed(stack))


_BREAK_PRIORITY = {"\n\n": 3, "\n": 2, " ": 1}


def split_html(text: str, limit: int = TELEGRAM_TEXT_LIMIT) -> list[str]:
    """Split Telegram HTML into chunks of at most ``limit`` UTF-16 units each, preferring
    paragraph, then line, then word breaks; tags open at a cut are closed and reopened."""
    if _utf16_len(text) <= limit:
        return [text]
    tokens = _TOKEN.findall(text)
    chunks: list[str] = []
    start, reopen = 0, []
    while start < len(tokens):
        end, stack_at_end, breaks = _fill(tokens, start, list(reopen), limit)
        if end < len(tokens):
            cut = _best_break(breaks, start, end)
            if cut is not None:
                end, stack_at_end = cut
        body = "".join(reopen) + "".join(tokens[start:end]) + _closers(stack_at_end)
        if body.strip():
            chunks.append(body.strip())
        start, reopen = end, stack_at_end
        while start < len(tokens) and tokens[start] in (" ", "\n"):
            start += 1
    return chunks


def _fill(tokens: list[str], start: int, stack: list[str], limit: int):
    """Take tokens from ``start`` while the chunk (with closing tags) fits."""
    size = sum(_utf16_len(t) for t in stack)
    breaks: list[tuple[int, int, list[str]]] = []
    index = start
    while index < len(tokens):
        token = tokens[index]
        trial = list(stack)
        _apply_tag(trial, token)
        if size + _utf16_len(token) + _utf16_len(_closers(trial)) > limit and index > start:
            break
        size += _utf16_len(token)
        stack = trial
        index += 1
        if token == "\n" or token == " ":
            double = token == "\n" and index >= 2 and tokens[index - 2] == "\n"
            priority = _BREAK_PRIORITY["\n\n" if double else token]
            breaks.append((priority, index, list(stack)))
    return index, stack, breaks


def _best_break(breaks, start: int, end: int):
    """The latest break of the highest priority that keeps the chunk at least half full."""
    half = start + (end - start) // 2
    for priority in (3, 2, 1):
        candidates = [(i, s) for p, i, s in breaks if p == priority and i > half]
        if candidates:
            return candidates[-1]
    return None
