"""The shop owner in a chat: who may use the owner's commands (reports, campaigns), how the
owner is found in their private chat or in the staff group, and the small helpers those
commands share.

Only admins (bot.staff.is_admin) get anything; everyone else is told kindly and nothing is
stored. In the group the owner is looked up without touching their private chat id
(``identify`` would make the group their chat, and the outbox would then reach them there),
and the shop's voice is used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot.chat import edit_unless_unchanged, identify, profile_of, send_html
from bot.services import Services, services
from bot.staff import is_admin
from bot.texts import Voice
from domain import customers
from domain.customers import TelegramProfile

_COMMAND = re.compile(r"^\s*/\S*\s*(.*)$", re.DOTALL)


@dataclass(frozen=True)
class Owner:
    customer_id: int
    chat_id: int
    voice: Voice


def _refusal_voice(update: Update, s: Services) -> Voice:
    user = update.effective_user
    language = customers.language_of_code(user.language_code if user else None, s.config.shop.language)
    return s.voice(language)


async def admin_only(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """True for the shop's owners; anyone else hears who may do this, and nothing is stored."""
    user = update.effective_user
    if user is not None and not user.is_bot and is_admin(context, user.id):
        return True
    s = services(context)
    voice = _refusal_voice(update, s)
    if update.callback_query is not None:
        await update.callback_query.answer(s.texts.plain("reports.not_admin", voice))
    else:
        await send_html(context.bot, update.effective_chat.id, s.texts.render("reports.not_admin", voice))
    return False


def _find_or_register(session, profile: TelegramProfile, now) -> int:
    account = customers.find_account(session, profile.user_id)
    return account.customer_id if account else customers.register(session, profile, now).customer.id


async def owner_of(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Owner:
    s = services(context)
    chat = update.effective_chat
    if chat.type == "private":
        visitor = await identify(update, context)
        return Owner(visitor.customer_id, visitor.chat_id, visitor.voice)
    # A private chat's id is the user's id; that, not the group, is where the owner is reached.
    profile = replace(profile_of(update), chat_id=update.effective_user.id)
    customer_id = await s.db(_find_or_register, profile, s.now())
    return Owner(customer_id, chat.id, s.staff_voice)


async def say(context: ContextTypes.DEFAULT_TYPE, owner: Owner, key: str,
               keyboard: InlineKeyboardMarkup | None = None, **params):
    s = services(context)
    return await send_html(context.bot, owner.chat_id, s.texts.render(key, owner.voice, **params), keyboard)


async def say_together(context: ContextTypes.DEFAULT_TYPE, owner: Owner, *parts: tuple[str, dict]):
    """Several texts (``(key, params)``) as one message with a blank line between them: a
    refusal and how to do it right arrive as one answer, not as a burst of messages."""
    s = services(context)
    text = "\n\n".join(s.texts.render(key, owner.voice, **params) for key, params in parts)
    return await send_html(context.bot, owner.chat_id, text)


def arguments(update: Update) -> str:
    """What follows the command, line breaks kept (context.args would lose them)."""
    match = _COMMAND.match(update.effective_message.text or "")
    return match.group(1) if match else ""


async def close_preview(update: Update, note: str) -> None:
    """The preview stays readable; the outcome goes under it and the buttons go away."""
    message = update.callback_query.message
    text = f"{message.text_html}\n\n{note}" if message is not None and message.text_html else note
    await edit_unless_unchanged(update.callback_query.edit_message_text(text, parse_mode=ParseMode.HTML,
                                                                        reply_markup=None))
