"""Planning and writing an import: what a file would change (the dry run's report), and the
change itself, idempotent and in batches. Customers are known by the shop's customer number,
purchases by their idempotency key (see ``fields.purchase_key``), so a file imported twice
changes nothing the second time.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session, select

from domain import ledger, purchases
from domain.config import LoyaltySection
from domain.imports.csv_file import CUSTOMERS, PURCHASES, RowProblem
from domain.imports.fields import CustomerRecord, ParsedFile, PurchaseRecord, by_line, read_file, short
from domain.rules import codes, loyalty
from storage.models import Customer, PointsEntry, Purchase

_BATCH = 500  # ids per IN (...) list
_RANDOM = secrets.SystemRandom()  # customer codes must not be guessable (see domain.rules.codes)


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
                        by_line([*parsed.problems, *unknown]))


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
# transaction holds the database's write lock from its first statement on (``fields.read_file``
# reads without one).


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

