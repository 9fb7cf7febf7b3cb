"""SLA arithmetic on business hours: nights, weekends, holidays, lunch breaks, the DST Sundays
of Europe/Berlin, a week without hours, and the config form of the hours."""

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from domain.rules.business_hours import (BusinessHours, BusinessHoursError, Interval, NeverOpen, add_business_minutes,
                                   business_minutes_between, business_time_between, is_open, next_opening,
                                   reminder_at, subtract_business_minutes)

BERLIN = ZoneInfo("Europe/Berlin")
UTC = timezone.utc
SHOP = BusinessHours.parse({"mo-fr": "08:00-18:00", "sa": "09:00-14:00", "so": None})
ROUND_THE_CLOCK = BusinessHours.parse({"mo-so": "00:00-24:00"})


def berlin(*args) -> datetime:
    """A wall-clock time in Berlin, as UTC (the form times come and go in)."""
    return datetime(*args, tzinfo=BERLIN).astimezone(UTC)


def local(moment: datetime) -> datetime:
    return moment.astimezone(BERLIN).replace(tzinfo=None)


# --- adding business minutes ------------------------------------------------------------------

@pytest.mark.parametrize(("start", "minutes", "due"), [
    (berlin(2026, 11, 17, 10, 0), 90, datetime(2026, 11, 17, 11, 30)),    # within a Tuesday
    (berlin(2026, 11, 20, 17, 50), 30, datetime(2026, 11, 21, 9, 20)),    # Friday evening -> Saturday
    (berlin(2026, 11, 21, 13, 50), 30, datetime(2026, 11, 23, 8, 20)),    # Saturday -> over Sunday -> Monday
    (berlin(2026, 11, 22, 11, 0), 30, datetime(2026, 11, 23, 8, 30)),     # sent on Sunday: counts from Monday 8:00
    (berlin(2026, 11, 17, 22, 0), 15, datetime(2026, 11, 18, 8, 15)),     # at night
    (berlin(2026, 11, 18, 6, 0), 60, datetime(2026, 11, 18, 9, 0)),       # early morning
    (berlin(2026, 11, 20, 17, 30), 30, datetime(2026, 11, 20, 18, 0)),    # due exactly at closing time
    (berlin(2026, 11, 20, 18, 0), 1, datetime(2026, 11, 21, 9, 1)),       # at closing time: next opening
    (berlin(2026, 11, 20, 12, 0), 600, datetime(2026, 11, 21, 13, 0)),    # 6 h Friday + 4 h Saturday
    (berlin(2026, 11, 20, 12, 0), 11 * 60 + 1, datetime(2026, 11, 23, 8, 1)),  # a minute more than Fri + Sat
    (berlin(2026, 11, 16, 8, 0), 5 * 600 + 300, datetime(2026, 11, 21, 14, 0)),  # a whole week: Saturday's close
    (berlin(2026, 11, 16, 8, 0), 5 * 600 + 301, datetime(2026, 11, 23, 8, 1)),   # one minute more: next Monday
])
def test_deadlines_count_only_open_time(start, minutes, due):
    deadline = add_business_minutes(start, minutes, SHOP)
    assert local(deadline) == due
    assert deadline.tzinfo == UTC


def test_zero_minutes_is_now_when_open_else_the_next_opening():
    assert add_business_minutes(berlin(2026, 11, 17, 10), 0, SHOP) == berlin(2026, 11, 17, 10)
    assert add_business_minutes(berlin(2026, 11, 22, 11), 0, SHOP) == berlin(2026, 11, 23, 8)
    assert next_opening(berlin(2026, 11, 20, 18), SHOP) == berlin(2026, 11, 21, 9)
    assert next_opening(berlin(2026, 11, 21, 9), SHOP) == berlin(2026, 11, 21, 9)


def test_seconds_of_the_start_are_kept():
    start = berlin(2026, 11, 17, 10, 0, 42, 500)
    assert add_business_minutes(start, 5, SHOP) - start == timedelta(minutes=5)


def test_a_lunch_break_is_not_business_time():
    hours = BusinessHours.parse({"mo-fr": "08:00-12:00, 13:00-18:00"})
    assert local(add_business_minutes(berlin(2026, 11, 17, 11, 50), 30, hours)) == datetime(2026, 11, 17, 13, 20)
    assert local(add_business_minutes(berlin(2026, 11, 17, 12, 30), 10, hours)) == datetime(2026, 11, 17, 13, 10)
    assert business_minutes_between(berlin(2026, 11, 17, 8), berlin(2026, 11, 17, 18), hours) == 540


