"""``/geschlossen`` (``/closed``): the owner closes the shop for a day or a run of days on top of
the opening hours in config.yml, lists what is coming and opens a day again.

    /geschlossen                                     the closures from today on
    /geschlossen heute [Grund]                       also morgen, 24.12.2026, 24.12.
    /geschlossen 24.12.2026-26.12.2026 Betriebsferien
    /geschlossen weg 24.12.2026                      open again (the whole run that holds it)

Owners only (``bot.access``). Ticket deadlines and the FAQ's opening-hours answer read the
closures from the database when they need them, so nothing here has to tell them.
"""

from __future__ import annotations

import logging
from datetime import date

from telegram import Update
from telegram.ext import ContextTypes

from bot.chat import send_html
from bot.opening_hours import day_span
from bot.owner import Owner, arguments, owner_of, say, say_together
from bot.services import Services, services
from domain import opening_hours
from domain.rules.errors import Refusal

log = logging.getLogger(__name__)

MAX_TYPED = 300  # more is no date and no reason; answered without reading it


async def closed_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    owner = await owner_of(update, context)
    typed = " ".join(arguments(update).split())
    words = typed.split(" ", 1)
    try:
        if len(typed) > MAX_TYPED:
            raise Refusal("reason_too_long", max_length=opening_hours.MAX_REASON)
        if not typed:
            await _list(context, owner)
        elif words[0].lower() in opening_hours.REMOVE_WORDS:
            await _reopen(context, owner, words[1] if len(words) > 1 else "")
        else:
            await _close(update, context, owner, typed)
    except Refusal as refusal:
        log.info("closure refused", extra={"reason": refusal.reason})
        await say_together(context, owner, (f"closures.errors.{refusal.reason}",
                                            {"value": _shown(refusal.value, owner), **refusal.params}),
                           ("closures.how_to", {}))


async def _close(update: Update, context: ContextTypes.DEFAULT_TYPE, owner: Owner, typed: str) -> None:
    s = services(context)
    wanted = opening_hours.parse_closure(typed, _today(s))
    closed = await s.db(opening_hours.close, wanted, update.effective_user.id, s.now())
    log.info("closure saved", extra={"days": (closed.last_day - closed.first_day).days + 1})
    await say(context, owner, "closures.saved", days=_days(closed, owner))


async def _reopen(context: ContextTypes.DEFAULT_TYPE, owner: Owner, typed: str) -> None:
    s = services(context)
    day = opening_hours.parse_day(typed, _today(s)) if typed.strip() else None
    if day is None:
        raise Refusal("bad_date", typed)
    removed = await s.db(opening_hours.reopen, day)
    log.info("closure removed", extra={"count": len(removed)})
    await say(context, owner, "closures.removed", days=", ".join(_days(closed, owner) for closed in removed))


async def _list(context: ContextTypes.DEFAULT_TYPE, owner: Owner) -> None:
    s = services(context)
    coming = await s.read(opening_hours.coming_closures, _today(s))
    if not coming:
        await say_together(context, owner, ("closures.list_none", {}), ("closures.how_to", {}))
        return
    lines = [s.texts.render("closures.list_title", owner.voice)]
    for closed in coming:
        key = "closures.list_line_reason" if closed.reason else "closures.list_line"
        lines.append(s.texts.render(key, owner.voice, days=_days(closed, owner), reason=closed.reason or ""))
    lines += ["", s.texts.render("closures.how_to", owner.voice)]
    await _send(context, owner, "\n".join(lines))


async def _send(context: ContextTypes.DEFAULT_TYPE, owner: Owner, text: str) -> None:
    await send_html(context.bot, owner.chat_id, text)


def _days(closed: opening_hours.ClosedDays, owner: Owner) -> str:
    return day_span(closed.first_day, closed.last_day, owner.voice.language)


def _shown(value: object, owner: Owner) -> str:
    """What the owner typed, or the day it named, as the refusal quotes it."""
    return day_span(value, value, owner.voice.language) if isinstance(value, date) else str(value)[:40]


def _today(s: Services) -> date:
    return s.local(s.now()).date()
