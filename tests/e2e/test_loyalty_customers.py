"""The loyalty program from the customers' side: recommending the shop, linking an imported
customer card by phone number, telling us the birthday, and who may see and book what."""

from datetime import datetime, timezone

from sqlmodel import func, select

from domain import ledger
from domain.consent import consent_history
from domain.customers import unused_customer_code
from storage.models import Customer, Purchase, TelegramAccount
from tests.e2e.journeys import customer_of, onboarded

NOT_STAFF = "Diesen Befehl kann nur unser Team benutzen."
DONE = "Schon erledigt 👍"


# --- helpers -----------------------------------------------------------------------------------

def balance_of(db, customer_id: int) -> int:
    with db.session() as session:
        return ledger.balance(session, customer_id)


def customer_by_id(db, customer_id: int) -> Customer | None:
    with db.session() as session:
        return session.get(Customer, customer_id)


def purchase_count(db) -> int:
    with db.session() as session:
        return session.exec(select(func.count()).select_from(Purchase)).one()


async def book(staff, clerk, code: str, amount: str):
    """A staff member books a purchase in the staff group; returns the bot's confirmation."""
    await staff.send_command(clerk, "/kauf", f"{code} {amount}")
    return await staff.next_message()


async def texts_of(user, count: int) -> list[str]:
    return [(await user.next_message()).text for _ in range(count)]


def import_customer(db, ref: str, phone: str, points: int, first_name: str = "Importiert") -> int:
    """A customer from the shop's old card system: no Telegram yet, an opening balance."""
    now = datetime.now(timezone.utc)
    with db.session() as session:
        customer = Customer(code=unused_customer_code(session), first_name=first_name, external_ref=ref,
                            phone=phone, created_at=now, last_seen_at=now)
        session.add(customer)
        session.flush()
        ledger.add_entry(session, customer.id, points, "import", f"import:opening:{ref}", now)
        return customer.id


def account_customer_id(db, user) -> int | None:
    with db.session() as session:
        account = session.get(TelegramAccount, user.id)
        return account.customer_id if account else None


def linked_account_of(db, customer_id: int) -> TelegramAccount | None:
    with db.session() as session:
        return session.exec(select(TelegramAccount).where(TelegramAccount.customer_id == customer_id)).first()


# --- referrals ---------------------------------------------------------------------------------

async def test_referral_link_gives_both_sides_a_bonus_after_the_first_purchase(bot, api, staff, db):
    anna = await onboarded(api)
    anna_customer = customer_of(db, anna)
    await anna.send_command("/empfehlen")
    invite = await anna.next_message()
    link = f"https://t.me/morgenrot_bot?start=ref_{anna_customer.code}"
    assert link in invite.text and "50 Punkte" in invite.text

    ben = api.new_user(first_name="Ben")
    await ben.send_command("/start", f"ref_{anna_customer.code}")
    referral_welcome = await ben.next_message()  # the link's answer first, then the one greeting
    assert referral_welcome.text == "Schön, dass Anna dir von uns erzählt hat! Nach deinem ersten Einkauf bekommt ihr beide 50 Punkte."
    question = await ben.next_message()
    assert question.text.startswith("Hallo Ben!") and question.buttons == [["Ja, gerne", "Nein, danke"]]
    ben_customer = customer_of(db, ben)
    assert ben_customer.referred_by_id == anna_customer.id
    assert balance_of(db, ben_customer.id) == 0 and balance_of(db, anna_customer.id) == 0  # no purchase yet

    sabine = api.new_user(first_name="Sabine")
    booked = await book(staff, sabine, ben_customer.code, "10")
    assert booked.text.startswith("✅ Gebucht:") and "Ben" in booked.text and "Punktestand 60" in booked.text
    ben_texts = await texts_of(ben, 2)
    credited = [t for t in ben_texts if t.startswith("🎉 +10 Punkte")]
    welcome_bonus = [t for t in ben_texts if t.startswith("🎁 Willkommensbonus!")]
    assert len(credited) == 1 and len(welcome_bonus) == 1, ben_texts
    assert "50 Punkte" in welcome_bonus[0] and "60 Punkte" in credited[0]
    referrer_bonus = await anna.next_message()
    assert referrer_bonus.text.startswith("💌 Danke fürs Weiterempfehlen! Ben hat zum ersten Mal bei uns eingekauft")
    assert "50 Punkte" in referrer_bonus.text
    assert balance_of(db, ben_customer.id) == 60 and balance_of(db, anna_customer.id) == 50

    # The second purchase is just a purchase.
    await book(staff, sabine, ben_customer.code, "5")
    assert (await ben.next_message()).text.startswith("🎉 +5 Punkte")
    await anna.expect_no_message(within=0.5)
    assert balance_of(db, ben_customer.id) == 65 and balance_of(db, anna_customer.id) == 50


