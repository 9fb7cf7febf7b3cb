"""Properties of the date parsers: birthdays typed in chat (``parse_day_of_year``), birthdays and
purchase times in an import; every input is a real date or a refusal, never another exception."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from domain.imports import parse_birthday, parse_purchase_time
from domain.imports.fields import _Invalid
from domain.rules.parsing import MONTHS, DayOfYear, InputError, parse_day_of_year
from tests.unit.property_strategies import mixed

todays = st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31))
any_day = st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31))
zones = st.sampled_from(["Europe/Berlin", "UTC", "America/New_York", "Pacific/Pago_Pago", "Pacific/Kiritimati",
                         "Asia/Kolkata"])


def _numeric(day: date, style: int) -> str:
    return [f"{day.day}.{day.month}.", f"{day.day:02d}.{day.month:02d}.{day.year:04d}", f"{day.day}.{day.month}",
            f"{day.day:02d}.{day.month:02d}.{day.year % 100:02d}", f"{day.day}/{day.month}/{day.year}",
            f"{day.year:04d}-{day.month:02d}-{day.day:02d}", f"{day.day}-{day.month}"][style]


numeric_dates = st.builds(_numeric, any_day, st.integers(0, 6))
named_dates = st.builds(lambda d, m, y, lead: f"{lead}{d}. {m}{y}", st.integers(-1, 40).map(str) | st.sampled_from(
    ["erster", "dritten", "einundzwanzigster", "dreißigsten", "zweiunddreißigster", "nullter", "x"]),
    st.sampled_from(sorted(MONTHS)), st.sampled_from(["", " 1985", " 2026", " 0000", " 9999", " 12345"]),
    st.sampled_from(["", "am ", "Mein Geburtstag ist am ", "geb. "]))
raw_numbers = st.from_regex(r"[0-9]{1,3}[./-][0-9]{1,3}([./-][0-9]{0,5})?", fullmatch=True)


@given(mixed(numeric_dates, named_dates, raw_numbers), todays)
@example("29.2.", date(2026, 3, 1))
@example("29.02.2023", date(2026, 3, 1))
@example("31.12.9999", date(2026, 3, 1))
@example("1.1.0000", date(2026, 3, 1))
@example("1.1.00", date(2026, 3, 1))
@example("am 0. Mai", date(2026, 3, 1))
def test_a_birthday_or_a_refusal(text, today):
    try:
        found = parse_day_of_year(text, today)
    except InputError as error:
        assert error.reason in {"date_format", "date_invalid", "date_future", "date_year"}
        return
    assert isinstance(found, DayOfYear)
    date(found.year or 2000, found.month, found.day)  # a real day (29.2. in a leap year)
    if found.year is not None:
        assert today.year - 120 <= found.year <= today.year
        assert date(found.year, found.month, found.day) <= today


@given(st.dates(min_value=date(1920, 1, 1), max_value=date(2026, 3, 1)))
def test_a_full_birthday_reads_back(day):
    today = date(2026, 3, 1)
    assert parse_day_of_year(f"{day.day:02d}.{day.month:02d}.{day.year}", today) == DayOfYear(day.day, day.month,
                                                                                             day.year)
    assert parse_day_of_year(f"am {day.day}. {GERMAN_MONTHS[day.month - 1]} {day.year}", today) == DayOfYear(
        day.day, day.month, day.year)


GERMAN_MONTHS = ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
                 "November", "Dezember")


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2000, 12, 31)), todays)
def test_a_day_and_month_read_back(day, today):
    assert parse_day_of_year(f"{day.day}.{day.month}.", today) == DayOfYear(day.day, day.month)


@given(mixed(numeric_dates, raw_numbers), todays)
@example("1985-02-29", date(2026, 1, 1))
@example("0000-01-01", date(2026, 1, 1))
def test_an_imported_birthday_or_a_problem(text, today):
    try:
        found = parse_birthday(text, today)
    except _Invalid as invalid:
        assert invalid.reason == "birthday_invalid"
        return
    date(found.year or 2000, found.month, found.day)
    assert found.year is None or found.year <= today.year


purchase_times = st.builds(
    lambda moment, style: [moment.strftime("%d.%m.%Y"), moment.strftime("%d.%m.%Y %H:%M"),
                           moment.strftime("%Y-%m-%d %H:%M:%S"), moment.strftime("%d.%m.%y, %H:%M"),
                           f"{moment.year:04d}-{moment.month}-{moment.day}T{moment.hour}:{moment.minute:02d}"][style],
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59)), st.integers(0, 4))
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=timezone.utc)


@given(mixed(purchase_times, raw_numbers), zones)
@example("31.12.9999 23:59", "Pacific/Pago_Pago")
@example("9999-12-31 23:59", "America/New_York")
@example("01.01.1970 00:00", "Pacific/Kiritimati")
def test_a_purchase_time_or_a_problem(text, zone):
    try:
        local = parse_purchase_time(text, ZoneInfo(zone), NOW)
    except _Invalid as invalid:
        assert invalid.reason in {"date_invalid", "date_future"}
        return
    assert local.tzinfo is None and local.year >= 1970
    assert local.replace(tzinfo=ZoneInfo(zone)) <= NOW


@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2026, 11, 20)), zones)
def test_a_past_purchase_time_reads_back(moment, zone):
    moment = moment.replace(microsecond=0)
    assert parse_purchase_time(moment.strftime("%Y-%m-%d %H:%M:%S"), ZoneInfo(zone), NOW) == moment
    assert parse_purchase_time(moment.strftime("%d.%m.%Y %H:%M"), ZoneInfo(zone), NOW) == moment.replace(second=0)


@pytest.mark.parametrize("zone", ["America/New_York", "Pacific/Pago_Pago"])
def test_a_purchase_in_the_year_9999_is_in_the_future_west_of_greenwich(zone):
    """The last day of the calendar in a zone behind UTC is after its end in UTC: an overflow."""
    with pytest.raises(_Invalid) as invalid:
        parse_purchase_time("31.12.9999 23:00", ZoneInfo(zone), NOW)
    assert invalid.value.reason == "date_future"
