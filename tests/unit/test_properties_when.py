"""Properties of /planen's time parser (``domain.rules.when``): every input is a schedule or a
``WhenError``, never another exception; a schedule lies ahead and within a year; a typed
time-of-day comes back as that wall-clock time in the shop's zone."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from domain.rules import when
from tests.unit.property_strategies import mixed

REASONS = {"unknown", "time_missing", "bad_time", "bad_date", "past", "too_far"}
zones = st.sampled_from(["Europe/Berlin", "America/New_York", "Pacific/Pago_Pago", "Pacific/Kiritimati", "UTC"])
nows = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 12, 31),
                    timezones=st.just(timezone.utc))
clocks = st.one_of(st.builds(lambda h, m: f"{h}:{m:02d}", st.integers(0, 30), st.integers(0, 70)),
                   st.builds(lambda h: f"{h} Uhr", st.integers(0, 30)), st.builds(lambda h: f"{h}Uhr", st.integers(0, 30)),
                   st.builds(lambda h, m: f"{h}.{m:02d}", st.integers(0, 24), st.integers(0, 60)))
day_words = st.one_of(
    st.sampled_from(["heute", "morgen", "übermorgen", "Freitag", "mo", "sonnabend", "am", "um", "jeden Montag",
                     "montags", "täglich", "jeden Tag", "jede", "jetzt", "sofort", "", ","]),
    st.dates().map(lambda d: f"{d.day}.{d.month}."),
    st.dates().map(lambda d: f"{d.day:02d}.{d.month:02d}.{d.year:04d}"),
    st.dates().map(lambda d: f"{d.day}.{d.month}.{d.year % 100:02d}"),
    st.dates().map(lambda d: d.isoformat()),
    st.from_regex(r"[0-9]{1,2}\.[0-9]{1,2}\.([0-9]{2}|[0-9]{4})?", fullmatch=True),
)
planned = st.builds(lambda day, filler, clock, rest: f"{day} {filler}{clock}{rest}", day_words,
                    st.sampled_from(["", "um ", "am ", ", "]), clocks,
                    st.sampled_from(["", " stamm ohne vip", " alle", " Uhr", " 10 Uhr"]))


@given(mixed(planned), nows, zones)
@example("01.01.0001 0:00", datetime(2026, 11, 22, 10, tzinfo=timezone.utc), "Europe/Berlin")
@example("0001-01-01 0:00", datetime(2026, 11, 22, 10, tzinfo=timezone.utc), "Europe/Berlin")
@example("31.12.9999 23:00", datetime(2026, 11, 22, 10, tzinfo=timezone.utc), "America/New_York")
@example("29.02. 10:00", datetime(2026, 3, 1, 10, tzinfo=timezone.utc), "Europe/Berlin")
@example("jeden montags 9", datetime(2026, 3, 1, 10, tzinfo=timezone.utc), "Europe/Berlin")
def test_a_schedule_or_a_refusal(text, now, zone):
    try:
        schedule = when.parse(text, now, zone)
    except when.WhenError as error:
        assert error.reason in REASONS
        return
    _check(schedule, now)


@given(mixed(planned), nows, zones)
@example("31.12.9999 23:00 stamm", datetime(2026, 11, 22, 10, tzinfo=timezone.utc), "America/New_York")
@example("1.1.0001 0:00 alle", datetime(2026, 11, 22, 10, tzinfo=timezone.utc), "Europe/Berlin")
def test_split_a_schedule_and_the_rest_or_a_refusal(text, now, zone):
    try:
        schedule, rest = when.split(text, now, zone)
    except when.WhenError as error:
        assert error.reason in REASONS
        return
    _check(schedule, now)
    assert text.split()[len(text.split()) - len(rest.split()):] == rest.split()


def _check(schedule: when.Schedule, now: datetime) -> None:
    assert schedule.first_run.utcoffset() == timedelta(0)
    if schedule.first_run == now:  # "jetzt"
        return
    assert now < schedule.first_run
    if schedule.recurrence is None:
        assert schedule.first_run - now <= when.MAX_AHEAD
    else:  # the next run of a daily or weekly rule is less than a week (and an hour of DST) away
        assert schedule.first_run - now <= timedelta(days=7, hours=2)
        assert when.next_run(schedule.recurrence, now, "UTC")  # the rule reads back


@given(st.integers(0, 23), st.integers(0, 59), st.sampled_from(["heute", "morgen", "übermorgen", "Samstag"]),
       nows, zones)
def test_a_day_and_time_mean_that_wall_clock_time(hour, minute, day, now, zone):
    try:
        schedule = when.parse(f"{day} {hour}:{minute:02d}", now, zone)
    except when.WhenError as error:
        assert error.reason == "past"  # "heute 8:00" at 9:00
        return
    local = schedule.first_run.astimezone(ZoneInfo(zone))
    # a time skipped by the spring clock change is taken an hour later
    assert (local.hour, local.minute) in ((hour, minute), ((hour + 1) % 24, minute))


@given(st.sampled_from(list(when.WEEKDAYS)), st.integers(0, 23), st.integers(0, 59), nows, zones)
def test_weekly_rules_run_on_their_weekday(day, hour, minute, now, zone):
    schedule = when.parse(f"jeden {day} {hour}:{minute:02d}", now, zone)
    assert schedule.recurrence == f"weekly:{when.WEEKDAYS[day]}:{hour:02d}:{minute:02d}"
    assert now < schedule.first_run <= now + timedelta(days=7, hours=2)
    following = when.next_run(schedule.recurrence, schedule.first_run, zone)
    assert timedelta(days=6) < following - schedule.first_run < timedelta(days=8)


@pytest.mark.parametrize(("text", "zone", "reason"), [
    ("01.01.0001 0:00", "Europe/Berlin", "past"),  # year 1 in Berlin is the year 0 in UTC: an overflow
    ("0001-01-01 0:00", "Europe/Berlin", "past"),
    ("31.12.9999 23:00", "America/New_York", "too_far"),  # and the year 10000 west of Greenwich
    ("9999-12-31 23:59", "Pacific/Pago_Pago", "too_far"),
])
def test_the_ends_of_the_calendar_are_refused_not_an_error(text, zone, reason):
    with pytest.raises(when.WhenError) as error:
        when.parse(text, datetime(2026, 11, 22, 10, tzinfo=timezone.utc), zone)
    assert error.value.reason == reason
