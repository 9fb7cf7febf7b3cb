"""Who is staff: the owners (admin ids) and the members of the staff group.

Membership is asked from Telegram (getChatMember), so adding someone to the group is all it
takes to let them book purchases; removing them takes it away within ``MEMBERSHIP_TTL``.
The short cache only saves API calls at a busy counter; it holds no state worth keeping.
"""

from __future__ import annotations

import logging
import time

from telegram import Update
from telegram.constants import ChatMemberStatus
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.chat import send_html
from bot.services import services

log = logging.getLogger(__name__)

MEMBERSHIP_TTL = 120.0
_MEMBER_STATUSES = {ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.MEMBER,
                    ChatMemberStatus.RESTRICTED}


def is_admin(context: ContextTypes.DEFAULT_TYPE, user_id: int) -> bool:
    return user_id in services(context).config.staff.admin_ids


def in_staff_chat(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    staff_chat_id = services(context).config.staff.staff_chat_id
    return staff_chat_id is not None and update.effective_chat.id == staff_chat_id


async def is_staff(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    user = update.effective_user
    if user is None or user.is_bot:
        return False
    if is_admin(context, user.id) or in_staff_chat(update, context):
        return True  # whoever writes in the staff group is a member of it
    return await _member_of_staff_chat(context, user.id)


async def _member_of_staff_chat(context: ContextTypes.DEFAULT_TYPE, user_id: int) -> bool:
    staff_chat_id = services(context).config.staff.staff_chat_id
    if staff_chat_id is None:
        return False
    cache: dict[int, tuple[bool, float]] = context.application.bot_data.setdefault("staff_membership", {})
    known = cache.get(user_id)
    if known and known[1] > time.monotonic():
        return known[0]
    try:
        member = await context.bot.get_chat_member(staff_chat_id, user_id)
        answer = member.status in _MEMBER_STATUSES
    except TelegramError as error:
        log.warning("staff membership check failed", extra={"error": str(error)})
        return False  # when in doubt, no staff rights (and no caching of the doubt)
    cache[user_id] = (answer, time.monotonic() + MEMBERSHIP_TTL)
    return answer


async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE, key: str, **params):
    """A text for staff, in the shop's language, in the chat the update came from."""
    s = services(context)
    return await send_html(context.bot, update.effective_chat.id, s.texts.render(key, s.staff_voice, **params))


async def staff_only(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """True for staff; everyone else is told kindly (in private) or ignored (in other groups)."""
    if await is_staff(update, context):
        return True
    if update.effective_chat.type == "private":
        await answer(update, context, "counter.not_staff")
    return False
