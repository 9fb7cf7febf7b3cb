"""The Monday digest's rules: which Monday is due (shop time, daylight saving, catching up only
within the same week), which weeks it compares, its outbox key, and its three sentences."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from bot import digest as digest_text
from bot import dashboard
from bot.texts import Texts, Voice
from domain import digest, reports
from tests.unit.test_reports import figures

BERLIN = ZoneInfo("Europe/Berlin")
MONDAY = date(2026, 12, 7)
TEXTS = Texts("Laden")


def berlin(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=BERLIN)


# --- which Monday is due ----------------------------------------------------------------------

def test_monday_is_due_from_its_hour_in_shop_time():
    assert digest.due_monday(berlin(2026, 12, 7, 7, 59), 8, BERLIN) is None
    assert digest.due_monday(berlin(2026, 12, 7, 8, 0), 8, BERLIN) == MONDAY
    # 07:30 UTC is 08:30 in Berlin: the shop's clock decides, not the server's
    assert digest.due_monday(datetime(2026, 12, 7, 7, 30, tzinfo=timezone.utc), 8, BERLIN) == MONDAY
    assert digest.due_monday(datetime(2026, 12, 7, 7, 30, tzinfo=timezone.utc), 8, ZoneInfo("UTC")) is None


def test_hour_zero_is_due_at_the_shops_midnight():
    # Sunday 23:30 UTC is already Monday 00:30 in Berlin
    assert digest.due_monday(datetime(2026, 12, 6, 23, 30, tzinfo=timezone.utc), 0, BERLIN) == MONDAY
    assert digest.due_monday(datetime(2026, 12, 6, 22, 30, tzinfo=timezone.utc), 0, BERLIN) == MONDAY - timedelta(7)


@pytest.mark.parametrize("moment", [berlin(2026, 12, 8, 3, 0), berlin(2026, 12, 10, 12, 0),
                                    berlin(2026, 12, 13, 23, 59)])
def test_a_missed_monday_is_still_due_later_that_week(moment):
    assert digest.due_monday(moment, 8, BERLIN) == MONDAY


def test_a_missed_monday_is_not_due_in_a_later_week():
    # the next Monday before its hour: nothing is due (not the week before's digest) ...
    assert digest.due_monday(berlin(2026, 12, 14, 7, 0), 8, BERLIN) is None
    # ... and from its hour the new week's
    assert digest.due_monday(berlin(2026, 12, 14, 8, 0), 8, BERLIN) == date(2026, 12, 14)


def test_monday_after_the_clocks_went_forward():
    # Sunday 29 March 2026 had 23 hours: 08:00 on Monday is 06:00 UTC (not 07:00)
    assert digest.due_monday(datetime(2026, 3, 30, 5, 59, tzinfo=timezone.utc), 8, BERLIN) is None
    assert digest.due_monday(datetime(2026, 3, 30, 6, 0, tzinfo=timezone.utc), 8, BERLIN) == date(2026, 3, 30)


def test_monday_after_the_clocks_went_back():
    # Sunday 25 October 2026 had 25 hours: 08:00 on Monday is 07:00 UTC again
    assert digest.due_monday(datetime(2026, 10, 26, 6, 59, tzinfo=timezone.utc), 8, BERLIN) is None
    assert digest.due_monday(datetime(2026, 10, 26, 7, 0, tzinfo=timezone.utc), 8, BERLIN) == date(2026, 10, 26)


# --- which weeks ------------------------------------------------------------------------------

def test_the_reported_week_is_the_calendar_week_before_in_shop_time():
    week = digest.reported_week(MONDAY, BERLIN)
    assert week.start == datetime(2026, 11, 29, 23, 0, tzinfo=timezone.utc)  # Monday 30.11. 00:00 in Berlin
    assert week.end == datetime(2026, 12, 6, 23, 0, tzinfo=timezone.utc)
    assert week.days(BERLIN) == (date(2026, 11, 30), date(2026, 12, 6))


@pytest.mark.parametrize("monday, hours", [(date(2026, 3, 30), 167), (date(2026, 10, 26), 169)])
def test_a_week_with_a_clock_change_and_the_week_before_are_whole_calendar_weeks(monday, hours):
    week = digest.reported_week(monday, BERLIN)
    before = digest.calendar_week(monday - timedelta(days=14), BERLIN)
    assert week.end - week.start == timedelta(hours=hours)
    assert before.end == week.start  # no gap, no overlap
    assert week.days(BERLIN) == (monday - timedelta(days=7), monday - timedelta(days=1))
    assert before.days(BERLIN) == (monday - timedelta(days=14), monday - timedelta(days=8))
    assert before.start.astimezone(BERLIN).hour == 0  # "the same length before" would start at 01:00 or 23:00


def test_the_key_names_the_iso_week_reported_and_the_owner():
    assert digest.key(MONDAY, 700) == "digest:2026-W49:700"
    assert digest.key(date(2026, 1, 5), 700) == "digest:2026-W01:700"  # 29 Dec 2025 is in 2026-W01
    assert digest.key(date(2027, 1, 4), 700) == "digest:2026-W53:700"


# --- the three sentences ----------------------------------------------------------------------

def report() -> reports.Report:
    now = figures(period=digest.reported_week(MONDAY, BERLIN), customers_start=100, customers_end=110,
                  new_customers=20, buyers=50, repeat_buyers=20, purchases=100, revenue_cents=150000, tickets=5)
    before = figures(period=digest.calendar_week(MONDAY - timedelta(days=14), BERLIN), customers_start=100,
                     customers_end=100, new_customers=10, buyers=50, repeat_buyers=25, purchases=100,
                     revenue_cents=120000, tickets=1)
    return reports.Report(now, before)


def test_the_largest_changes_of_figures_that_are_better_or_worse():
    changed = digest_text.largest_changes(dashboard.measures(report()))
    # new customers +100 % of 10 (0.5 of 20); repeat rate, average and revenue each 0.2: the
    # dashboard's order decides; tickets (1 -> 5) moved more but are neither better nor worse
    assert [m.key for m in changed] == ["new_customers", "repeat_rate", "average"]


def test_the_sentences_in_german():
    text = digest_text.caption(TEXTS, Voice("de"), report(), BERLIN)
    assert text.startswith("📊 <b>Dein Wochenbericht: KW 49 (30.11.2026 – 06.12.2026)</b>")
    assert "🟢 Die Zahl der Neukunden ist von 10 auf 20 gestiegen (+10)." in text
    assert "🔴 Die Wiederkaufrate ist von 50,0\u00a0% auf 40,0\u00a0% gesunken (−10,0\u00a0Pp.)." in text
    assert "🟢 Der durchschnittliche Bon ist von 12,00\u00a0€ auf 15,00\u00a0€ gestiegen (+3,00\u00a0€)." in text
    assert "Umsatz" not in text
    assert Texts("Laden").render("digest.caption", Voice("de", formal=True), week="49", start="", end="",
                                 changes="").startswith("📊 <b>Ihr Wochenbericht")


def test_the_sentences_in_english():
    text = digest_text.caption(TEXTS, Voice("en"), report(), BERLIN)
    assert "Your weekly report: week 49" in text
    assert "🔴 The repeat purchase rate fell from 50.0\u00a0% to 40.0\u00a0% (−10.0\u00a0pp)." in text
    assert "🟢 The average receipt rose from €12.00 to €15.00 (+€3.00)." in text


def test_a_week_without_changes_says_so():
    same = report().previous
    text = digest_text.caption(TEXTS, Voice("de"), reports.Report(same, same), BERLIN)
    assert "Keine Kennzahl hat sich verändert." in text and "🟢" not in text


def test_the_caption_fits_telegrams_limit():
    every = dashboard.measures(report())
    longest = max((TEXTS.render(f"digest.subjects.{key}", Voice("de")) for key in every), key=len)
    assert len(digest_text.caption(TEXTS, Voice("de"), report(), BERLIN)) + 3 * len(longest) < 1024
