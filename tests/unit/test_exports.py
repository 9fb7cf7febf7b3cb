"""The CSV files of /export, without a database: what to export and for when, and the file
itself (byte order mark, separator, German decimals and dates, quoting, erased customers)."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from babel.numbers import format_decimal

from domain import exports
from domain.exports import CUSTOMERS, POINTS, PURCHASES, ExportError
from domain.rules.nps import PeriodError

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 12, 5, 14, 15, tzinfo=timezone.utc)
WORDS = {"yes": "ja", "no": "nein", "source:counter": "Kasse", "reason:purchase": "Einkauf"}


def purchase(**changes) -> dict:
    row = {"id": 17, "external_ref": "1001", "created_at": datetime(2026, 12, 24, 13, 30, tzinfo=timezone.utc),
           "amount_cents": 1250, "category": "Kaffee", "customer_id": 3, "first_name": "Jürgen",
           "last_name": "Müßig", "source": "counter", "reversed_at": None, "reversal_reason": None, "erased_at": None}
    return row | changes


def customer(**changes) -> dict:
    row = {"id": 3, "external_ref": "1001", "code": "K7QX2M", "first_name": "Jürgen", "last_name": "Müßig",
           "phone": "+4915112345678", "birthday_day": 3, "birthday_month": 5, "birthday_year": 1985,
           "telegram_user_id": 4711, "created_at": datetime(2026, 1, 31, 23, 30, tzinfo=timezone.utc),
           "marketing_consent": True, "purchase_count": 2, "revenue_cents": 123450,
           "first_purchase_at": datetime(2026, 2, 1, 9, 0, tzinfo=timezone.utc),
           "last_purchase_at": datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc), "points": 1234, "erased_at": None}
    return row | changes


def points_entry(**changes) -> dict:
    row = {"id": 9, "created_at": datetime(2026, 6, 30, 22, 5, tzinfo=timezone.utc), "customer_id": 3,
           "external_ref": "1001", "first_name": "Jürgen", "last_name": "Müßig", "amount": -150, "reason": "purchase",
           "purchase_id": 17, "expires_at": None, "erased_at": None}
    return row | changes


def written(kind: str, rows: list[dict]) -> tuple[bytes, int]:
    buffer = io.BytesIO()
    out = io.TextIOWrapper(buffer, encoding="utf-8", newline="")
    count = exports.write_csv(out, kind, rows, BERLIN, WORDS)
    out.flush()
    return buffer.getvalue(), count


def parsed(data: bytes) -> list[list[str]]:
    """The file as Excel (and Python's csv module) reads it."""
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))


# --- the file -------------------------------------------------------------------------------------


def test_the_file_starts_with_the_byte_order_mark_and_a_header_separated_by_semicolons():
    data, count = written(PURCHASES, [purchase()])
    assert data.startswith("\ufeff".encode("utf-8")) and data.startswith(b"\xef\xbb\xbf")
    assert count == 1
    lines = data.decode("utf-8-sig").split("\r\n")
    assert lines[0] == ("einkauf_nr;kundennummer;datum;uhrzeit;betrag;kategorie;kunden_id;vorname;nachname;quelle;"
                        "storniert_am;storno_grund")
    # 13:30 UTC on 24 December is 14:30 in Berlin; the amount with a decimal comma
    assert lines[1] == "17;1001;24.12.2026;14:30;12,50;Kaffee;3;Jürgen;Müßig;Kasse;;"
    assert lines[2] == ""  # the file ends with a line break


def test_an_empty_export_is_the_header_alone():
    data, count = written(POINTS, [])
    assert count == 0 and parsed(data) == [list(exports.HEADERS[POINTS])]


@pytest.mark.parametrize("name", ['Anna; Berg', 'Der "Chef"', "Zeile eins\nZeile zwei", 'a;"b"\r\nc', "Ünïcödé 🎉"])
def test_names_with_separators_quotes_and_line_breaks_come_back_unchanged(name):
    data, _ = written(PURCHASES, [purchase(first_name=name, category=name)])
    (header, row) = parsed(data)
    assert row[header.index("vorname")] == name and row[header.index("kategorie")] == name


def test_a_name_quoted_by_the_csv_rules():
    data, _ = written(PURCHASES, [purchase(first_name='Der "Chef"', last_name="Berg; Söhne")])
    assert ';"Der ""Chef""";"Berg; Söhne";' in data.decode("utf-8-sig")


@pytest.mark.parametrize("name", ["=HYPERLINK(\"http://x\")", "+49", "-1", "@SUMME(A1)"])
def test_a_name_that_looks_like_a_formula_is_kept_as_text(name):
    data, _ = written(PURCHASES, [purchase(first_name=name)])
    (header, row) = parsed(data)
    assert row[header.index("vorname")] == "'" + name


def test_customers_with_german_decimals_dates_and_words():
    data, _ = written(CUSTOMERS, [customer(), customer(id=4, birthday_year=None, marketing_consent=False,
                                                       telegram_user_id=None, revenue_cents=-5, points=0,
                                                       first_purchase_at=None, last_purchase_at=None)])
    header, first, second = parsed(data)
    row = dict(zip(header, first))
    # 31 Jan 23:30 UTC is already 1 February in Berlin
    assert row == {"kunden_id": "3", "kundennummer": "1001", "code": "K7QX2M", "vorname": "Jürgen",
                   "nachname": "Müßig", "telefon": "'+4915112345678", "geburtstag": "03.05.1985",
                   "telegram_id": "4711", "angemeldet_am": "01.02.2026", "werbung": "ja", "einkaeufe": "2",
                   "umsatz": "1234,50", "erster_einkauf": "01.02.2026", "letzter_einkauf": "01.12.2026",
                   "punkte": "1234", "geloescht_am": ""}
    row = dict(zip(header, second))
    assert (row["geburtstag"], row["werbung"], row["telegram_id"], row["umsatz"], row["erster_einkauf"]) == (
        "03.05.", "nein", "", "-0,05", "")


