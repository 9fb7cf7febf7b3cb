"""A bot that cannot be impersonated or misused: staff rights follow the staff group at once,
staff cannot book for themselves unseen, the bot follows its staff group when it becomes a
supergroup, and weak secrets keep it from starting."""

from sqlmodel import func, select

from domain import ledger
from storage.models import OutboxMessage, PointsEntry, Purchase, StaffChat
from tests.e2e.harness import ADMIN_ID, STAFF_CHAT_ID, bot_environment, config_file
from tests.e2e.journeys import customer_of, onboarded
from tests.e2e.test_webhook import start_and_fail

NOT_STAFF = "Diesen Befehl kann nur unser Team benutzen."


def count(db, table) -> int:
    with db.session() as session:
        return session.exec(select(func.count()).select_from(table)).one()


async def test_staff_rights_end_the_moment_someone_leaves_or_is_restricted(bots, api, staff, db):
    staff.chat.bot_status = "administrator"  # Telegram reports members' changes to admin bots only
    bot = await bots()
    anna = await onboarded(api)
    code = customer_of(db, anna).code
    bea, chris = api.new_user(first_name="Bea"), api.new_user(first_name="Chris")
    for barista in (bea, chris):
        staff.add_member(barista)
        await barista.send_command("/kauf", f"{code} 2,00")  # privately: asks Telegram, then remembers (120 s)
        assert (await barista.next_message()).text.startswith("✅ Gebucht: 2,00\xa0€ für Anna")
    assert count(db, Purchase) == 2

    staff.change_member(bea, "left")
    await bot.wait_for_log("staff group membership changed")
    await bea.send_command("/kauf", f"{code} 3,00")
    assert (await bea.next_message()).text == NOT_STAFF  # at once, not after the cache ran out

    staff.change_member(chris, "restricted", by=api.new_user(first_name="Ines", user_id=ADMIN_ID))
    await bot.wait_for_logs("staff group membership changed", 2)
    await chris.send_command("/kauf", f"{code} 3,00")
    assert (await chris.next_message()).text == NOT_STAFF
    await staff.send_command(chris, "/kauf", f"{code} 3,00")  # nor in the group itself
    await staff.expect_no_message(within=1.0)
    assert count(db, Purchase) == 2

    staff.change_member(chris, "member")  # back in good standing
    await bot.wait_for_logs("staff group membership changed", 3)
    await chris.send_command("/kauf", f"{code} 3,00")
    assert (await chris.next_message()).text.startswith("✅ Gebucht: 3,00\xa0€ für Anna")


async def test_staff_cannot_book_for_their_own_customer_account(bot, api, staff, db):
    owner = api.new_user(first_name="Ines", user_id=ADMIN_ID)
    bea = await onboarded(api, first_name="Bea")  # a barista who is also a customer
    anna = await onboarded(api)
    own, other = customer_of(db, bea).code, customer_of(db, anna).code

    await staff.send_command(bea, "/kauf", f"{own} 25,00")
    refused = await staff.next_message()
    assert refused.text.startswith("🚫 Nicht gebucht: Einkäufe für dein eigenes Kundenkonto")
    notice = await owner.next_message()
    assert notice.text == (f"⚠️ Bea wollte einen Einkauf (25,00) für das eigene Kundenkonto {own} buchen. "
                           "Abgelehnt, es wurde nichts gebucht.")
    assert count(db, Purchase) == 0
    await staff.send_command(bea, "/kauf", f"{other} 25,00")  # others' purchases as always
    assert (await staff.next_message()).text.startswith("✅ Gebucht: 25,00\xa0€ für Anna")

    # Goodwill on a ticket of her own.
    await bea.send_command("/beschwerde")
    await bea.next_message()
    await bea.send_text("Mein Latte war kalt und der Kuchen alt.")
    await bea.next_message()
    alert = await staff.next_message()
    await staff.press(bea, "🎁 Kulanz", message=alert)
    await staff.next_callback_answer()
    await staff.next_edit()
    await staff.press(bea, "+50", message=alert)
    assert (await staff.next_callback_answer())["text"] == "Für das eigene Kundenkonto geht das nicht."
    assert (await staff.next_message()).text.startswith("🚫 Nicht gebucht: Kulanzpunkte für dein eigenes")
    assert (await owner.next_message()).text.startswith("⚠️ Bea wollte sich Kulanzpunkte (+50 (#1))")
    with db.session() as session:
        assert ledger.balance(session, customer_of(db, bea).id) == 0
        assert session.exec(select(func.count()).select_from(PointsEntry)
                            .where(PointsEntry.reason == ledger.GOODWILL)).one() == 0