async def test_own_old_and_broken_referral_links_change_nothing(bot, api, db):
    anna = await onboarded(api)
    anna_customer = customer_of(db, anna)
    link_payload = f"ref_{anna_customer.code}"

    await anna.send_command("/start", link_payload)
    assert "eigener Empfehlungslink" in (await anna.next_message()).text
    assert customer_of(db, anna).referred_by_id is None

    carl = await onboarded(api, first_name="Carl")
    await carl.send_command("/start", link_payload)
    assert (await carl.next_message()).text.startswith(
        "Danke fürs Vorbeischauen! Der Empfehlungsbonus gilt nur für neue Kundinnen und Kunden")
    assert customer_of(db, carl).referred_by_id is None

    for broken in ("ref_!!", "ref_ZZZZZZ"):
        await carl.send_command("/start", broken)
        assert (await carl.next_message()).text == "Dieser Empfehlungslink ist leider ungültig.", broken
    dora = api.new_user(first_name="Dora")
    await dora.send_command("/start", "ref_ZZZZZZ")
    assert (await dora.next_message()).text == "Dieser Empfehlungslink ist leider ungültig."
    greeting = await dora.next_message()
    assert greeting.text.startswith("Hallo Dora!") and greeting.buttons == [["Ja, gerne", "Nein, danke"]]

    for user in (anna, carl, dora):
        customer = customer_of(db, user)
        assert customer.referred_by_id is None, user
        assert balance_of(db, customer.id) == 0, user
    await anna.expect_no_message(within=0.3)
    await carl.expect_no_message(within=0.3)


# --- linking an imported customer card -------------------------------------------------------

async def test_the_phone_number_keyboard_can_be_skipped(bot, api, db):
    import_customer(db, "K-1003", "+4915100000003", 40, first_name="Paul")
    pia = await onboarded(api, first_name="Pia")
    await pia.expect_no_message(within=0.5)  # nothing pushed after the consent answer
    await pia.send_command("/verbinden")
    await pia.next_message()
    await pia.press_reply_button("Überspringen")
    skipped = await pia.next_message()
    assert skipped.text == "Alles klar, dann ohne. Mit /verbinden geht es jederzeit später."
    assert skipped.reply_markup == {"remove_keyboard": True} and pia.reply_keyboard is None
    assert account_customer_id(db, pia) == customer_of(db, pia).id  # nothing linked
    await pia.expect_no_message(within=0.5)  # one short line, nothing else


async def test_sharing_the_own_number_links_the_imported_card(bot, api, db):
    imported_id = import_customer(db, "K-1001", "+4915112345678", 120, first_name="Lena")
    lena = await onboarded(api, first_name="Lena", phone_number="+4915112345678")
    fresh_id = customer_of(db, lena).id
    assert fresh_id != imported_id
    # No phone-number keyboard pushed at her: the menu names /verbinden while imported cards wait.
    assert "Mit /verbinden übernehmen wir deine Punkte." in lena.messages[-1].text and lena.reply_keyboard is None
    await lena.send_command("/verbinden")
    offer = await lena.next_message()
    assert offer.text.startswith("Du hattest schon eine Kundenkarte bei uns?")
    (share,), (skip,) = offer.reply_markup["keyboard"]
    assert share["text"] == "📱 Meine Nummer teilen" and share.get("request_contact") is True
    assert skip == {"text": "Überspringen"}

    await lena.press_reply_button("Meine Nummer teilen")
    linked = await lena.next_message()
    assert linked.text.startswith("✅ Geschafft!") and "120 Punkte" in linked.text
    assert linked.reply_markup == {"remove_keyboard": True}
    assert lena.reply_keyboard is None
    assert account_customer_id(db, lena) == imported_id
    assert customer_by_id(db, fresh_id) is None  # the chat-only customer was merged away
    imported = customer_by_id(db, imported_id)
    assert imported.consent_asked and imported.marketing_consent  # she answered "Ja, gerne"
    with db.session() as session:
        (record,) = consent_history(session, imported_id)
        assert record.granted and record.source == "onboarding"
    assert balance_of(db, imported_id) == 120

    await lena.send_command("/punkte")
    points = await lena.next_message()
    assert "Punktestand: 120 Punkte" in points.text and "Übernahme" in points.text

    await lena.share_contact()
    assert (await lena.next_message()).text == "Deine Kundenkarte ist schon mit Telegram verbunden. 👍"
    assert account_customer_id(db, lena) == imported_id and balance_of(db, imported_id) == 120


