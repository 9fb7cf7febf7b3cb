"""CSV imports on a real database (SQLite and PostgreSQL): customers with codes and opening
balances, purchases with their points, all-or-nothing, dry runs, importing twice, the bot's
waiting confirmation and the command line."""

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func
from sqlmodel import select

from bot import cli_import
from domain import conversation, customers, imports, ledger
from domain.rules import loyalty
from domain.config import LoyaltySection, TierConfig
from domain.customers import TelegramProfile
from domain.imports import FileError, PendingImport
from storage.models import ConversationState, Customer, OutboxMessage, PointsEntry, Purchase
from tests.kept_figures import assert_kept_figures_agree

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 22, 9, 30, tzinfo=timezone.utc)
RULES = LoyaltySection(points_per_euro=Decimal(1), rounding="down", expiry_months=24,
                       tiers=(TierConfig(name="Bronze", threshold=0),
                              TierConfig(name="Silber", threshold=250, multiplier=Decimal("1.5"))))

CUSTOMERS_CSV = (
    "Kundennummer;Vorname;Nachname;Telefon;Geburtstag;Punkte;E-Mail\n"
    "1001;Jürgen;Müßig;0151 12345678;03.05.1985;120;j@example.org\n"
    "1002;Anna;Berg;;24.12.;\n"
    "1003;Carl;;030 1234567;;0\n"
).encode("cp1252")
PURCHASES_CSV = (
    "kundennummer;datum;betrag;kategorie;beleg\n"
    "1001;24.12.2025 14:30;4,50;Kaffee;B-1\n"
    "1001;10.11.2026;1.234,50;Bohnen;\n"
    "1002;01.06.2026 09:15;12;;\n"
    "1002;01.06.2026 09:15;12;;\n"  # a second, identical purchase: both count
).encode()


def run(store, data, kind=None, dry_run=False, now=NOW):
    with store.session() as session:
        return imports.run_import(session, data, RULES, BERLIN, now, kind=kind, dry_run=dry_run)


def count(store, model) -> int:
    with store.session() as session:
        return session.exec(select(func.count()).select_from(model)).one()


def customer(store, number) -> Customer:
    with store.session() as session:
        return session.exec(select(Customer).where(Customer.external_ref == number)).one()


def balance(store, number) -> int:
    customer_id = customer(store, number).id  # one session at a time: SQLite transactions take the write lock
    with store.session() as session:
        return ledger.balance(session, customer_id)


def test_customers_are_created_with_codes_contact_data_and_opening_balance(store):
    report = run(store, CUSTOMERS_CSV)
    assert (report.kind, report.rows, report.created, report.unchanged, report.points) == ("customers", 3, 3, 0, 120)
    assert report.imported and report.ignored_columns == ("E-Mail",)
    juergen = customer(store, "1001")
    assert (juergen.first_name, juergen.last_name, juergen.phone) == ("Jürgen", "Müßig", "+4915112345678")
    assert (juergen.birthday_day, juergen.birthday_month, juergen.birthday_year) == (3, 5, 1985)
    assert juergen.created_at == NOW and juergen.last_seen_at == NOW
    assert not juergen.marketing_consent and not juergen.consent_asked  # an import never implies consent
    anna = customer(store, "1002")
    assert (anna.birthday_day, anna.birthday_month, anna.birthday_year, anna.phone) == (24, 12, None, None)
    codes = {customer(store, n).code for n in ("1001", "1002", "1003")}
    assert len(codes) == 3 and all(code and len(code) == 6 for code in codes)
    with store.session() as session:
        assert customers.find_by_code(session, juergen.code).id == juergen.id
        [entry] = session.exec(select(PointsEntry)).all()  # no entry for 0 or no points
    assert (entry.customer_id, entry.amount, entry.reason) == (juergen.id, 120, ledger.IMPORT)
    assert entry.idempotency_key == "import:opening:1001"
    assert entry.expires_at == loyalty.expiry_of(NOW, RULES)
    assert balance(store, "1001") == 120 and balance(store, "1002") == 0
    assert count(store, OutboxMessage) == 0  # nobody is told


