"""Properties of the CSV import (``domain.imports``): any bytes - malformed CSV, random bytes,
other encodings, a BOM, other delimiters, huge fields - give a parsed file (rows and problems)
or a ``FileError``, never another exception; a well-formed file reads back what was written."""

from __future__ import annotations

import codecs
import csv
import io
from datetime import date, datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import example, given
from hypothesis import strategies as st

from domain.imports import (CUSTOMERS, MAX_LENGTH, PURCHASES, FileError, ParsedFile, decode, detect_kind, read_file,
                            read_table)

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=timezone.utc)
BERLIN = ZoneInfo("Europe/Berlin")
FILE_REASONS = {"too_large", "too_many_rows", "empty", "no_rows", "not_text", "malformed", "missing_columns",
                "duplicate_column", "unknown_kind", "wrong_kind"}
ROW_REASONS = {"missing", "too_long", "duplicate", "too_many_fields", "phone_invalid", "birthday_invalid",
               "points_invalid", "date_invalid", "date_future", "amount_invalid", "amount_too_large"}

headers = st.sampled_from([
    ["kundennummer", "vorname", "nachname", "telefon", "geburtstag", "punkte"],
    ["Kunden-Nr.", "Vorname", "Name", "Handy", "Geburtsdatum", "Punktestand"],
    ["kundennummer", "datum", "betrag", "kategorie", "beleg"],
    ["Customer ID", "Date", "Amount", "Category", "Receipt"],
    ["kundennummer", "vorname", "vorname"], ["nr", "datum"], ["a", "b", "c"], [""], ["kundennummer", "Betrag"],
])
cells = st.one_of(
    st.sampled_from(["K-1", "1001", "Anna", "Müller", "0151 12345678", "+49 30 1234567", "03.05.1985", "3.5.",
                     "1985-05-03", "250", "1.250", "24.12.2025", "24.12.2025 14:30", "2025-12-24 14:30", "4,50",
                     "1.234,50", "4.50", "Kaffee", "B-42", "", " ", "-5", "31.02.2025", "01.01.2099", "9" * 400]),
    st.text(max_size=20),
    st.builds(lambda piece, count: piece * count, st.sampled_from(["x", '"', "9", "\n", ";"]),
              st.integers(100, 140_000)),  # csv refuses a field over 128 KB
)
delimiters = st.sampled_from([";", ",", "\t", "|"])
encodings = st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16", "latin-1", "utf-16-le"])


def _csv(header: list[str], rows: list[list[str]], delimiter: str, sep_line: bool) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return (f"sep={delimiter}\r\n" if sep_line else "") + out.getvalue()


def _encoded(text: str, encoding: str) -> bytes:
    return text.encode(encoding, errors="replace")


csv_files = st.builds(_encoded, st.builds(_csv, headers, st.lists(st.lists(cells, max_size=7), max_size=6),
                                          delimiters, st.booleans()), encodings)
mangled = st.builds(lambda data, cut, junk: data[:cut] + junk + data[cut:], csv_files, st.integers(0, 200),
                    st.binary(max_size=8) | st.sampled_from([b'"', b"\x00", b"\r", b"\xff\xfe", b"\xef\xbb\xbf",
                                                             b"\x1a", b"\n\n", b";;;;"]))
any_bytes = st.one_of(csv_files, mangled, st.binary(max_size=300),
                      st.sampled_from([codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE + b"\x00",
                                       b"sep=", b'sep="\n"a"', b"sep=\n", b"\x1a\x1a", b"PK\x03\x04" + b"\x00" * 50]))


def _check(parsed: ParsedFile) -> None:
    assert parsed.kind in (CUSTOMERS, PURCHASES)
    assert parsed.rows >= len(parsed.records)
    for problem in parsed.problems:
        assert problem.reason in ROW_REASONS and problem.line >= 2
        assert len(problem.value) <= 40


@given(any_bytes, st.sampled_from([None, CUSTOMERS, PURCHASES]))
@example(b'sep="\nvorname;kundennummer\na;b\n', None)
@example(b"kundennummer;vorname\r\n1;" + b"x" * 200_000, None)
@example(b"kundennummer;vorname\n1;\"Anna", None)
@example(b"\xff\xfek\x00", None)
@example(b"kundennummer;datum;betrag\n1;31.12.9999 23:59;4,50\n", None)
@example(b"kundennummer;vorname;punkte\n1;Anna;" + b"9" * 5000 + b"\n", None)
def test_a_parsed_file_or_a_refusal(data, kind):
    for zone in (BERLIN, ZoneInfo("Pacific/Pago_Pago")):
        try:
            parsed = read_file(data, zone, NOW, kind)
        except FileError as error:
            assert error.reason in FILE_REASONS
            continue
        _check(parsed)
    try:
        detect_kind(data)
        read_table(data)
    except FileError:
        pass


@given(any_bytes)
def test_decoded_text_or_a_refusal(data):
    try:
        text = decode(data)
    except FileError as error:
        assert error.reason in {"too_large", "not_text", "empty"}
        return
    assert text.strip() and not text.startswith("\ufeff")


customers_rows = st.lists(st.tuples(
    st.from_regex(r"[A-Z]{1,3}-[0-9]{1,6}", fullmatch=True),
    st.text(st.characters(categories=("L",)), min_size=1, max_size=20),
    st.dates(min_value=date(1920, 1, 1), max_value=date(2010, 12, 31)),
    st.integers(0, 1_000_000),
), min_size=1, max_size=8, unique_by=lambda row: row[0])


@given(customers_rows, st.sampled_from([";", ",", "\t"]), st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]))
def test_a_customers_file_reads_back(rows, delimiter, encoding):
    text = _csv(["Kundennummer", "Vorname", "Geburtstag", "Punkte"],
                [[number, name, day.strftime("%d.%m.%Y"), str(points)] for number, name, day, points in rows],
                delimiter, False)
    parsed = read_file(text.encode(encoding), BERLIN, NOW)
    assert parsed.kind == CUSTOMERS and not parsed.problems
    assert [(r.number, r.first_name, (r.birthday.day, r.birthday.month, r.birthday.year), r.points)
            for r in parsed.records] == [(number, " ".join(name.split()), (day.day, day.month, day.year), points)
                                         for number, name, day, points in rows]
    assert all(len(r.first_name) <= MAX_LENGTH["first_name"] for r in parsed.records)


@given(st.lists(st.tuples(st.integers(1, 99_999), st.integers(1, 10**8),
                          st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2026, 11, 20))),
                min_size=1, max_size=8), st.sampled_from(["cp1252", "utf-8"]))
def test_a_purchases_file_reads_back(rows, encoding):
    text = _csv(["kundennummer", "datum", "betrag", "beleg"],
                [[str(number), at.strftime("%d.%m.%Y %H:%M"), f"{cents // 100},{cents % 100:02d}", f"B{i}"]
                 for i, (number, cents, at) in enumerate(rows)], ";", False)
    parsed = read_file(text.encode(encoding), BERLIN, NOW)
    assert not parsed.problems
    assert [(r.number, r.amount, r.local_time) for r in parsed.records] == [
        (str(number), Decimal(cents) / 100, at.replace(second=0, microsecond=0)) for number, cents, at in rows]
