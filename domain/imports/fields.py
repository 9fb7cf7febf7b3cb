"""The fields of an import's rows, without I/O: names, phone numbers, birthdays, opening points,
purchase dates and amounts, each checked with a ``RowProblem`` per bad value, and the rows of a
customers or purchases file turned into records (with the purchases' idempotency keys).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timezone, tzinfo
from decimal import Decimal
from typing import Any

import phonenumbers

from domain.imports.csv_file import (CUSTOMERS, PURCHASES, FileError, Row, RowProblem, detect_kind, expected_header,
                                     read_table)
from domain.rules.parsing import DayOfYear, InputError, parse_amount, parse_day_of_year, whole_number

MAX_POINTS = 1_000_000
MAX_AMOUNT = Decimal(1_000_000)
MAX_LENGTH = {"customer_number": 64, "first_name": 128, "last_name": 128, "category": 40, "receipt": 100}


# --- values -------------------------------------------------------------------------------------


class _Invalid(ValueError):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def parse_phone(text: str) -> str:
    """"0151 12345678" -> "+4915112345678" (German numbers without country code)."""
    try:
        number = phonenumbers.parse(text, "DE")
    except phonenumbers.NumberParseException:
        raise _Invalid("phone_invalid") from None
    if not phonenumbers.is_valid_number(number):
        raise _Invalid("phone_invalid")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


_BIRTHDAY = re.compile(r"^(\d{1,2})\.(\d{1,2})(?:\.(\d{4}|\d{2})?)?$", re.ASCII)
_ISO_DAY = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$", re.ASCII)


def parse_birthday(text: str, today: date) -> DayOfYear:
    """"03.05.1985", "03.05.", "3.5." or "1985-05-03"."""
    iso = _ISO_DAY.match(text)
    if iso:
        text = f"{iso.group(3)}.{iso.group(2)}.{iso.group(1)}"
    elif not _BIRTHDAY.match(text):
        raise _Invalid("birthday_invalid")
    try:
        return parse_day_of_year(text, today)
    except InputError:
        raise _Invalid("birthday_invalid") from None


_WHOLE_NUMBER = re.compile(r"^\d{1,3}(?:\.\d{3})+$|^\d+$", re.ASCII)


def parse_points(text: str) -> int:
    """"250", "1.250" (German thousands) -> a whole number of points, at least 0."""
    if not _WHOLE_NUMBER.match(text):
        raise _Invalid("points_invalid")
    points = whole_number(text.replace(".", ""), MAX_POINTS)
    if points > MAX_POINTS:
        raise _Invalid("points_invalid")
    return points


_GERMAN_TIME = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4}|\d{2})(?:[ ,T]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$", re.ASCII)
_ISO_TIME = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$", re.ASCII)


def parse_purchase_time(text: str, tz: tzinfo, now: datetime) -> datetime:
    """"24.12.2025", "24.12.2025 14:30" or "2025-12-24 14:30" in the shop's time zone -> the
    local time without zone (the part of the import key) ; see ``to_utc``."""
    german, iso = _GERMAN_TIME.match(text), _ISO_TIME.match(text)
    if german:
        day, month, year, hour, minute, second = german.groups()
        year = ("20" + year) if len(year) == 2 else year
    elif iso:
        year, month, day, hour, minute, second = iso.groups()
    else:
        raise _Invalid("date_invalid")
    try:
        local = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0))
    except ValueError:
        raise _Invalid("date_invalid") from None
    if local.year < 1970:
        raise _Invalid("date_invalid")
    try:
        future = to_utc(local, tz) > now
    except OverflowError:  # the last hours of 31.12.9999 west of Greenwich lie after the calendar's end
        future = True
    if future:
        raise _Invalid("date_future")
    return local


def to_utc(local: datetime, tz: tzinfo) -> datetime:
    return local.replace(tzinfo=tz).astimezone(timezone.utc)


def parse_import_amount(text: str) -> Decimal:
    """German decimals ("4,50", "1.234,50"); more than zero."""
    try:
        amount = parse_amount(text)
    except InputError:
        raise _Invalid("amount_invalid") from None
    if amount > MAX_AMOUNT:
        raise _Invalid("amount_too_large")
    return amount


def short(value: str, limit: int = 40) -> str:
    """A value for a report: one line, at most ``limit`` characters."""
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1] + "…"


class _RowReader:
    """Reads the cells of one row, collecting a problem for every bad value."""

    def __init__(self, row: Row, headers: dict[str, str]):
        self.row, self.headers = row, headers
        self.problems: list[RowProblem] = []

    def problem(self, field: str, reason: str, value: str = "") -> None:
        self.problems.append(RowProblem(self.row.line, self.headers.get(field, field), reason, short(value)))

    def text(self, field: str, required: bool = False) -> str | None:
        value = " ".join(self.row.cells.get(field, "").split())
        if not value:
            if required:
                self.problem(field, "missing")
            return None
        if len(value) > MAX_LENGTH[field]:
            self.problem(field, "too_long", value)
            return None
        return value

    def value(self, field: str, parse: Callable[[str], Any], required: bool = False) -> Any:
        text = self.row.cells.get(field, "").strip()
        if not text:
            if required:
                self.problem(field, "missing")
            return None
        try:
            return parse(text)
        except _Invalid as invalid:
            self.problem(field, invalid.reason, text)
            return None


# --- parsed files -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerRecord:
    line: int
    number: str
    first_name: str
    last_name: str | None
    phone: str | None
    birthday: DayOfYear | None
    points: int


@dataclass(frozen=True)
class PurchaseRecord:
    line: int
    number: str
    local_time: datetime  # in the shop's time zone, without zone
    at: datetime  # UTC
    amount: Decimal
    category: str | None
    receipt: str | None
    key: str


@dataclass(frozen=True)
class ParsedFile:
    kind: str
    rows: int
    records: tuple
    problems: tuple[RowProblem, ...]
    ignored_columns: tuple[str, ...]
    headers: dict[str, str]


def by_line(problems: Iterable[RowProblem]) -> tuple[RowProblem, ...]:
    return tuple(sorted(problems, key=lambda p: p.line))


def read_customers(data: bytes, today: date) -> ParsedFile:
    table = read_table(data, CUSTOMERS)
    records, problems = [], list(table.problems)
    first_line: dict[str, int] = {}
    for row in table.rows:
        cells = _RowReader(row, table.headers)
        number = cells.text("customer_number", required=True)
        record = CustomerRecord(
            line=row.line, number=number or "", first_name=cells.text("first_name", required=True) or "",
            last_name=cells.text("last_name"), phone=cells.value("phone", parse_phone),
            birthday=cells.value("birthday", lambda text: parse_birthday(text, today)),
            points=cells.value("points", parse_points) or 0,
        )
        if number is not None and number in first_line:
            cells.problem("customer_number", "duplicate", number)
        elif number is not None:
            first_line[number] = row.line
        problems.extend(cells.problems)
        if not cells.problems:
            records.append(record)
    return ParsedFile(CUSTOMERS, table.row_count, tuple(records), by_line(problems), table.ignored_columns,
                      table.headers)


def purchase_key(number: str, receipt: str | None, local_time: datetime, amount: Decimal,
                 category: str | None, occurrence: int) -> str:
    """``import:<number>:<receipt>``, or without a receipt the row's content and how many
    identical rows of this customer came before it in the file (two coffees at once)."""
    if receipt:
        return f"import:{number}:{receipt}"
    digest = hashlib.sha1(f"{local_time.isoformat()}|{amount}|{category or ''}".encode()).hexdigest()
    return f"import:{number}:{digest}:{occurrence}"


def read_purchases(data: bytes, tz: tzinfo, now: datetime) -> ParsedFile:
    table = read_table(data, PURCHASES)
    records, problems = [], list(table.problems)
    seen_receipts: set[tuple[str, str]] = set()
    identical: Counter[tuple] = Counter()
    for row in table.rows:
        cells = _RowReader(row, table.headers)
        number = cells.text("customer_number", required=True)
        local_time = cells.value("date", lambda text: parse_purchase_time(text, tz, now), required=True)
        amount = cells.value("amount", parse_import_amount, required=True)
        category, receipt = cells.text("category"), cells.text("receipt")
        if number is not None and receipt is not None:
            if (number, receipt) in seen_receipts:
                cells.problem("receipt", "duplicate", receipt)
            seen_receipts.add((number, receipt))
        problems.extend(cells.problems)
        if cells.problems:
            continue
        occurrence = 0
        if receipt is None:
            identical[(number, local_time, amount, category)] += 1
            occurrence = identical[(number, local_time, amount, category)]
        records.append(PurchaseRecord(
            line=row.line, number=number, local_time=local_time, at=to_utc(local_time, tz), amount=amount,
            category=category, receipt=receipt,
            key=purchase_key(number, receipt, local_time, amount, category, occurrence),
        ))
    return ParsedFile(PURCHASES, table.row_count, tuple(records), by_line(problems), table.ignored_columns,
                      table.headers)


# --- a whole file -------------------------------------------------------------------------------


def _local_today(now: datetime, tz: tzinfo) -> date:
    return now.astimezone(tz).date()


def read_file(data: bytes, tz: tzinfo, now: datetime, kind: str | None = None) -> ParsedFile:
    """Read a file of the given kind, or of the kind its header shows (``kind`` None)."""
    if kind is None:
        kind = detect_kind(data)
        if kind is None:
            raise FileError("unknown_kind", customers=expected_header(CUSTOMERS),
                            purchases=expected_header(PURCHASES))
    if kind == CUSTOMERS:
        return read_customers(data, _local_today(now, tz))
    return read_purchases(data, tz, now)

