"""/start: greeting, registration, the marketing consent question, the main menu; and the deep
links that arrive with /start (receipts, referrals, scanned cards), answered by the handlers
``bot.app`` names for them."""

from __future__ import annotations

import html
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot import keyboards, staff
from bot.chat import Visitor, identify, say
from bot.menus import ask_consent, offer_linking, show_menu, welcome, welcome_new
from bot.services import services
from domain.consent import Wording, record_marketing_consent

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeepLink:
    """``/start <prefix><argument>``: ``action(update, context, visitor, argument)``; a link for
    staff is a plain /start for anyone else."""

    prefix: str
    action: Callable[[Update, ContextTypes.DEFAULT_TYPE, Visitor, str], Awaitable[None]]
    staff_only: bool = False


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
        if not visitor.consent_asked:
            await welcome_new(context, visitor)
        await link.action(update, context, visitor, payload.removeprefix(link.prefix))
        if not visitor.consent_asked:
            await ask_consent(context, visitor)

    return start


async def _deep_link(update: Update, context: ContextTypes.DEFAULT_TYPE, deep_links: Sequence[DeepLink],
                     payload: str) -> DeepLink | None:
    for link in deep_links:
        if payload.startswith(link.prefix) and (not link.staff_only or await staff.is_staff(update, context)):
            return link
    return None


async def consent_answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Yes/No on the consent question: record it with the wording the customer saw."""
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
    choice = s.texts.render("consent.answered_yes" if granted else "consent.answered_no", visitor.voice)
    if query.message and query.message.text:
        await query.edit_message_text(f"{html.escape(query.message.text)}\n\n<b>{choice}</b>", parse_mode=ParseMode.HTML)
    await say(context, visitor, "consent.granted" if granted else "consent.declined")
    await show_menu(context, visitor)
    await offer_linking(context, visitor)
