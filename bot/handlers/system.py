"""Updates about the chat itself (blocked, unblocked), stale or forged buttons, and the error
handler that keeps one failing update from affecting any other."""

from __future__ import annotations

import logging

from telegram import ChatMember, Update
from telegram.ext import Application, ContextTypes

from bot.chat import send_html
from bot.handlers import setup
from bot.services import services
from bot.texts import Voice
from domain import customers

log = logging.getLogger(__name__)


async def on_my_chat_member(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A customer blocked (or unblocked) the bot: stop (or resume) proactive messages. In a group:
    the owners may make it the staff group (``bot.handlers.setup``)."""
    s = services(context)
    change = update.my_chat_member
    if change.chat.type != "private":
        await setup.on_group_membership(update, context)
        return
    if change.new_chat_member.status in (ChatMember.BANNED, ChatMember.LEFT):
        await s.db(customers.mark_unreachable, change.chat.id, s.now())
        log.info("customer blocked the bot", extra={"chat_id": change.chat.id})
    else:
        await s.db(customers.mark_reachable, change.chat.id)


async def on_chat_migrated(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A group became a supergroup: Telegram says so in the old group (``migrate_to_chat_id``)
    and in the new one (``migrate_from_chat_id``); the bot follows the staff group on the first."""
    message = update.effective_message
    if message.migrate_to_chat_id:
        old, new = message.chat_id, message.migrate_to_chat_id
    else:
        old, new = message.migrate_from_chat_id, message.chat_id
    await services(context).follow_chat_migration(old, new)


async def stale_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Callback data nobody handles: an old keyboard or a forged press. Change nothing."""
    s = services(context)
    query = update.callback_query
    log.info("unknown callback data", extra={"data": (query.data or "")[:64], "user_id": query.from_user.id})
    language = customers.language_of_code(query.from_user.language_code, s.config.shop.language)
    await query.answer(s.texts.plain("errors.stale_button", s.voice(language)))


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the failure and, in a private chat, tell the customer kindly."""
    log.error("handler failed", exc_info=context.error,
              extra={"update_id": getattr(update, "update_id", None)})
    if not isinstance(update, Update) or update.effective_chat is None or update.effective_chat.type != "private":
        return
    s = services(context)
    user = update.effective_user
    language = customers.language_of_code(user.language_code if user else None, s.config.shop.language)
    voice: Voice = s.voice(language)
    try:
        await send_html(context.bot, update.effective_chat.id, s.texts.render("errors.generic", voice))
    except Exception:  # the chat may be what failed; the log above already has the cause
        log.warning("could not tell the customer about the error", exc_info=True)


def tell_to_slow_down(application: Application, update: Update) -> None:
    """A chat flooded the bot and its messages are dropped (``bot.ordering``): say so, once per
    flood, in the language of its Telegram app (the database is not asked: that is the point)."""
    application.create_task(_slow_down(application, update), name="slow-down")


async def _slow_down(application: Application, update: Update) -> None:
    s = application.bot_data["services"]
    user = update.effective_user
    voice = s.voice(customers.language_of_code(user.language_code if user else None, s.config.shop.language))
    log.info("chat floods the bot; dropping its messages for a while", extra={"chat_id": update.effective_chat.id})
    try:
        await send_html(application.bot, update.effective_chat.id, s.texts.render("errors.slow_down", voice))
    except Exception:  # a chat that blocked us meanwhile, a network error: nothing to add
        log.warning("could not ask a flooding chat to slow down", exc_info=True)
