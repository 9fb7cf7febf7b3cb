"""The loyalty program at the counter and in the customer's chat: booking purchases (and every
bad input), tier upgrades, reversals, receipt QR codes, points, the card, rewards and their
redemption - through the fake Bot API, the real bot and its database."""

import asyncio
import re
import sys
from datetime import timedelta
from decimal import Decimal

from sqlmodel import func, select

from domain import ledger, receipts
from domain.clock import SystemClock
from storage.models import PointsEntry, Purchase, Redemption
from tests.e2e.harness import RECEIPT_SECRET, REPO, bot_environment
from tests.e2e.journeys import customer_of, onboarded


async def counter(staff, barista, command: str, arguments: str = ""):
    """A staff member types a command in the staff group; returns the bot's answer there."""
    await staff.send_command(barista, command, arguments or None)
    return await staff.next_message()


def balance_of(db, user) -> int:
    customer_id = customer_of(db, user).id  # one session at a time (SQLite: each holds the write lock)
    with db.session() as session:
        return ledger.balance(session, customer_id)


def purchase_count(db) -> int:
    with db.session() as session:
        return session.exec(select(func.count()).select_from(Purchase)).one()


async def test_a_purchase_is_booked_at_the_counter_and_the_customer_hears_of_it(bot, api, staff, db):
    anna = await onboarded(api)
    barista = api.new_user(first_name="Bea")
    code = customer_of(db, anna).code
    answer = await counter(staff, barista, "/kauf", f"{code.lower()} 12,50 Kaffee")
    assert answer.text.startswith("✅ Gebucht: 12,50\xa0€ für Anna") and "+12 Punkte, Punktestand 12 (Bronze)" in answer.text
    number = int(re.search(r"Kauf Nr\. (\d+)", answer.text).group(1))
    notice = await anna.next_message()
    assert notice.text == ("🎉 +12 Punkte für deinen Einkauf über 12,50\xa0€. Danke!\n"
                           "Du hast jetzt 12 Punkte. Noch 238 bis Silber.")
    with db.session() as session:
        purchase = session.get(Purchase, number)
        assert purchase.amount_cents == 1250 and purchase.category == "Kaffee" and purchase.booked_by == barista.id
    # By @username too, with German thousands.
    ben = await onboarded(api, first_name="Ben", username="ben_b")
    answer = await counter(staff, barista, "/kauf", "@Ben_B 1.234,50")
    assert "+1.234 Punkte" not in answer.text  # over the limit of 1.000 €: refused
    assert "Obergrenze" in answer.text and balance_of(db, ben) == 0
    answer = await counter(staff, barista, "/kauf", "@ben_b 4.50")
    assert "4,50\xa0€ für Ben" in answer.text and balance_of(db, ben) == 4


async def test_bad_bookings_get_a_clear_answer_and_change_nothing(bot, api, staff, db):
    anna = await onboarded(api)
    barista = api.new_user(first_name="Bea")
    code = customer_of(db, anna).code
    cases = {
        "": "Einkauf buchen",
        code: "Einkauf buchen",
        f"{code} abc": "verstehe ich nicht als Betrag",
        f"{code} 4,505": "verstehe ich nicht als Betrag",
        f"{code} 0": "muss größer als 0 sein",
        f"{code} -5": "Negative Beträge gehen nicht",
        f"{code} 4500": "Obergrenze",
        f"{code} 1e3": "verstehe ich nicht als Betrag",
        f"{code} ４５": "verstehe ich nicht als Betrag",  # full-width digits
        "ABCDEF 5": "Keinen Kunden „ABCDEF“ gefunden",
        "0O1I00 5": "kein gültiger Kundencode",
        "@niemand 5": "Keinen Kunden „@niemand“ gefunden",
        f"{code} 5 " + "x" * 41: "höchstens 40 Zeichen",
    }
    for arguments, expected in cases.items():
        answer = await counter(staff, barista, "/kauf", arguments)
        assert expected in answer.text, f"/kauf {arguments!r} -> {answer.text!r}"
    assert purchase_count(db) == 0
    await anna.expect_no_message()


