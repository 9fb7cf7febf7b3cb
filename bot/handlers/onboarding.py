"""/start: greeting, registration, the marketing consent question, the main menu; and the deep
links that arrive with /start (receipts, referrals, scanned cards), answered by the handlers
``bot.app`` names for them.

A new customer's first contact is one message (greeting, privacy line, consent question) that
their answer turns into the menu: no separate thanks, no second menu message."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from telegram import CallbackQuery, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot import keyboards, staff
from bot.chat import Visitor, identify, send_html
from bot.menus import greet_and_ask_consent, linking_hint, render, welcome
from bot.services import services
from domain.consent import Wording, record_marketing_consent

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeepLink:
    """``/start <prefix><argument>``: ``action(update, context, visitor, argument)``; a link for
    staff is a plain /start for anyone else. A link ``at_counter`` is scanned by staff at work:
    its answer is all they get (no newcomer's greeting and consent question under it)."""

    prefix: str
    action: Callable[[Update, ContextTypes.DEFAULT_TYPE, Visitor, str], Awaitable[None]]
    staff_only: bool = False
    at_counter: bool = False


def start_command(deep_links: Sequence[DeepLink]):
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Greet by first name; new customers are asked for marketing consent, known ones get the menu."""
        visitor = await identify(update, context)
        payload = (context.args or [""])[0]
        link = await _deep_link(update, context, deep_links, payload) if payload else None
        if link is None:
            if payload:  # unknown deep links are a plain /start
                log.info("start payload ignored", extra={"payload": payload[:64]})
            await welcome(context, visitor)
            return
        # The link's answer first (it is what they came for), then a newcomer's one greeting
        # (not for staff scanning at the till: they are at work, not signing up).
        await link.action(update, context, visitor, payload.removeprefix(link.prefix))
        if not visitor.consent_asked and not (link.at_counter and await staff.is_staff(update, context)):
            await greet_and_ask_consent(context, visitor)

    return start


async def _deep_link(update: Update, context: ContextTypes.DEFAULT_TYPE, deep_links: Sequence[DeepLink],
                     payload: str) -> DeepLink | None:
    for link in deep_links:
        if payload.startswith(link.prefix) and (not link.staff_only or await staff.is_staff(update, context)):
            return link
    return None


async def consent_answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Yes/No on the consent question: record it with the wording the customer saw, and turn the
    question's message into the menu (the choice confirmed on top)."""
    query = update.callback_query
    s = services(context)
    visitor = await identify(update, context)
    granted = query.data == keyboards.CONSENT_YES
    # The wording as the bot asked it, not as the pressed message claims (a forged press records no other text).
    question = s.texts.plain("consent.question", visitor.voice)
    changed = await s.db(record_marketing_consent, visitor.customer_id, granted, "onboarding", s.now(),
                         Wording(visitor.voice.language, question))
    if not changed:
        await query.answer(s.texts.plain("errors.done_button", visitor.voice))
        return
    await query.answer()
    await _show_menu_in_place(query, context, visitor, await _confirmation(context, visitor, granted))


async def _confirmation(context: ContextTypes.DEFAULT_TYPE, visitor: Visitor, granted: bool) -> str:
    s = services(context)
    lines = [render(s, visitor, "consent.granted" if granted else "consent.declined")]
    if hint := await linking_hint(context, visitor):
        lines.append(hint)
    lines.append(render(s, visitor, "menu.prompt"))
    return "\n\n".join(lines)


async def _show_menu_in_place(query: CallbackQuery, context: ContextTypes.DEFAULT_TYPE, visitor: Visitor, text: str) -> None:
    """Edit the pressed message into the menu; a message Telegram does not let us edit (older
    than 48 hours, deleted, a photo under a forged press) gets the menu as a new message instead."""
    menu = keyboards.main_menu(services(context).texts, visitor.voice)
    if query.message is not None and query.message.is_accessible and query.message.text:
        try:
            await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=menu)
            return
        except BadRequest as error:
            log.info("consent question not editable, menu sent anew", extra={"error": str(error)[:120]})
    await send_html(context.bot, visitor.chat_id, text, menu)
