"""Owners import customers and purchases by sending a CSV file to the bot: a dry run first,
the import after "Importieren", once; nobody else can import - through the fake Bot API, the
real bot and its database."""

from datetime import date, timedelta

from sqlmodel import func, select

from domain import ledger
from storage.models import Customer, PointsEntry, Purchase
from tests.e2e.harness import ADMIN_ID

CUSTOMERS_CSV = (
    "Kundennummer;Vorname;Nachname;Telefon;Geburtstag;Punkte\n"
    "1001;Jürgen;Müßig;0151 12345678;03.05.1985;120\n"
    "1002;Anna;Berg;;24.12.;\n"
).encode("cp1252")
BROKEN_CSV = CUSTOMERS_CSV + "1003;Carl;;0815;;\n".encode()
LAST_MONTH, LAST_WEEK = date.today() - timedelta(days=30), date.today() - timedelta(days=7)
PURCHASES_CSV = (
    "kundennummer;datum;betrag;kategorie;beleg\n"
    f"1001;{LAST_MONTH:%d.%m.%Y} 14:30;4,50;Kaffee;B-1\n"
    f"1002;{LAST_WEEK:%d.%m.%Y};12,00;;\n"
).encode()
NOT_ADMIN = "Dateien importieren können nur die Inhaber des Ladens."


def imported_customers(db) -> int:
    with db.session() as session:
        return session.exec(select(func.count()).select_from(Customer).where(Customer.external_ref.is_not(None))).one()


def purchases(db) -> int:
    with db.session() as session:
        return session.exec(select(func.count()).select_from(Purchase)).one()


def balance(db, number: str) -> int:
    with db.session() as session:
        customer = session.exec(select(Customer).where(Customer.external_ref == number)).one()
        return ledger.balance(session, customer.id)


async def test_owner_imports_customers_after_a_dry_run_and_only_once(bot, api, db):
    owner = api.new_user(first_name="Ines", user_id=ADMIN_ID)

    await owner.send_document("kunden.csv", BROKEN_CSV, mime_type="text/csv")
    report = await owner.next_message()
    assert report.text.startswith("📋 Probelauf: Kundendatei\nZeilen mit Daten: 3\n")
    assert "Fehlerhafte Zeilen: 1 – deshalb wird nichts importiert" in report.text
    assert "Zeile 4, Telefon: keine gültige Telefonnummer („0815“)" in report.text
    assert report.callback_data == []  # nothing to confirm
    assert imported_customers(db) == 0

    await owner.send_document("kunden.csv", CUSTOMERS_CSV, mime_type="application/vnd.ms-excel")
    report = await owner.next_message()
    assert "Zeilen mit Daten: 2" in report.text and "Neue Kunden: 2" in report.text
    assert "Startguthaben zusammen: 120 Punkte" in report.text and "Soll ich das jetzt importieren?" in report.text
    assert report.callback_data == ["import:yes", "import:no"]
    assert imported_customers(db) == 0  # the dry run wrote nothing

    await owner.press("Importieren", message=report)
    assert (await owner.next_callback_answer()).get("text") == "Ich importiere …"
    done = await owner.next_edit()
    assert done.text.startswith("✅ Import fertig: Kundendatei\n") and "Neue Kunden: 2" in done.text
    assert done.callback_data == []
    assert imported_customers(db) == 2 and balance(db, "1001") == 120
    with db.session() as session:
        juergen = session.exec(select(Customer).where(Customer.external_ref == "1001")).one()
    assert (juergen.first_name, juergen.last_name, juergen.phone) == ("Jürgen", "Müßig", "+4915112345678")
    assert juergen.code and not juergen.marketing_consent

    await owner.press("Importieren", message=report, stale_ok=True)  # the double tap
    assert "schon erledigt" in (await owner.next_callback_answer()).get("text")
    await owner.expect_no_message(within=0.3)
    assert imported_customers(db) == 2

    await owner.send_document("kunden.csv", CUSTOMERS_CSV)
    again = await owner.next_message()
    assert "Neue Kunden: 0" in again.text and "Schon vorhanden (bleiben unverändert): 2" in again.text
    assert "es gibt nichts Neues" in again.text and again.callback_data == []
    assert imported_customers(db) == 2


async def test_owner_imports_purchases_or_cancels(bot, api, db):
    owner = api.new_user(first_name="Ines", user_id=ADMIN_ID)
    await owner.send_document("kunden.csv", CUSTOMERS_CSV)
    await owner.press("Importieren", message=await owner.next_message())
    await owner.next_callback_answer()
    await owner.next_edit()

    await owner.send_document("kaeufe.csv", PURCHASES_CSV)
    report = await owner.next_message()
    assert "Probelauf: Kaufdatei" in report.text and "Neue Käufe: 2" in report.text
    assert "Punkte für die neuen Käufe: 16" in report.text
    await owner.press("Abbrechen", message=report)
    await owner.next_callback_answer()
    assert (await owner.next_edit()).text == "Import abgebrochen – es wurde nichts geändert."
    await owner.press("Importieren", message=report, stale_ok=True)
    assert "schon erledigt" in (await owner.next_callback_answer()).get("text")
    assert purchases(db) == 0

    await owner.send_document("kaeufe.csv", PURCHASES_CSV)
    await owner.press("Importieren", message=await owner.next_message())
    await owner.next_callback_answer()
    assert "Import fertig: Kaufdatei" in (await owner.next_edit()).text
    assert purchases(db) == 2 and balance(db, "1001") == 124 and balance(db, "1002") == 12

    await owner.send_document("kaeufe.csv", PURCHASES_CSV)
    again = await owner.next_message()
    assert "Schon importiert (werden übersprungen): 2" in again.text and again.callback_data == []

    await owner.send_document("preise.xlsx", b"PK\x03\x04" + bytes(200),
                              mime_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert "Ich kann nur CSV-Dateien importieren" in (await owner.next_message()).text
    await owner.send_document("kaputt.csv", b"PK\x03\x04\x14\x00\x06\x00" * 50)
    assert "Das ist keine CSV-Textdatei" in (await owner.next_message()).text
    assert purchases(db) == 2


async def test_only_the_owners_can_import(bot, api, db):
    owner = api.new_user(first_name="Ines", user_id=ADMIN_ID)
    await owner.send_document("kunden.csv", CUSTOMERS_CSV)
    waiting = await owner.next_message()  # the owner's dry run waits for confirmation
    assert waiting.callback_data == ["import:yes", "import:no"]

    mallory = api.new_user(first_name="Mallory")
    await mallory.send_document("kunden.csv", CUSTOMERS_CSV)
    refused = await mallory.next_message()
    assert refused.text.startswith(NOT_ADMIN) and refused.callback_data == []
    await mallory.press_forged("import:yes", message=refused)
    assert (await mallory.next_callback_answer()).get("text").startswith(NOT_ADMIN)
    await mallory.expect_no_message(within=0.3)
    await mallory.send_document("rechnung.pdf", b"%PDF-1.4 ...", mime_type="application/pdf")
    assert "kann ich leider nicht verstehen" in (await mallory.next_message()).text
    assert imported_customers(db) == 0
    with db.session() as session:
        assert session.exec(select(func.count()).select_from(PointsEntry)).one() == 0

    await owner.press("Importieren", message=waiting)  # the owner's own import still works
    await owner.next_callback_answer()
    assert "Import fertig" in (await owner.next_edit()).text
    assert imported_customers(db) == 2
