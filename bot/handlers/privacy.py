"""/datenschutz (/privacy): the full privacy notice (DSGVO Art. 13) from config.yml's privacy
section: who is responsible, what is stored and why, for how long (the configured retention
periods), the customer's rights and whom to ask. The short line under the first greeting and
the questions for personal data is ``bot.menus.privacy_line``."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot import formatting
from bot.chat import identify, say_html
from bot.services import services
from bot.texts import Html


async def privacy_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    s = services(context)
    visitor = await identify(update, context)
    voice, privacy = visitor.voice, s.config.privacy
    kept = privacy.retention
    not_set = Html(s.texts.render("privacy.not_set", voice))

    def period(days: int) -> str:
        return formatting.period(days, voice.language)

    text = s.texts.render(
        "privacy.notice", voice, controller=privacy.controller or not_set, contact=privacy.contact or not_set,
        message_log=period(kept.message_log_days), tickets=period(kept.ticket_days),
        feedback=period(kept.feedback_days), survey_reasons=period(kept.survey_reason_days),
        outbox=period(kept.outbox_payload_days), inactive=period(365 * privacy.inactive_years))
    if privacy.policy_url:
        text += "\n\n" + s.texts.render("privacy.full_text", voice, url=privacy.policy_url)
    await say_html(context, visitor, text)