async def test_a_tier_upgrade_is_celebrated_at_once(bot, api, staff, db):
    anna = await onboarded(api)
    barista = api.new_user(first_name="Bea")
    code = customer_of(db, anna).code
    answer = await counter(staff, barista, "/kauf", f"{code} 260")
    assert "+260 Punkte, Punktestand 260 (Silber)" in answer.text
    assert (await staff.next_message()).text == "🥳 Anna ist jetzt Silber!"
    assert (await anna.next_message()).text.startswith("🎉 +260 Punkte")
    upgrade = await anna.next_message()
    assert upgrade.text.startswith("🥳 Glückwunsch, du bist jetzt Silber!") and "1,25-fache" in upgrade.text
    # The next purchase earns with the Silber multiplier: 10 € x 1.25.
    await counter(staff, barista, "/kauf", f"{code} 10")
    assert (await anna.next_message()).text.startswith("🎉 +12 Punkte")


async def test_a_reversal_takes_the_points_back_once(bot, api, staff, db):
    anna = await onboarded(api)
    barista = api.new_user(first_name="Bea")
    code = customer_of(db, anna).code
    booked = await counter(staff, barista, "/kauf", f"{code} 30")
    number = re.search(r"Kauf Nr\. (\d+)", booked.text).group(1)
    await anna.next_message()
    for arguments, expected in {"": "Einkauf stornieren", number: "Einkauf stornieren", "abc Grund": "„abc“ ist keine Kaufnummer",
                                "99999 Grund": "Einen Kauf Nr. 99999 gibt es nicht"}.items():
        assert expected in (await counter(staff, barista, "/storno", arguments)).text
    answer = await counter(staff, barista, "/storno", f"{number} falscher Kunde")
    assert answer.text == f"↩️ Storniert: Kauf Nr. {number} (30,00\xa0€, Anna) – 30 Punkte abgezogen, Punktestand 0."
    notice = await anna.next_message()
    assert "wurde storniert (falscher Kunde)" in notice.text and "du hast jetzt 0 Punkte" in notice.text
    assert "bereits storniert" in (await counter(staff, barista, "/storno", f"#{number} nochmal")).text
    with db.session() as session:
        reasons = [e.reason for e in session.exec(select(PointsEntry).order_by(PointsEntry.id))]
        assert reasons == ["purchase", "correction"]  # the ledger keeps both; nothing deleted
    assert balance_of(db, anna) == 0


async def test_receipt_qr_code_credits_once_and_refuses_replays_forgeries_and_expired_ones(bot, api, staff, db):
    barista = api.new_user(first_name="Bea")
    receipt = await counter(staff, barista, "/beleg", "8,40")
    assert receipt.kind == "photo" and receipt.photo.startswith(b"\x89PNG")
    link = re.search(r"https://t\.me/morgenrot_bot\?start=(r_[A-Za-z0-9_-]+)", receipt.caption).group(1)
    assert len(link) <= 64 and "8,40" in receipt.caption
    anna = await onboarded(api)
    await anna.send_command("/start", link)
    assert (await anna.next_message()).text.startswith("🧾 Beleg gescannt")
    assert (await anna.next_message()).text.startswith("🎉 +8 Punkte für deinen Einkauf über 8,40")
    await anna.send_command("/start", link)
    assert "schon gescannt" in (await anna.next_message()).text
    ben = await onboarded(api, first_name="Ben")
    await ben.send_command("/start", link)
    assert "schon eingelöst" in (await ben.next_message()).text
    forged = link[:-1] + ("A" if link[-1] != "A" else "B")
    bigger = receipts.issue("not-the-shop-secret", Decimal("500"), SystemClock().now(), 60)
    for payload in (forged, "r_" + bigger, "r_kaputt", "r_" + "A" * 60):
        await ben.send_command("/start", payload)
        assert "stimmt etwas nicht" in (await ben.next_message()).text, payload
    expired = receipts.issue(RECEIPT_SECRET, Decimal("5"), SystemClock().now() - timedelta(hours=3), 60)
    await ben.send_command("/start", "r_" + expired)
    assert "abgelaufen" in (await ben.next_message()).text
    assert balance_of(db, anna) == 8 and balance_of(db, ben) == 0 and purchase_count(db) == 1


