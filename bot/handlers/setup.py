"""Setting up in the chat: the first owner sends the one-time owner code, and an owner makes a
group the staff group with a button when the bot is added to it (``domain.owners``,
``domain.team``). Nobody has to look up a numeric id."""

from __future__ import annotations

import logging

from telegram import BotCommandScopeChat, ChatMember, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.access import Handler
from bot.chat import edit_unless_unchanged, send_html
from bot.services import services
from domain import customers, owners, team

log = logging.getLogger(__name__)

STAFF_GROUP_PATTERN = rf"^{team.STAFF_CHAT_BUTTON}-?[0-9]{{1,18}}$"  # ASCII digits, within a BIGINT
CODE_SHAPE = owners.CODE_SHAPE
_GROUPS = (ChatType.GROUP, ChatType.SUPERGROUP)
_IN_GROUP = (ChatMember.MEMBER, ChatMember.ADMINISTRATOR)
_OUT_OF_GROUP = (ChatMember.LEFT, ChatMember.BANNED)


def owner_code_message(talk: Handler) -> Handler:
    """A private message shaped like the owner code: the right code while there is no owner
    makes the sender an owner; anything else is ordinary text for ``talk`` (the conversation)."""

    async def handle(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        s = services(context)
        user, message = update.effective_user, update.effective_message
        if s.config.staff.admin_ids or not await s.db(owners.claim, message.text, user.id,
                                                      s.config.staff.admin_ids, s.now()):
            await talk(update, context)
            return
        s.use_owners((user.id,))
        log.warning("the owner code was used; the sender is an owner now", extra={"user_id": user.id})
        voice = s.voice(customers.language_of_code(user.language_code, s.config.shop.language))
        await send_html(context.bot, message.chat_id, s.texts.render("setup.now_owner", voice))
        await _offer_commands(context, user.id, owner=True)

    return handle


async def on_group_membership(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The bot was added to a group that is not the staff group: the owners are offered to make
    it the staff group. Without an owner nobody could answer, so nothing is sent."""
    s = services(context)
    change = update.my_chat_member
    chat = change.chat
    if not _just_added(change) or chat.id == s.config.staff.staff_chat_id or not s.config.staff.admin_ids:
        return
    await s.db(team.offer_staff_chat, chat.id, chat.title or str(chat.id), s.config.staff.admin_ids, s.now())
    log.info("the bot was added to a group; the owners are asked about it", extra={"chat_id": chat.id})


def _just_added(change) -> bool:
    return (change.chat.type in _GROUPS and change.new_chat_member.status in _IN_GROUP
            and change.old_chat_member.status in _OUT_OF_GROUP)


async def staff_group_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An owner pressed "make it the staff group" (``bot.access`` lets only owners get here)."""
    s = services(context)
    query = update.callback_query
    chat_id = int(query.data.removeprefix(team.STAFF_CHAT_BUTTON))
    if s.settings.staff_chat_id is not None:  # the deployment names the group; the chat cannot change it
        text = s.texts.render("setup.staff_group_from_environment", s.staff_voice, chat_id=str(s.settings.staff_chat_id))
    else:
        if chat_id != s.config.staff.staff_chat_id:
            await _make_staff_group(context, chat_id)
        text = s.texts.render("setup.staff_group_set", s.staff_voice)
    await query.answer()
    await edit_unless_unchanged(query.edit_message_text(text, parse_mode=ParseMode.HTML))


async def _make_staff_group(context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> None:
    s = services(context)
    await s.db(team.choose_staff_chat, chat_id, s.now())
    s.use_staff_chat(chat_id)
    log.warning("an owner chose the staff group", extra={"chat_id": chat_id})
    await _offer_commands(context, chat_id, owner=False)


async def _offer_commands(context: ContextTypes.DEFAULT_TYPE, chat_id: int, owner: bool) -> None:
    """The command menu of a new owner's chat or of the new staff group, as the start sets it
    for the configured ones (else it would only appear after a restart)."""
    from bot.app import owner_command_list, staff_command_list  # bot.app imports this module

    s = services(context)
    commands = owner_command_list(s) if owner else staff_command_list(s)
    try:
        await context.bot.set_my_commands(commands, scope=BotCommandScopeChat(chat_id))
    except TelegramError as error:  # a menu is a convenience; the setting-up itself is done
        log.warning("could not set a chat's commands", extra={"chat_id": chat_id, "error": str(error)})
