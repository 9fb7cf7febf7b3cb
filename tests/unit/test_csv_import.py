"""Reading customer and purchase CSV files: encodings, delimiters, header names, German
numbers and dates, and bad rows reported with the line numbers an editor shows."""

import codecs
import random
from datetime import date, datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from bot.handlers.imports import file_error_text, plain, report_text
from bot.texts import Texts, Voice
from domain import imports
from domain.imports import FileError, ImportReport, RowProblem
from domain.rules.parsing import DayOfYear

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 22, 9, 30, tzinfo=timezone.utc)
TODAY = date(2026, 11, 22)
CUSTOMERS = "kundennummer;vorname;nachname;telefon;geburtstag;punkte\n"
PURCHASES = "kundennummer;datum;betrag;kategorie;beleg\n"


def customers(text: str, encoding: str = "utf-8") -> imports.ParsedFile:
    return imports.read_customers(text.encode(encoding), TODAY)


def purchases(text: str) -> imports.ParsedFile:
    return imports.read_purchases(text.encode(), BERLIN, NOW)


def problems(parsed) -> list[tuple[int, str, str]]:
    return [(p.line, p.column, p.reason) for p in parsed.problems]


def file_error(data: bytes, kind: str = imports.CUSTOMERS) -> FileError:
    with pytest.raises(FileError) as raised:
        imports.read_table(data, kind)
    return raised.value


# --- encodings and delimiters ---------------------------------------------------------------


@pytest.mark.parametrize("encode", [
    lambda text: text.encode("utf-8"),
    lambda text: codecs.BOM_UTF8 + text.encode("utf-8"),  # Excel's "CSV UTF-8"
    lambda text: text.encode("cp1252"),  # Excel's classic "CSV (Trennzeichen-getrennt)"
    lambda text: text.encode("utf-16"),  # with BOM
], ids=["utf-8", "utf-8-bom", "cp1252", "utf-16"])
def test_umlauts_survive_every_encoding(encode):
    parsed = imports.read_customers(encode(CUSTOMERS + "1001;Jürgen;Müßig;;;\n"), TODAY)
    assert problems(parsed) == []
    [record] = parsed.records
    assert (record.number, record.first_name, record.last_name) == ("1001", "Jürgen", "Müßig")


def test_utf8_is_preferred_over_cp1252():
    # "Ã¼" would be the cp1252 reading of the UTF-8 bytes of "ü".
    [record] = customers(CUSTOMERS + "1;Jürgen;;;;\n").records
    assert record.first_name == "Jürgen"


@pytest.mark.parametrize("delimiter", [";", ",", "\t"])
def test_delimiter_is_detected_from_the_header(delimiter):
    text = delimiter.join(["Kundennummer", "Vorname", "Nachname"]) + "\n" + delimiter.join(["7", "Anna", "Berg"]) + "\n"
    [record] = customers(text).records
    assert (record.number, record.first_name, record.last_name) == ("7", "Anna", "Berg")


def test_excel_separator_hint_line_is_honoured_and_counted():
    parsed = customers("sep=,\nkundennummer,vorname,telefon\n1,Anna,0151 12345678\n2,Ben,0815\n")
    assert [r.first_name for r in parsed.records] == ["Anna"]
    assert problems(parsed) == [(4, "telefon", "phone_invalid")]


def test_quoted_fields_keep_delimiters_and_line_breaks():
    parsed = customers('kundennummer;vorname;nachname\n1;"Anna; die Erste";"von\nBerg"\n2;Ben;\n3;;x\n')
    assert [r.first_name for r in parsed.records] == ["Anna; die Erste", "Ben"]
    assert parsed.records[0].last_name == "von Berg"  # whitespace, line breaks too, collapse to one space
    assert problems(parsed) == [(5, "vorname", "missing")]  # the quoted line break counts as a line


# --- header names ----------------------------------------------------------------------------


@pytest.mark.parametrize("header", [
    "Kundennummer;Vorname;Nachname;Telefon;Geburtstag;Punkte",
    "Kunden-Nr.;VORNAME;Name;Handy;Geburtsdatum;Punktestand",
    "customer_number;first_name;last_name;phone;birthday;points",
    "  Nr ; Vorname ; Familienname ; Mobil ; Geburtstag ; Start-Punkte ",
])
def test_header_names_are_case_insensitive_with_german_and_english_aliases(header):
    [record] = customers(header + "\nK-1;Anna;Berg;0151 12345678;03.05.1985;250\n").records
    assert record == imports.CustomerRecord(2, "K-1", "Anna", "Berg", "+4915112345678", DayOfYear(3, 5, 1985), 250)


