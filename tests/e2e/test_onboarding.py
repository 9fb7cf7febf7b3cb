"""/start, marketing consent, the menu, /hilfe, /sprache, /stop and the registered commands."""

from sqlmodel import select

from domain.consent import consent_history
from storage.models import ConsentWording, Customer
from tests.e2e.harness import ADMIN_ID, STAFF_CHAT_ID, config_file
from tests.e2e.journeys import customer_of, onboarded


async def start_and_answer_consent(user, answer: str):
    """/start and the answer: one message, then its edit (``shown`` is its text before)."""
    await user.send_command("/start")
    question = await user.next_message()
    shown = question.text  # the message object shows later edits too
    await user.press(answer, message=question)
    return question, shown


MAIN_MENU = [["❓ Häufige Fragen"], ["⭐ Meine Punkte", "🎁 Prämien ansehen"], ["🙋 Mit dem Team sprechen"],
             ["🔔 Angebote & Neuigkeiten"], ["🌐 Sprache / Language"]]


async def test_start_greets_asks_consent_yes_and_shows_menu(bot, api, db):
    anna = api.new_user(first_name="Anna", language_code="de")
    question, shown = await start_and_answer_consent(anna, "Ja, gerne")
    assert shown.startswith("Hallo Anna!") and "Kaffeehaus Morgenrot" in shown and "/datenschutz" in shown
    assert shown.endswith("abbestellen kannst du sie jederzeit mit /stop.")
    assert question.buttons == [["Ja, gerne", "Nein, danke"]]
    edit = await anna.next_edit()
    assert edit.message_id == question.message_id and edit.text.startswith("✅ Prima, danke!")
    assert "/einstellungen" in edit.text and edit.text.endswith("Schreib mir einfach deine Frage oder tippe auf einen Knopf.")
    assert edit.message.buttons == MAIN_MENU
    customer = customer_of(db, anna)
    assert customer.marketing_consent and customer.first_name == "Anna"
    with db.session() as session:
        (record,) = consent_history(session, customer.id)
        assert record.granted and record.source == "onboarding"
        wording = session.get(ConsentWording, record.wording_version).text
        assert shown.endswith(wording) and not wording.startswith("Hallo")  # the question, not the greeting


async def test_first_contact_is_one_message_and_its_edit(bot, api, db):
    """The friction count: /start and the consent press cost the newcomer one message (and its edit)."""
    lisa = api.new_user(first_name="Lisa")
    question, _ = await start_and_answer_consent(lisa, "Ja, gerne")
    await lisa.next_callback_answer()
    edit = await lisa.next_edit()
    assert edit.message_id == question.message_id and edit.message.buttons == MAIN_MENU
    await lisa.expect_no_message(within=1.0)  # no thanks, no second menu, no phone-number keyboard
    assert len(lisa.messages) == 1 and lisa.reply_keyboard is None


async def test_consent_no_means_no_marketing(bot, api, db):
    ben = api.new_user(first_name="Ben")
    await start_and_answer_consent(ben, "Nein, danke")
    assert (await ben.next_edit()).text.startswith("Alles klar, wir schicken dir keine Werbung")
    customer = customer_of(db, ben)
    assert customer.consent_asked and not customer.marketing_consent


async def test_second_start_duplicates_nothing(bot, api, db):
    anna = await onboarded(api)
    await anna.send_command("/start")
    back = await anna.next_message()  # one message: welcome back with the menu
    assert back.text.startswith("Schön, dass du wieder da bist, Anna! 😊\n\nWobei kann ich helfen?")
    assert back.buttons == MAIN_MENU
    customer_id = customer_of(db, anna).id
    with db.session() as session:
        assert len(session.exec(select(Customer)).all()) == 1
        assert len(consent_history(session, customer_id)) == 1


async def test_double_tap_on_consent_records_once(bot, api, db):
    anna = api.new_user(first_name="Anna")
    question, _ = await start_and_answer_consent(anna, "Ja, gerne")
    await anna.next_edit()
    await anna.press("Ja, gerne", message=question, stale_ok=True)
    assert (await anna.next_callback_answer())  # first press
    answer = await anna.next_callback_answer()
    assert answer.get("text") == "Schon erledigt 👍"
    customer_id = customer_of(db, anna).id
    with db.session() as session:
        assert len(consent_history(session, customer_id)) == 1


async def test_names_with_markup_are_escaped(bot, api):
    eve = api.new_user(first_name="<b>Eve</b> & Co")
    await eve.send_command("/start")
    welcome = await eve.next_message()  # the fake rejects invalid HTML, so arriving proves escaping
    assert welcome.text.startswith("Hallo <b>Eve</b> & Co!")


async def test_stop_ends_marketing_and_the_bot_keeps_answering(bot, api, db):
    anna = await onboarded(api)
    await anna.send_command("/stop")
    assert (await anna.next_message()).text.startswith("Erledigt – du bekommst keine Angebote")
    assert not customer_of(db, anna).marketing_consent
    await anna.send_command("/stop")
    assert (await anna.next_message()).text.startswith("Du bekommst bereits keine Angebote")
    await anna.send_command("/hilfe")
    assert "So funktioniert's" in (await anna.next_message()).text