async def test_foreign_unknown_and_plus_less_numbers(bot, api, db):
    second_id = import_customer(db, "K-1002", "+4915187654321", 80, first_name="Olaf")

    max_ = await onboarded(api, first_name="Max")
    await max_.send_command("/verbinden")
    await max_.next_message()  # the linking offer
    max_fresh = customer_of(db, max_).id
    await max_.share_contact(phone_number="+4915187654321", own=False)
    assert (await max_.next_message()).text.startswith("Bitte teile deine eigene Nummer")
    assert account_customer_id(db, max_) == max_fresh and linked_account_of(db, second_id) is None

    nora = await onboarded(api, first_name="Nora", phone_number="+4917600001234")
    await nora.send_command("/verbinden")
    await nora.next_message()  # the linking offer
    nora_fresh = customer_of(db, nora).id
    await nora.press_reply_button("Meine Nummer teilen")
    assert (await nora.next_message()).text.startswith("Unter dieser Nummer habe ich leider keine Kundenkarte gefunden.")
    assert account_customer_id(db, nora) == nora_fresh and linked_account_of(db, second_id) is None

    olaf = await onboarded(api, first_name="Olaf", phone_number="+4915187654321")
    await olaf.send_command("/verbinden")
    await olaf.next_message()  # the linking offer
    await olaf.share_contact(phone_number="4915187654321")  # some clients leave out the "+"
    linked = await olaf.next_message()
    assert linked.text.startswith("✅ Geschafft!") and "80 Punkte" in linked.text
    assert account_customer_id(db, olaf) == second_id


# --- birthday ----------------------------------------------------------------------------------

def birthday_of(db, user) -> tuple[int | None, int | None, int | None]:
    customer = customer_of(db, user)
    return customer.birthday_day, customer.birthday_month, customer.birthday_year


async def test_birthday_said_in_chat_is_confirmed_then_saved(bot, api, db):
    anna = await onboarded(api)
    await anna.send_text("Mein Geburtstag ist am 3. Mai")
    confirm = await anna.next_message()
    assert confirm.text == "Dein Geburtstag ist also am 3. Mai – stimmt das?"
    assert confirm.buttons == [["Ja, stimmt", "Nein"]]
    assert birthday_of(db, anna) == (None, None, None)  # nothing before the confirmation
    await anna.press("Ja, stimmt", message=confirm)
    assert not (await anna.next_callback_answer()).get("text")
    edit = await anna.next_edit()
    assert edit.message_id == confirm.message_id and edit.text.endswith("Ja, stimmt") and not edit.buttons
    assert (await anna.next_message()).text.startswith("Danke, ist notiert! 🎉")
    assert birthday_of(db, anna) == (3, 5, None)

    # A double tap (the client still showed the button) changes nothing.
    await anna.press("Ja, stimmt", message=confirm, stale_ok=True)
    assert (await anna.next_callback_answer()).get("text") == DONE
    await anna.expect_no_message(within=0.3)
    assert birthday_of(db, anna) == (3, 5, None)

    await anna.send_command("/geburtstag")
    assert (await anna.next_message()).text.startswith("🎂 Dein Geburtstag ist bei uns am 3. Mai eingetragen.")
    await anna.send_text("30.09.1985")
    other = await anna.next_message()
    assert other.text == "Dein Geburtstag ist also am 30. September 1985 – stimmt das?"
    await anna.press("Nein", message=other)
    await anna.next_callback_answer()
    assert (await anna.next_edit()).text.endswith("Nein")
    assert (await anna.next_message()).text.startswith("Kein Problem. Schreib mir das richtige Datum")
    assert birthday_of(db, anna) == (3, 5, None)


