"""/start: greeting, registration, the marketing consent question, the main menu."""

from __future__ import annotations

import html
import logging

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot import keyboards
from bot.chat import Visitor, identify, say
from bot.handlers import linking, loyalty
from bot.services import services
from domain.consent import Wording, record_marketing_consent

log = logging.getLogger(__name__)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Greet by first name; new customers are asked for marketing consent, known ones get the menu."""
    visitor = await identify(update, context)
    payload = (context.args or [""])[0]
    action = await loyalty.start_payload_action(update, context, payload) if payload else None
    if action is None:
        if payload:  # unknown deep links are a plain /start
            log.info("start payload ignored", extra={"payload": payload[:64]})
        await welcome(update, context, visitor)
        return
    if not visitor.consent_asked:
        await say(context, visitor, "welcome.new")
    await action(visitor)
    if not visitor.consent_asked:
        await ask_consent(context, visitor)


async def welcome(update: Update, context: ContextTypes.DEFAULT_TYPE, visitor: Visitor) -> None:
    if visitor.consent_asked:
        await say(context, visitor, "welcome.back")
        await show_menu(context, visitor)
        return
    await say(context, visitor, "welcome.new")
    await ask_consent(context, visitor)


async def ask_consent(context: ContextTypes.DEFAULT_TYPE, visitor: Visitor) -> None:
    s = services(context)
    await say(context, visitor, "consent.question", keyboards.consent_question(s.texts, visitor.voice))


async def show_menu(context: ContextTypes.DEFAULT_TYPE, visitor: Visitor) -> None:
    s = services(context)
    await say(context, visitor, "menu.prompt", keyboards.main_menu(s.texts, visitor.voice))


async def consent_answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Yes/No on the consent question: record it with the wording the customer saw."""
    query = update.callback_query
    s = services(context)
    visitor = await identify(update, context)
    granted = query.data == keyboards.CONSENT_YES
    shown = query.message.text if query.message and query.message.text else s.texts.plain("consent.question", visitor.voice)
    changed = await s.db(record_marketing_consent, visitor.customer_id, granted, "onboarding", s.now(),
                         Wording(visitor.voice.language, shown))
    if not changed:
        await query.answer(s.texts.plain("errors.done_button", visitor.voice))
        return
    await query.answer()
    choice = s.texts.render("consent.answered_yes" if granted else "consent.answered_no", visitor.voice)
    if query.message and query.message.text:
        await query.edit_message_text(f"{html.escape(query.message.text)}\n\n<b>{choice}</b>", parse_mode=ParseMode.HTML)
    await say(context, visitor, "consent.granted" if granted else "consent.declined")
    await show_menu(context, visitor)
    await linking.offer_linking(context, visitor)
