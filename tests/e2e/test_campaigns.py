"""The owner's campaigns through the fake Bot API, the real bot and its database: /broadcast to a
segment with preview and confirm, placeholders and coupons, quiet hours and the weekly cap,
/planen (once and recurring, with a movable clock), /kampagnen, /abbrechen in the middle of a
send, and bad input.

Customers are onboarded through the bot (so they have chats and consent); their purchases
are written to the database directly, without the bot's "points credited" messages."""

import re
import uuid
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from domain import ledger, purchases
from storage.models import Customer, OutboxMessage, Purchase, TelegramAccount
from tests.e2e.harness import ADMIN_ID, SEND_ANY_TIME, config_file
from tests.e2e.journeys import customer_of, onboarded

BERLIN = ZoneInfo("Europe/Berlin")
NOT_ADMIN = "Berichte und Nachrichten an Kunden gibt es nur für die Inhaber des Ladens. 🙂"
DONE = "Schon erledigt 👍"
WEEKDAYS = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag")
TEXT = "Hallo {vorname}, du hast {punkte} Punkte ({stufe}). Frische Bohnen aus Äthiopien sind da!"


@pytest.fixture
def any_time(tmp_path) -> str:
    return config_file(tmp_path, SEND_ANY_TIME)


def the_owner(api):
    return api.new_user(first_name="Ines", user_id=ADMIN_ID)


def bought(db, user, *euros: int, category: str | None = None, days_ago: int = 10) -> None:
    """Purchases (and their points) written directly, as an import would (under the ledger's
    lock, which also sets the kept tier points aside)."""
    customer_id = customer_of(db, user).id
    at = datetime.now(timezone.utc) - timedelta(days=days_ago)
    with db.session() as session:
        ledger.lock(session, customer_id)
        for euro in euros:
            key = f"e2e:{uuid.uuid4().hex}"
            purchase = Purchase(idempotency_key=key, customer_id=customer_id, amount_cents=euro * 100,
                                category=category, source="counter", created_at=at)
            session.add(purchase)
            session.flush()
            ledger.add_entry(session, customer_id, euro, ledger.PURCHASE, f"purchase:{purchase.id}", at,
                             purchase_id=purchase.id, tier_at=at)
        purchases.refresh_stats(session, [customer_id])


def campaign_rows(db) -> list[OutboxMessage]:
    with db.session() as session:
        return list(session.exec(select(OutboxMessage).where(OutboxMessage.campaign_id.is_not(None))
                                 .order_by(OutboxMessage.id)))


async def draft(owner, command: str, arguments: str, text: str):
    """Command, segment summary and the question for the text, then the text: the preview's
    three messages (title, message, confirmation with buttons)."""
    await owner.send_command(command, arguments)
    summary = (await owner.next_message()).text
    assert "✍️" in (await owner.next_message()).text
    await owner.send_text(text)
    title, preview, confirm = [await owner.next_message() for _ in range(3)]
    return summary, title, preview, confirm


async def send_now(owner, segment: str, text: str) -> None:
    """A draft confirmed with the button at once."""
    _, _, _, confirm = await draft(owner, "/broadcast", segment, text)
    await owner.press("✅ Senden", message=confirm)
    await owner.next_callback_answer()
    await owner.next_edit()


