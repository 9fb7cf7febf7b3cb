"""Who may use what: each command and button in ``bot.app``'s tables declares it (customers,
staff or owners), and ``guarded`` puts the check in front of its handler, so no handler repeats it.

Refusals: a customer who tries a staff command in private is told kindly (other groups are
ignored); anyone who tries an owner's command or button hears who may do this; a staff button
pressed by someone else gets the same "no longer active" answer as an old button, so forged or
forwarded buttons learn nothing. Nothing is stored for a refused update.
"""

from __future__ import annotations

import enum
import functools
import logging
from collections.abc import Awaitable, Callable

from telegram import Update
from telegram.ext import ContextTypes

from bot import staff
from bot.owner import admin_only
from bot.services import services

log = logging.getLogger(__name__)

Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]]


class Who(enum.Enum):
    CUSTOMER = "customer"  # anyone, in a private chat
    STAFF = "staff"  # the owners and the members of the staff group
    OWNER = "owner"  # the admin ids


async def _staff_button_allowed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    if await staff.is_staff(update, context):
        return True
    log.info("staff button from a non-staff user", extra={"user_id": update.effective_user.id})
    s = services(context)
    await update.callback_query.answer(s.texts.plain("errors.stale_button", s.staff_voice))
    return False


async def _anyone(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    return True


def check_for(who: Who, button: bool) -> Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[bool]]:
    """The check (and the refusal) in front of a command or button for ``who``."""
    if who is Who.OWNER:
        return admin_only
    if who is Who.STAFF:
        return _staff_button_allowed if button else staff.staff_only
    return _anyone


def guarded(handler: Handler, who: Who, button: bool = False) -> Handler:
    """``handler`` behind the check for ``who``."""
    if who is Who.CUSTOMER:
        return handler
    allowed = check_for(who, button)

    @functools.wraps(handler)
    async def checked(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if await allowed(update, context):
            await handler(update, context)

    return checked