async def test_with_confirm_a_colleague_books_a_staff_members_own_purchase(bots, api, staff, db, tmp_path):
    await bots(STAMMGAST_CONFIG=config_file(tmp_path, {"staff": {"self_booking": "confirm"}}))
    owner = api.new_user(first_name="Ines", user_id=ADMIN_ID)
    bea = await onboarded(api, first_name="Bea")  # a barista who is also a customer
    chris = api.new_user(first_name="Chris")  # her colleague
    own = customer_of(db, bea).code

    await staff.send_command(bea, "/kauf", f"{own} 25,00")
    in_group = [await staff.next_message(), await staff.next_message()]  # her answer and the request
    request = next(message for message in in_group if message.buttons)
    assert any(message.text.startswith("⏳ Für dein eigenes Kundenkonto muss das jemand anderes") for message in in_group)
    assert request.text.startswith(f"⏳ Bea möchte einen Einkauf (25,00) für das eigene Kundenkonto {own} buchen.")
    assert request.buttons == [["✅ Bestätigen", "✖️ Ablehnen"]]
    assert (await owner.next_message()).buttons == request.buttons  # the owners see it too
    assert count(db, Purchase) == 0

    await staff.press(bea, "✅ Bestätigen", message=request)  # not by the one who asked
    assert (await staff.next_callback_answer())["text"] == "Die eigene Anfrage bestätigt bitte jemand anderes."
    assert count(db, Purchase) == 0
    await staff.press(chris, "✅ Bestätigen", message=request)
    await staff.next_callback_answer()
    assert (await staff.next_edit()).text.endswith("✅ Bestätigt und gebucht von Chris")
    bea_id = customer_of(db, bea).id
    with db.session() as session:
        purchase = session.exec(select(Purchase)).one()
        assert (purchase.customer_id, purchase.amount_cents) == (bea_id, 2500)
    bea_private = [await bea.next_message(), await bea.next_message()]  # her points, and the news
    assert any("wurde bestätigt und gebucht" in message.text for message in bea_private)
    await staff.press(chris, "✅ Bestätigen", message=request, stale_ok=True)  # a second press books nothing
    assert (await staff.next_callback_answer())["text"] == "Darüber ist schon entschieden."
    assert count(db, Purchase) == 1


async def test_the_bot_follows_its_staff_group_when_it_becomes_a_supergroup(bots, api, db):
    old_id, new_id = -4001234, -1009876543210
    group = api.new_group(title="Team Morgenrot", chat_id=old_id, chat_type="group")
    bea = api.new_user(first_name="Bea")
    group.add_member(bea)
    owner = api.new_user(first_name="Ines", user_id=ADMIN_ID)
    bot = await bots(STAMMGAST_STAFF_CHAT_ID=str(old_id))
    anna = await onboarded(api)
    await anna.send_text("Ich möchte bitte mit einem Mitarbeiter sprechen")
    await anna.next_message()
    assert (await group.next_message()).text.startswith("🆕")

    supergroup = await group.migrate_to_supergroup(bea, new_id)
    await bot.wait_for_log("the staff group became a supergroup")
    assert (await owner.next_message()).text.startswith(
        f"ℹ️ Die Team-Gruppe ist jetzt eine Supergruppe und hat eine neue ID: {new_id} (vorher {old_id}).")
    with db.session() as session:
        stored = session.get(StaffChat, 1)
        assert (stored.chat_id, stored.migrated_from) == (new_id, old_id)
    await anna.send_text("Hallo? Meldet sich noch jemand?")  # relayed into the new supergroup
    await anna.next_message()
    relayed = await supergroup.next_message()
    assert relayed.text == "💬 Anna (#1): Hallo? Meldet sich noch jemand?"
    await supergroup.send_command(bea, "/tickets")  # the new group is the staff group now
    assert "#1" in (await supergroup.next_message()).text

    # A restart keeps the new id, though the configuration still names the old group.
    await bot.stop()
    bot = await bots(STAMMGAST_STAFF_CHAT_ID=str(old_id))
    ben = await onboarded(api, first_name="Ben")
    await ben.send_text("Ich möchte bitte mit einem Mitarbeiter sprechen")
    await ben.next_message()
    assert (await supergroup.next_message()).text.startswith("🆕")
    with db.session() as session:
        assert not session.exec(select(OutboxMessage).where(OutboxMessage.chat_id == old_id,
                                                            OutboxMessage.status != "sent")).all()


async def test_an_alert_for_a_group_that_moved_unseen_is_retried_at_the_new_id(bots, api, db):
    old_id, new_id = -4005678, -1005550001111
    group = api.new_group(title="Team Morgenrot", chat_id=old_id, chat_type="group")
    bea = api.new_user(first_name="Bea")
    group.add_member(bea)
    api.new_user(first_name="Ines", user_id=ADMIN_ID)
    bot = await bots(STAMMGAST_STAFF_CHAT_ID=str(old_id))
    supergroup = await group.migrate_to_supergroup(bea, new_id, tell_bot=False)  # Telegram's error tells it
    anna = await onboarded(api)
    await anna.send_text("Ich möchte bitte mit einem Mitarbeiter sprechen")
    await anna.next_message()
    assert (await supergroup.next_message()).text.startswith("🆕")  # not lost
    await bot.wait_for_log("outbox chat migrated; retrying at the new id")
    await bot.wait_for_log("outbox message sent", f'"chat_id": {new_id}')  # recorded after Telegram took it
    with db.session() as session:
        alert = session.exec(select(OutboxMessage).where(OutboxMessage.idempotency_key.like("ticket:1:%"))).first()
        assert (alert.chat_id, alert.status) == (new_id, "sent")


async def test_a_weak_receipt_secret_stops_the_start_and_doctor_names_it(api, database_url, rasa_url):
    env = bot_environment(api, database_url, rasa_url, STAMMGAST_RECEIPT_SECRET="geheim123")
    code, err = await start_and_fail(env)
    assert code == 2 and "STAMMGAST_RECEIPT_SECRET is too weak (9 characters, at least 32" in err
    assert "geheim123" not in err
    from tests.e2e.test_doctor import doctor

    code, output = await doctor(env)
    assert code == 1 and any(line.startswith("✘ secrets: STAMMGAST_RECEIPT_SECRET is too weak")
                             for line in output.splitlines())
    assert STAFF_CHAT_ID and not api.calls("getUpdates")
