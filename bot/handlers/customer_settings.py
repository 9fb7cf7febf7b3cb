"""/einstellungen (/settings): what the shop knows about the customer that they can change
themselves - the name the bot calls them by, their birthday, offers and news, the language -
on one screen, with the way to their data (/meinedaten) and its deletion (/loeschen)."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot import formatting, keyboards
from bot.chat import Incoming, Visitor, edit_unless_unchanged, identify, say
from bot.menus import say_with_privacy_line
from bot.services import Services, services
from domain import customers
from domain.conversation import Step

NAME, BIRTHDAY = "settings:name", "settings:birthday"
BUTTON_PATTERN = r"^settings:(name|birthday)$"


async def settings_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/einstellungen: the settings screen."""
    s = services(context)
    visitor = await identify(update, context)
    customer = await s.db(customers.get, visitor.customer_id)
    await say(context, visitor, "settings.screen", _keyboard(s, visitor), name=customer.first_name,
              birthday=_birthday(s, visitor, customer),
              offers=s.texts.plain("settings.offers_on" if customer.marketing_consent else "settings.offers_off",
                                   visitor.voice),
              language=s.texts.plain(f"settings.language_{visitor.voice.language}", visitor.voice))


def _birthday(s: Services, visitor: Visitor, customer) -> str:
    if not customer.birthday_month:
        return s.texts.plain("settings.birthday_unknown", visitor.voice)
    return formatting.birthday(customer.birthday_day, customer.birthday_month, customer.birthday_year,
                               visitor.voice.language)


def _keyboard(s: Services, visitor: Visitor) -> InlineKeyboardMarkup:
    def button(key: str, data: str) -> list[InlineKeyboardButton]:
        return [InlineKeyboardButton(s.texts.plain(key, visitor.voice), callback_data=data)]

    return InlineKeyboardMarkup([
        button("settings.name_button", NAME),
        button("settings.birthday_button", BIRTHDAY),
        button("menu.marketing_button", keyboards.MENU_MARKETING),
        button("menu.language_button", keyboards.MENU_LANGUAGE),
    ])


async def settings_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """"Name ändern" asks for the name; "Geburtstag" asks for the date (the birthday step)."""
    query = update.callback_query
    s = services(context)
    visitor = await identify(update, context)
    await query.answer()
    if query.data == NAME:
        await s.db(customers.ask_name, visitor.customer_id, s.now())
        await say(context, visitor, "settings.ask_name", max=customers.MAX_NAME)
    else:
        await s.db(customers.ask_birthday, visitor.customer_id, s.now())
        await say_with_privacy_line(context, visitor, "birthday.ask")
    if query.message is not None and query.message.text_html:  # the screen stays, without its buttons
        await edit_unless_unchanged(query.edit_message_text(query.message.text_html, parse_mode=ParseMode.HTML,
                                                            reply_markup=None))


async def take_name(update: Update, context: ContextTypes.DEFAULT_TYPE, visitor: Visitor, message: Incoming,
                    step: Step) -> bool:
    """The new name, after "Name ändern"."""
    if not message.is_text:
        return False
    s = services(context)
    try:
        name = await s.db(customers.rename, visitor.customer_id, message.text, s.now())
    except customers.NameRefusal as error:
        await say(context, visitor, f"settings.name_errors.{error.reason}", max=customers.MAX_NAME)
        return True
    await say(context, visitor, "settings.renamed", name=name)
    return True