def test_unknown_columns_are_ignored_and_named():
    parsed = customers("Kundennummer;E-Mail;Vorname;Notiz;;\n1;a@b.de;Anna;VIP;;\n")
    assert parsed.ignored_columns == ("E-Mail", "Notiz")
    assert parsed.records[0].first_name == "Anna"


def test_missing_required_column_names_it_and_the_expected_header():
    error = file_error(b"Kundennummer;Nachname\n1;Berg\n")
    assert error.reason == "missing_columns"
    assert error.params["columns"] == ("vorname",)
    assert error.params["expected"] == "kundennummer;vorname;nachname;telefon;geburtstag;punkte"
    assert file_error(b"datum;betrag\n1.1.2026;3\n", imports.PURCHASES).params["columns"] == ("kundennummer",)


def test_a_column_given_twice_is_refused():
    error = file_error(b"kundennummer;vorname;nachname;name\n1;A;B;C\n")
    assert (error.reason, error.params) == ("duplicate_column", {"column": "name"})


def test_kind_is_detected_from_the_header():
    assert imports.detect_kind(b"Kundennummer;Vorname\n1;A\n") == imports.CUSTOMERS
    assert imports.detect_kind(codecs.BOM_UTF8 + b"Kundennr,Datum,Betrag\n1,1.1.2026,3\n") == imports.PURCHASES
    assert imports.detect_kind(b"Artikel;Preis\nKaffee;3\n") is None


def test_a_file_of_the_other_kind_is_named_as_such():
    error = file_error(PURCHASES.encode() + b"1;1.1.2026;3;;\n", imports.CUSTOMERS)
    assert (error.reason, error.params) == ("wrong_kind", {"expected": "customers", "found": "purchases"})


# --- values ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("03.05.1985", DayOfYear(3, 5, 1985)),
    ("03.05.", DayOfYear(3, 5, None)),
    ("3.5.", DayOfYear(3, 5, None)),
    ("3.5", DayOfYear(3, 5, None)),
    ("29.02.", DayOfYear(29, 2, None)),
    ("1985-05-03", DayOfYear(3, 5, 1985)),
])
def test_birthdays(text, expected):
    [record] = customers(CUSTOMERS + f"1;Anna;;;{text};\n").records
    assert record.birthday == expected


@pytest.mark.parametrize("text", ["31.02.1985", "32.1.", "3.13.", "morgen", "am 3. Mai", "03.05.2030", "1.1.1800"])
def test_bad_birthdays_are_row_errors(text):
    parsed = customers(CUSTOMERS + f"1;Anna;;;{text};\n")
    assert parsed.records == ()
    assert [(p.line, p.reason, p.value) for p in parsed.problems] == [(2, "birthday_invalid", text)]


@pytest.mark.parametrize(("text", "expected"), [
    ("0151 12345678", "+4915112345678"),
    ("+49 (151) 1234-5678", "+4915112345678"),
    ("0049 151 12345678", "+4915112345678"),
    ("030 1234567", "+49301234567"),
    ("+43 664 1234567", "+436641234567"),
])
def test_phone_numbers_are_stored_in_e164(text, expected):
    assert customers(CUSTOMERS + f"1;Anna;;{text};;\n").records[0].phone == expected


@pytest.mark.parametrize("text", ["0815", "1.5112345678E+10", "keine", "+49 151"])
def test_bad_phone_numbers_are_row_errors(text):
    assert problems(customers(CUSTOMERS + f"1;Anna;;{text};;\n")) == [(2, "telefon", "phone_invalid")]


@pytest.mark.parametrize(("text", "points"), [("", 0), ("0", 0), ("250", 250), ("1.250", 1250)])
def test_opening_points(text, points):
    assert customers(CUSTOMERS + f"1;Anna;;;;{text}\n").records[0].points == points


@pytest.mark.parametrize("text", ["-5", "12,5", "zehn", "1.25", "2000000"])
def test_bad_opening_points_are_row_errors(text):
    assert problems(customers(CUSTOMERS + f"1;Anna;;;;{text}\n")) == [(2, "punkte", "points_invalid")]


@pytest.mark.parametrize(("text", "utc"), [
    ("24.12.2025", datetime(2025, 12, 23, 23, 0, tzinfo=timezone.utc)),  # winter: UTC+1
    ("24.12.2025 14:30", datetime(2025, 12, 24, 13, 30, tzinfo=timezone.utc)),
    ("01.07.2025 12:00", datetime(2025, 7, 1, 10, 0, tzinfo=timezone.utc)),  # summer: UTC+2
    ("1.7.25 12:00:30", datetime(2025, 7, 1, 10, 0, 30, tzinfo=timezone.utc)),
    ("2025-07-01 12:00", datetime(2025, 7, 1, 10, 0, tzinfo=timezone.utc)),
])
def test_purchase_dates_are_shop_time_stored_as_utc(text, utc):
    [record] = purchases(PURCHASES + f"1;{text};4,50;;\n").records
    assert record.at == utc