async def test_a_new_customer_scanning_a_receipt_is_welcomed_and_asked_for_consent(bot, api, staff, db):
    token = receipts.issue(RECEIPT_SECRET, Decimal("3,20".replace(",", ".")), SystemClock().now(), 60)
    carla = api.new_user(first_name="Carla")
    await carla.send_command("/start", "r_" + token)
    assert (await carla.next_message()).text.startswith("🧾 Beleg gescannt")  # the link's answer first
    messages = [await carla.next_message(), await carla.next_message()]  # greeting with consent question, "+3 Punkte"
    assert sorted(m.text.split()[0] for m in messages) == ["Hallo", "🎉"]
    (greeting,) = [m for m in messages if m.text.startswith("Hallo Carla!")]
    assert greeting.buttons == [["Ja, gerne", "Nein, danke"]]
    assert balance_of(db, carla) == 3


async def test_points_and_card(bot, api, staff, db):
    anna = await onboarded(api)
    barista = api.new_user(first_name="Bea")
    code = customer_of(db, anna).code
    await counter(staff, barista, "/kauf", f"{code} 20")
    await anna.next_message()
    await anna.send_command("/punkte")
    status = await anna.next_message()
    assert status.text.startswith("⭐ Deine Punkte\nPunktestand: 20 Punkte\nStufe: Bronze\nNoch 230 Punkte bis Silber.")
    assert "Letzte Buchungen" in status.text and ": +20 – Einkauf" in status.text
    assert status.buttons == [["🎁 Prämien ansehen", "💳 Kundenkarte"]]
    await anna.send_text("wie viele punkte hab ich eigentlich")  # the check_points intent
    assert (await anna.next_message()).text.startswith("⭐ Deine Punkte\nPunktestand: 20 Punkte")
    await anna.press("Kundenkarte", message=status)
    card = await anna.next_message()
    assert card.kind == "photo" and card.photo.startswith(b"\x89PNG") and f"Dein Kundencode: {code}" in card.caption


