"""CSV files for the accountant and Excel: the customers, the purchases or the points entries
(``/export kunden|einkaeufe|punkte [Zeitraum]`` and ``python -m bot export ...``).

The format is what a German Excel opens with a double click: ``;`` between the cells, UTF-8
with a byte order mark (without it Excel reads the umlauts as Windows-1252), German decimals
without thousands separators ("1234,50", as Babel's ``de_DE`` writes them with the pattern
``0.00``), dates ``TT.MM.JJJJ`` and times ``HH:MM`` in the shop's time zone, one header line. The
header names are fixed (they are a file format, like the import's columns, and the purchases'
``kundennummer;datum;betrag;kategorie`` read back in with ``import-purchases``); words in the
cells (the points' reason, yes/no) come from the caller, in the owner's language.

Periods are those of ``/nps`` (``30``, ``letzte woche``, ``oktober 2026``, ``2026``). Without
one, ``kunden`` lists everyone and the others the last ``DEFAULT_DAYS`` days; with one,
``kunden`` lists the customers who registered in it.

Erased customers (``domain.data_rights``) keep their row with the shop's figures, so totals
match the reports; what could identify them (names, customer number and code, phone, birthday,
Telegram id, a reversal's reason) is left empty in every file, whatever the row still holds.

Rows are read in batches (``yield_per``) and written as they come, so a shop with millions of
purchases never holds them in memory at once.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlmodel import Session

from domain import segments
from domain.rules import nps
from domain.rules.errors import Refusal
from storage.models import Customer, PointsEntry, Purchase, TelegramAccount

CUSTOMERS, PURCHASES, POINTS = "kunden", "einkaeufe", "punkte"
KINDS = (CUSTOMERS, PURCHASES, POINTS)
# What owners type (lower case) -> the file.
_ALIASES = {
    "kunden": CUSTOMERS, "kunde": CUSTOMERS, "customers": CUSTOMERS, "customer": CUSTOMERS,
    "einkaeufe": PURCHASES, "einkäufe": PURCHASES, "einkauf": PURCHASES, "kaeufe": PURCHASES, "käufe": PURCHASES,
    "purchases": PURCHASES, "purchase": PURCHASES,
    "punkte": POINTS, "points": POINTS, "punktebuchungen": POINTS,
}
DEFAULT_DAYS = 30
BATCH = 2000  # rows per fetch from the database
BOM = "\ufeff"
SEPARATOR = ";"
# A cell that starts like a formula would be run by Excel ("=HYPERLINK(...)" as a first name):
# such text cells get a leading apostrophe, which Excel shows as text (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

HEADERS = {
    CUSTOMERS: ("kunden_id", "kundennummer", "code", "vorname", "nachname", "telefon", "geburtstag",
                "telegram_id", "angemeldet_am", "werbung", "einkaeufe", "umsatz", "erster_einkauf",
                "letzter_einkauf", "punkte", "geloescht_am"),
    PURCHASES: ("einkauf_nr", "kundennummer", "datum", "uhrzeit", "betrag", "kategorie", "kunden_id", "vorname",
                "nachname", "quelle", "storniert_am", "storno_grund"),
    POINTS: ("buchung_nr", "datum", "uhrzeit", "kunden_id", "kundennummer", "vorname", "nachname", "punkte",
             "grund", "einkauf_nr", "verfaellt_am"),
}


class ExportError(Refusal):
    """What the owner typed is no export; ``reason``: kind_missing or unknown_kind (``value``:
    the word). A period the owner typed wrongly raises ``nps.PeriodError`` instead."""


@dataclass(frozen=True)
class Request:
    kind: str
    period: nps.Period | None  # None: everything (customers without a period)


def parse_request(text: str, now: datetime, zone: ZoneInfo) -> Request:
    """``kunden``, ``einkaeufe letzte woche``, ``punkte 2026`` -> what to export."""
    words = (text or "").split(maxsplit=1)
    if not words:
        raise ExportError("kind_missing")
    kind = _ALIASES.get(words[0].lower())
    if kind is None:
        raise ExportError("unknown_kind", words[0][:40])
    typed = words[1] if len(words) > 1 else ""
    if kind == CUSTOMERS and not typed.strip():
        return Request(kind, None)
    return Request(kind, nps.parse_period(typed, now, zone, default_days=DEFAULT_DAYS))


def file_name(request: Request, now: datetime, zone: ZoneInfo) -> str:
    """"einkaeufe_2026-11-01_2026-11-30.csv" (the period's first and last day),
    "kunden_2026-12-05.csv" (the day of the export): names that sort by date."""
    if request.period is None:
        return f"{request.kind}_{now.astimezone(zone):%Y-%m-%d}.csv"
    first, last = request.period.days(zone)
    return f"{request.kind}_{first:%Y-%m-%d}_{last:%Y-%m-%d}.csv"


# --- formatting a cell -------------------------------------------------------------------------

def money(cents: int | None) -> str:
    """1250 -> "12,50", -450 -> "-4,50", 123450 -> "1234,50" (no thousands separator)."""
    if cents is None:
        return ""
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(int(cents)), 100)
    return f"{sign}{whole},{rest:02d}"


def day(moment: datetime | date | None, zone: ZoneInfo) -> str:
    """"24.12.2026" (a moment: its day in the shop's time zone)."""
    if moment is None:
        return ""
    if isinstance(moment, datetime):
        moment = moment.astimezone(zone).date()
    return f"{moment.day:02d}.{moment.month:02d}.{moment.year:04d}"


def clock_time(moment: datetime | None, zone: ZoneInfo) -> str:
    return "" if moment is None else f"{moment.astimezone(zone):%H:%M}"


def birthday(day_of_month: int | None, month: int | None, year: int | None) -> str:
    """"03.05.1985", or "03.05." without the year (as the import reads them)."""
    if not day_of_month or not month:
        return ""
    return f"{day_of_month:02d}.{month:02d}." + (f"{year:04d}" if year else "")


def text(value: Any) -> str:
    """A cell typed by people: never read as a formula by Excel."""
    if value is None:
        return ""
    value = str(value)
    return "'" + value if value.startswith(_FORMULA_START) else value


# --- rows ----------------------------------------------------------------------------------------

_c = Customer.__table__.c
_p = Purchase.__table__.c
_e = PointsEntry.__table__.c
_a = TelegramAccount.__table__.c


def _stream(session: Session, query) -> Iterator[Mapping[str, Any]]:
    for row in session.execute(query.execution_options(yield_per=BATCH)):
        yield row._mapping


def _between(column, period: nps.Period | None):
    return [] if period is None else [column >= period.start, column < period.end]


def customer_rows(session: Session, period: nps.Period | None,
                  team_user_ids: frozenset[int] = frozenset()) -> Iterator[Mapping[str, Any]]:
    """Every customer; the shop's own people (owners, staff) only once they bought, as in the
    segments and the report: the accountant's list is one of customers."""
    team = segments.team_without_purchases(session, segments.Rules(team_user_ids=team_user_ids))
    balances = (select(_e.customer_id, func.sum(_e.amount).label("points"))
                .group_by(_e.customer_id).subquery("balances"))
    query = (select(_c.id, _c.external_ref, _c.code, _c.first_name, _c.last_name, _c.phone, _c.birthday_day,
                    _c.birthday_month, _c.birthday_year, _a.telegram_user_id, _c.created_at, _c.marketing_consent,
                    _c.purchase_count, _c.revenue_cents, _c.first_purchase_at, _c.last_purchase_at,
                    func.coalesce(balances.c.points, 0).label("points"), _c.erased_at)
             .select_from(Customer.__table__)
             .outerjoin(TelegramAccount.__table__, _a.customer_id == _c.id)
             .outerjoin(balances, balances.c.customer_id == _c.id)
             .where(*_between(_c.created_at, period), *([_c.id.not_in(team)] if team else []))
             .order_by(_c.id))
    return _stream(session, query)


def purchase_rows(session: Session, period: nps.Period | None) -> Iterator[Mapping[str, Any]]:
    query = (select(_p.id, _c.external_ref, _p.created_at, _p.amount_cents, _p.category, _p.customer_id,
                    _c.first_name, _c.last_name, _p.source, _p.reversed_at, _p.reversal_reason, _c.erased_at)
             .join(Customer.__table__, _c.id == _p.customer_id)
             .where(*_between(_p.created_at, period))
             .order_by(_p.id))
    return _stream(session, query)


def points_rows(session: Session, period: nps.Period | None) -> Iterator[Mapping[str, Any]]:
    query = (select(_e.id, _e.created_at, _e.customer_id, _c.external_ref, _c.first_name, _c.last_name, _e.amount,
                    _e.reason, _e.purchase_id, _e.expires_at, _c.erased_at)
             .join(Customer.__table__, _c.id == _e.customer_id)
             .where(*_between(_e.created_at, period))
             .order_by(_e.id))
    return _stream(session, query)


ROWS = {CUSTOMERS: customer_rows, PURCHASES: purchase_rows, POINTS: points_rows}


def cells(kind: str, row: Mapping[str, Any], zone: ZoneInfo, words: Mapping[str, str]) -> list[str]:
    """One row of the file. ``words`` names ``yes`` and ``no``, the purchases' sources
    (``source:counter``) and the points' reasons (``reason:purchase``); a missing word is written
    as its key."""
    erased = row.get("erased_at") is not None

    def personal(value: Any) -> str:
        return "" if erased else text(value)

    def word(key: str) -> str:
        return text(words.get(key, key.partition(":")[2] or key))

    if kind == CUSTOMERS:
        return [str(row["id"]), personal(row["external_ref"]), personal(row["code"]), personal(row["first_name"]),
                personal(row["last_name"]), personal(row["phone"]),
                "" if erased else birthday(row["birthday_day"], row["birthday_month"], row["birthday_year"]),
                "" if erased or row["telegram_user_id"] is None else str(row["telegram_user_id"]),
                day(row["created_at"], zone), word("yes" if row["marketing_consent"] else "no"),
                str(row["purchase_count"]), money(row["revenue_cents"]), day(row["first_purchase_at"], zone),
                day(row["last_purchase_at"], zone), str(row["points"]), day(row["erased_at"], zone)]
    if kind == PURCHASES:
        return [str(row["id"]), personal(row["external_ref"]), day(row["created_at"], zone),
                clock_time(row["created_at"], zone), money(row["amount_cents"]), text(row["category"]),
                str(row["customer_id"]), personal(row["first_name"]), personal(row["last_name"]),
                word(f"source:{row['source']}"), day(row["reversed_at"], zone), personal(row["reversal_reason"])]
    if kind == POINTS:
        return [str(row["id"]), day(row["created_at"], zone), clock_time(row["created_at"], zone),
                str(row["customer_id"]), personal(row["external_ref"]), personal(row["first_name"]),
                personal(row["last_name"]), str(row["amount"]), word(f"reason:{row['reason']}"),
                "" if row["purchase_id"] is None else str(row["purchase_id"]), day(row["expires_at"], zone)]
    raise ValueError(f"unknown export {kind!r}")


def write_csv(out: TextIO, kind: str, rows: Iterable[Mapping[str, Any]], zone: ZoneInfo,
              words: Mapping[str, str]) -> int:
    """The file into ``out`` (a text stream opened with ``newline=""``): the byte order mark,
    the header, the rows. Returns the number of rows."""
    out.write(BOM)
    writer = csv.writer(out, delimiter=SEPARATOR, quotechar='"', lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(HEADERS[kind])
    count = 0
    for row in rows:
        writer.writerow(cells(kind, row, zone, words))
        count += 1
    return count


def export(session: Session, out: TextIO, request: Request, zone: ZoneInfo, words: Mapping[str, str],
           team_user_ids: frozenset[int] = frozenset()) -> int:
    """Write the file ``request`` asks for into ``out``; returns the number of rows.
    ``team_user_ids``: the owners' Telegram ids (the staff group's members are known already)."""
    rows = (customer_rows(session, request.period, team_user_ids) if request.kind == CUSTOMERS
            else ROWS[request.kind](session, request.period))
    return write_csv(out, request.kind, rows, zone, words)