def test_erased_customers_keep_their_figures_and_nothing_that_names_them():
    erased = datetime(2026, 11, 2, 8, 0, tzinfo=timezone.utc)
    data, _ = written(CUSTOMERS, [customer(erased_at=erased)])  # even if a row still held them
    header, row = parsed(data)
    row = dict(zip(header, row))
    for column in ("kundennummer", "code", "vorname", "nachname", "telefon", "geburtstag", "telegram_id"):
        assert row[column] == "", column
    assert (row["kunden_id"], row["umsatz"], row["einkaeufe"], row["punkte"], row["geloescht_am"]) == (
        "3", "1234,50", "2", "1234", "02.11.2026")

    data, _ = written(PURCHASES, [purchase(erased_at=erased, reversed_at=erased, reversal_reason="Jürgen zahlte bar")])
    header, row = parsed(data)
    row = dict(zip(header, row))
    assert (row["kundennummer"], row["vorname"], row["nachname"], row["storno_grund"]) == ("", "", "", "")
    assert (row["betrag"], row["kunden_id"], row["storniert_am"]) == ("12,50", "3", "02.11.2026")

    data, _ = written(POINTS, [points_entry(erased_at=erased)])
    header, row = parsed(data)
    row = dict(zip(header, row))
    assert (row["kundennummer"], row["vorname"], row["nachname"]) == ("", "", "")
    assert (row["punkte"], row["grund"], row["einkauf_nr"], row["datum"], row["uhrzeit"]) == (
        "-150", "Einkauf", "17", "01.07.2026", "00:05")


def test_a_word_without_a_translation_is_written_as_its_key():
    data, _ = written(POINTS, [points_entry(reason="gift")])
    header, row = parsed(data)
    assert row[header.index("grund")] == "gift"


# --- cells ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("cents", [0, 5, 99, 100, 1250, 123450, 100000000, -450, -5])
def test_money_is_written_as_babel_writes_it_for_germany_without_thousands_separators(cents):
    assert exports.money(cents) == format_decimal(Decimal(cents) / 100, format="0.00", locale="de_DE")


def test_days_are_those_of_the_shop():
    assert exports.day(datetime(2026, 3, 28, 23, 30, tzinfo=timezone.utc), BERLIN) == "29.03.2026"
    assert exports.day(date(2026, 5, 3), BERLIN) == "03.05.2026"
    assert exports.day(None, BERLIN) == ""
    assert exports.clock_time(datetime(2026, 7, 1, 6, 7, tzinfo=timezone.utc), BERLIN) == "08:07"  # summer time


# --- what to export, and for when ------------------------------------------------------------------


@pytest.mark.parametrize("typed, kind", [("kunden", CUSTOMERS), ("Customers", CUSTOMERS), ("einkaeufe", PURCHASES),
                                         ("Einkäufe", PURCHASES), ("purchases", PURCHASES), ("punkte", POINTS),
                                         ("points", POINTS)])
def test_the_kind_in_german_and_english(typed, kind):
    assert exports.parse_request(typed, NOW, BERLIN).kind == kind


def test_customers_default_to_everyone_purchases_and_points_to_the_last_30_days():
    assert exports.parse_request("kunden", NOW, BERLIN).period is None
    for kind in ("einkaeufe", "punkte"):
        period = exports.parse_request(kind, NOW, BERLIN).period
        assert (period.start, period.end) == (NOW - timedelta(days=30), NOW)


def test_periods_as_nps_reads_them():
    period = exports.parse_request("einkaeufe oktober 2026", NOW, BERLIN).period
    assert period.start == datetime(2026, 9, 30, 22, 0, tzinfo=timezone.utc)
    assert period.end == datetime(2026, 10, 31, 23, 0, tzinfo=timezone.utc)
    assert period.days(BERLIN) == (date(2026, 10, 1), date(2026, 10, 31))
    assert exports.file_name(exports.Request(PURCHASES, period), NOW, BERLIN) == "einkaeufe_2026-10-01_2026-10-31.csv"
    period = exports.parse_request("kunden letzte woche", NOW, BERLIN).period
    assert period.days(BERLIN) == (date(2026, 11, 23), date(2026, 11, 29))
    assert exports.parse_request("punkte 14", NOW, BERLIN).period.start == NOW - timedelta(days=14)
    assert exports.file_name(exports.Request(CUSTOMERS, None), NOW, BERLIN) == "kunden_2026-12-05.csv"


@pytest.mark.parametrize("typed, reason", [("", "kind_missing"), ("   ", "kind_missing"), ("rechnungen", "unknown_kind")])
def test_what_is_no_export(typed, reason):
    with pytest.raises(ExportError) as refused:
        exports.parse_request(typed, NOW, BERLIN)
    assert refused.value.reason == reason


@pytest.mark.parametrize("typed, reason", [("einkaeufe gestern vielleicht", "period_format"),
                                           ("punkte 5000", "period_days"), ("kunden 2027", "period_future")])
def test_a_period_it_cannot_read(typed, reason):
    with pytest.raises(PeriodError) as refused:
        exports.parse_request(typed, NOW, BERLIN)
    assert refused.value.reason == reason
