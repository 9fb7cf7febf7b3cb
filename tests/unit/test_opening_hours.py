"""The shop's opening hours from one place: config.yml's keys (shop wins over the old complaints
keys), the FAQ answer written from them in German (du, Sie) and English, and what the owner
may type after /geschlossen."""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from bot import opening_hours
from bot.texts import Texts, Voice
from domain.config import ShopConfig
from domain.opening_hours import ClosedDays, facts_from, group_week, parse_closure, parse_day
from domain.rules.business_hours import BusinessHours
from domain.rules.errors import Refusal
from tests.fakebotapi import parse_html

BERLIN = ZoneInfo("Europe/Berlin")
DU, SIE, EN = Voice("de"), Voice("de", formal=True), Voice("en")
HOURS = BusinessHours.parse({"mo-fr": "08:00-18:00", "sa": "09:00-14:00", "so": "geschlossen"}, "Europe/Berlin",
                            [date(2026, 12, 25)])
TUESDAY = datetime(2026, 12, 8, 10, 0, tzinfo=BERLIN)  # Tuesday, 8 December 2026


@pytest.fixture(scope="module")
def texts():
    return Texts("Kaffeehaus Morgenrot")


def text(texts, voice, facts, now=TUESDAY, faq_text=None) -> str:
    return parse_html(opening_hours.render(texts, voice, facts, now, faq_text)).text


# --- config.yml ---------------------------------------------------------------------------------

def test_shop_opening_hours_win_over_the_old_complaints_keys():
    config = ShopConfig.model_validate({
        "shop": {"name": "X", "opening_hours": {"mo-so": "10:00-12:00"}, "holidays": ["2026-12-24"]},
        "complaints": {"business_hours": {"mo-fr": "08:00-18:00"}, "holidays": ["2026-12-31"]}})
    hours = config.opening_hours()
    assert config.opening_hours_configured
    assert all(day == hours.week[0] for day in hours.week) and hours.week[0][0].opens == 600
    assert hours.holidays == frozenset({date(2026, 12, 24)})


def test_an_older_file_with_only_complaints_keys_still_counts_its_hours_for_tickets():
    config = ShopConfig.model_validate({"shop": {"name": "X"},
                                        "complaints": {"business_hours": {"mo-fr": "07:00-15:00"},
                                                       "holidays": ["2026-12-31"]}})
    hours = config.opening_hours()
    assert not config.opening_hours_configured  # the FAQ keeps its own text
    assert hours.week[0][0].opens == 420 and hours.week[5] == ()
    assert hours.holidays == frozenset({date(2026, 12, 31)})


def test_bad_opening_hours_are_refused_at_start():
    with pytest.raises(ValueError, match="open before it closes"):
        ShopConfig.model_validate({"shop": {"name": "X", "opening_hours": {"mo-fr": "18:00-08:00"}}})


# --- the answer -------------------------------------------------------------------------------

def test_equal_days_in_a_row_are_one_group():
    groups = group_week(HOURS.week)
    assert [(g.first, g.last) for g in groups] == [(0, 4), (5, 5), (6, 6)]


def test_the_week_in_german_with_du_and_sie_and_in_english(texts):
    facts = facts_from(HOURS, [], TUESDAY)
    german = "Unsere Öffnungszeiten\nMo–Fr 8:00–18:00 Uhr\nSa 9:00–14:00 Uhr\nSo geschlossen"
    assert text(texts, DU, facts).startswith(german)
    assert text(texts, SIE, facts).startswith(german)
    assert text(texts, EN, facts).startswith("Our opening hours\nMon–Fri: 8:00 am – 6:00 pm\n"
                                             "Sat: 9:00 am – 2:00 pm\nSun: closed")


def test_lunch_breaks_and_midnight(texts):
    hours = BusinessHours.parse({"mo-mi": "08:00-12:00, 13:00-18:00", "fr": "18:00-24:00"})
    facts = facts_from(hours, [], TUESDAY)
    assert "Mo–Mi 8:00–12:00, 13:00–18:00 Uhr\nDo geschlossen\nFr 18:00–24:00 Uhr\nSa–So geschlossen" \
        in text(texts, DU, facts)
    assert "Fri: 6:00 pm – midnight" in text(texts, EN, facts)


def test_a_closure_today_comes_first_with_when_the_shop_opens_again(texts):
    inventory = ClosedDays(date(2026, 12, 8), date(2026, 12, 8), "Inventur", 1)
    facts = facts_from(HOURS, [inventory], TUESDAY)
    assert text(texts, DU, facts).startswith("🚪 Heute haben wir geschlossen: Inventur\n"
                                             "Ab morgen um 8:00 Uhr sind wir wieder für dich da.\n\n"
                                             "Unsere Öffnungszeiten\nMo–Fr")
    assert "Ab morgen um 8:00 Uhr sind wir wieder für Sie da." in text(texts, SIE, facts)
    assert text(texts, EN, facts).startswith("🚪 We're closed today: Inventur\nWe're open again tomorrow at 8:00 am.")


def test_a_longer_closure_names_the_day_of_reopening_and_the_coming_closed_days(texts):
    holidays = ClosedDays(date(2026, 12, 8), date(2026, 12, 12), "Betriebsferien", 1)
    later = ClosedDays(date(2026, 12, 31), date(2026, 12, 31), None, 2)
    facts = facts_from(HOURS, [holidays, later], TUESDAY)
    answer = text(texts, DU, facts)
    assert "Ab Mo., 14.12. um 8:00 Uhr sind wir wieder für dich da." in answer  # Saturday is closed too
    assert answer.endswith("Zusätzlich geschlossen:\nFr., 25.12.2026\nDo., 31.12.2026")
    assert text(texts, EN, facts).endswith("Also closed:\nFri 25 Dec 2026\nThu 31 Dec 2026")


