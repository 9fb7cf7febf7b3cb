"""The date rules of the milestones: which days a run scans (catch-up across month and year
ends), leap days, local days across daylight saving time."""

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from domain.milestones import (anniversary_origins, birthdays_on, celebrated_on, day_start, days_to_scan,
                               latest_day, send_time)

BERLIN = ZoneInfo("Europe/Berlin")


def berlin(*args) -> datetime:
    return datetime(*args, tzinfo=BERLIN).astimezone(timezone.utc)


def test_the_day_counts_from_the_send_hour_in_the_shops_time_zone():
    assert latest_day(berlin(2026, 5, 3, 9, 59), 10, BERLIN) == date(2026, 5, 2)
    assert latest_day(berlin(2026, 5, 3, 10, 0), 10, BERLIN) == date(2026, 5, 3)
    assert latest_day(berlin(2026, 12, 31, 23, 30), 10, BERLIN) == date(2026, 12, 31)
    # 23:30 UTC on New Year's Eve is 00:30 on 1 January in Berlin: before the send hour.
    assert latest_day(datetime(2026, 12, 31, 23, 30, tzinfo=timezone.utc), 10, BERLIN) == date(2026, 12, 31)
    assert latest_day(datetime(2027, 1, 1, 9, 0, tzinfo=timezone.utc), 10, BERLIN) == date(2027, 1, 1)


@pytest.mark.parametrize("now", [berlin(2026, 3, 29, 10, 0), berlin(2026, 10, 25, 10, 0)])
def test_the_send_hour_is_local_on_daylight_saving_days(now):
    assert latest_day(now, 10, BERLIN) == now.astimezone(BERLIN).date()
    assert latest_day(now - timedelta(seconds=1), 10, BERLIN) == now.astimezone(BERLIN).date() - timedelta(days=1)


def test_a_catch_up_before_the_send_hour_waits_for_it():
    assert send_time(berlin(2026, 5, 3, 3, 0), 10, BERLIN) == berlin(2026, 5, 3, 10, 0)
    assert send_time(berlin(2026, 5, 3, 14, 0), 10, BERLIN) == berlin(2026, 5, 3, 14, 0)
    assert send_time(berlin(2026, 3, 29, 1, 0), 10, BERLIN) == berlin(2026, 3, 29, 10, 0)  # DST night


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


@pytest.mark.parametrize(("last_done", "latest", "catch_up", "expected"), [
    (date(2026, 5, 2), date(2026, 5, 3), 3, [date(2026, 5, 3)]),                       # the normal day
    (date(2026, 5, 3), date(2026, 5, 3), 3, []),                                       # done already
    (date(2026, 5, 4), date(2026, 5, 3), 3, []),                                       # clock went back
    (None, date(2026, 5, 3), 3, [date(2026, 5, 3)]),                                   # first run ever
    (date(2026, 4, 29), date(2026, 5, 2), 3, days(date(2026, 4, 30), date(2026, 5, 2))),  # month end
    (date(2026, 12, 30), date(2027, 1, 1), 3, [date(2026, 12, 31), date(2027, 1, 1)]),     # year end
    (date(2026, 12, 1), date(2027, 1, 2), 3, days(date(2026, 12, 30), date(2027, 1, 2))),  # older: dropped
    (date(2026, 4, 1), date(2026, 5, 3), 0, [date(2026, 5, 3)]),                       # no catch-up at all
    (date(2028, 2, 27), date(2028, 3, 1), 3, days(date(2028, 2, 28), date(2028, 3, 1))),  # leap February
])
def test_days_to_scan(last_done, latest, catch_up, expected):
    assert days_to_scan(last_done, latest, catch_up) == expected


def test_leap_day_birthdays_are_celebrated_on_the_28th_in_common_years():
    assert celebrated_on(2, 29, 2027) == date(2027, 2, 28)
    assert celebrated_on(2, 29, 2028) == date(2028, 2, 29)
    assert celebrated_on(2, 29, 2100) == date(2100, 2, 28)  # not a leap year
    assert celebrated_on(2, 29, 2000) == date(2000, 2, 29)
    assert birthdays_on([date(2027, 2, 28)]) == {(2, 28): date(2027, 2, 28), (2, 29): date(2027, 2, 28)}
    assert birthdays_on([date(2028, 2, 28), date(2028, 2, 29)]) == {(2, 28): date(2028, 2, 28),
                                                                    (2, 29): date(2028, 2, 29)}
    assert birthdays_on([date(2026, 12, 31), date(2027, 1, 1)]) == {(12, 31): date(2026, 12, 31),
                                                                    (1, 1): date(2027, 1, 1)}


def test_anniversaries_from_one_year_on_with_leap_days():
    assert anniversary_origins(date(2026, 5, 3), 2023) == [date(2023, 5, 3), date(2024, 5, 3), date(2025, 5, 3)]
    assert anniversary_origins(date(2026, 5, 3), 2026) == []  # not in the first year
    # A first purchase on 29 Feb 2024 is remembered on 28 Feb in common years, on the 29th in leap years.
    assert anniversary_origins(date(2027, 2, 28), 2023) == [date(2023, 2, 28), date(2024, 2, 28), date(2024, 2, 29),
                                                            date(2025, 2, 28), date(2026, 2, 28)]
    assert anniversary_origins(date(2028, 2, 28), 2024) == [date(2024, 2, 28), date(2025, 2, 28), date(2026, 2, 28),
                                                            date(2027, 2, 28)]
    assert anniversary_origins(date(2028, 2, 29), 2024) == [date(2024, 2, 29)]


def test_local_days_have_23_or_25_hours_around_daylight_saving_time():
    assert day_start(date(2026, 5, 3), BERLIN) == datetime(2026, 5, 2, 22, 0, tzinfo=timezone.utc)
    assert day_start(date(2026, 3, 30), BERLIN) - day_start(date(2026, 3, 29), BERLIN) == timedelta(hours=23)
    assert day_start(date(2026, 10, 26), BERLIN) - day_start(date(2026, 10, 25), BERLIN) == timedelta(hours=25)
