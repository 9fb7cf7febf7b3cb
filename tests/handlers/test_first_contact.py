"""First contact without friction: /start is one message (greeting, privacy line, consent
question), the answer edits it into the menu; a first question is answered before the consent
question; the phone-number keyboard has a skip that works."""

from __future__ import annotations

import json

from storage.models import Customer, TelegramAccount

CUSTOMER = 503
POLICY = "https://kaffeehaus-morgenrot.de/datenschutz"


def calls_to(shop, chat_id: int, *names: str) -> list[tuple[str, dict]]:
    return [(name, params) for name, params in shop.telegram.calls
            if name in names and int(params.get("chat_id", chat_id)) == chat_id]


async def press_under_the_question(shop, data: str) -> None:
    """A press under the bot's message as Telegram sends it (the fixture's press comes from a
    message too old to edit)."""
    sent = [params for name, params in shop.telegram.calls if name == "sendMessage"][-1]
    message = {"message_id": 1000, "date": 1, "text": sent["text"], "chat": {"id": CUSTOMER, "type": "private"}}
    query = {"id": "q1", "chat_instance": "1", "data": data, "message": message,
             "from": {"id": CUSTOMER, "is_bot": False, "first_name": "Lena", "language_code": "de"}}
    await shop.chat._process({"update_id": 99_000, "callback_query": query})


def keyboard(params: dict) -> dict:
    markup = params.get("reply_markup")
    return json.loads(markup) if isinstance(markup, str) else markup


def button_texts(params: dict, kind: str = "inline_keyboard") -> list[list[str]]:
    return [[button["text"] for button in row] for row in keyboard(params)[kind]]


async def test_start_is_one_message_with_greeting_privacy_line_and_the_consent_buttons(shop):
    await shop.chat.send(CUSTOMER, "/start", first_name="Anna")
    (message,) = shop.telegram.sent(CUSTOMER)
    assert message.startswith("Hallo Anna!") and f"/datenschutz · {POLICY}" in message
    assert message.endswith(shop.text("consent.question"))
    (_, params), = calls_to(shop, CUSTOMER, "sendMessage")
    assert button_texts(params) == [["Ja, gerne", "Nein, danke"]]
    assert shop.errors == []


async def test_the_answer_edits_the_question_into_the_menu_and_sends_nothing_more(shop):
    await shop.chat.send(CUSTOMER, "/start")
    await press_under_the_question(shop, "consent:no")
    assert len(shop.telegram.sent(CUSTOMER)) == 1  # only the question
    (_, edit), = calls_to(shop, CUSTOMER, "editMessageText")
    assert edit["text"].startswith("Alles klar, wir schicken dir keine Werbung.") and "/einstellungen" in edit["text"]
    assert edit["text"].endswith(shop.text("menu.prompt"))
    assert button_texts(edit)[0] == ["❓ Häufige Fragen"]
    assert shop.telegram.toasts() == [""]
    with shop.services.store.session() as session:
        customer = session.get(Customer, session.get(TelegramAccount, CUSTOMER).customer_id)
        assert customer.consent_asked and not customer.marketing_consent


async def test_a_second_press_changes_nothing_and_says_so(shop):
    await shop.chat.send(CUSTOMER, "/start")
    await press_under_the_question(shop, "consent:yes")
    await press_under_the_question(shop, "consent:yes")
    assert shop.telegram.toasts() == ["", shop.text("errors.done_button")]
    assert len(calls_to(shop, CUSTOMER, "editMessageText")) == 1


async def test_a_question_too_old_to_edit_gets_the_menu_as_one_new_message(shop):
    await shop.chat.send(CUSTOMER, "/start")
    await shop.chat.press(CUSTOMER, "consent:yes")  # Telegram says: inaccessible message
    question, menu = shop.telegram.sent(CUSTOMER)
    assert menu.startswith("✅ Prima, danke!") and menu.endswith(shop.text("menu.prompt"))
    assert calls_to(shop, CUSTOMER, "editMessageText") == []


async def test_a_known_customers_start_is_one_message_with_the_menu(shop):
    await shop.chat.send(CUSTOMER, "/start", first_name="Anna")
    await shop.chat.press(CUSTOMER, "consent:yes")
    shop.telegram.calls.clear()
    await shop.chat.send(CUSTOMER, "/start", first_name="Anna")
    (_, params), = calls_to(shop, CUSTOMER, "sendMessage")
    assert params["text"] == f"Schön, dass du wieder da bist, Anna! 😊\n\n{shop.text('menu.prompt')}"
    assert button_texts(params)[0] == ["❓ Häufige Fragen"]


async def test_a_first_question_is_answered_before_the_consent_question(shop):
    await shop.chat.send(CUSTOMER, "Habt ihr am Sonntag offen?")
    answer, question = shop.telegram.sent(CUSTOMER)
    assert answer.startswith(shop.text("understanding.fallback"))
    assert question.startswith(shop.text("consent.question")) and question.endswith(POLICY)
    *_, (_, params) = calls_to(shop, CUSTOMER, "sendMessage")
    assert button_texts(params) == [["Ja, gerne", "Nein, danke"]]
    await shop.chat.press(CUSTOMER, "consent:yes")  # the same handler records it
    with shop.services.store.session() as session:
        assert session.get(Customer, session.get(TelegramAccount, CUSTOMER).customer_id).marketing_consent


async def test_the_phone_number_keyboard_has_a_skip_that_removes_it(shop):
    await shop.chat.send(CUSTOMER, "/verbinden")
    (_, offer), = calls_to(shop, CUSTOMER, "sendMessage")
    assert button_texts(offer, "keyboard") == [["📱 Meine Nummer teilen"], ["Überspringen"]]
    shop.telegram.calls.clear()
    await shop.chat.send(CUSTOMER, "Überspringen")
    (_, reply), = calls_to(shop, CUSTOMER, "sendMessage")
    assert reply["text"] == shop.text("linking.skipped")
    assert keyboard(reply) == {"remove_keyboard": True}
    assert shop.errors == []


async def test_skip_without_an_open_offer_is_an_ordinary_message(shop):
    await shop.chat.send(CUSTOMER, "/verbinden")
    await shop.chat.send(CUSTOMER, "Überspringen")
    shop.telegram.calls.clear()
    await shop.chat.send(CUSTOMER, "Überspringen")  # the offer is closed: the NLU reads it
    assert shop.telegram.sent(CUSTOMER)[0].startswith(shop.text("understanding.fallback"))
