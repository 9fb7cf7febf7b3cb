"""Who is staff: the owners (admin ids) and the members of the staff group.

Membership is asked from Telegram (getChatMember), so adding someone to the group is all it
takes to let them book purchases. The short cache (``MEMBERSHIP_TTL``) only saves API calls at a
busy counter; ``on_staff_chat_member`` keeps it true at once: when Telegram reports that someone
left, was removed, restricted or promoted in the staff group (``chat_member`` updates, which the
bot asks for and receives while it is an administrator of the group), their entry is replaced
immediately, so a former member cannot book even one more purchase.

Members seen as staff are kept in the database (``domain.team.remember_staff_member``, once
per member and process), and forgotten when Telegram reports that they left, so the shop's
figures do not count the team as customers (``domain.segments``).

Restricted members are not staff: a member the group's admins restricted (whatever they may
still do in the group) has been deliberately limited, and staff rights book points.
"""

from __future__ import annotations

import logging
import math
import time

from telegram import Update
from telegram.constants import ChatMemberStatus
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.chat import send_html
from bot.services import services
from domain import self_booking, team, tickets
from domain.rules import names

log = logging.getLogger(__name__)

MEMBERSHIP_TTL = 120.0
_MEMBER_STATUSES = {ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.MEMBER}
_TOLD_NOT_STAFF = (False, math.inf)  # a chat_member update said so (left, removed, restricted)


def is_admin(context: ContextTypes.DEFAULT_TYPE, user_id: int) -> bool:
    return user_id in services(context).config.staff.admin_ids


def in_staff_chat(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    staff_chat_id = services(context).config.staff.staff_chat_id
    return staff_chat_id is not None and update.effective_chat.id == staff_chat_id


async def is_staff(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    user = update.effective_user
    if user is None or user.is_bot:
        return False
    if is_admin(context, user.id):
        return True
    if in_staff_chat(update, context):  # whoever writes in the staff group is a member of it,
        member = _membership_cache(context).get(user.id) != _TOLD_NOT_STAFF  # unless Telegram said they were restricted
    else:
        member = await _member_of_staff_chat(context, user.id)
    if member:
        await _remember_member(context, user.id)
    return member


async def _remember_member(context: ContextTypes.DEFAULT_TYPE, user_id: int) -> None:
    """Keep a staff member in the database, once per process (a set in ``bot_data``)."""
    stored = context.application.bot_data.setdefault("staff_members_stored", set())
    if user_id in stored:
        return
    s = services(context)
    await s.db(team.remember_staff_member, user_id, s.now())
    stored.add(user_id)


def _membership_cache(context: ContextTypes.DEFAULT_TYPE) -> dict[int, tuple[bool, float]]:
    """Who is (not) a member of the current staff group. A group chosen since (here, or by
    another replica: ``Services.follow_team``) starts with an empty cache."""
    staff_chat_id = services(context).config.staff.staff_chat_id
    held = context.application.bot_data.get("staff_membership")
    if held is None or held[0] != staff_chat_id:
        held = context.application.bot_data["staff_membership"] = (staff_chat_id, {})
    return held[1]


async def on_staff_chat_member(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Someone's status in the staff group changed: their staff rights follow at once."""
    change = update.chat_member
    if change is None or not in_staff_chat(update, context):
        return
    user = change.new_chat_member.user
    now_staff = change.new_chat_member.status in _MEMBER_STATUSES
    # Told by Telegram: true until the next change (which Telegram reports as well).
    _membership_cache(context)[user.id] = (now_staff, math.inf) if now_staff else _TOLD_NOT_STAFF
    if now_staff:
        await _remember_member(context, user.id)
    else:
        context.application.bot_data.setdefault("staff_members_stored", set()).discard(user.id)
        s = services(context)
        await s.db(team.forget_staff_member, user.id)
    log.info("staff group membership changed",
             extra={"user_id": user.id, "status": str(change.new_chat_member.status), "staff": now_staff})


def _known_membership(context: ContextTypes.DEFAULT_TYPE, user_id: int) -> bool | None:
    known = _membership_cache(context).get(user_id)
    return known[0] if known and known[1] > time.monotonic() else None


async def _member_of_staff_chat(context: ContextTypes.DEFAULT_TYPE, user_id: int) -> bool:
    staff_chat_id = services(context).config.staff.staff_chat_id
    if staff_chat_id is None:
        return False
    if (known := _known_membership(context, user_id)) is not None:
        return known
    cache = _membership_cache(context)
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


def staff_name(update: Update) -> str:
    """The name of the staff member behind ``update``, without hidden characters, cut to the
    size of the columns it is stored in (their id when nothing visible is left)."""
    user = update.effective_user
    full_name = " ".join(filter(None, [user.first_name, user.last_name]))
    return names.clean_name(full_name, tickets.STAFF_NAME_LIMIT) or str(user.id)


async def refuse_self_service(update: Update, context: ContextTypes.DEFAULT_TYPE, refusal: team.SelfService,
                              detail: str) -> None:
    """A staff member tried to book for their own customer account: nothing was booked; they
    are told why, and the owners hear of it (through the outbox)."""
    s = services(context)
    user = update.effective_user
    query = update.callback_query
    if s.config.staff.self_booking == "confirm":  # held until a colleague or an owner confirms it
        held = await s.db(self_booking.hold, refusal, user.id, staff_name(update), detail,
                          s.config.staff.staff_chat_id, s.config.staff.admin_ids, s.now())
        log.info("self-booking held for confirmation", extra={"user_id": user.id, "what": refusal.what})
        if query:
            await query.answer(s.texts.plain("team.self_booking_toast", s.staff_voice))
        await answer(update, context, "team.self_booking_asked", number=held.id)
        return
    ref = f"cb:{query.id}" if query else f"{update.effective_chat.id}:{update.effective_message.message_id}"
    await s.db(team.report_self_service, refusal.what, refusal.customer_id, user.id, staff_name(update), detail,
               ref, s.config.staff.admin_ids, s.now())
    log.info("self-service refused", extra={"user_id": user.id, "what": refusal.what})
    if query:
        await query.answer(s.texts.plain("team.self_service_toast", s.staff_voice))
    await answer(update, context, f"team.self_service.{refusal.what}")
