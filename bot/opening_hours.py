"""The FAQ's opening-hours answer, written from config.yml and the owner's closures in the
customer's language and voice: today's closure first (with when the shop opens again), then the
week with equal days grouped ("Mo–Fr 8:00–18:00 Uhr"), then the closed days of the next weeks.

Only when the shop wrote ``shop.opening_hours``; otherwise nlu/faq.yml's text stands, with the
closures around it. The FAQ file is left alone on purpose: its answers are part of the NLU
model's fingerprint, so an edit there would retrain the model.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from babel.dates import format_date, format_time, get_day_names

from bot.formatting import babel_locale
from bot.texts import Html, Texts, Voice
from domain.opening_hours import ClosedDays, DayGroup, HoursAnswer
from domain.rules.business_hours import Interval

TOPIC = "opening_hours"  # the FAQ topic this answer replaces


def render(texts: Texts, voice: Voice, facts: HoursAnswer, as_of: datetime, faq_text: str | None = None) -> str:
    """The whole answer as Telegram HTML; ``faq_text`` instead of the week when the shop's hours
    are not configured."""
    parts = []
    if facts.closed_today is not None:
        parts.append(_closed_today(texts, voice, facts, as_of))
    if faq_text is not None:
        parts.append(faq_text)
    else:
        parts.append("\n".join([texts.render("opening_hours.title", voice)]
                               + [_week_line(texts, voice, group) for group in facts.week]))
    if facts.coming:
        parts.append("\n".join([texts.render("opening_hours.coming_title", voice)]
                               + [_coming_line(texts, voice, closed) for closed in facts.coming]))
    return "\n\n".join(parts)


def day_span(first: date, last: date, language: str) -> str:
    """"Do., 24.12.2026" or "Do., 24.12.2026 – Sa., 26.12.2026" (also for the owner's list)."""
    pattern = "EEE, dd.MM.yyyy" if language == "de" else "EEE d MMM yyyy"
    one = lambda day: format_date(day, pattern, locale=babel_locale(language))  # noqa: E731
    return one(first) if first == last else f"{one(first)} – {one(last)}"


def _closed_today(texts: Texts, voice: Voice, facts: HoursAnswer, as_of: datetime) -> str:
    closed = facts.closed_today
    line = (texts.render("opening_hours.closed_today_reason", voice, reason=closed.reason) if closed.reason
            else texts.render("opening_hours.closed_today", voice))
    if facts.reopens_at is None:
        return line
    return f"{line}\n" + texts.render("opening_hours.reopens", voice,
                                      when=Html(_reopening(texts, voice, facts.reopens_at, as_of)))


def _reopening(texts: Texts, voice: Voice, moment: datetime, as_of: datetime) -> str:
    """"morgen um 8:00 Uhr" / "Mo., 8.12. um 8:00 Uhr" (shop time: ``moment``'s zone)."""
    local = moment.astimezone(texts.timezone)
    clock = _clock(local.time(), voice.language)
    if local.date() == as_of.astimezone(texts.timezone).date() + timedelta(days=1):
        return texts.render("opening_hours.when_tomorrow", voice, time=clock)
    pattern = "EEE, d.M." if voice.language == "de" else "EEE d MMM"
    return texts.render("opening_hours.when_day", voice, time=clock,
                        day=format_date(local.date(), pattern, locale=babel_locale(voice.language)))


def _week_line(texts: Texts, voice: Voice, group: DayGroup) -> str:
    days = _day_name(group.first, voice.language)
    if group.last != group.first:
        days += "–" + _day_name(group.last, voice.language)
    if not group.intervals:
        times = texts.render("opening_hours.closed", voice)
    else:
        intervals = ", ".join(_interval(interval, voice.language) for interval in group.intervals)
        times = texts.render("opening_hours.times", voice, intervals=intervals)
    return texts.render("opening_hours.line", voice, days=days, times=Html(times))


def _coming_line(texts: Texts, voice: Voice, closed: ClosedDays) -> str:
    days = day_span(closed.first_day, closed.last_day, voice.language)
    if closed.reason:
        return texts.render("opening_hours.coming_line_reason", voice, days=days, reason=closed.reason)
    return texts.render("opening_hours.coming_line", voice, days=days)


def _day_name(weekday: int, language: str) -> str:
    """"Mo" / "Mon": German without the abbreviation's dot, as shop doors print it."""
    return get_day_names("abbreviated", locale=babel_locale(language))[weekday].rstrip(".")


def _interval(interval: Interval, language: str) -> str:
    opens, closes = _clock_minutes(interval.opens, language), _clock_minutes(interval.closes, language)
    return f"{opens}–{closes}" if language == "de" else f"{opens} – {closes}"


def _clock_minutes(minutes: int, language: str) -> str:
    if minutes == 24 * 60:  # open until midnight
        return "24:00" if language == "de" else "midnight"
    return _clock(time(minutes // 60, minutes % 60), language)


def _clock(moment: time, language: str) -> str:
    """"8:00" (German) / "8:00 am" (English, as the FAQ and the ticket deadlines write it)."""
    return format_time(moment, "H:mm" if language == "de" else "h:mm a", locale=babel_locale(language))