async def test_a_broadcast_reaches_its_segment_with_personal_text_and_coupon(bots, api, staff, db, any_time):
    process = await bots(STAMMGAST_CONFIG=any_time)
    anna = await onboarded(api)
    emma = await onboarded(api, first_name="Emma", consent="Yes, please", language_code="en")
    ben = await onboarded(api, first_name="Ben")
    carla = await onboarded(api, first_name="Carla", consent="Nein, danke")
    for regular in (anna, emma, carla):
        bought(db, regular, 30, 30, 30, 30)
    bought(db, ben, 12)
    owner = the_owner(api)

    summary, title, preview, confirm = await draft(
        owner, "/broadcast", "stamm", TEXT + "\nGutschein (14 Tage): 10 % auf eine Packung Bohnen")
    assert summary.startswith("👥 Passende Kunden: 3\nDavon erreichbar: 2 ")  # Carla said no to offers
    assert summary.endswith("Zum Beispiel: Anna, Emma")
    assert title.text.startswith("👀 Vorschau") and "Anna" in title.text
    assert preview.text.startswith("Hallo Anna, du hast 120 Punkte (Bronze). Frische Bohnen aus Äthiopien sind da!")
    assert "🎟 10 % auf eine Packung Bohnen" in preview.text and "K7QX-2M9P" in preview.text
    assert confirm.text.startswith("📣 An 2 Kunden (stamm)") and "14 Tage gültig" in confirm.text
    assert confirm.buttons == [["✅ Senden", "Verwerfen"]]
    assert re.fullmatch(r"camp:ok:\d+:[0-9a-f]{12}", confirm.callback_data[0])
    assert campaign_rows(db) == []  # nothing before the button

    await owner.press("✅ Senden", message=confirm)
    await owner.next_callback_answer()
    assert (await owner.next_edit()).text.endswith("Kampagne #1: wird an 2 Kunden verschickt. Wie weit sie ist, "
                                                   "zeigt /kampagnen.")
    to_anna = (await anna.next_message()).text
    assert to_anna.startswith("Hallo Anna, du hast 120 Punkte (Bronze).")
    code = re.search(r"Dein Code: ([A-Z0-9]{4}-[A-Z0-9]{4}) – gültig bis", to_anna).group(1)
    assert "/stop" in to_anna
    to_emma = (await emma.next_message()).text
    assert to_emma.startswith("Hallo Emma") and "Your code:" in to_emma and code not in to_emma
    for nobody in (ben, carla):
        await nobody.expect_no_message(within=0.5)

    await owner.press("✅ Senden", message=confirm, stale_ok=True)  # the double tap
    assert (await owner.next_callback_answer())["text"] == DONE
    await owner.press_forged("camp:ok:1:0123456789ab", message=confirm)
    assert (await owner.next_callback_answer())["text"] == DONE

    await process.wait_for_logs("outbox message sent", 2)
    barista = api.new_user(first_name="Bea")
    await staff.send_command(barista, "/einloesen", code.lower())
    assert (await staff.next_message()).text == f"✅ Eingelöst: 10 % auf eine Packung Bohnen für Anna ({customer_of(db, anna).code})."
    await owner.send_command("/kampagnen")
    listing = (await owner.next_message()).text
    assert "#1 ✔️ fertig · stamm" in listing and "„Hallo {vorname}, du hast {punkte} Punkte" in listing
    assert "✅ gesendet 2 · ⏳ wartend 0 · ❌ fehlgeschlagen 0 · 🚫 nicht erreichbar 0" in listing
    assert "🎟 Gutscheine eingelöst: 1 von 2 (50\xa0%)" in listing
    await anna.expect_no_message(within=0.5)
    assert len(campaign_rows(db)) == 2


async def test_planned_and_weekly_campaigns_go_out_at_their_time(bots, api, staff, db, any_time, tmp_path):
    clock = tmp_path / "clock"
    process = await bots(STAMMGAST_CONFIG=any_time, STAMMGAST_TEST_CLOCK_FILE=str(clock))
    anna = await onboarded(api)
    owner = the_owner(api)

    _, _, preview, confirm = await draft(owner, "/planen", "morgen 10:00 alle", "Morgen gibt es Waffeln, {vorname}!")
    assert preview.text.startswith("Morgen gibt es Waffeln, Anna!")
    assert confirm.buttons == [["📅 Planen", "Verwerfen"]] and "am " in confirm.text
    await owner.press("📅 Planen", message=confirm)
    await owner.next_callback_answer()
    assert "Kampagne #1 ist geplant: am " in (await owner.next_edit()).text

    now = datetime.now(timezone.utc)
    in_two_days = now.astimezone(BERLIN).date() + timedelta(days=2)  # always after "morgen 10:00"
    weekday = WEEKDAYS[in_two_days.weekday()]
    _, _, _, weekly = await draft(owner, "/planen", f"jeden {weekday} 9:00 alle", "Neue Woche, neuer Kuchen!")
    assert f"jeden {weekday} um 09:00" in weekly.text
    await owner.press("📅 Planen", message=weekly)
    await owner.next_callback_answer()
    await owner.next_edit()
    await anna.expect_no_message(within=1.0)

    tomorrow_ten = datetime.combine(in_two_days - timedelta(days=1), datetime.min.time().replace(hour=10), BERLIN)
    clock.write_text(str((tomorrow_ten - now).total_seconds() + 60))
    assert (await anna.next_message()).text.startswith("Morgen gibt es Waffeln, Anna!")
    # Anna may read it a moment before the dispatcher records the send; /kampagnen counts records
    await process.wait_for_log("outbox message sent", f'"chat_id": {anna.id}')

    await owner.send_command("/kampagnen")
    listing = (await owner.next_message()).text
    assert f"#2 📅 geplant, jeden {weekday} um 09:00" in listing and "#1 ✔️ fertig" in listing

    for week in range(2):
        nine = datetime.combine(in_two_days + timedelta(days=7 * week), datetime.min.time().replace(hour=9), BERLIN)
        clock.write_text(str((nine - now).total_seconds() + 60))
        assert (await anna.next_message()).text.startswith("Neue Woche, neuer Kuchen!")
        await anna.expect_no_message(within=1.0)
    weekly_keys = sorted(r.idempotency_key for r in campaign_rows(db) if r.campaign_id == 2)
    customer_id = customer_of(db, anna).id
    assert weekly_keys == [f"campaign:2:1:{customer_id}", f"campaign:2:2:{customer_id}"]


