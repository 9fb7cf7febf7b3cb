"""Importing a shop's existing customers and purchases from CSV files.

A file is read and checked completely first, row by row, with line numbers as a text editor
shows them (the header is line 1). Only a file without a single bad row is imported, in one
transaction: a file goes in completely or not at all. Importing the same file again changes
nothing: customers are known by the shop's customer number (``Customer.external_ref``),
purchases by an idempotency key made of the customer number and the receipt number or,
without one, the purchase's content and its position among identical rows of the file.

Imports never send messages (no outbox rows) and never imply marketing consent.

Large files (up to ``MAX_ROWS`` rows) are looked up and written in batches, not one
statement per row, so that the transaction (on SQLite: the write lock) stays short.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
import secrets
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timezone, tzinfo
from decimal import Decimal
from typing import Any

import phonenumbers
from sqlalchemy import delete, insert
from sqlmodel import Session, select

from domain import conversation, ledger, purchases
from domain.rules import codes, loyalty
from domain.config import LoyaltySection
from domain.rules.parsing import DayOfYear, InputError, parse_amount, parse_day_of_year
from storage.models import ConversationState, Customer, PointsEntry, Purchase
from domain.rules.errors import Refusal

MAX_BYTES = 10 * 1024 * 1024
MAX_MEGABYTES = MAX_BYTES // (1024 * 1024)
MAX_ROWS = 100_000
MAX_POINTS = 1_000_000
MAX_AMOUNT = Decimal(1_000_000)
CUSTOMERS, PURCHASES = "customers", "purchases"
KINDS = (CUSTOMERS, PURCHASES)
_BATCH = 500  # ids per IN (...) list
_RANDOM = secrets.SystemRandom()  # customer codes must not be guessable (see domain.rules.codes)


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


@dataclass(frozen=True)
class ImportReport:
    """What an import did, or (``dry_run``) would do."""

    kind: str
    rows: int
    dry_run: bool
    created: int = 0  # customers
    unchanged: int = 0  # customers already known by their number
    booked: int = 0  # purchases
    already_imported: int = 0  # purchases
    points: int = 0  # opening balances, or points for the purchases
    problems: tuple[RowProblem, ...] = ()
    ignored_columns: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def imported(self) -> bool:
        return self.ok and not self.dry_run

    @property
    def has_news(self) -> bool:
        """Something to import (or imported): new customers or purchases."""
        return bool(self.created or self.booked)


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
MAX_LENGTH = {"customer_number": 64, "first_name": 128, "last_name": 128, "category": 40, "receipt": 100}


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
    points = int(text.replace(".", ""))
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
    if to_utc(local, tz) > now:
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


def _sorted(problems: Iterable[RowProblem]) -> tuple[RowProblem, ...]:
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
    return ParsedFile(CUSTOMERS, table.row_count, tuple(records), _sorted(problems), table.ignored_columns,
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
    return ParsedFile(PURCHASES, table.row_count, tuple(records), _sorted(problems), table.ignored_columns,
                      table.headers)


# --- looking up what is there ------------------------------------------------------------------
# One query per table and import, whatever the number of rows: a lookup per row, or IN lists
# of a few hundred keys, get slow on PostgreSQL once the driver prepares the statement (a
# generic plan compares every row with every key).


def _chunks(items: list, size: int = _BATCH) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def customer_ids_by_number(session: Session) -> dict[str, int]:
    """Every customer with a customer number of the shop (that is, every imported one)."""
    rows = session.exec(select(Customer.external_ref, Customer.id).where(Customer.external_ref.is_not(None)))
    return {ref: customer_id for ref, customer_id in rows}


def imported_purchase_ids(session: Session) -> dict[str, int]:
    """Imported purchases by idempotency key (only imports make ``import:`` keys)."""
    rows = session.exec(select(Purchase.idempotency_key, Purchase.id).where(Purchase.source == purchases.IMPORT))
    return {key: purchase_id for key, purchase_id in rows}


def _unused_customer_codes(session: Session, count: int) -> list[str]:
    """Like customers.unused_customer_code, for many customers at once."""
    taken = set(session.exec(select(Customer.code).where(Customer.code.is_not(None))).all())
    chosen: set[str] = set()
    while len(chosen) < count:
        chosen |= {"".join(_RANDOM.choices(codes.ALPHABET, k=codes.CUSTOMER_CODE_LENGTH))
                   for _ in range(count - len(chosen))} - taken
    return sorted(chosen)


# --- plans ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerPlan:
    parsed: ParsedFile
    new: tuple[CustomerRecord, ...]
    present: int

    def report(self, dry_run: bool) -> ImportReport:
        return ImportReport(
            kind=CUSTOMERS, rows=self.parsed.rows, dry_run=dry_run, created=len(self.new), unchanged=self.present,
            points=sum(record.points for record in self.new), problems=self.parsed.problems,
            ignored_columns=self.parsed.ignored_columns,
        )


def plan_customers(session: Session, parsed: ParsedFile) -> CustomerPlan:
    known = customer_ids_by_number(session)
    new = tuple(record for record in parsed.records if record.number not in known)
    return CustomerPlan(parsed, new, len(parsed.records) - len(new))


@dataclass(frozen=True)
class PurchasePlan:
    parsed: ParsedFile
    customer_ids: dict[str, int]
    new: tuple[PurchaseRecord, ...]
    already: int
    points: tuple[int, ...]  # for each new purchase
    problems: tuple[RowProblem, ...]

    def report(self, dry_run: bool) -> ImportReport:
        return ImportReport(
            kind=PURCHASES, rows=self.parsed.rows, dry_run=dry_run, booked=len(self.new),
            already_imported=self.already, points=sum(self.points), problems=self.problems,
            ignored_columns=self.parsed.ignored_columns,
        )


def plan_purchases(session: Session, parsed: ParsedFile, rules: LoyaltySection) -> PurchasePlan:
    ids = customer_ids_by_number(session)
    column = parsed.headers.get("customer_number", "kundennummer")
    unknown = [RowProblem(r.line, column, "unknown_customer", short(r.number))
               for r in parsed.records if r.number not in ids]
    known = [record for record in parsed.records if record.number in ids]
    booked = imported_purchase_ids(session)
    new = tuple(record for record in known if record.key not in booked)
    # Imported history earns as in the first tier: which tier the customer had then is unknown.
    points = tuple(loyalty.points_for_purchase(record.amount, rules, rules.tiers[0]) for record in new)
    wanted = {record.number for record in known}
    return PurchasePlan(parsed, {number: ids[number] for number in wanted}, new, len(known) - len(new), points,
                        _sorted([*parsed.problems, *unknown]))


# --- writing -------------------------------------------------------------------------------------


def _append_entries(session: Session, entries: list[dict[str, Any]]) -> None:
    """Ledger entries in batches. Their idempotency keys name customers or purchases created
    in this transaction, so none can be booked yet (the unique key would refuse it anyway,
    and the whole import would roll back)."""
    assert all(entry["reason"] in ledger.REASONS for entry in entries)
    _insert(session, PointsEntry, entries)


def _insert(session: Session, model, rows: list[dict[str, Any]]) -> None:
    """Insert many rows as plain SQL (no per-object work of the ORM). Asking for the new ids
    here (RETURNING) would make PostgreSQL inserts several times slower; the callers look
    them up afterwards with one query."""
    table = model.__table__
    for chunk in _chunks(rows, 2000):
        session.execute(insert(table), chunk)


def _create_customers(session: Session, records: tuple[CustomerRecord, ...], rules: LoyaltySection,
                      now: datetime) -> None:
    """New customers (no Telegram account yet, no marketing consent) and their opening balance.

    The customers are created in this transaction, so nobody else can book on them yet: their
    opening balances need no lock."""
    if not records:
        return
    rows = [{
        "code": code, "external_ref": r.number, "first_name": r.first_name, "last_name": r.last_name,
        "phone": r.phone, "birthday_day": r.birthday.day if r.birthday else None,
        "birthday_month": r.birthday.month if r.birthday else None,
        "birthday_year": r.birthday.year if r.birthday else None,
        "created_at": now, "last_seen_at": now, "marketing_consent": False, "consent_asked": False,
        "points_version": 0,
    } for r, code in zip(records, _unused_customer_codes(session, len(records)))]
    _insert(session, Customer, rows)
    ids = customer_ids_by_number(session)
    expires_at = loyalty.expiry_of(now, rules)
    _append_entries(session, [{
        "idempotency_key": f"import:opening:{r.number}", "customer_id": ids[r.number], "amount": r.points,
        "reason": ledger.IMPORT, "purchase_id": None, "tier_at": None, "expires_at": expires_at, "created_at": now,
    } for r in records if r.points > 0])


def _book_purchases(session: Session, plan: PurchasePlan, rules: LoyaltySection) -> None:
    """The purchases and their points, earned at the purchase date (so they count for the tier
    and expire as if booked then). Call under ``ledger.lock_many``."""
    rows = [{
        "idempotency_key": r.key, "customer_id": plan.customer_ids[r.number],
        "amount_cents": purchases.cents(r.amount), "category": r.category, "source": purchases.IMPORT,
        "booked_by": None, "created_at": r.at,
    } for r in plan.new]
    _insert(session, Purchase, rows)
    ids = imported_purchase_ids(session)
    _append_entries(session, [{
        "idempotency_key": f"purchase:{ids[r.key]}", "customer_id": plan.customer_ids[r.number],
        "amount": points, "reason": ledger.IMPORT, "purchase_id": ids[r.key], "tier_at": r.at,
        "expires_at": loyalty.expiry_of(r.at, rules), "created_at": r.at,
    } for r, points in zip(plan.new, plan.points)])
    purchases.refresh_stats(session, plan.customer_ids.values())


# --- use cases -----------------------------------------------------------------------------------
# Every use case reads (and checks) the whole file before its first query: on SQLite a
# transaction holds the database's write lock from its first statement on.


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


def import_parsed(session: Session, parsed: ParsedFile, rules: LoyaltySection, now: datetime,
                  dry_run: bool = False) -> ImportReport:
    """Import a file read with ``read_file``; a dry run (or a file with bad rows) writes nothing."""
    if parsed.kind == CUSTOMERS:
        return _import_customers(session, parsed, rules, now, dry_run)
    return _import_purchases(session, parsed, rules, dry_run)


def _import_customers(session: Session, parsed: ParsedFile, rules: LoyaltySection, now: datetime,
                      dry_run: bool) -> ImportReport:
    plan = plan_customers(session, parsed)
    if dry_run or parsed.problems:
        return plan.report(dry_run)
    _create_customers(session, plan.new, rules, now)
    return plan.report(dry_run=False)


def _import_purchases(session: Session, parsed: ParsedFile, rules: LoyaltySection, dry_run: bool) -> ImportReport:
    plan = plan_purchases(session, parsed, rules)
    if dry_run or plan.problems:
        return plan.report(dry_run)
    ledger.lock_many(session, plan.customer_ids.values())
    # Again under the locks: the same file may have been imported meanwhile (a second tap, a
    # second admin), or a customer deleted.
    plan = plan_purchases(session, parsed, rules)
    if plan.problems:
        session.rollback()
        return plan.report(dry_run=False)
    _book_purchases(session, plan, rules)
    return plan.report(dry_run=False)


def run_import(session: Session, data: bytes, rules: LoyaltySection, tz: tzinfo, now: datetime,
               kind: str | None = None, dry_run: bool = False) -> ImportReport:
    """Read and import a file: customers or purchases as ``kind`` says, or as its header shows."""
    return import_parsed(session, read_file(data, tz, now, kind), rules, now, dry_run)


def import_customers(session: Session, data: bytes, rules: LoyaltySection, tz: tzinfo, now: datetime,
                     dry_run: bool = False) -> ImportReport:
    """Create the customers of a customers file (known customer numbers stay as they are)."""
    return run_import(session, data, rules, tz, now, CUSTOMERS, dry_run)


def import_purchases(session: Session, data: bytes, rules: LoyaltySection, tz: tzinfo, now: datetime,
                     dry_run: bool = False) -> ImportReport:
    """Book the purchases of a purchases file (purchases imported before are skipped)."""
    return run_import(session, data, rules, tz, now, PURCHASES, dry_run)


# --- an import waiting for the owner's confirmation (the bot's dry run, then "Importieren") -------

PENDING_STEP = "confirm_import"


@dataclass(frozen=True)
class PendingImport:
    file_id: str
    kind: str
    digest: str  # sha1 of the file: the confirmed import is the file the dry run showed
    message_id: int  # the message with the buttons: an older report's buttons do nothing


def digest_of(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def remember_pending(session: Session, customer_id: int, pending: PendingImport, now: datetime) -> None:
    conversation.set_step(session, customer_id, PENDING_STEP, now, {
        "file_id": pending.file_id, "kind": pending.kind, "digest": pending.digest,
        "message_id": pending.message_id,
    })


def pending_import(session: Session, customer_id: int, message_id: int | None, now: datetime) -> PendingImport | None:
    """The import shown in message ``message_id``, if it still waits for confirmation."""
    step = conversation.current_step(session, customer_id, now)
    if step is None or step.name != PENDING_STEP or step.data.get("message_id") != message_id:
        return None
    data = step.data
    return PendingImport(str(data["file_id"]), str(data["kind"]), str(data["digest"]), int(data["message_id"]))


def claim_pending(session: Session, customer_id: int, message_id: int | None, now: datetime) -> PendingImport | None:
    """Take the waiting import out of the conversation, once: of two taps (or two replicas)
    only one gets it."""
    pending = pending_import(session, customer_id, message_id, now)
    if pending is None:
        return None
    claimed = session.execute(delete(ConversationState).where(
        ConversationState.customer_id == customer_id, ConversationState.step == PENDING_STEP)).rowcount
    return pending if claimed == 1 else None


def confirm_pending(session: Session, customer_id: int, message_id: int | None, data: bytes,
                    rules: LoyaltySection, tz: tzinfo, now: datetime) -> ImportReport | None:
    """The owner pressed "Importieren": import the file for real, in the same transaction that
    takes the waiting import (so a failed import can be confirmed again). None: already done."""
    parsed = read_file(data, tz, now)  # before the first query (see "use cases" above)
    pending = claim_pending(session, customer_id, message_id, now)
    if pending is None:
        return None
    if digest_of(data) != pending.digest or parsed.kind != pending.kind:
        raise FileError("changed")  # raising rolls the claim back
    report = import_parsed(session, parsed, rules, now)
    if not report.ok:
        session.rollback()  # nothing imported; the confirmation stays, the report says why
    return report