async def test_rewards_are_redeemed_once_and_staff_mark_the_code_used_once(bot, api, staff, db):
    anna = await onboarded(api)
    barista = api.new_user(first_name="Bea")
    code = customer_of(db, anna).code
    await counter(staff, barista, "/kauf", f"{code} 45")
    await anna.next_message()
    await anna.send_command("/praemien")
    catalog = await anna.next_message()
    assert "Du hast 45 Punkte." in catalog.text and "Ein Stück Kuchen – 60 Punkte (noch 15)" in catalog.text
    assert catalog.buttons == [["🎁 Ein Kaffee nach Wahl (40)"]]  # only what she can afford
    # A forged press for an expensive reward is refused with the missing points.
    await anna.press_forged("reward:kurs", message=catalog)
    await anna.next_callback_answer()
    assert "fehlen dir leider noch 455 Punkte" in (await anna.next_message()).text
    await anna.press("Ein Kaffee nach Wahl", message=catalog)
    await anna.next_callback_answer()
    question = await anna.next_message()
    assert question.text == "„Ein Kaffee nach Wahl“ für 40 Punkte einlösen? Danach hast du noch 5 Punkte."
    await anna.press_forged("redeem:0123456789ab", message=question)  # not her confirmation
    assert (await anna.next_callback_answer())["text"] == "Schon erledigt 👍"
    await anna.press("Ja, einlösen", message=question)
    await anna.next_callback_answer()
    assert (await anna.next_edit()).text.endswith("✅")
    reward = await anna.next_message()
    assert reward.kind == "photo" and "Ein Kaffee nach Wahl gehört dir!" in reward.caption
    reward_code = re.search(r"Dein Code: ([A-Z0-9]{4}-[A-Z0-9]{4})", reward.caption).group(1)
    await anna.press("Ja, einlösen", message=question, stale_ok=True)  # a double tap
    assert (await anna.next_callback_answer())["text"] == "Schon erledigt 👍"
    assert balance_of(db, anna) == 5
    await anna.send_command("/praemien")  # the code is listed until it is used
    assert f"Ein Kaffee nach Wahl: {reward_code}" in (await anna.next_message()).text
    for typed, expected in {"": "Prämien- oder Gutschein-Code einlösen", "XYZ": "kein gültiger Prämien- oder Gutschein-Code",
                            "ABCD-EFGH": "gibt es nicht"}.items():
        assert expected in (await counter(staff, barista, "/einloesen", typed)).text
    answer = await counter(staff, barista, "/einloesen", reward_code.lower().replace("-", " "))
    assert answer.text == f"✅ Eingelöst: Ein Kaffee nach Wahl für Anna ({code})."
    assert "schon am" in (await counter(staff, barista, "/einloesen", reward_code)).text
    with db.session() as session:
        (redemption,) = session.exec(select(Redemption)).all()
        assert redemption.used_by == barista.id and redemption.cost == 40


async def test_cancelling_a_redemption_keeps_the_points(bot, api, staff, db):
    anna = await onboarded(api)
    barista = api.new_user(first_name="Bea")
    await counter(staff, barista, "/kauf", f"{customer_of(db, anna).code} 41")
    await anna.next_message()
    await anna.send_text("was kann ich mit meinen punkten bekommen")  # rewards_catalog intent
    catalog = await anna.next_message()
    await anna.press("Ein Kaffee nach Wahl", message=catalog)
    await anna.next_callback_answer()
    question = await anna.next_message()
    confirm_data = question.callback_data[0]
    await anna.press("Abbrechen", message=question)
    await anna.next_callback_answer()
    assert (await anna.next_edit()).text.endswith("Alles klar, nichts eingelöst.")
    await anna.press_forged(confirm_data, message=question)  # the old "yes" after cancelling
    assert (await anna.next_callback_answer())["text"] == "Schon erledigt 👍"
    assert balance_of(db, anna) == 41


async def run_cli(env: dict[str, str], *arguments: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *arguments, cwd=REPO, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    return process.returncode, out.decode(), err.decode()


async def test_the_till_script_prints_a_receipt_link_and_qr_code(bot, api, staff, db, database_url, tmp_path):
    env = bot_environment(api, database_url, None)  # asks the (fake) Bot API for the bot's name
    code, out, err = await run_cli(env, "receipt", "5,60", "--png", str(tmp_path / "beleg.png"))
    assert code == 0, err
    link = out.strip()
    assert re.fullmatch(r"https://t\.me/morgenrot_bot\?start=r_[A-Za-z0-9_-]{36}", link)
    assert (tmp_path / "beleg.png").read_bytes().startswith(b"\x89PNG")
    anna = await onboarded(api)
    await anna.send_command("/start", link.split("start=")[1])
    assert (await anna.next_message()).text.startswith("🧾 Beleg gescannt")
    assert (await anna.next_message()).text.startswith("🎉 +5 Punkte")
    for amount, complaint in (("fünf", "is not an amount"), ("4000", "at most 1000")):
        code, out, err = await run_cli(env, "receipt", amount)
        assert code == 2 and complaint in err and not out
    code, out, err = await run_cli({**env, "STAMMGAST_RECEIPT_SECRET": ""}, "receipt", "5")
    assert code == 2 and "STAMMGAST_RECEIPT_SECRET is not set" in err