async def test_a_broadcast_waits_out_quiet_hours_and_the_weekly_cap_skips_who_had_enough(bots, api, staff, db,
                                                                                         tmp_path):
    """Marketing rules at send time: quiet hours around the real time of the test run, moved
    past by the bot's clock; a cap of one marketing message per customer and week."""
    berlin = datetime.now(BERLIN)
    quiet = f"{berlin - timedelta(hours=1):%H:%M}-{berlin + timedelta(hours=2):%H:%M}"
    clock = tmp_path / "clock"
    process = await bots(STAMMGAST_TEST_CLOCK_FILE=str(clock), STAMMGAST_CONFIG=config_file(tmp_path, {"campaigns": {
        "quiet_hours": quiet, "no_send_days": [], "no_send_dates": [], "max_marketing_per_week": 1}}))
    anna = await onboarded(api)
    ben = await onboarded(api, first_name="Ben")
    bought(db, anna, 30, 30, 30, 30)
    bought(db, ben, 12)
    owner = the_owner(api)

    await send_now(owner, "neu", "Ben, dein erster Kaffee war gut? Der zweite ist halb so teuer.")
    await send_now(owner, "alle", "Heute Abend: Verkostung!")
    await ben.expect_no_message(within=1.5)  # quiet hours: both wait
    quiet_ends = (berlin + timedelta(hours=2)).replace(second=0, microsecond=0).astimezone(timezone.utc)
    assert [(r.status, r.not_before) for r in campaign_rows(db)] == [("pending", quiet_ends)] * 3

    clock.write_text(str(2 * 3600 + 60))
    assert (await ben.next_message()).text.startswith("Ben, dein erster Kaffee")
    assert (await anna.next_message()).text.startswith("Heute Abend: Verkostung!")
    await process.wait_for_log('"verdict": "skipped"')
    await process.wait_for_log("outbox message sent", f'"chat_id": {anna.id}')
    await ben.expect_no_message(within=0.5)  # the second offer this week is one too many
    rows = campaign_rows(db)
    assert [(r.campaign_id, r.customer_id, r.status, r.last_error) for r in rows] == [
        (1, customer_of(db, ben).id, "sent", None),
        (2, customer_of(db, anna).id, "sent", None),
        (2, customer_of(db, ben).id, "skipped", "weekly_cap"),
    ]
    await owner.send_command("/kampagnen")
    listing = (await owner.next_message()).text
    assert "⏭ übersprungen 1: Wochenlimit" in listing.split("#2")[1]


async def test_cancel_stops_a_broadcast_in_the_middle(bots, api, staff, db, any_time):
    process = await bots(STAMMGAST_CONFIG=any_time)
    anna = await onboarded(api)
    users = [anna] + [api.new_user(first_name=f"Kunde{n}") for n in range(60)]
    now = datetime.now(timezone.utc)
    with db.session() as session:  # sixty more customers with chats and consent
        for user in users[1:]:
            customer = Customer(first_name=user.first_name, marketing_consent=True, consent_asked=True,
                                created_at=now, last_seen_at=now, telegram_reachable=True)
            session.add(customer)
            session.flush()
            session.add(TelegramAccount(telegram_user_id=user.id, customer_id=customer.id, chat_id=user.id))
    owner = the_owner(api)
    api.set_latency(0.3, methods=["sendMessage"])
    await send_now(owner, "alle", "Heute Abend: Verkostung!")
    await process.wait_for_logs("outbox message sent", 3)

    await owner.send_command("/abbrechen", "#1")
    stopped = (await owner.next_message()).text
    count = int(re.search(r"gestoppt.\s+(\d+) noch wartende", stopped).group(1))
    assert 0 < count < 61
    await owner.send_command("/kampagnen")
    listing = (await owner.next_message()).text
    assert "#1 ⛔ abgebrochen · alle" in listing and "abgebrochen" in listing.split("⏭ übersprungen")[1]
    api.set_latency(0)
    rows = campaign_rows(db)
    sent = [r for r in rows if r.status == "sent"]
    assert len(rows) == 61 and len(sent) + count <= 61
    delivered = sum(len(user.messages) for user in users[1:]) + sum(
        1 for m in anna.messages if m.text.startswith("Heute Abend"))
    assert delivered < 61  # the rest never went out
    await owner.send_command("/abbrechen", "1")
    assert "schon fertig oder gestoppt" in (await owner.next_message()).text