def test_importing_customers_twice_changes_nothing(store):
    run(store, CUSTOMERS_CSV)
    changed = CUSTOMERS_CSV.replace("Jürgen".encode("cp1252"), "Jörg".encode("cp1252")).replace(b";120;", b";999;")
    again = run(store, changed, now=NOW + timedelta(days=1))
    assert (again.created, again.unchanged, again.points) == (0, 3, 0)
    assert customer(store, "1001").first_name == "Jürgen" and balance(store, "1001") == 120
    assert count(store, Customer) == 3 and count(store, PointsEntry) == 1


def test_a_dry_run_writes_nothing(store):
    report = run(store, CUSTOMERS_CSV, dry_run=True)
    assert (report.dry_run, report.created, report.points, report.imported) == (True, 3, 120, False)
    assert count(store, Customer) == 0 and count(store, PointsEntry) == 0
    run(store, CUSTOMERS_CSV)
    purchases = run(store, PURCHASES_CSV, dry_run=True)
    assert (purchases.booked, purchases.points) == (4, 4 + 1234 + 12 + 12)
    assert count(store, Purchase) == 0 and count(store, PointsEntry) == 1


def test_one_bad_row_and_nothing_is_imported(store):
    bad = CUSTOMERS_CSV + "1004;Dora;;0815;;\n".encode()
    report = run(store, bad)
    assert not report.imported and report.created == 3
    assert [(p.line, p.column, p.reason, p.value) for p in report.problems] == [(5, "Telefon", "phone_invalid", "0815")]
    assert count(store, Customer) == 0 and count(store, PointsEntry) == 0


def test_purchases_credit_points_at_their_date_once(store):
    run(store, CUSTOMERS_CSV)
    report = run(store, PURCHASES_CSV)
    assert (report.kind, report.rows, report.booked, report.already_imported) == ("purchases", 4, 4, 0)
    assert report.points == 4 + 1234 + 12 + 12  # first tier (no multiplier): the history's tiers are unknown
    assert balance(store, "1001") == 120 + 4 + 1234 and balance(store, "1002") == 24
    customer_id = customer(store, "1001").id
    with store.session() as session:
        bought = session.exec(select(Purchase).where(Purchase.idempotency_key == "import:1001:B-1")).one()
        assert (bought.amount_cents, bought.category, bought.source) == (450, "Kaffee", "import")
        assert bought.created_at == datetime(2025, 12, 24, 13, 30, tzinfo=timezone.utc)
        entry = session.exec(select(PointsEntry).where(PointsEntry.purchase_id == bought.id)).one()
        assert (entry.idempotency_key, entry.reason, entry.amount) == (f"purchase:{bought.id}", ledger.IMPORT, 4)
        assert entry.tier_at == entry.created_at == bought.created_at
        assert entry.expires_at == loyalty.expiry_of(bought.created_at, RULES)
        # The imported history counts for the tier: 1.238 points in the last 12 months.
        assert ledger.tier_status(session, customer_id, RULES, NOW).tier.name == "Silber"
    assert count(store, OutboxMessage) == 0

    again = run(store, PURCHASES_CSV, now=NOW + timedelta(hours=1))
    assert (again.booked, again.already_imported, again.points) == (0, 4, 0)
    assert count(store, Purchase) == 4 and count(store, PointsEntry) == 5
    assert balance(store, "1001") == 1358
    assert_kept_figures_agree(store, RULES, NOW)


def test_identical_rows_are_counted_so_a_longer_export_adds_only_the_new_ones(store):
    run(store, CUSTOMERS_CSV)
    run(store, PURCHASES_CSV)
    longer = PURCHASES_CSV + b"1002;01.06.2026 09:15;12;;\n1003;02.06.2026;3,20;;\n"
    report = run(store, longer)
    assert (report.booked, report.already_imported) == (2, 4)
    assert balance(store, "1002") == 36 and balance(store, "1003") == 3


