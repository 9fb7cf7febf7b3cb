"""German amounts and dates as people type them, and the friendly refusals."""

from datetime import date
from decimal import Decimal

import pytest

from domain.rules.parsing import DayOfYear, InputError, parse_amount, parse_day_of_year

TODAY = date(2026, 11, 22)


@pytest.mark.parametrize(("text", "expected"), [
    ("4,50", "4.50"), ("12", "12.00"), ("1.234,50", "1234.50"), ("4.50", "4.50"), ("1.234", "1234.00"),
    ("12 €", "12.00"), ("EUR 3,2", "3.20"), ("0,99", "0.99"), ("1 234,50", "1234.50"), ("12,5€", "12.50"),
])
def test_amounts(text, expected):
    assert parse_amount(text) == Decimal(expected)


@pytest.mark.parametrize(("text", "reason"), [
    ("", "amount_format"), ("abc", "amount_format"), ("4,505", "amount_format"), ("1.23.4", "amount_format"),
    ("-5", "amount_negative"), ("0", "amount_zero"), ("0,00", "amount_zero"), ("12,34,56", "amount_format"),
    ("1e5", "amount_format"), ("NaN", "amount_format"), ("4,5.0", "amount_format"), ("٣", "amount_format"),
])
def test_bad_amounts(text, reason):
    with pytest.raises(InputError) as error:
        parse_amount(text)
    assert error.value.reason == reason


def test_amount_limit():
    assert parse_amount("999,99", maximum=Decimal(1000)) == Decimal("999.99")
    with pytest.raises(InputError, match="amount_too_large"):
        parse_amount("1.000,01", maximum=Decimal(1000))


@pytest.mark.parametrize(("text", "expected"), [
    ("Mein Geburtstag ist am 3. Mai", DayOfYear(3, 5)),
    ("am 30.09.1985", DayOfYear(30, 9, 1985)),
    ("1.4.", DayOfYear(1, 4)),
    ("24.12", DayOfYear(24, 12)),
    ("ich hab am erster Juni geburtstag", DayOfYear(1, 6)),
    ("am einundzwanzigsten März", DayOfYear(21, 3)),
    ("7. maerz", DayOfYear(7, 3)),
    ("12. Dezember 1978", DayOfYear(12, 12, 1978)),
    ("29.02.", DayOfYear(29, 2)),
    ("3.5.85", DayOfYear(3, 5, 1985)),
    ("10. Nov.", DayOfYear(10, 11)),
    ("dreißigster september", DayOfYear(30, 9)),
    ("my birthday is on May 3rd", DayOfYear(3, 5)),
    ("3rd of May", DayOfYear(3, 5)),
    ("I was born on 12 December 1985", DayOfYear(12, 12, 1985)),
    ("May 3, 1990", DayOfYear(3, 5, 1990)),
    ("21st June", DayOfYear(21, 6)),
])
def test_dates(text, expected):
    assert parse_day_of_year(text, TODAY) == expected


@pytest.mark.parametrize(("text", "reason"), [
    ("irgendwann im Sommer", "date_format"), ("31.04.", "date_invalid"), ("32. Mai", "date_invalid"),
    ("29.02.2023", "date_invalid"), ("3.5.2030", "date_future"), ("1.1.1800", "date_year"), ("", "date_format"),
    ("13.13.", "date_invalid"),
])
def test_bad_dates(text, reason):
    with pytest.raises(InputError) as error:
        parse_day_of_year(text, TODAY)
    assert error.value.reason == reason
