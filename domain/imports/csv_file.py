"""Reading an import's CSV file, without I/O (bytes in, rows out): the encoding, the delimiter,
the header's columns (German and English names, as shops' programs write them) and the kind of
file it is. Values stay text here; ``fields`` reads them.

Line numbers are those a text editor shows (the header is line 1); a quoted cell may span lines.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from domain.rules.errors import Refusal

MAX_BYTES = 10 * 1024 * 1024
MAX_MEGABYTES = MAX_BYTES // (1024 * 1024)
MAX_ROWS = 100_000
CUSTOMERS, PURCHASES = "customers", "purchases"
KINDS = (CUSTOMERS, PURCHASES)


# --- what can go wrong ------------------------------------------------------------------------


class FileError(Refusal):
    """The file as a whole cannot be read; ``reason`` names why (for the texts), ``params``
    fill the text: too_large, too_many_rows, empty, no_rows, not_text, malformed (line),
    missing_columns (columns, expected), duplicate_column (column), unknown_kind,
    wrong_kind (expected, found), changed."""

    def __init__(self, reason: str, **params: Any):
        super().__init__(reason, **params)


@dataclass(frozen=True)
class RowProblem:
    """One bad value: its line in the file, the column as the file names it, why, and what.
    Reasons: missing, too_long, duplicate, too_many_fields, phone_invalid, birthday_invalid,
    points_invalid, date_invalid, date_future, amount_invalid, amount_too_large,
    unknown_customer."""

    line: int
    column: str
    reason: str
    value: str = ""



# --- columns ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    field: str
    name: str  # the German header the documentation shows
    required: bool
    aliases: tuple[str, ...]  # normalized header names (see _normalized)


_CUSTOMER_NUMBER = Column("customer_number", "kundennummer", True, (
    "kundennummer", "kundennr", "kdnr", "nr", "nummer", "kundenid", "customernumber", "customerno", "customerid"))
CUSTOMER_COLUMNS = (
    _CUSTOMER_NUMBER,
    Column("first_name", "vorname", True, ("vorname", "firstname", "givenname")),
    Column("last_name", "nachname", False, ("nachname", "name", "familienname", "lastname", "surname")),
    Column("phone", "telefon", False, ("telefon", "telefonnummer", "tel", "handy", "handynummer", "mobil",
                                       "mobilnummer", "phone", "phonenumber", "mobile")),
    Column("birthday", "geburtstag", False, ("geburtstag", "geburtsdatum", "birthday", "birthdate", "dateofbirth")),
    Column("points", "punkte", False, ("punkte", "punktestand", "startpunkte", "points", "balance", "openingbalance")),
)
PURCHASE_COLUMNS = (
    _CUSTOMER_NUMBER,
    Column("date", "datum", True, ("datum", "kaufdatum", "zeitpunkt", "date", "purchasedate")),
    Column("amount", "betrag", True, ("betrag", "umsatz", "summe", "amount", "total")),
    Column("category", "kategorie", False, ("kategorie", "warengruppe", "category")),
    Column("receipt", "beleg", False, ("beleg", "belegnummer", "belegnr", "bon", "bonnummer", "quittung",
                                       "receipt", "receiptnumber", "receiptno", "transaction", "transactionid")),
)
COLUMNS = {CUSTOMERS: CUSTOMER_COLUMNS, PURCHASES: PURCHASE_COLUMNS}


def expected_header(kind: str) -> str:
    return ";".join(column.name for column in COLUMNS[kind])


_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def _normalized(header: str) -> str:
    """"Kunden-Nr." -> "kundennr", "Telefon (mobil)" -> "telefonmobil", "E-Mail" -> "email"."""
    return re.sub(r"[^a-z0-9]", "", header.strip().lower().translate(_UMLAUTS))


def _column_for(header: str, columns: tuple[Column, ...]) -> Column | None:
    name = _normalized(header)
    return next((column for column in columns if name in column.aliases), None)


# --- reading the file ---------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SEP_LINE = re.compile(r"(?i)^sep=(.)\r?$")  # Excel's hint line: "sep=;"
DELIMITERS = (";", ",", "\t")


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM, as Excel's "CSV UTF-8" writes it), UTF-16 with BOM, else
    Windows-1252 (Excel's classic "CSV (Trennzeichen-getrennt)")."""
    if len(data) > MAX_BYTES:
        raise FileError("too_large", max_mb=MAX_MEGABYTES)
    try:
        if data.startswith(codecs.BOM_UTF8):
            text = data.decode("utf-8-sig")
        elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            text = data.decode("utf-16")
        else:
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                text = data.decode("cp1252")
    except UnicodeDecodeError:
        raise FileError("not_text") from None
    text = text.rstrip("\x1a")  # the end-of-file mark of old DOS programs
    if not text.strip():
        raise FileError("empty")
    if len(_CONTROL.findall(text)) > len(text) // 1000:  # binary, or a spreadsheet's own format
        raise FileError("not_text")
    return text


