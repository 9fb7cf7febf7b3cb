"""German planned times for /planen: what owners type, in the shop's time zone."""

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from domain.rules import when

BERLIN = "Europe/Berlin"
# Monday 23 November 2026, 09:00 in Berlin
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)


def local(moment: datetime) -> datetime:
    return moment.astimezone(ZoneInfo(BERLIN))


@pytest.mark.parametrize("typed, expected", [
    ("morgen 10:00", datetime(2026, 11, 24, 10, 0)),
    ("Morgen um 10 Uhr", datetime(2026, 11, 24, 10, 0)),
    ("übermorgen 7.30", datetime(2026, 11, 25, 7, 30)),
    ("uebermorgen 18uhr", datetime(2026, 11, 25, 18, 0)),
    ("24.12. 9 Uhr", datetime(2026, 12, 24, 9, 0)),
    ("24.12.2026 09:00", datetime(2026, 12, 24, 9, 0)),
    ("2026-12-01 10:00", datetime(2026, 12, 1, 10, 0)),
    ("1.2. 8:00", datetime(2027, 2, 1, 8, 0)),  # a date without year that has passed: next year
    ("Freitag 18 Uhr", datetime(2026, 11, 27, 18, 0)),
    ("am Fr um 18:00", datetime(2026, 11, 27, 18, 0)),
    ("heute 17:30", datetime(2026, 11, 23, 17, 30)),
    ("montag 10:00", datetime(2026, 11, 23, 10, 0)),  # today is Monday and 10:00 is still ahead
    ("15 Uhr", datetime(2026, 11, 23, 15, 0)),
    ("8 Uhr", datetime(2026, 11, 24, 8, 0)),  # only a time that has passed today: tomorrow
])
def test_one_off_times_are_shop_wall_clock_times(typed, expected):
    schedule = when.parse(typed, NOW, BERLIN)
    assert local(schedule.first_run).replace(tzinfo=None) == expected
    assert schedule.recurrence is None


@pytest.mark.parametrize("typed, rule, first", [
    ("jeden Montag 9:00", "weekly:0:09:00", datetime(2026, 11, 30, 9, 0)),  # 9:00 today is now, not after
    ("jeden Montag um 10 Uhr", "weekly:0:10:00", datetime(2026, 11, 23, 10, 0)),
    ("montags 9 Uhr", "weekly:0:09:00", datetime(2026, 11, 30, 9, 0)),
    ("jeden Sonntag 18:00", "weekly:6:18:00", datetime(2026, 11, 29, 18, 0)),
    ("täglich 10 Uhr", "daily:10:00", datetime(2026, 11, 23, 10, 0)),
    ("jeden Tag 8:15", "daily:08:15", datetime(2026, 11, 24, 8, 15)),
])
def test_recurring_times_keep_a_rule(typed, rule, first):
    schedule = when.parse(typed, NOW, BERLIN)
    assert schedule.recurrence == rule
    assert local(schedule.first_run).replace(tzinfo=None) == first


def test_a_weekly_time_stays_the_same_wall_clock_time_across_daylight_saving():
    before_switch = datetime(2027, 3, 15, 12, 0, tzinfo=timezone.utc)  # a Monday; clocks go forward on 28 March
    first = when.next_run("weekly:0:09:00", before_switch, BERLIN)
    second = when.next_run("weekly:0:09:00", first, BERLIN)
    assert [local(first).hour, local(second).hour] == [9, 9]
    assert (second - first).total_seconds() == 7 * 24 * 3600 - 3600  # one hour less in that week


@pytest.mark.parametrize("typed, reason", [
    ("", "unknown"),
    ("irgendwann", "unknown"),
    ("morgen", "time_missing"),
    ("24.12.", "time_missing"),
    ("jeden Montag", "time_missing"),
    ("morgen 25:00", "bad_time"),
    ("morgen 10:75", "bad_time"),
    ("31.11. 9:00", "bad_date"),
    ("heute 8 Uhr", "past"),
    ("1.1.2026 10:00", "past"),
    ("24.12.2028 9:00", "too_far"),
    ("jeden Feiertag 9:00", "unknown"),
])
def test_unusable_times_are_refused_with_a_reason(typed, reason):
    with pytest.raises(when.WhenError) as error:
        when.parse(typed, NOW, BERLIN)
    assert error.value.reason == reason


@pytest.mark.parametrize("typed, rest, rule", [
    ("morgen 10:00 stamm ohne vip", "stamm ohne vip", None),
    ("jeden Montag 9:00 neu", "neu", "weekly:0:09:00"),
    ("24.12. 9 Uhr alle", "alle", None),
    ("15 Uhr inaktiv:30", "inaktiv:30", None),
])
def test_split_takes_the_longest_leading_time_and_leaves_the_segment(typed, rest, rule):
    schedule, segment = when.split(typed, NOW, BERLIN)
    assert segment == rest
    assert schedule.recurrence == rule


@pytest.mark.parametrize("typed, reason", [
    ("morgen stamm", "time_missing"),
    ("jeden Montag alle", "time_missing"),
    ("heute 8:00 alle", "past"),
    ("stamm", "unknown"),
    ("x" * 5000, "unknown"),
])
def test_split_explains_the_time_it_could_not_use(typed, reason):
    with pytest.raises(when.WhenError) as error:
        when.split(typed, NOW, BERLIN)
    assert error.value.reason == reason
    assert len(error.value.value) <= 40