async def test_impossible_birthdays_are_explained_and_not_stored(bot, api, db):
    ben = await onboarded(api, first_name="Ben")
    await ben.send_command("/geburtstag")
    assert (await ben.next_message()).text.startswith("🎂 Wann hast du Geburtstag?")
    await ben.send_text("31.02.")
    assert (await ben.next_message()).text == "Diesen Tag gibt es im Kalender leider nicht. Magst du es noch einmal versuchen?"
    await ben.send_text("01.01.2090")
    assert (await ben.next_message()).text == "Dieses Datum liegt in der Zukunft – bitte prüf das Jahr noch einmal."
    assert birthday_of(db, ben) == (None, None, None)

    # A forged "yes" without an open question stores nothing.
    carl = await onboarded(api, first_name="Carl")
    await carl.press_forged("bday:yes")
    # "Schon erledigt" today; "nicht mehr aktuell" if the buttons ever carry a per-question nonce.
    assert (await carl.next_callback_answer()).get("text") in (DONE, "Dieser Knopf ist nicht mehr aktuell.")
    await carl.expect_no_message(within=0.3)
    assert birthday_of(db, carl) == (None, None, None)


async def test_an_older_birthday_question_cannot_confirm_a_newer_date(bot, api, db):
    """Each confirmation shows one date; its "Ja" must never store a different one."""
    anna = await onboarded(api)
    await anna.send_text("Mein Geburtstag ist am 3. Mai")
    first = await anna.next_message()
    assert "3. Mai" in first.text
    await anna.send_text("Ich bin am 9. Oktober 1992 geboren")
    second = await anna.next_message()
    assert "9. Oktober 1992" in second.text
    await anna.press("Ja, stimmt", message=first)  # the customer scrolled up and confirmed "3. Mai"
    await anna.next_callback_answer()
    assert birthday_of(db, anna) in ((3, 5, None), (None, None, None)), \
        f"confirmed '3. Mai' but stored {birthday_of(db, anna)}"


# --- who may see and book what ---------------------------------------------------------------

async def test_customers_cannot_use_staff_commands_and_see_only_their_own_points(bot, api, staff, db):
    anna = await onboarded(api)
    anna_customer = customer_of(db, anna)
    ben = api.new_user(first_name="Ben")
    await ben.send_command("/start", f"ref_{anna_customer.code}")
    await texts_of(ben, 2)  # referral welcome, greeting with the consent question
    ben_customer = customer_of(db, ben)
    sabine = api.new_user(first_name="Sabine")
    await book(staff, sabine, ben_customer.code, "10")
    await texts_of(ben, 2)
    await anna.next_message()  # the referrer bonus
    assert purchase_count(db) == 1

    # A customer writing the counter commands privately.
    await ben.send_command("/kunde", anna_customer.code)
    assert (await ben.next_message()).text == NOT_STAFF
    await ben.send_command("/kauf", f"{ben_customer.code} 5")
    assert (await ben.next_message()).text == NOT_STAFF
    await ben.send_command("/kauf", f"{anna_customer.code} 5")
    assert (await ben.next_message()).text == NOT_STAFF
    assert purchase_count(db) == 1
    assert balance_of(db, ben_customer.id) == 60 and balance_of(db, anna_customer.id) == 50

    # Staff, privately: one who posted in the group, one who is only a member.
    tom = api.new_user(first_name="Tom")
    staff.add_member(tom)
    for clerk in (sabine, tom):
        await clerk.send_command("/kunde", anna_customer.code)
        card = await clerk.next_message()
        assert card.text.startswith(f"👤 Anna ({anna_customer.code})"), clerk
        assert "50 Punkte" in card.text

    # Each customer sees their own account only.
    await anna.send_command("/punkte")
    anna_points = (await anna.next_message()).text
    assert "Punktestand: 50 Punkte" in anna_points and "Empfehlung" in anna_points
    assert "Einkauf" not in anna_points and "+10" not in anna_points
    await ben.send_command("/punkte")
    ben_points = (await ben.next_message()).text
    assert "Punktestand: 60 Punkte" in ben_points
    assert "+10 – Einkauf" in ben_points and "+50 – Empfehlung" in ben_points