def test_only_closed_days_that_matter_soon_are_named():
    far = ClosedDays(date(2027, 3, 1), date(2027, 3, 1), None, 2)  # beyond the next weeks
    past = ClosedDays(date(2026, 12, 1), date(2026, 12, 2), None, 3)
    hours = BusinessHours(HOURS.timezone, HOURS.week, HOURS.holidays | {date(2026, 12, 27)})  # a Sunday: closed anyway
    facts = facts_from(hours, [far, past], TUESDAY)
    assert facts.closed_today is None and facts.coming == (ClosedDays(date(2026, 12, 25), date(2026, 12, 25)),)


def test_what_the_owner_posted_is_named_even_on_a_day_the_shop_is_closed_anyway(texts):
    sunday = datetime(2026, 12, 13, 11, 0, tzinfo=BERLIN)
    facts = facts_from(HOURS, [ClosedDays(date(2026, 12, 13), date(2026, 12, 13), "Umzug", 1)], sunday)
    assert text(texts, DU, facts, now=sunday).startswith("🚪 Heute haben wir geschlossen: Umzug\n"
                                                         "Ab morgen um 8:00 Uhr sind wir wieder für dich da.")


def test_without_configured_hours_the_faq_text_stays_with_the_closures_around_it(texts):
    today = ClosedDays(date(2026, 12, 8), date(2026, 12, 8), None, 1)
    answer = text(texts, DU, facts_from(HOURS, [today], TUESDAY), faq_text="Mo–So 7–19 Uhr")
    assert answer.startswith("🚪 Heute haben wir geschlossen.\nAb morgen")
    assert "\n\nMo–So 7–19 Uhr\n\n" in answer and "Unsere Öffnungszeiten" not in answer


def test_a_reason_is_shown_as_text_not_as_html(texts):
    facts = facts_from(HOURS, [ClosedDays(date(2026, 12, 8), date(2026, 12, 8), "<b>zu</b> & weg", 1)], TUESDAY)
    assert "Heute haben wir geschlossen: <b>zu</b> & weg" in text(texts, DU, facts)


# --- /geschlossen -----------------------------------------------------------------------------

TODAY = date(2026, 12, 8)


@pytest.mark.parametrize(("typed", "first", "last", "reason"), [
    ("heute", TODAY, TODAY, None),
    ("heute Inventur", TODAY, TODAY, "Inventur"),
    ("morgen", date(2026, 12, 9), date(2026, 12, 9), None),
    ("today stocktaking", TODAY, TODAY, "stocktaking"),
    ("24.12.2026", date(2026, 12, 24), date(2026, 12, 24), None),
    ("24.12.2026-26.12.2026 Betriebsferien", date(2026, 12, 24), date(2026, 12, 26), "Betriebsferien"),
    ("24.12. bis 2.1. Weihnachtsferien", date(2026, 12, 24), date(2027, 1, 2), "Weihnachtsferien"),
    ("1.12.", date(2027, 12, 1), date(2027, 12, 1), None),  # this year's has passed: next year's
    ("heute - morgen", TODAY, date(2026, 12, 9), None),
])
def test_closures_as_owners_type_them(typed, first, last, reason):
    wanted = parse_closure(typed, TODAY)
    assert (wanted.first_day, wanted.last_day, wanted.reason) == (first, last, reason)


@pytest.mark.parametrize(("typed", "reason"), [
    ("bald", "bad_date"), ("31.02.2027", "bad_date"), ("32.12.2026", "bad_date"), ("24/12/2026", "bad_date"),
    ("7.12.2026", "past"), ("26.12.2026-24.12.2026", "reversed"), ("1.1.2027-1.2.2028", "too_long"),
    ("1.1.2028", "too_far"), ("heute " + "x" * 201, "reason_too_long"),
])
def test_bad_closures_are_refused_with_the_reason(typed, reason):
    with pytest.raises(Refusal) as refused:
        parse_closure(typed, TODAY)
    assert refused.value.reason == reason


def test_a_day_to_open_again():
    assert parse_day("24.12.2026", TODAY) == date(2026, 12, 24)
    assert parse_day("heute", TODAY) == TODAY
    with pytest.raises(Refusal):
        parse_day("weihnachten", TODAY)


def test_the_facts_follow_the_shops_calendar_day():
    late_utc = datetime(2026, 12, 7, 23, 30, tzinfo=timezone.utc)  # already Tuesday in Berlin
    facts = facts_from(HOURS, [ClosedDays(date(2026, 12, 8), date(2026, 12, 8), None, 1)], late_utc)
    assert facts.closed_today is not None


def test_the_doctor_warns_when_the_opening_hours_were_never_configured():
    from bot.doctor import check_opening_hours

    old_file = ShopConfig.model_validate({"shop": {"name": "X"}, "complaints": {"business_hours": {"mo-fr": "8-18"}}})
    (finding,) = check_opening_hours(old_file)
    assert finding.level == "warn"
    assert "complaints.business_hours" in finding.message and "shop.opening_hours" in finding.message
    new_file = ShopConfig.model_validate({"shop": {"name": "X", "opening_hours": {"sa": "9-14"}}})
    (finding,) = check_opening_hours(new_file)
    assert finding.level == "ok"