@pytest.mark.parametrize(("text", "reason"), [
    ("30.02.2025", "date_invalid"), ("24.12.", "date_invalid"), ("gestern", "date_invalid"),
    ("24.12.2025 25:00", "date_invalid"), ("23.11.2026", "date_future"), ("22.11.2026 11:00", "date_future"),
])
def test_bad_purchase_dates_are_row_errors(text, reason):
    assert problems(purchases(PURCHASES + f"1;{text};4,50;;\n")) == [(2, "datum", reason)]


def test_a_purchase_earlier_today_is_fine():
    assert purchases(PURCHASES + "1;22.11.2026 10:29;4,50;;\n").records[0].at == datetime(2026, 11, 22, 9, 29,
                                                                                             tzinfo=timezone.utc)


@pytest.mark.parametrize(("text", "amount"), [
    ("4,50", Decimal("4.50")), ("1.234,50", Decimal("1234.50")), ("12", Decimal("12.00")),
    ("4.50", Decimal("4.50")), ("3,20 €", Decimal("3.20")),
])
def test_german_amounts(text, amount):
    assert purchases(PURCHASES + f'1;24.12.2025;"{text}";;\n').records[0].amount == amount


@pytest.mark.parametrize(("text", "reason"), [
    ("0", "amount_invalid"), ("-3,00", "amount_invalid"), ("4,505", "amount_invalid"), ("vier", "amount_invalid"),
    ("2.000.000,00", "amount_too_large"),
])
def test_bad_amounts_are_row_errors(text, reason):
    assert problems(purchases(PURCHASES + f"1;24.12.2025;{text};;\n")) == [(2, "betrag", reason)]


def test_category_longer_than_40_characters_is_a_row_error():
    parsed = purchases(PURCHASES + f"1;24.12.2025;4,50;{'x' * 41};\n2;24.12.2025;4,50;{'y' * 40};\n")
    assert problems(parsed) == [(2, "kategorie", "too_long")]
    assert parsed.records[0].category == "y" * 40


# --- bad rows and their line numbers ---------------------------------------------------------------


def test_every_bad_value_is_reported_with_its_line_the_good_rows_still_parse():
    text = (CUSTOMERS
            + "1;Anna;Berg;0151 12345678;03.05.1985;10\n"   # line 2
            + "\n"                                            # line 3: blank, skipped
            + ";Ben;;;;\n"                                    # line 4: no number
            + "3;;;0815;;x\n"                                 # line 5: three problems
            + "1;Anna2;;;;\n"                                 # line 6: number used twice
            + ";;;;;\n")                                      # line 7: an empty row, skipped
    parsed = customers(text)
    assert [r.number for r in parsed.records] == ["1"]
    assert problems(parsed) == [
        (4, "kundennummer", "missing"),
        (5, "vorname", "missing"), (5, "telefon", "phone_invalid"), (5, "punkte", "points_invalid"),
        (6, "kundennummer", "duplicate"),
    ]
    assert parsed.rows == 4  # blank and empty lines are no rows


def test_an_unquoted_decimal_comma_in_a_comma_file_is_caught_not_misread():
    parsed = purchases("kundennummer,datum,betrag\n1,24.12.2025,4,50\n2,24.12.2025,\"4,50\"\n")
    assert problems(parsed) == [(2, "", "too_many_fields")]
    assert [r.amount for r in parsed.records] == [Decimal("4.50")]


def test_purchase_keys_use_the_receipt_or_count_identical_rows():
    parsed = purchases(PURCHASES + "K1;24.12.2025 14:30;4,50;Kaffee;B-7\n"
                       + "K1;24.12.2025 14:30;4,50;Kaffee;\n" + "K1;24.12.2025 14:30;4,50;Kaffee;\n"
                       + "K2;24.12.2025 14:30;4,50;Kaffee;\n")
    keys = [r.key for r in parsed.records]
    assert keys[0] == "import:K1:B-7"
    assert keys[1].startswith("import:K1:") and keys[1].endswith(":1")
    assert keys[2] == keys[1][:-1] + "2"  # two coffees at once are two purchases
    assert keys[3] == keys[1].replace("K1", "K2")
    assert len(keys[1].split(":")[2]) == 40  # sha1 of date|amount|category