def test_holidays_are_closed():
    hours = BusinessHours.parse({"mo-fr": "08:00-18:00", "sa": "09:00-14:00"},
                                holidays=[date(2026, 12, 25), "2026-12-26"])
    # Thursday 24 Dec 17:45: 15 minutes that day, Christmas Friday and Saturday closed, Sunday too.
    assert local(add_business_minutes(berlin(2026, 12, 24, 17, 45), 30, hours)) == datetime(2026, 12, 28, 8, 15)
    assert not is_open(berlin(2026, 12, 25, 10), hours) and is_open(berlin(2026, 12, 25, 10), SHOP)


def test_a_long_closure_is_skipped_not_looped():
    vacation = [date(2026, 8, 1) + timedelta(days=n) for n in range(23)]  # 1 to 23 August
    hours = BusinessHours.parse({"mo-fr": "08:00-18:00", "sa": "09:00-14:00"}, holidays=vacation)
    assert local(add_business_minutes(berlin(2026, 7, 31, 17, 59), 2, hours)) == datetime(2026, 8, 24, 8, 1)
    assert local(subtract_business_minutes(berlin(2026, 8, 24, 8, 1), 2, hours)) == datetime(2026, 7, 31, 17, 59)


# --- daylight saving time ---------------------------------------------------------------------

def test_deadline_over_the_march_change_lands_on_summer_time():
    deadline = add_business_minutes(berlin(2026, 3, 28, 13, 50), 30, SHOP)  # Saturday before the change
    assert deadline == datetime(2026, 3, 30, 6, 20, tzinfo=UTC)  # Monday 8:20 CEST, not 7:20 UTC
    assert local(deadline) == datetime(2026, 3, 30, 8, 20)


def test_deadline_over_the_october_change_lands_on_winter_time():
    deadline = add_business_minutes(berlin(2026, 10, 24, 13, 50), 30, SHOP)
    assert deadline == datetime(2026, 10, 26, 7, 20, tzinfo=UTC)  # Monday 8:20 CET
    assert local(deadline) == datetime(2026, 10, 26, 8, 20)


def test_the_march_sunday_has_23_hours_and_the_october_sunday_25():
    assert business_minutes_between(berlin(2026, 3, 29), berlin(2026, 3, 30), ROUND_THE_CLOCK) == 23 * 60
    assert business_minutes_between(berlin(2026, 10, 25), berlin(2026, 10, 26), ROUND_THE_CLOCK) == 25 * 60
    assert business_minutes_between(berlin(2026, 11, 1), berlin(2026, 11, 2), ROUND_THE_CLOCK) == 24 * 60


def test_a_day_of_business_time_over_the_march_night_ends_an_hour_later_on_the_wall_clock():
    deadline = add_business_minutes(berlin(2026, 3, 28, 12), 24 * 60, ROUND_THE_CLOCK)
    assert local(deadline) == datetime(2026, 3, 29, 13, 0)
    assert deadline - berlin(2026, 3, 28, 12) == timedelta(hours=24)


def test_night_opening_hours_across_the_change():
    night = BusinessHours.parse({"so": "00:00-06:00"})
    assert business_minutes_between(berlin(2026, 3, 29), berlin(2026, 3, 30), night) == 5 * 60
    assert business_minutes_between(berlin(2026, 10, 25), berlin(2026, 10, 26), night) == 7 * 60
    assert local(add_business_minutes(berlin(2026, 3, 29, 1, 0), 90, night)) == datetime(2026, 3, 29, 3, 30)


def test_hours_inside_the_skipped_hour_do_not_exist_that_day():
    odd = BusinessHours.parse({"so": "02:00-03:00"})
    assert odd.intervals_on(date(2026, 3, 29)) == []
    assert local(add_business_minutes(berlin(2026, 3, 28, 12), 10, odd)) == datetime(2026, 4, 5, 2, 10)
    # In October the hour from 2 to 3 comes twice, so the interval is two real hours long.
    assert business_minutes_between(berlin(2026, 10, 25), berlin(2026, 10, 26), odd) == 120