async def test_language_switch_to_english_and_back(bot, api, db):
    anna = api.new_user(first_name="Anna")
    await anna.send_command("/sprache")
    chooser = await anna.next_message()
    assert chooser.buttons == [["🇩🇪 Deutsch", "🇬🇧 English"]]
    await anna.press("English", message=chooser)
    assert (await anna.next_edit()).text == "Great, I'll write to you in English from now on."
    assert (await anna.next_message()).text.startswith("How can I help?")
    assert customer_of(db, anna).language == "en"
    await anna.send_command("/help")
    help_text = await anna.next_message()
    assert "How it works" in help_text.text and help_text.buttons[0] == ["❓ Frequent questions"], help_text.buttons
    await anna.send_command("/language")
    await anna.press("Deutsch", message=await anna.next_message())
    assert (await anna.next_edit()).text == "Alles klar, ich schreibe dir ab jetzt auf Deutsch."


async def test_english_app_users_are_greeted_in_english(bot, api):
    john = api.new_user(first_name="John", language_code="en")
    await john.send_command("/start")
    greeting = await john.next_message()
    assert greeting.text.startswith("Hi John!") and greeting.buttons == [["Yes, please", "No, thanks"]]


async def test_commands_are_registered_per_language(bots, api, staff):
    api.new_user(first_name="Ines", user_id=ADMIN_ID)  # an owner who has a chat with the bot
    await bots()
    names = lambda language: [c["command"] for c in api.commands(language_code=language)]
    assert names("de") == ["start", "punkte", "karte", "praemien", "empfehlen", "geburtstag", "feedback", "beschwerde",
                            "hilfe", "sprache", "einstellungen", "stop", "datenschutz"]
    assert names("en") == ["start", "points", "card", "rewards", "invite", "birthday", "feedback", "complaint", "help",
                            "language", "settings", "stop", "privacy"]
    assert names("") == names("de")
    # The counter and ticket commands are offered in the staff group, and with reports and campaigns to the owners.
    staff_commands = ["kauf", "storno", "beleg", "kunde", "einloesen", "tickets", "ticket"]
    assert [c["command"] for c in api.commands(scope={"type": "chat", "chat_id": STAFF_CHAT_ID})] == staff_commands
    assert [c["command"] for c in api.commands(scope={"type": "chat", "chat_id": ADMIN_ID})] == (
        names("de") + staff_commands + ["uebersicht", "nps", "loop", "bericht", "broadcast", "planen", "kampagnen", "abbrechen",
                                        "segment", "export", "geschlossen", "kunde_export", "kunde_loeschen"])


async def test_an_english_shop_names_the_teams_commands_in_english(bots, api, staff, tmp_path):
    api.new_user(first_name="Ines", user_id=ADMIN_ID)
    await bots(STAMMGAST_CONFIG=config_file(tmp_path, {"shop": {"language": "en"}}))
    staff_commands = ["buy", "reverse", "receipt", "customer", "redeem", "tickets", "ticket"]
    assert [c["command"] for c in api.commands(scope={"type": "chat", "chat_id": STAFF_CHAT_ID})] == staff_commands
    owner_commands = ["home", "nps", "loop", "report", "broadcast", "schedule", "campaigns", "stopcampaign", "segment",
                      "export", "closed", "customer_export", "customer_erase"]
    owner = [c["command"] for c in api.commands(scope={"type": "chat", "chat_id": ADMIN_ID})]
    assert owner[-len(staff_commands + owner_commands):] == staff_commands + owner_commands


async def test_unknown_commands_and_pictures_get_a_friendly_answer(bot, api):
    anna = api.new_user(first_name="Anna")
    await anna.send_command("/gibtsnicht")
    answer = await anna.next_message()  # one message: it says so, explains itself, offers the menu
    assert answer.text.startswith("Diesen Befehl kenne ich leider nicht.\n\nSo funktioniert's")
    assert answer.buttons[0] == ["❓ Häufige Fragen"]
    await anna.send_photo(b"\x89PNG fake", caption=None)
    assert "Bilder, Sticker und Sprachnachrichten" in (await anna.next_message()).text


async def test_consent_from_the_menu_is_given_on_the_question_and_recorded_with_its_wording(bot, api, db):
    carla = await onboarded(api, first_name="Carla", consent="Nein, danke")
    await carla.press("🔔 Angebote & Neuigkeiten", message=carla.messages[-1])
    await carla.next_callback_answer()
    status = await carla.next_edit()
    assert status.buttons[0] == ["🔔 Angebote erhalten"]
    await carla.press("🔔 Angebote erhalten", message=status.message)
    await carla.next_callback_answer()
    question = await carla.next_edit()  # the consent question first, not a silent subscription
    assert question.text.startswith("Sollen wir dir wieder ab und zu Angebote und Neuigkeiten schicken?")
    shown = question.text
    await carla.press("Ja, gerne", message=question.message)
    await carla.next_callback_answer()
    assert (await carla.next_edit()).text.startswith("Schön! Ab jetzt bekommst du")
    customer = customer_of(db, carla)
    assert customer.marketing_consent
    with db.session() as session:
        latest = consent_history(session, customer.id)[-1]
        assert latest.granted and latest.source == "button"
        assert session.get(ConsentWording, latest.wording_version).text == shown


async def test_a_forged_consent_press_records_the_bots_own_question(bot, api, db):
    dana = api.new_user(first_name="Dana")
    await dana.send_command("/hilfe")  # no consent question anywhere in her chat
    await dana.next_message()
    await dana.press_forged("consent:yes")
    await dana.next_callback_answer()
    customer = customer_of(db, dana)
    with db.session() as session:
        (record,) = consent_history(session, customer.id)
        wording = session.get(ConsentWording, record.wording_version).text
    assert wording.startswith("Dürfen wir dir ab und zu Angebote und Neuigkeiten schicken?")
    assert "So funktioniert's" not in wording  # not the text of the message it was pressed under
