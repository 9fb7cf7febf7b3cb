"""NPS rules: groups, the score and its rounding, the trend by week and month in the shop's time
zone, typed scores in German, and the /nps report period."""

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from domain.rules.nps import (Group, Period, PeriodError, Summary, TrendPoint, classify, nps, parse_period, parse_score,
                        summarize, trend)
from domain.rules.parsing import InputError

BERLIN = ZoneInfo("Europe/Berlin")
UTC = timezone.utc


def berlin(*args) -> datetime:
    return datetime(*args, tzinfo=BERLIN).astimezone(UTC)


# --- groups -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("score", "group"), [
    (0, Group.DETRACTOR), (3, Group.DETRACTOR), (6, Group.DETRACTOR), (7, Group.PASSIVE), (8, Group.PASSIVE),
    (9, Group.PROMOTER), (10, Group.PROMOTER),
])
def test_groups_at_their_boundaries(score, group):
    assert classify(score) is group


def test_groups_are_plain_strings_for_storage():
    assert classify(10) == "promoter" and classify(7) == "passive" and classify(0) == "detractor"


@pytest.mark.parametrize("score", [-1, 11, 100, 7.5, 8.0, "8", None, True, False])
def test_anything_but_a_whole_number_from_0_to_10_is_refused(score):
    with pytest.raises(ValueError):
        classify(score)


# --- the score --------------------------------------------------------------------------------

def test_nps_is_share_of_promoters_minus_share_of_detractors():
    # 5 promoters, 3 passives, 2 detractors of 10: 50 % - 20 % = 30
    scores = [10, 9, 9, 10, 9, 8, 7, 7, 6, 0]
    summary = summarize(scores)
    assert (summary.promoters, summary.passives, summary.detractors, summary.count) == (5, 3, 2, 10)
    assert summary.nps == 30 == nps(scores)


def test_no_answers_is_no_score_not_zero():
    assert nps([]) is None
    assert summarize([]) == Summary() and Summary().count == 0
    assert Summary().share(Group.PROMOTER) is None


def test_passives_alone_give_zero():
    assert nps([7, 8, 8]) == 0


@pytest.mark.parametrize(("scores", "expected"), [
    ([10] * 4, 100), ([0, 6, 5], -100), ([10, 0], 0), ([9, 9, 0], 33), ([9, 0, 0], -33),
    ([9, 9, 9, 8, 8, 8, 0], 29),      # 3/7 - 1/7 = 28.57
    ([9] + [8] * 7, 13),              # 12.5 rounds up ...
    ([0] + [8] * 7, -13),             # ... and -12.5 down: half away from zero on both sides
    ([9, 9, 9] + [8] * 5, 38),        # 37.5 -> 38 (Python's round() would give 38, but 12.5 -> 12)
])
def test_nps_is_rounded_once_half_away_from_zero(scores, expected):
    assert nps(scores) == expected


def test_shares_per_group():
    summary = summarize([10, 9, 8, 0, 0, 0])
    assert summary.share(Group.PROMOTER) == 33 and summary.share(Group.PASSIVE) == 17
    assert summary.share("detractor") == 50


def test_a_bad_score_among_good_ones_is_refused():
    with pytest.raises(ValueError):
        summarize([9, 10, 11])


# --- trend ------------------------------------------------------------------------------------

def test_weeks_follow_the_shops_clock_not_utc():
    sunday_late = berlin(2026, 11, 22, 23, 30)    # Sunday 22:30 UTC: still week 47 in Berlin
    monday_early = berlin(2026, 11, 23, 0, 30)    # Sunday 23:30 UTC, but Monday in Berlin: week 48
    points = trend([(sunday_late, 10), (monday_early, 0)], BERLIN, "week")
    assert [(p.label, p.start, p.count, p.nps) for p in points] == [
        ("2026-W47", date(2026, 11, 16), 1, 100), ("2026-W48", date(2026, 11, 23), 1, -100)]


def test_months_follow_the_shops_clock_not_utc():
    points = trend([(berlin(2026, 10, 31, 23, 30), 9), (berlin(2026, 11, 1, 0, 30), 8)], "Europe/Berlin", "month")
    assert [(p.label, p.count) for p in points] == [("2026-10", 1), ("2026-11", 1)]
    assert datetime(2026, 10, 31, 23, 30, tzinfo=UTC) == berlin(2026, 11, 1, 0, 30)  # the trap this avoids