def _delimiter(header_line: str) -> str:
    counts = {delimiter: header_line.count(delimiter) for delimiter in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])  # ties keep the order: ";" first
    return best if counts[best] else ";"


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """(line where the record starts, its cells); a quoted cell may span several lines."""
    lines = text.splitlines()
    first = next((line for line in lines if line.strip()), "")
    hint = _SEP_LINE.match(lines[0]) if lines else None
    delimiter = hint.group(1) if hint else _delimiter(first)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    previous_end = 0
    if hint:
        next(reader)
        previous_end = reader.line_num
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error:  # an unbalanced quote, a field longer than 128 KB
            raise FileError("malformed", line=previous_end + 1) from None
        yield previous_end + 1, cells
        previous_end = reader.line_num


@dataclass(frozen=True)
class Row:
    line: int
    cells: dict[str, str]  # field -> text as in the file


@dataclass(frozen=True)
class Table:
    kind: str
    headers: dict[str, str]  # field -> the column's name as the file writes it
    rows: tuple[Row, ...]
    problems: tuple[RowProblem, ...]
    ignored_columns: tuple[str, ...]

    @property
    def row_count(self) -> int:
        return len(self.rows) + len(self.problems)


def _kind_of(header: list[str]) -> str | None:
    purchase_fields = {c.field for name in header if (c := _column_for(name, PURCHASE_COLUMNS))}
    customer_fields = {c.field for name in header if (c := _column_for(name, CUSTOMER_COLUMNS))}
    if {"date", "amount"} <= purchase_fields:
        return PURCHASES
    if "first_name" in customer_fields:
        return CUSTOMERS
    return None


def detect_kind(data: bytes) -> str | None:
    """"customers" or "purchases" from the header line; None when it is neither."""
    for _, header in _records(decode(data)):
        if any(cell.strip() for cell in header):
            return _kind_of(header)
    raise FileError("empty")


def _header_map(header: list[str], kind: str) -> tuple[dict[str, int], dict[str, str], tuple[str, ...]]:
    positions: dict[str, int] = {}
    names: dict[str, str] = {}
    ignored: list[str] = []
    for index, raw in enumerate(header):
        name = raw.strip().lstrip("\ufeff")
        if not name:
            continue
        column = _column_for(name, COLUMNS[kind])
        if column is None:
            ignored.append(name)
        elif column.field in positions:
            raise FileError("duplicate_column", column=name)
        else:
            positions[column.field], names[column.field] = index, name
    missing = [c.name for c in COLUMNS[kind] if c.required and c.field not in positions]
    if missing:
        raise FileError("missing_columns", columns=tuple(missing), expected=expected_header(kind))
    return positions, names, tuple(ignored)


def read_table(data: bytes, kind: str | None = None) -> Table:
    """The file's rows by field; ``kind`` None detects it from the header."""
    records = _records(decode(data))
    header = next((cells for _, cells in records if any(cell.strip() for cell in cells)), None)
    if header is None:
        raise FileError("empty")
    detected = _kind_of(header)
    if kind is None and detected is None:
        raise FileError("unknown_kind", customers=expected_header(CUSTOMERS), purchases=expected_header(PURCHASES))
    if kind is not None and detected not in (None, kind):
        raise FileError("wrong_kind", expected=kind, found=detected)
    kind = kind or detected
    positions, names, ignored = _header_map(header, kind)
    rows: list[Row] = []
    problems: list[RowProblem] = []
    for line, cells in records:
        if not any(cell.strip() for cell in cells):
            continue  # blank lines and ";;;;" lines spreadsheets leave at the end
        if len(rows) + len(problems) >= MAX_ROWS:
            raise FileError("too_many_rows", max_rows=MAX_ROWS)
        if any(cell.strip() for cell in cells[len(header):]):
            # Most often an unquoted "4,50" in a comma-separated file: the cells shifted.
            problems.append(RowProblem(line, "", "too_many_fields", str(len(cells))))
            continue
        rows.append(Row(line, {field: cells[i] if i < len(cells) else "" for field, i in positions.items()}))
    if not rows and not problems:
        raise FileError("no_rows")
    return Table(kind, names, tuple(rows), tuple(problems), ignored)

