"""Properties of the NPS parsers: a typed score ("eine 8") is 0-10 or None, a report period
(``/nps 30``, "letzte woche", "oktober 2026", "2026") is a range up to now or a ``PeriodError``;
never another exception."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bot.handlers.surveys import typed_score
from domain.rules import nps
from domain.rules.parsing import MONTHS
from tests.unit.property_strategies import mixed

NUMBER_WORDS = sorted(nps.NUMBER_WORDS)
scores = st.one_of(
    st.builds(lambda lead, score, tail: f"{lead}{score}{tail}",
              st.sampled_from(["", "eine ", "ne ", "glatte ", "Ich gebe ", "na ja, ", "-", "ca. "]),
              st.integers(-20, 120).map(str) | st.sampled_from(NUMBER_WORDS),
              st.sampled_from(["", "!", " Punkte", "/10", " von 10", " aus zehn", " of 10", " von 5", "/",
                               " oder 9", ",5", "mal", "?"])),
    st.from_regex(r"[0-9]{1,4}( ?/ ?[0-9]{1,4})?", fullmatch=True),
)


@given(mixed(scores))
@example("9" * 5000)
@example("8 von " + "1" * 5000)
@example("0" * 5000 + "8")
@example("eine ²")
def test_a_score_or_none(text):
    score = nps.parse_score(text)
    assert score is None or (type(score) is int and 0 <= score <= 10)
    shorter = typed_score(text)
    assert shorter is None or shorter == score


@given(st.integers(0, 10), st.sampled_from(["{}", "eine {}", "ne {}", "glatte {}!", "Ich gebe {} Punkte", "{}/10",
                                           "{} von 10", "{} aus 10", "Note: {}"]))
def test_a_clear_score_is_read(score, template):
    assert nps.parse_score(template.format(score)) == score


@given(st.integers(0, 10), st.integers(0, 10))
def test_two_numbers_are_no_score(first, second):
    assert nps.parse_score(f"{first} oder {second}") is None


@pytest.mark.parametrize("text", ["9" * 5000, "8 von " + "1" * 5000, "1" * 4301 + "/10"])
def test_a_number_of_thousands_of_digits_is_no_score_not_an_error(text):
    """int() refuses strings of more than 4300 digits with a ValueError of its own."""
    assert nps.parse_score(text) is None

    assert nps.parse_score("0" * 5000 + "8") == 8  # leading zeros, as int() reads them

# --- report periods ---------------------------------------------------------------------------

zones = st.sampled_from(["Europe/Berlin", "America/New_York", "Pacific/Kiritimati", "Pacific/Pago_Pago", "UTC"])
nows = st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2098, 12, 31), timezones=st.just(timezone.utc))
periods = st.one_of(
    st.integers(-5, 20_000).map(str),
    st.builds(lambda n, unit: f"{n}{unit}", st.integers(0, 2000), st.sampled_from([" tage", "d", " Tagen", " days", "t"])),
    st.builds(lambda w, p: f"{w} {p}", st.sampled_from(["letzte", "letzten", "diese", "laufende", "last", "vorige"]),
              st.sampled_from(["woche", "monat", "quartal", "jahr", "30 tage", "kw", "x"])),
    st.sampled_from(["vorwoche", "vormonat", "vorquartal", "vorjahr", "woche", "monat", "jahr", "quartal", ""]),
    st.builds(lambda m, y: f"{m} {y}", st.sampled_from(sorted(MONTHS)), st.integers(0, 12_000)),
    st.builds(lambda y, m, style: [f"{y}-{m}", f"{m}/{y}", f"{m}.{y}", f"{m:02d} / {y:04d}"][style],
              st.integers(0, 9999), st.integers(0, 99), st.integers(0, 3)),
    st.sampled_from(sorted(MONTHS)),
    st.integers(1990, 2110).map(str),
)


@given(mixed(periods), nows, zones)
@example("12/9999", datetime(2026, 11, 22, 10, tzinfo=timezone.utc), "Europe/Berlin")
@example("jan 0000", datetime(2026, 11, 22, 10, tzinfo=timezone.utc), "Europe/Berlin")
@example("jan 0001", datetime(2026, 11, 22, 10, tzinfo=timezone.utc), "Europe/Berlin")
@example("dezember 9999", datetime(2026, 11, 22, 10, tzinfo=timezone.utc), "Europe/Berlin")
@example("9" * 5000, datetime(2026, 11, 22, 10, tzinfo=timezone.utc), "Europe/Berlin")
@example(None, datetime(2026, 11, 22, 10, tzinfo=timezone.utc), "Europe/Berlin")
def test_a_period_or_a_refusal(text, now, zone):
    try:
        period = nps.parse_period(text, now, zone)
    except nps.PeriodError as error:
        assert error.reason in {"period_format", "period_days", "period_month", "period_future"}
        return
    assert period.start < period.end <= now
    assert period.start.utcoffset() == period.end.utcoffset() == timedelta(0)
    assert period.end - period.start <= timedelta(days=nps.MAX_DAYS + 1)
    if period.kind != "days":  # calendar periods from the year 2000 (midnight east of Greenwich: 1999 in UTC)
        assert period.start >= datetime(1999, 12, 31, tzinfo=timezone.utc)
    assert period.trend_by in ("week", "month")


@given(st.integers(1, nps.MAX_DAYS), nows, zones)
def test_a_number_of_days_is_that_many_days(days, now, zone):
    period = nps.parse_period(str(days), now, zone)
    assert period.kind == "days" and period.end == now
    assert abs((now - period.start) - timedelta(days=days)) <= timedelta(hours=1)  # DST on the wall clock


@given(st.integers(2000, 2098), st.integers(1, 12), zones)
def test_a_past_month_reads_back(year, month, zone):
    now = datetime(2099, 1, 1, tzinfo=timezone.utc)
    for text in (f"{year}-{month}", f"{month}/{year}", f"{month:02d}.{year}"):
        period = nps.parse_period(text, now, zone)
        assert period.kind == "month"
        assert 27 <= (period.end - period.start).days <= 31


@pytest.mark.parametrize(("text", "reason"), [
    ("12/9999", "period_future"), ("dezember 9999", "period_future"), ("oktober 12000", "period_format"),
    ("jan 0000", "period_month"), ("jan 0001", "period_month"), ("oktober 1999", "period_month"),
    ("9" * 5000, "period_days"),
])
def test_months_and_days_beyond_reason_are_refused_not_an_error(text, reason):
    with pytest.raises(nps.PeriodError) as error:
        nps.parse_period(text, datetime(2026, 11, 22, 10, tzinfo=timezone.utc), "Europe/Berlin")
    assert error.value.reason == reason
