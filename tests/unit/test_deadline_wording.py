"""Ticket deadlines as people say them: "heute bis 15:30 Uhr", "morgen bis 9:20 Uhr", else
"Mo., 7.12. bis 9:00 Uhr" (and the English forms), counted in calendar days of the shop's time
zone: across midnight and on the days the clocks change."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.formatting import deadline
from bot.texts import Texts, Voice
from domain.outbox import deadline_param

BERLIN = ZoneInfo("Europe/Berlin")


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def said(due: datetime, as_of: datetime, language: str = "de") -> str:
    return deadline(due.astimezone(BERLIN), as_of, language)


@pytest.mark.parametrize(("due", "as_of", "german", "english"), [
    # Monday 7 December 2026, 9:00 in Berlin (CET, UTC+1)
    (utc(2026, 12, 7, 14, 30), utc(2026, 12, 7, 8, 0), "heute bis 15:30 Uhr", "today by 3:30 pm"),
    (utc(2026, 12, 8, 8, 20), utc(2026, 12, 7, 8, 0), "morgen bis 9:20 Uhr", "tomorrow by 9:20 am"),
    (utc(2026, 12, 7, 8, 0), utc(2026, 12, 4, 16, 0), "Mo., 7.12. bis 9:00 Uhr", "Mon 7 Dec by 9:00 am"),
    (utc(2026, 12, 9, 11, 5), utc(2026, 12, 7, 8, 0), "Mi., 9.12. bis 12:05 Uhr", "Wed 9 Dec by 12:05 pm"),
])
def test_today_tomorrow_and_later(due, as_of, german, english):
    assert said(due, as_of, "de") == german
    assert said(due, as_of, "en") == english


def test_midnight_is_the_shops_not_utcs():
    due = utc(2026, 12, 6, 23, 20)  # Monday 0:20 in Berlin, still Sunday in UTC
    assert said(due, utc(2026, 12, 6, 22, 50)) == "morgen bis 0:20 Uhr"  # Sunday 23:50 in Berlin
    assert said(due, utc(2026, 12, 6, 23, 10)) == "heute bis 0:20 Uhr"  # Monday 0:10 in Berlin
    assert said(due, utc(2026, 12, 6, 22, 50), "en") == "tomorrow by 12:20 am"


def test_an_overdue_deadline_of_yesterday_names_its_day():
    assert said(utc(2026, 12, 6, 16, 0), utc(2026, 12, 7, 8, 0)) == "So., 6.12. bis 17:00 Uhr"


def test_the_days_the_clocks_change():
    # Clocks go back on Sunday 25 October 2026: that day has 25 hours. 0:30 CEST to 23:30 CET
    # is 24 hours later and still "heute"; an hour later it is Monday, "morgen".
    as_of = utc(2026, 10, 24, 22, 30)  # Sunday 0:30 CEST
    assert said(utc(2026, 10, 25, 22, 30), as_of) == "heute bis 23:30 Uhr"
    assert said(utc(2026, 10, 25, 23, 30), as_of) == "morgen bis 0:30 Uhr"
    # Clocks go forward on Sunday 29 March 2026: Saturday 23:30 CET, due Sunday 9:00 CEST.
    assert said(utc(2026, 3, 29, 7, 0), utc(2026, 3, 28, 22, 30)) == "morgen bis 9:00 Uhr"
    assert said(utc(2026, 3, 29, 7, 0), utc(2026, 3, 28, 22, 30), "en") == "tomorrow by 9:00 am"


def test_the_parameter_renders_in_the_shops_time_zone_for_every_voice():
    texts = Texts("Kaffeehaus Morgenrot", timezone="Europe/Berlin")
    due = deadline_param(utc(2026, 12, 7, 14, 30), utc(2026, 12, 7, 8, 0))
    assert texts.render("tickets.alert_due", Voice("de"), due=due) == "\n⏱ Erste Antwort fällig: heute bis 15:30 Uhr"
    assert texts.render("tickets.alert_due", Voice("en"), due=due) == "\n⏱ First answer due: today by 3:30 pm"
    opened = texts.render("tickets.question_opened", Voice("de", formal=True), due=due, number=4)
    assert "Jemand meldet sich heute bis 15:30 Uhr hier im Chat bei Ihnen (Ticket #4)." in opened