def test_purchases_of_unknown_customers_import_nothing(store):
    run(store, CUSTOMERS_CSV)
    report = run(store, PURCHASES_CSV + b"2000;01.06.2026;5;;\n")
    assert [(p.line, p.reason, p.value) for p in report.problems] == [(6, "unknown_customer", "2000")]
    assert count(store, Purchase) == 0 and balance(store, "1001") == 120


def test_points_already_expired_are_settled_by_the_ledger(store):
    run(store, CUSTOMERS_CSV)
    run(store, b"kundennummer;datum;betrag\n1003;01.02.2024;50\n1003;01.10.2026;7\n")
    assert balance(store, "1003") == 57
    customer_id = customer(store, "1003").id
    with store.session() as session:
        status = ledger.account_status(session, customer_id, RULES, NOW)
    assert status.balance == 7  # the 2024 points expired after 24 months


def test_purchases_go_to_the_customer_and_lock_only_them(store):
    run(store, CUSTOMERS_CSV)
    versions = {n: customer(store, n).points_version for n in ("1001", "1002", "1003")}
    run(store, PURCHASES_CSV)
    assert customer(store, "1001").points_version == versions["1001"] + 1
    assert customer(store, "1002").points_version == versions["1002"] + 1
    assert customer(store, "1003").points_version == versions["1003"]


def test_the_kind_comes_from_the_header_unless_given(store):
    assert run(store, CUSTOMERS_CSV).kind == "customers"
    with pytest.raises(FileError) as raised:
        run(store, PURCHASES_CSV, kind="customers")
    assert raised.value.reason == "wrong_kind"
    with pytest.raises(FileError) as raised:
        run(store, b"Artikel;Preis\nKaffee;3\n")
    assert raised.value.reason == "unknown_kind"


def test_many_rows_are_imported_with_one_statement_per_batch(store):
    """2.000 customers and 4.000 purchases: batched lookups and inserts, not one per row."""
    from sqlalchemy import event

    header = "kundennummer;vorname;punkte\n"
    many_customers = (header + "".join(f"K{i};Kunde {i};{i % 7}\n" for i in range(2000))).encode()
    many_purchases = ("kundennummer;datum;betrag\n"
                      + "".join(f"K{i % 2000};{1 + i % 28}.10.2026;{i % 50 + 1},00\n" for i in range(4000))).encode()
    statements = []
    event.listen(store.engine, "before_cursor_execute", lambda *args: statements.append(1))
    assert run(store, many_customers).created == 2000
    assert run(store, many_purchases).booked == 4000
    assert len(statements) < 100
    assert count(store, Customer) == 2000 and count(store, Purchase) == 4000
    with store.session() as session:
        total = session.exec(select(func.sum(PointsEntry.amount))).one()
    assert total == sum(i % 7 for i in range(2000)) + sum(i % 50 + 1 for i in range(4000))
    assert run(store, many_purchases).already_imported == 4000
    assert_kept_figures_agree(store, RULES, NOW)


# --- the bot's confirmation ---------------------------------------------------------------------


def admin_id(store) -> int:
    with store.session() as session:
        return customers.register(session, TelegramProfile(900001, 900001, "Ines"), NOW).customer.id


def wait_for_confirmation(store, admin, data, message_id=77):
    pending = PendingImport("file-1", imports.CUSTOMERS, imports.digest_of(data), message_id)
    with store.session() as session:
        imports.remember_pending(session, admin, pending, NOW)


def confirm(store, admin, data, message_id=77):
    with store.session() as session:
        return imports.confirm_pending(session, admin, message_id, data, RULES, BERLIN, NOW)


