"""/bericht: the owner imports customers and purchases from CSV files, asks for the key figures
of a past period and gets the dashboard picture (a PNG that decodes) and the five figures as
text, each against the period before; /bericht hilfe and a bad period - through the fake Bot
API, the real bot and its database.

The period is the 30 days [D, D + 30) that ended a month ago; the one before is [D − 30, D).
A person is a customer at t when they bought in the 365 days before t.

customer  purchases (days relative to D)   S (D)  E (D + 30)  new
1001      −100: 10 €, +2: 20 €, +5: 30 €   yes    yes         -
1002      +3: 40 € (the first)             -      yes         yes
1003      −20: 25 €                        yes    yes         -
1004      −340: 15 €                       yes    - (> 365)   -

S = 3, E = 3, N = 1: Kundenbindungsrate (3 − 1) / 3 = 66,7 %. Buyers 1001 (2) and 1002:
Wiederkaufrate 1/2 = 50,0 %, 3 purchases, 90 € -> Bon 30,00 €.
Before: S at D − 30 = 1001, 1004 = 2; E = 3; N = 1003: (3 − 1) / 2 = 100,0 %; one purchase of
25 € by one buyer: Wiederkaufrate 0,0 %, Bon 25,00 €.
"""

from datetime import date, timedelta
from io import BytesIO

from PIL import Image

from tests.e2e.harness import ADMIN_ID

D = date.today() - timedelta(days=60)
LAST = D + timedelta(days=29)


def day(offset: int) -> str:
    return f"{D + timedelta(days=offset):%d.%m.%Y} 12:00"


CUSTOMERS_CSV = "kundennummer;vorname\n1001;Jürgen\n1002;Anna\n1003;Carl\n1004;Doris\n".encode()
PURCHASES_CSV = (
    "kundennummer;datum;betrag\n"
    f"1001;{day(-100)};10,00\n1001;{day(2)};20,00\n1001;{day(5)};30,00\n"
    f"1002;{day(3)};40,00\n1003;{day(-20)};25,00\n1004;{day(-340)};15,00\n"
).encode()


async def imported(owner, filename: str, data: bytes) -> None:
    await owner.send_document(filename, data)
    await owner.press("Importieren", message=await owner.next_message())
    await owner.next_callback_answer()
    assert "Import fertig" in (await owner.next_edit()).text


async def test_owner_gets_the_key_figures_of_a_past_period(bot, api, db):
    owner = api.new_user(first_name="Ines", user_id=ADMIN_ID)
    await imported(owner, "kunden.csv", CUSTOMERS_CSV)
    await imported(owner, "kaeufe.csv", PURCHASES_CSV)

    await owner.send_command("/bericht", f"{D:%d.%m.%Y}-{LAST:%d.%m.%Y}")
    picture = await owner.next_message(timeout=60)
    assert picture.kind == "photo" and f"Kennzahlen {D:%d.%m.%Y} – {LAST:%d.%m.%Y}" in picture.caption
    assert picture.photo.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(BytesIO(picture.photo))
    image.load()
    assert image.size == (1080, 1920)

    text = (await owner.next_message()).text
    assert text.startswith(f"📊 Das Wichtigste vom {D:%d.%m.%Y} bis {LAST:%d.%m.%Y}")
    assert "Kundenbindungsrate: 66,7\xa0% (↓ −33,3\xa0Pp.)" in text
    assert "Kunden am Ende: 3 (→ 0)" in text
    assert "Wiederkaufrate: 50,0\xa0% (↑ +50,0\xa0Pp.)" in text
    assert "Durchschnittlicher Bon: 30,00\xa0€ (↑ +5,00\xa0€)" in text
    assert "NPS: –" in text  # nobody answered a survey


async def test_help_and_a_bad_period(bot, api, db):
    owner = api.new_user(first_name="Ines", user_id=ADMIN_ID)
    await owner.send_command("/bericht", "hilfe")
    assert "Kundenbindungsrate = (E − N) ÷ S × 100" in (await owner.next_message()).text
    await owner.send_command("/report", "31.02.2026-01.03.2026")
    assert "Diesen Tag gibt es nicht: „31.02.2026-01.03.2026“." in (await owner.next_message()).text
    assert "/bericht 01.01.2026-31.03.2026" in (await owner.next_message()).text
    mallory = api.new_user(first_name="Mallory")
    await mallory.send_command("/bericht")
    assert "nur für die Inhaber" in (await mallory.next_message()).text