async def test_bad_input_is_explained_and_nothing_is_sent(bots, api, staff, db, any_time):
    await bots(STAMMGAST_CONFIG=any_time)
    anna = await onboarded(api)
    owner = the_owner(api)
    await anna.send_command("/broadcast", "alle")
    assert (await anna.next_message()).text == NOT_ADMIN

    # Each refusal is one message: what is wrong, then how to write it.
    await owner.send_command("/broadcast")
    usage_and_help = (await owner.next_message()).text  # with the segments' help and this shop's figures
    assert "/broadcast SEGMENT" in usage_and_help and "{" not in usage_and_help
    assert "mindestens 4 Einkäufe" in usage_and_help and "stufe:silber" in usage_and_help

    await owner.send_command("/broadcast", "kaffeetrinker")
    refusal = (await owner.next_message()).text
    assert refusal.startswith("„kaffeetrinker“ kenne ich nicht") and "{" not in refusal
    assert "/broadcast SEGMENT" in refusal and refusal.endswith("einfach /segment schicken.")

    for arguments, answer in (("gestern 10:00 alle", "verstehe ich nicht"), ("morgen alle", "Um wie viel Uhr?"),
                              ("31.11. 9:00 alle", "gibt es nicht"), ("heute 0:00 alle", "Vergangenheit")):
        await owner.send_command("/planen", arguments)
        refusal = (await owner.next_message()).text
        assert answer in refusal and "/planen WANN SEGMENT" in refusal

    await owner.send_command("/broadcast", "alle")
    await owner.next_message()
    await owner.next_message()
    await owner.send_text("Hallo {name}!")
    assert (await owner.next_message()).text.startswith("Den Platzhalter „{name}“ kenne ich nicht. Möglich sind: {vorname}")
    await owner.send_text("x" * 4000)
    assert "höchstens 3.500" in (await owner.next_message()).text
    await owner.send_text("Alles neu!")
    _, _, confirm = [await owner.next_message() for _ in range(3)]
    await anna.press_forged(confirm.callback_data[0], message=await _any_message(anna))
    assert (await anna.next_callback_answer())["text"] == NOT_ADMIN
    await owner.press("Verwerfen", message=confirm)
    await owner.next_callback_answer()
    assert (await owner.next_edit()).text.endswith("Verworfen – es wurde nichts verschickt.")

    for arguments, answer in ((None, "/abbrechen NUMMER"), ("zwölf", "/abbrechen NUMMER"),
                              ("42", "Eine Kampagne #42 gibt es nicht")):
        await owner.send_command("/abbrechen", arguments)
        assert answer in (await owner.next_message()).text
    await staff.send_command(owner, "/broadcast", "alle")
    assert "im privaten Chat" in (await staff.next_message()).text
    await staff.send_command(owner, "/segment", "alle ohne neu")  # looking works in the group too
    # Anna; the owner wrote to the bot but bought nothing, so he is no customer
    assert (await staff.next_message()).text.startswith("👥 Passende Kunden: 1\nDavon erreichbar: 1 ")
    await owner.send_command("/segment", "stufe:platin")
    refusal = (await owner.next_message()).text
    assert "„platin“ gibt es nicht" in refusal and "/segment SEGMENT" in refusal
    await owner.expect_no_message(within=1.0)  # nothing more: the refusal came as one message
    await anna.expect_no_message(within=0.1)
    assert campaign_rows(db) == []


async def _any_message(user):
    await user.send_command("/punkte")
    return await user.next_message()
