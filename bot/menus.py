"""What several handlers show a customer: the welcome, the consent question, the main menu,
the offer to connect an imported customer card by phone number, and the privacy line under the
first greeting and every question for personal data (DSGVO Art. 13). Rendering only; handlers
decide when."""

from __future__ import annotations

from telegram import KeyboardButton, ReplyKeyboardMarkup
from telegram.ext import ContextTypes

from bot import keyboards
from bot.chat import Visitor, say, send_html
from bot.services import Services, services
from bot.texts import Voice
from domain import linking


async def welcome(context: ContextTypes.DEFAULT_TYPE, visitor: Visitor) -> None:
    """Known customers are welcomed back with the menu; new ones are asked for consent."""
    if visitor.consent_asked:
        await say(context, visitor, "welcome.back")
        await show_menu(context, visitor)
        return
    await welcome_new(context, visitor)
    await ask_consent(context, visitor)


async def welcome_new(context: ContextTypes.DEFAULT_TYPE, visitor: Visitor) -> None:
    """The first greeting of a new customer, with the privacy line."""
    await say_with_privacy_line(context, visitor, "welcome.new")


def privacy_line(s: Services, voice: Voice) -> str:
    """One short line: who we are, what we store and the customer's rights, with the link."""
    url = s.config.privacy.policy_url
    return s.texts.render("privacy.line", voice, url=url) if url else s.texts.render("privacy.line_without_link", voice)


async def say_with_privacy_line(context: ContextTypes.DEFAULT_TYPE, visitor: Visitor, key: str, keyboard=None,
                                **params) -> None:
    """A text that greets for the first time or asks for personal data, the privacy line under it."""
    s = services(context)
    text = s.texts.render(key, visitor.voice, **{"name": visitor.first_name, **params})
    await send_html(context.bot, visitor.chat_id, f"{text}\n\n{privacy_line(s, visitor.voice)}", keyboard)


async def ask_consent(context: ContextTypes.DEFAULT_TYPE, visitor: Visitor) -> None:
    s = services(context)
    await say(context, visitor, "consent.question", keyboards.consent_question(s.texts, visitor.voice))


async def show_menu(context: ContextTypes.DEFAULT_TYPE, visitor: Visitor) -> None:
    s = services(context)
    await say(context, visitor, "menu.prompt", keyboards.main_menu(s.texts, visitor.voice))


async def offer_linking(context: ContextTypes.DEFAULT_TYPE, visitor: Visitor) -> None:
    """After onboarding: if the shop imported customers who are not linked yet, offer the contact button."""
    if await services(context).db(linking.imported_waiting):
        await offer_contact_button(context, visitor)


async def offer_contact_button(context: ContextTypes.DEFAULT_TYPE, visitor: Visitor) -> None:
    button = KeyboardButton(services(context).texts.plain("linking.share_button", visitor.voice), request_contact=True)
    keyboard = ReplyKeyboardMarkup([[button]], resize_keyboard=True, one_time_keyboard=True)
    await say_with_privacy_line(context, visitor, "linking.offer", keyboard)