def test_a_confirmed_import_runs_once(store):
    admin = admin_id(store)
    wait_for_confirmation(store, admin, CUSTOMERS_CSV)
    with store.session() as session:
        assert imports.pending_import(session, admin, 77, NOW).file_id == "file-1"
        assert imports.pending_import(session, admin, 76, NOW) is None  # an older report's buttons
    assert confirm(store, admin, CUSTOMERS_CSV, message_id=76) is None
    assert count(store, Customer) == 1
    report = confirm(store, admin, CUSTOMERS_CSV)
    assert report.imported and report.created == 3
    assert confirm(store, admin, CUSTOMERS_CSV) is None  # the double tap
    assert count(store, Customer) == 4


def test_a_failed_confirmation_keeps_the_waiting_import(store):
    admin = admin_id(store)
    wait_for_confirmation(store, admin, CUSTOMERS_CSV)
    with pytest.raises(FileError) as raised:
        confirm(store, admin, CUSTOMERS_CSV + b"1009;Eva;;;;\n")
    assert raised.value.reason == "changed"
    with store.session() as session:
        assert session.get(ConversationState, admin).step == imports.PENDING_STEP
    assert count(store, Customer) == 1


def test_a_confirmation_with_bad_rows_imports_nothing_and_can_be_answered_again(store):
    admin = admin_id(store)
    data = b"kundennummer;datum;betrag\n1001;01.06.2026;5\n"  # the customer is not there
    pending = PendingImport("file-2", imports.PURCHASES, imports.digest_of(data), 5)
    with store.session() as session:
        imports.remember_pending(session, admin, pending, NOW)
    report = confirm(store, admin, data, message_id=5)
    assert not report.imported and report.problems[0].reason == "unknown_customer"
    with store.session() as session:
        assert conversation.current_step(session, admin, NOW).name == imports.PENDING_STEP
        assert imports.claim_pending(session, admin, 5, NOW) == pending
        assert imports.claim_pending(session, admin, 5, NOW) is None
    assert count(store, Purchase) == 0


# --- the command line ---------------------------------------------------------------------------


@pytest.fixture
def cli(store, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", store.url)
    monkeypatch.setenv("STAMMGAST_CONFIG", str(Path(__file__).parents[2] / "config.yml"))

    def run_cli(kind: str, data: bytes, dry_run: bool = False) -> tuple[int, str, str]:
        path = tmp_path / f"{kind}.csv"
        path.write_bytes(data)
        code = cli_import.main(kind, str(path), dry_run)
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run_cli


def test_command_line_dry_run_then_import(cli, store):
    code, out, _ = cli("customers", CUSTOMERS_CSV, dry_run=True)
    assert code == 0 and "Dry run: customers file\nRows with data: 3" in out and "New customers: 3" in out
    assert "Nothing was changed (dry run)" in out and count(store, Customer) == 0
    code, out, _ = cli("customers", CUSTOMERS_CSV)
    assert code == 0 and "Imported: customers file" in out and count(store, Customer) == 3
    code, out, _ = cli("purchases", PURCHASES_CSV)
    assert code == 0 and "New purchases: 4" in out and count(store, Purchase) == 4


def test_command_line_bad_rows_exit_1_with_line_numbers(cli, store):
    code, out, _ = cli("customers", CUSTOMERS_CSV + b"1004;;;;;\n1005;Eva;;;32.13.;\n")
    assert code == 1
    assert "Line 5, Vorname: missing" in out
    assert "Line 6, Geburtstag: not a valid birthday" in out and "(“32.13.”)" in out
    assert count(store, Customer) == 0


def test_command_line_file_problems_exit_2(cli, store, tmp_path):
    code, _, err = cli("purchases", CUSTOMERS_CSV)
    assert code == 2 and "This is a customers file, not a purchases file." in err
    code, _, err = cli("customers", b"Kundennummer;Nachname\n1;Berg\n")
    assert code == 2 and "Missing columns: “vorname”" in err and "kundennummer;vorname;nachname" in err
    assert cli_import.main("customers", str(tmp_path / "missing.csv"), False) == 2
    assert count(store, Customer) == 0