# --- between, before, open --------------------------------------------------------------------

def test_business_minutes_between():
    assert business_minutes_between(berlin(2026, 11, 20, 17, 50), berlin(2026, 11, 21, 9, 20), SHOP) == 30
    assert business_minutes_between(berlin(2026, 11, 20, 12), berlin(2026, 11, 23, 12), SHOP) == 15 * 60
    assert business_minutes_between(berlin(2026, 11, 22, 0), berlin(2026, 11, 22, 23), SHOP) == 0
    assert business_minutes_between(berlin(2026, 11, 17, 10), berlin(2026, 11, 17, 10), SHOP) == 0


def test_between_is_negative_backwards_and_counts_whole_minutes_only():
    a, b = berlin(2026, 11, 20, 17, 50), berlin(2026, 11, 21, 9, 20)
    assert business_minutes_between(b, a, SHOP) == -30
    started = berlin(2026, 11, 17, 10)
    assert business_minutes_between(started, started + timedelta(seconds=59), SHOP) == 0
    assert business_minutes_between(started + timedelta(seconds=59), started, SHOP) == 0
    assert business_minutes_between(started, started + timedelta(seconds=61), SHOP) == 1
    assert business_time_between(started, started + timedelta(seconds=61), SHOP) == timedelta(seconds=61)


def test_adding_then_measuring_gives_the_minutes_back_across_two_weeks_and_a_dst_change():
    start = berlin(2026, 10, 19, 0, 7)
    for step in range(0, 14 * 24 * 60, 97):  # every 97 minutes, so starts fall at night, at lunch, on Sundays
        moment = start + timedelta(minutes=step)
        for minutes in (1, 30, 240, 700):
            deadline = add_business_minutes(moment, minutes, SHOP)
            assert business_minutes_between(moment, deadline, SHOP) == minutes, (moment, minutes)
            assert is_open(deadline - timedelta(seconds=1), SHOP)


def test_subtracting_is_the_inverse_of_adding():
    assert local(subtract_business_minutes(berlin(2026, 11, 21, 9, 20), 30, SHOP)) == datetime(2026, 11, 20, 17, 50)
    assert local(subtract_business_minutes(berlin(2026, 11, 23, 8, 0), 1, SHOP)) == datetime(2026, 11, 21, 13, 59)
    assert local(subtract_business_minutes(berlin(2026, 11, 22, 12), 60, SHOP)) == datetime(2026, 11, 21, 13, 0)
    for start in (berlin(2026, 11, 17, 9, 13), berlin(2026, 11, 20, 17, 1), berlin(2026, 3, 28, 10)):
        for minutes in (5, 59, 300, 2000):
            assert subtract_business_minutes(add_business_minutes(start, minutes, SHOP), minutes, SHOP) == start


def test_reminder_before_the_deadline_in_business_time():
    deadline = berlin(2026, 11, 21, 9, 20)
    assert local(reminder_at(deadline, 15, SHOP)) == datetime(2026, 11, 21, 9, 5)
    assert local(reminder_at(deadline, 30, SHOP)) == datetime(2026, 11, 20, 17, 50)  # Friday, not 8:50 Saturday
    created = berlin(2026, 11, 21, 9, 0)
    assert reminder_at(deadline, 30, SHOP, not_before=created) == created  # never before the ticket existed


@pytest.mark.parametrize(("moment", "open_"), [
    (berlin(2026, 11, 17, 8, 0), True), (berlin(2026, 11, 17, 7, 59, 59), False),
    (berlin(2026, 11, 17, 17, 59, 59), True), (berlin(2026, 11, 17, 18, 0), False),
    (berlin(2026, 11, 21, 13, 0), True), (berlin(2026, 11, 21, 15, 0), False),
    (berlin(2026, 11, 22, 12, 0), False), (berlin(2026, 11, 17, 3, 0), False),
    (berlin(2026, 3, 30, 8, 30), True), (datetime(2026, 3, 30, 6, 30, tzinfo=UTC), True),
    (datetime(2026, 3, 30, 5, 30, tzinfo=UTC), False),  # 7:30 in Berlin summer time
])
def test_is_open(moment, open_):
    assert is_open(moment, SHOP) is open_