def test_trend_is_ordered_and_groups_answers_of_one_period():
    answers = [(berlin(2026, 11, 20, 9), 10), (berlin(2026, 11, 3, 9), 3), (berlin(2026, 11, 18, 9), 9),
               (berlin(2026, 11, 4, 9), 8)]
    points = trend(answers, BERLIN, "week")
    assert [p.label for p in points] == ["2026-W45", "2026-W46", "2026-W47"]
    assert [(p.count, p.nps) for p in points] == [(2, -50), (0, None), (2, 100)]
    assert isinstance(points[0], TrendPoint) and points[0].summary == Summary(passives=1, detractors=1)


def test_weeks_without_answers_are_gaps_not_missing():
    points = trend([(berlin(2026, 1, 5, 12), 9), (berlin(2026, 3, 2, 12), 9)], BERLIN, "week")
    assert len(points) == 9 and [p.count for p in points] == [1] + [0] * 7 + [1]
    assert all(b.start - a.start == timedelta(days=7) for a, b in zip(points, points[1:]))


def test_iso_weeks_at_the_turn_of_the_year():
    points = trend([(berlin(2026, 12, 31, 12), 9), (berlin(2027, 1, 4, 12), 9), (berlin(2025, 12, 29, 12), 9)],
                   BERLIN, "week")
    labels = [p.label for p in points]
    assert labels[0] == "2026-W01" and points[0].start == date(2025, 12, 29)  # belongs to 2026's first week
    assert labels[-2:] == ["2026-W53", "2027-W01"]  # 2026 has 53 ISO weeks; 1 Jan 2027 is in W53
    assert len(labels) == 54


def test_months_across_a_year_with_a_gap():
    points = trend([(berlin(2025, 11, 15), 10), (berlin(2026, 2, 1), 0)], BERLIN, "month")
    assert [(p.label, p.count) for p in points] == [("2025-11", 1), ("2025-12", 0), ("2026-01", 0), ("2026-02", 1)]


def test_trend_within_a_range_covers_the_whole_range_and_ignores_answers_outside():
    start, end = berlin(2026, 9, 1), berlin(2026, 12, 1)
    answers = [(berlin(2026, 8, 31, 23, 59), 0), (berlin(2026, 10, 10), 9), (berlin(2026, 12, 1), 0)]
    points = trend(answers, BERLIN, "month", start=start, end=end)
    assert [(p.label, p.count, p.nps) for p in points] == [("2026-09", 0, None), ("2026-10", 1, 100),
                                                           ("2026-11", 0, None)]


def test_trend_of_nothing_is_empty():
    assert trend([], BERLIN) == []


def test_trend_needs_aware_times_and_a_known_granularity():
    with pytest.raises(ValueError):
        trend([(datetime(2026, 11, 1, 12), 9)], BERLIN)
    with pytest.raises(ValueError):
        trend([(berlin(2026, 11, 1, 12), 9)], BERLIN, "day")
    with pytest.raises(ValueError):
        trend([(berlin(2026, 11, 1, 12), 12)], BERLIN)


# --- typed scores -----------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("eine 8", 8), ("10!", 10), ("neun", 9), ("Ich gebe 7 Punkte", 7), ("8/10", 8), ("7 von 10", 7),
    ("zehn", 10), ("null", 0), ("0", 0), ("glatte 9", 9), ("na ja, ne 6", 6), ("Eine glatte Zehn!!", 10),
    ("NEUN", 9), ("  5  ", 5), ("10/10", 10), ("acht von zehn", 8), ("9 Punkte von 10", 9), ("8 aus 10", 8),
    ("Note: 8/10 :)", 8), ("fünf", 5), ("fuenf", 5), ("zwo", 2), ("eins", 1), ("eight", 8), ("7.", 7),
    ("Null Punkte, sorry", 0), ("hmm... 4", 4), ("8️⃣", 8), ("ich sag mal 6, Kuchen war trocken", 6),
])
def test_a_single_clear_score_is_read(text, expected):
    assert parse_score(text) == expected


@pytest.mark.parametrize("text", [
    "8 oder 9", "11", "100", "keine Ahnung", "ich war 3 mal da und gebe 9", "ich war 3mal da, 9", "8,5", "7.5",
    "7-8", "-3", "4 von 5", "3 Punkte von 5", "elf", "hundert", "", None, "Achtung", "ein Kaffee bitte",
    "zehnmal besser als früher", "2026", "zwischen sieben und acht",
])
def test_ambiguous_or_out_of_range_text_gives_no_score(text):
    assert parse_score(text) is None


# --- report period ----------------------------------------------------------------------------

NOW = datetime(2026, 11, 18, 10, tzinfo=UTC)  # a Wednesday, 11:00 in Berlin


