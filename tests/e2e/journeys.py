"""Steps many end-to-end tests share, written as a customer would take them."""

from storage.models import Customer, TelegramAccount


async def onboarded(api, first_name="Anna", consent="Ja, gerne", **user_fields):
    """A new customer who sent /start and answered the consent question: one message (greeting,
    privacy line, question) that the answer turned into the menu."""
    user = api.new_user(first_name=first_name, **user_fields)
    await user.send_command("/start")
    await user.press(consent, message=await user.next_message())
    await user.next_callback_answer()
    await user.next_edit()  # the question is now the menu
    return user


def customer_of(db, user) -> Customer | None:
    with db.session() as session:
        account = session.get(TelegramAccount, user.id)
        return session.get(Customer, account.customer_id) if account else None


def faq_answer(topic: str, language: str = "de", formal: bool = False) -> str:
    """A FAQ answer as the customer reads it with the sample config.yml and no closures posted:
    faq.yml's text, but the opening hours written from config.yml (with the holidays of the next
    weeks, as of now)."""
    from datetime import datetime, timezone

    from bot import opening_hours
    from bot.texts import Texts, Voice
    from domain import opening_hours as domain_opening_hours
    from domain.config import load_config
    from nlu.faq import load_catalog
    from tests.e2e.harness import REPO
    from tests.fakebotapi import parse_html

    text = load_catalog().topics[topic].answer_for(language, formal)
    config = load_config(REPO / "config.yml")
    if topic == opening_hours.TOPIC and config.opening_hours_configured:
        now = datetime.now(timezone.utc)
        facts = domain_opening_hours.facts_from(config.opening_hours(), [], now)
        text = opening_hours.render(Texts(config.shop.name, None, config.shop.timezone), Voice(language, formal),
                                    facts, now)
    return parse_html(text).text