def test_is_open_accepts_any_aware_time():
    assert is_open(datetime(2026, 11, 17, 10, tzinfo=ZoneInfo("America/New_York")), SHOP)  # 16:00 in Berlin


# --- no hours, bad input ----------------------------------------------------------------------

def test_a_week_without_hours_is_a_clear_error_not_an_endless_loop():
    closed = BusinessHours.parse({"mo-so": "geschlossen"})
    with pytest.raises(NeverOpen):
        add_business_minutes(berlin(2026, 11, 17, 10), 30, closed)
    with pytest.raises(NeverOpen):
        subtract_business_minutes(berlin(2026, 11, 17, 10), 30, closed)
    with pytest.raises(BusinessHoursError):
        reminder_at(berlin(2026, 11, 17, 10), 30, BusinessHours.parse({}))
    assert not is_open(berlin(2026, 11, 17, 10), closed)
    assert business_minutes_between(berlin(2026, 11, 17), berlin(2026, 11, 24), closed) == 0


@pytest.mark.parametrize("minutes", [-1, 1.5, "30", None, True])
def test_minutes_must_be_a_whole_number_of_at_least_zero(minutes):
    with pytest.raises(ValueError):
        add_business_minutes(berlin(2026, 11, 17, 10), minutes, SHOP)


def test_naive_times_are_refused():
    with pytest.raises(ValueError):
        add_business_minutes(datetime(2026, 11, 17, 10), 30, SHOP)
    with pytest.raises(ValueError):
        is_open(datetime(2026, 11, 17, 10), SHOP)
    with pytest.raises(ValueError):
        business_minutes_between(datetime(2026, 11, 17, 10), berlin(2026, 11, 17, 11), SHOP)


# --- the config form --------------------------------------------------------------------------

def test_parse_days_ranges_lists_and_closed_days():
    hours = BusinessHours.parse({"mo-mi": ["7:30-12", "14:00-18:30"], "do": "8.00 - 20.00", "fr": "08:00 bis 18:00",
                                 "sa": "", "so": "geschlossen"}, "Europe/Vienna", ["2026-12-08"])
    assert hours.week[0] == hours.week[2] == (Interval(450, 720), Interval(840, 1110))
    assert hours.week[3] == (Interval(480, 1200),) and hours.week[4] == (Interval(480, 1080),)
    assert hours.week[5] == hours.week[6] == ()
    assert hours.timezone == ZoneInfo("Europe/Vienna") and hours.holidays == frozenset({date(2026, 12, 8)})


def test_days_not_named_are_closed_and_24_00_is_midnight():
    hours = BusinessHours.parse({"fr": "18:00-24:00"})
    assert hours.week[4] == (Interval(1080, 1440),) and all(day == () for i, day in enumerate(hours.week) if i != 4)
    assert local(add_business_minutes(berlin(2026, 11, 20, 23, 50), 20, hours)) == datetime(2026, 11, 27, 18, 10)


@pytest.mark.parametrize(("spec", "holidays", "named"), [
    ({"mo": "18:00-08:00"}, (), "mo"),                       # a night across midnight: two days
    ({"mo": "08:00-08:00"}, (), "mo"),
    ({"di": "08:00-12:00, 11:00-18:00"}, (), "di"),          # overlapping
    ({"mi": "13:00-18:00, 08:00-12:00"}, (), "mi"),          # out of order
    ({"do": "24:30-25:00"}, (), "do"),
    ({"fr": "08:70-18:00"}, (), "fr"),
    ({"sa": "morgens"}, (), "sa"),
    ({"montag": "08:00-18:00"}, (), "montag"),
    ({"fr-mo": "08:00-18:00"}, (), "fr-mo"),
    ({"mo-fr": "08:00-18:00", "fr": "08:00-12:00"}, (), "fr"),  # Friday named twice
    ({"mo": "08:00-18:00"}, ("25.12.2026",), "25.12.2026"),
])
def test_bad_hours_are_refused_naming_the_day(spec, holidays, named):
    with pytest.raises(BusinessHoursError) as caught:
        BusinessHours.parse(spec, holidays=holidays)
    assert named in str(caught.value)


def test_a_week_must_have_seven_days():
    with pytest.raises(BusinessHoursError):
        BusinessHours(BERLIN, ((Interval(480, 1080),),) * 6)