def test_a_receipt_number_twice_for_one_customer_is_a_row_error():
    parsed = purchases(PURCHASES + "1;24.12.2025;4,50;;B1\n2;24.12.2025;4,50;;B1\n1;25.12.2025;3,00;;B1\n")
    assert problems(parsed) == [(4, "beleg", "duplicate")]


# --- files that cannot be read -----------------------------------------------------------------


@pytest.mark.parametrize(("data", "reason"), [
    (b"", "empty"),
    (b" \r\n\n ", "empty"),
    (codecs.BOM_UTF8, "empty"),
    (b"kundennummer;vorname\n", "no_rows"),
    (b"kundennummer;vorname\n\n;\n", "no_rows"),
    (random.Random(7).randbytes(4000), "not_text"),
    (b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00" * 20, "not_text"),  # an .xlsx file renamed
    (b"kundennummer;vorname\n1;Anna\n2;\"Ben\n3;Carl\n", "malformed"),
    (b"kundennummer;vorname\n1;\"Anna\"x\n", "malformed"),
])
def test_unreadable_files_are_file_errors_never_exceptions(data, reason):
    assert file_error(data).reason == reason


def test_an_unbalanced_quote_names_the_line_where_it_opens():
    assert file_error(b"kundennummer;vorname\n1;Anna\n\n2;\"Ben\n3;Carl\n").params == {"line": 4}


def test_files_over_the_limits_are_refused():
    assert file_error(b"x" * (imports.MAX_BYTES + 1)).params == {"max_mb": 10}
    many = "kundennummer;vorname\n" + "".join(f"{i};A\n" for i in range(imports.MAX_ROWS + 1))
    error = file_error(many.encode())
    assert (error.reason, error.params) == ("too_many_rows", {"max_rows": 100_000})


def test_a_file_of_the_maximum_size_is_read():
    text = "kundennummer;vorname\n" + "".join(f"{i};A\n" for i in range(imports.MAX_ROWS))
    assert imports.read_customers(text.encode(), TODAY).rows == imports.MAX_ROWS


def test_a_headerless_file_is_not_guessed():
    assert imports.detect_kind(b"1001;Anna;Berg\n") is None
    error = file_error(b"1001;Anna;Berg\n", kind=None)
    assert error.reason == "unknown_kind" and error.params["customers"].startswith("kundennummer;vorname")


# --- the report as people read it --------------------------------------------------------------


@pytest.fixture(scope="module")
def texts():
    return Texts("Kaffeehaus Morgenrot")


def test_report_names_lines_and_escapes_values(texts):
    report = ImportReport(kind="customers", rows=3, dry_run=True, created=2, points=120,
                          problems=(RowProblem(3, "Telefon", "phone_invalid", "<b>0815</b>"),
                                    RowProblem(3, "Punkte", "points_invalid", "x"),
                                    RowProblem(4, "", "too_many_fields", "7")),
                          ignored_columns=("E-Mail",))
    text = report_text(texts, Voice("de"), report)
    assert "Probelauf: Kundendatei" in text and "Neue Kunden: 2" in text and "120 Punkte" in text
    assert "Zeile 3, Telefon: keine gültige Telefonnummer („&lt;b&gt;0815&lt;/b&gt;“)" in text
    assert "Zeile 4: mehr Felder als Spalten" in text
    assert "Fehlerhafte Zeilen: 2 –" in plain(text)  # two problems in line 3 are one bad row
    assert "Nicht verwendete Spalten: E-Mail" in text
    assert "korrigieren Sie" in report_text(texts, Voice("de", formal=True), report)


def test_report_shows_the_first_problems_and_counts_the_rest(texts):
    report = ImportReport(kind="purchases", rows=30, dry_run=True,
                          problems=tuple(RowProblem(line, "betrag", "amount_invalid", "x") for line in range(2, 32)))
    text = plain(report_text(texts, Voice("en"), report))
    assert "Line 21, betrag" in text and "Line 22," not in text and "… and 10 more" in text
    assert "Bad rows: 30 – so nothing is imported" in text


def test_line_numbers_have_no_thousands_separator(texts):
    report = ImportReport(kind="purchases", rows=2000, dry_run=True,
                          problems=(RowProblem(1234, "datum", "date_future", "1.1.2030"),))
    assert "Zeile 1234, datum" in report_text(texts, Voice("de"), report)


def test_file_errors_are_explained(texts):
    error = FileError("missing_columns", columns=("vorname", "kundennummer"), expected="kundennummer;vorname")
    text = file_error_text(texts, Voice("de"), error)
    assert "„vorname“, „kundennummer“" in text and "<code>kundennummer;vorname</code>" in text
    wrong = file_error_text(texts, Voice("en"), FileError("wrong_kind", expected="customers", found="purchases"))
    assert wrong == "This is a purchases file, not a customers file."
