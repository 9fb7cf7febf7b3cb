"""What several handlers show a customer: the first greeting with the consent question, the
main menu, the offer to connect an imported customer card by phone number, and the privacy line
under the first greeting and every question for personal data (DSGVO Art. 13). Rendering only;
handlers decide when.

First contact is one message: greeting, privacy line and consent question with its buttons;
the answer edits that message into the menu (``bot.handlers.onboarding.consent_answer``)."""

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
        await welcome_back(context, visitor)
        return
    await greet_and_ask_consent(context, visitor)


async def welcome_back(context: ContextTypes.DEFAULT_TYPE, visitor: Visitor) -> None:
    """One message: welcome back, the menu prompt and the menu."""
    s = services(context)
    text = f"{render(s, visitor, 'welcome.back')}\n\n{render(s, visitor, 'menu.prompt')}"
    await send_html(context.bot, visitor.chat_id, text, keyboards.main_menu(s.texts, visitor.voice))


async def greet_and_ask_consent(context: ContextTypes.DEFAULT_TYPE, visitor: Visitor) -> None:
    """A new customer's first message: greeting, privacy line and the consent question with its
    buttons, in one message (pressing a button turns it into the menu)."""
    s = services(context)
    text = f"{render(s, visitor, 'welcome.new')}\n\n{privacy_line(s, visitor.voice)}\n\n" \
           f"{render(s, visitor, 'consent.question')}"
    await send_html(context.bot, visitor.chat_id, text, keyboards.consent_question(s.texts, visitor.voice))


async def ask_consent_after_answer(context: ContextTypes.DEFAULT_TYPE, visitor: Visitor) -> None:
    """A newcomer who started with a question: after its answer, the consent question (the same
    buttons as /start's) with the privacy line, as their first contact with us needs it."""
    s = services(context)
    text = f"{render(s, visitor, 'consent.question')}\n\n{privacy_line(s, visitor.voice)}"
    await send_html(context.bot, visitor.chat_id, text, keyboards.consent_question(s.texts, visitor.voice))


def render(s: Services, visitor: Visitor, key: str, **params) -> str:
    return s.texts.render(key, visitor.voice, **{"name": visitor.first_name, **params})


def privacy_line(s: Services, voice: Voice) -> str:
    """One short line: who we are, what we store and the customer's rights, with the link."""
    url = s.config.privacy.policy_url
    return s.texts.render("privacy.line", voice, url=url) if url else s.texts.render("privacy.line_without_link", voice)


async def say_with_privacy_line(context: ContextTypes.DEFAULT_TYPE, visitor: Visitor, key: str, keyboard=None,
                                **params) -> None:
    """A text that greets for the first time or asks for personal data, the privacy line under it."""
    s = services(context)
    await send_html(context.bot, visitor.chat_id, f"{render(s, visitor, key, **params)}\n\n{privacy_line(s, visitor.voice)}",
                    keyboard)


async def show_menu(context: ContextTypes.DEFAULT_TYPE, visitor: Visitor) -> None:
    s = services(context)
    await say(context, visitor, "menu.prompt", keyboards.main_menu(s.texts, visitor.voice))


async def show_help(context: ContextTypes.DEFAULT_TYPE, visitor: Visitor, lead_key: str | None = None) -> None:
    """What the bot can do, with the menu's buttons under it: one message. ``lead_key`` puts a
    line before it (an unknown command says so first)."""
    s = services(context)
    text = render(s, visitor, "help.text")
    if lead_key is not None:
        text = f"{render(s, visitor, lead_key)}\n\n{text}"
    await send_html(context.bot, visitor.chat_id, text, keyboards.main_menu(s.texts, visitor.voice))


async def linking_hint(context: ContextTypes.DEFAULT_TYPE, visitor: Visitor) -> str | None:
    """While the shop has imported cards nobody has connected yet: a line naming /verbinden
    (a hint, not the phone-number keyboard: most newcomers have no old card)."""
    if await services(context).db(linking.imported_waiting):
        return render(services(context), visitor, "linking.hint")
    return None


async def offer_contact_button(context: ContextTypes.DEFAULT_TYPE, visitor: Visitor) -> None:
    """The phone-number keyboard, with a skip button for those who do not want to share it."""
    s = services(context)
    share = KeyboardButton(s.texts.plain("linking.share_button", visitor.voice), request_contact=True)
    skip = KeyboardButton(s.texts.plain("linking.skip_button", visitor.voice))
    keyboard = ReplyKeyboardMarkup([[share], [skip]], resize_keyboard=True, one_time_keyboard=True)
    await s.db(linking.offer_phone_number, visitor.customer_id, s.now())
    await say_with_privacy_line(context, visitor, "linking.offer", keyboard)
