"""/einstellungen and the consent wording, through the real wiring (no Telegram server)."""

from __future__ import annotations

from sqlmodel import select

from domain import customers
from domain.consent import consent_history
from storage.models import ConsentWording
from tests.handlers.test_wiring import CUSTOMER, known_customer


async def test_the_settings_screen_shows_what_the_customer_can_change(shop):
    await known_customer(shop)
    await shop.chat.send(CUSTOMER, "/einstellungen")
    screen = shop.telegram.sent(CUSTOMER)[-1]
    assert "Lena" in screen and "nicht angegeben" in screen and "/meinedaten" in screen
    keyboard = shop.telegram.calls[-1][1]["reply_markup"]
    assert "settings:name" in str(keyboard) and "menu:marketing" in str(keyboard)


async def test_a_customer_changes_the_name_the_shop_calls_them_by(shop):
    await known_customer(shop)
    await shop.chat.press(CUSTOMER, "settings:name")
    assert shop.telegram.sent(CUSTOMER)[-1] == shop.text("settings.ask_name", max=customers.MAX_NAME)
    await shop.chat.send(CUSTOMER, "  Lena\u200b  Maria ")
    assert shop.telegram.sent(CUSTOMER)[-1] == shop.text("settings.renamed", name="Lena Maria")
    with shop.services.store.session() as session:
        assert customers.get(session, 1).first_name == "Lena Maria"
    await shop.chat.send(CUSTOMER, "hallo")  # the step is over: this is conversation again
    with shop.services.store.session() as session:
        assert customers.get(session, 1).first_name == "Lena Maria"


async def test_a_name_that_is_too_long_is_refused_and_asked_again(shop):
    await known_customer(shop)
    await shop.chat.press(CUSTOMER, "settings:name")
    await shop.chat.send(CUSTOMER, "x" * (customers.MAX_NAME + 1))
    assert shop.telegram.sent(CUSTOMER)[-1] == shop.text("settings.name_errors.too_long", max=customers.MAX_NAME)
    await shop.chat.send(CUSTOMER, "Lena")
    assert shop.telegram.sent(CUSTOMER)[-1] == shop.text("settings.renamed", name="Lena")


async def test_the_birthday_button_asks_for_the_date(shop):
    await known_customer(shop)
    await shop.chat.press(CUSTOMER, "settings:birthday")
    assert shop.telegram.sent(CUSTOMER)[-1] == shop.text("birthday.ask") + "\n\n" + shop.text(
        "privacy.line", url=shop.services.config.privacy.policy_url)  # asking for personal data: the privacy line
    await shop.chat.send(CUSTOMER, "3. Mai")
    assert "3. Mai" in shop.telegram.sent(CUSTOMER)[-1]  # the confirmation question


async def test_subscribing_from_the_menu_asks_the_question_and_records_its_wording(shop):
    await known_customer(shop)
    await shop.chat.press(CUSTOMER, "menu:marketing")
    await shop.chat.press(CUSTOMER, "marketing:ask")
    edit = next(params for name, params in reversed(shop.telegram.calls) if name == "editMessageText")
    question = shop.services.texts.plain("marketing.confirm_start", shop.services.voice("de"))
    assert edit["text"] == shop.text("marketing.confirm_start")
    await shop.chat.press(CUSTOMER, "marketing:on")
    with shop.services.store.session() as session:
        latest = consent_history(session, 1)[-1]
        assert latest.granted and session.get(ConsentWording, latest.wording_version).text == question


async def test_a_forged_consent_press_records_the_bots_own_wording(shop):
    await shop.chat.send(CUSTOMER, "/start")
    await shop.chat.press(CUSTOMER, "consent:yes")  # pressed under a message that is no question ("…")
    with shop.services.store.session() as session:
        (record,) = consent_history(session, 1)
        wording = session.get(ConsentWording, record.wording_version).text
        assert wording == shop.services.texts.plain("consent.question", shop.services.voice("de"))
        assert len(session.exec(select(ConsentWording)).all()) == 1
