"""What several handlers show a customer: the welcome, the consent question, the main menu and
the offer to connect an imported customer card by phone number. Rendering only; handlers
decide when."""

from __future__ import annotations

from telegram import KeyboardButton, ReplyKeyboardMarkup
from telegram.ext import ContextTypes

from bot import keyboards
from bot.chat import Visitor, say
from bot.services import services
from domain import linking


async def welcome(context: ContextTypes.DEFAULT_TYPE, visitor: Visitor) -> None:
    """Known customers are welcomed back with the menu; new ones are asked for consent."""
    if visitor.consent_asked:
        await say(context, visitor, "welcome.back")
        await show_menu(context, visitor)
        return
    await say(context, visitor, "welcome.new")
    await ask_consent(context, visitor)


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
    await say(context, visitor, "linking.offer", keyboard)