def test_default_is_the_last_90_days_on_the_wall_clock():
    period = parse_period(None, NOW, BERLIN)
    # 90 days back is 20 August, 11:00 summer time in Berlin: 09:00 UTC, not 10:00.
    assert period == Period(datetime(2026, 8, 20, 9, tzinfo=UTC), NOW, "days")
    assert parse_period("", NOW, BERLIN) == parse_period("   ", NOW, BERLIN) == period
    assert period.trend_by == "month"


def test_default_days_can_be_configured():
    assert parse_period(None, NOW, BERLIN, default_days=7).start == datetime(2026, 11, 11, 10, tzinfo=UTC)


@pytest.mark.parametrize("text", ["30", "30 tage", "30 Tage", "30tage", "30d", "letzte 30 Tage", " 30 "])
def test_a_number_is_the_last_days(text):
    period = parse_period(text, NOW, BERLIN)
    assert (period.start, period.end, period.kind) == (datetime(2026, 10, 19, 9, tzinfo=UTC), NOW, "days")
    assert period.trend_by == "week"


@pytest.mark.parametrize(("text", "start", "kind"), [
    ("woche", berlin(2026, 11, 16), "week"), ("Woche", berlin(2026, 11, 16), "week"),
    ("diese Woche", berlin(2026, 11, 16), "week"), ("monat", berlin(2026, 11, 1), "month"),
    ("diesen Monat", berlin(2026, 11, 1), "month"), ("quartal", berlin(2026, 10, 1), "quarter"),
    ("jahr", berlin(2026, 1, 1), "year"), ("dieses Jahr", berlin(2026, 1, 1), "year"),
])
def test_calendar_periods_so_far_start_at_local_midnight(text, start, kind):
    assert parse_period(text, NOW, BERLIN) == Period(start, NOW, kind)


def test_a_calendar_start_in_summer_time_is_22_utc():
    assert parse_period("quartal", NOW, BERLIN).start == datetime(2026, 9, 30, 22, tzinfo=UTC)


@pytest.mark.parametrize(("text", "start", "end", "kind"), [
    ("letzte Woche", berlin(2026, 11, 9), berlin(2026, 11, 16), "week"),
    ("vorwoche", berlin(2026, 11, 9), berlin(2026, 11, 16), "week"),
    ("letzten Monat", berlin(2026, 10, 1), berlin(2026, 11, 1), "month"),
    ("vormonat", berlin(2026, 10, 1), berlin(2026, 11, 1), "month"),
    ("letztes Quartal", berlin(2026, 7, 1), berlin(2026, 10, 1), "quarter"),
    ("vorjahr", berlin(2025, 1, 1), berlin(2026, 1, 1), "year"),
    ("letztes Jahr", berlin(2025, 1, 1), berlin(2026, 1, 1), "year"),
])
def test_the_previous_whole_period(text, start, end, kind):
    assert parse_period(text, NOW, BERLIN) == Period(start, end, kind)


@pytest.mark.parametrize("text", ["2026-10", "10/2026", "10.2026", "Oktober 2026",
                                  "okt 2026", "Okt.", "oktober"])
def test_a_named_month(text):
    assert parse_period(text, NOW, BERLIN) == Period(berlin(2026, 10, 1), berlin(2026, 11, 1), "month")


def test_a_month_name_alone_is_the_latest_that_has_begun():
    assert parse_period("Dezember", NOW, BERLIN).start == berlin(2025, 12, 1)
    assert parse_period("november", NOW, BERLIN) == Period(berlin(2026, 11, 1), NOW, "month")


def test_the_current_month_and_year_end_now():
    assert parse_period("2026-11", NOW, BERLIN).end == NOW
    assert parse_period("2026", NOW, BERLIN) == Period(berlin(2026, 1, 1), NOW, "year")
    assert parse_period("2025", NOW, BERLIN) == Period(berlin(2025, 1, 1), berlin(2026, 1, 1), "year")


@pytest.mark.parametrize(("text", "reason"), [
    ("0", "period_days"), ("1000", "period_days"), ("gestern", "period_format"), ("woche monat", "period_format"),
    ("2026-13", "period_month"), ("13/2026", "period_month"), ("2027-01", "period_future"),
    ("2027", "period_future"), ("Dezember 2026", "period_future"), ("-5", "period_format"),
])
def test_bad_periods_say_why(text, reason):
    with pytest.raises(PeriodError) as caught:
        parse_period(text, NOW, BERLIN)
    assert caught.value.reason == reason
    assert isinstance(caught.value, InputError) and isinstance(caught.value, ValueError)


def test_period_needs_an_aware_now():
    with pytest.raises(ValueError):
        parse_period("30", datetime(2026, 11, 18, 10), BERLIN)
