"""/export through the real bot: the owner imports customers and purchases, asks for the
purchases and gets a CSV file Excel opens; in the staff group and for anyone else nothing is sent."""

import csv
import io

from tests.e2e.harness import ADMIN_ID
from tests.e2e.test_import import CUSTOMERS_CSV, LAST_MONTH, LAST_WEEK, PURCHASES_CSV

NOT_ADMIN = "Berichte und Nachrichten an Kunden gibt es nur für die Inhaber des Ladens. 🙂"


async def imported(owner, data: bytes, name: str) -> None:
    await owner.send_document(name, data, mime_type="text/csv")
    await owner.press("Importieren", message=await owner.next_message())
    await owner.next_callback_answer()
    assert "Import fertig" in (await owner.next_edit()).text


async def test_owner_exports_the_imported_purchases_as_csv(bot, api, staff):
    owner = api.new_user(first_name="Ines", user_id=ADMIN_ID)
    await imported(owner, CUSTOMERS_CSV, "kunden.csv")
    await imported(owner, PURCHASES_CSV, "kaeufe.csv")

    await owner.send_command("/export", "einkaeufe 90")
    document = await owner.next_message()
    assert document.method == "sendDocument" and document.filename.startswith("einkaeufe_")
    assert document.filename.endswith(".csv") and document.caption.startswith("Einkäufe vom ")
    assert document.caption.endswith(": 2 Zeilen")
    data = document.document
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert [(r["kundennummer"], r["datum"], r["betrag"], r["kategorie"], r["vorname"], r["nachname"]) for r in rows] == [
        ("1001", f"{LAST_MONTH:%d.%m.%Y}", "4,50", "Kaffee", "Jürgen", "Müßig"),
        ("1002", f"{LAST_WEEK:%d.%m.%Y}", "12,00", "", "Anna", "Berg")]
    assert rows[0]["uhrzeit"] == "14:30" and rows[0]["quelle"] == "Import"

    await owner.send_command("/export", "kunden")
    customers = await owner.next_message()
    lines = customers.document.decode("utf-8-sig").splitlines()
    # the two imported customers; the owner wrote to the bot but never bought, so is no customer
    assert customers.caption.startswith("Kunden, Stand ") and len(lines) == 1 + 2
    assert "Ines" not in customers.document.decode("utf-8-sig")

    await owner.send_command("/export", "rechnungen")
    refusal = await owner.next_message()
    assert refusal.text.startswith("„rechnungen“ kann ich nicht exportieren.") and "/export kunden" in refusal.text

    await staff.send_command(owner, "/export", "kunden")  # the whole customer list never goes to a group
    assert "nur im privaten Chat" in (await staff.next_message()).text
    await owner.expect_no_message(within=0.3)

    anna = api.new_user(first_name="Anna")
    await anna.send_command("/export", "kunden")
    assert (await anna.next_message()).text == NOT_ADMIN
    await anna.expect_no_message(within=0.3)
