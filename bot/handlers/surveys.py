"""The NPS survey in the chat: a 0-10 button (or a typed "eine 8"), then an optional reason,
then a follow-up that fits the answer: promoters get their referral link, passives a thank
you, detractors an apology and the offer that someone gets in touch.

Callback data names the survey; the use cases accept only the presser's own survey.
"""

from __future__ import annotations

import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot.chat import Visitor, deep_link, identify, say
from bot.handlers import tickets
from bot.services import Services, services
from domain import conversation, customers, referrals, surveys
from domain.rules import nps
from domain import tickets as domain_tickets

log = logging.getLogger(__name__)

REASON_STEP = "awaiting_nps_reason"
SCORE_PATTERN = r"^nps:\d{1,12}:(10|[0-9])$"
SKIP_PATTERN = r"^nps:skip:\d{1,12}$"
CALL_PATTERN = r"^nps:call:\d{1,12}:(yes|no)$"
# "eine 8", "10!", "Ich gebe 7 Punkte": a typed score is short; longer texts are conversation.
TYPED_SCORE_MAX_WORDS = 4


async def score_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """nps:<survey>:<score>: record it, show the choice under the question, ask why."""
    query = update.callback_query
    s = services(context)
    visitor = await identify(update, context)
    _, survey_id, score = query.data.split(":")
    group = await _record_score(context, visitor, int(survey_id), int(score))
    if group is None:
        await query.answer(s.texts.plain("errors.done_button", visitor.voice))
        return
    await query.answer()
    message = query.message
    if message is not None and message.text_html:
        chosen = s.texts.render("nps.chosen", visitor.voice, score=int(score))
        await query.edit_message_text(f"{message.text_html}\n\n<b>{chosen}</b>", parse_mode=ParseMode.HTML)
    await _ask_reason(context, visitor, int(survey_id), group)


async def answer_typed_score(context: ContextTypes.DEFAULT_TYPE, visitor: Visitor, text: str) -> bool:
    """A typed "eine 8" while a survey is open counts as the answer; True when it did."""
    s = services(context)
    if "?" in text or len(text.split()) > TYPED_SCORE_MAX_WORDS:
        return False  # "Habt ihr 2 Sorten Hafermilch?" is a question, not a score
    score = nps.parse_score(text)
    if score is None:
        return False
    survey = await s.db(surveys.open_survey, visitor.customer_id, s.now())
    if survey is None:
        return False
    group = await _record_score(context, visitor, survey.id, score)
    if group is None:
        return False
    await say(context, visitor, "nps.chosen_typed", score=score)
    await _ask_reason(context, visitor, survey.id, group)
    return True


async def _record_score(context, visitor: Visitor, survey_id: int, score: int) -> nps.Group | None:
    s = services(context)
    try:
        group = await s.db(surveys.record_score, visitor.customer_id, survey_id, score, s.now())
    except surveys.SurveyError as error:
        log.info("survey answer refused", extra={"reason": error.reason})
        return None
    await s.db(conversation.set_step, visitor.customer_id, REASON_STEP, s.now(),
               {"survey": survey_id, "group": group.value, "score": score})
    return group


async def _ask_reason(context, visitor: Visitor, survey_id: int, group: nps.Group) -> None:
    s = services(context)
    skip = InlineKeyboardMarkup([[InlineKeyboardButton(s.texts.plain("nps.skip_button", visitor.voice),
                                                       callback_data=f"nps:skip:{survey_id}")]])
    await say(context, visitor, f"nps.ask_reason_{group.value}", skip)


async def take_reason(update: Update, context: ContextTypes.DEFAULT_TYPE, visitor: Visitor, text: str | None,
                      step: conversation.Step) -> None:
    """The reason typed after the score (or None: skipped), then the follow-up."""
    s = services(context)
    survey_id = int(step.data["survey"])
    try:
        await s.db(_record_reason, visitor.customer_id, survey_id, text, s)
    except surveys.SurveyError:
        await say(context, visitor, "errors.done_button")
        return
    await _follow_up(context, visitor, survey_id, nps.Group(step.data["group"]))


def _record_reason(session, customer_id: int, survey_id: int, text: str | None, s: Services):
    conversation.take_step(session, customer_id, REASON_STEP, s.now())
    return surveys.record_reason(session, customer_id, survey_id, text)


async def skip_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    s = services(context)
    visitor = await identify(update, context)
    step = await s.db(conversation.current_step, visitor.customer_id, s.now())
    if step is None or step.name != REASON_STEP or f"nps:skip:{step.data.get('survey')}" != query.data:
        await query.answer(s.texts.plain("errors.done_button", visitor.voice))
        return
    await query.answer()
    await query.edit_message_reply_markup(None)
    await take_reason(update, context, visitor, None, step)


async def _follow_up(context, visitor: Visitor, survey_id: int, group: nps.Group) -> None:
    s = services(context)
    if group is nps.Group.PROMOTER:
        customer = await s.db(customers.get, visitor.customer_id)
        await say(context, visitor, "nps.thanks_promoter", link=deep_link(context, referrals.payload_for(customer)))
        if s.config.nps.review_url:
            await say(context, visitor, "nps.review", url=s.config.nps.review_url)
    elif group is nps.Group.PASSIVE:
        await say(context, visitor, "nps.thanks_passive")
    else:
        keyboard = InlineKeyboardMarkup([[
            InlineKeyboardButton(s.texts.plain("nps.call_yes", visitor.voice), callback_data=f"nps:call:{survey_id}:yes"),
            InlineKeyboardButton(s.texts.plain("nps.call_no", visitor.voice), callback_data=f"nps:call:{survey_id}:no"),
        ]])
        await say(context, visitor, "nps.detractor_offer", keyboard)


async def call_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A detractor's "yes, get in touch": the team hears of it with score and reason."""
    query = update.callback_query
    s = services(context)
    visitor = await identify(update, context)
    _, _, survey_id, answer = query.data.split(":")
    survey = await s.db(surveys.answered, visitor.customer_id, int(survey_id))
    if survey is None:
        await query.answer(s.texts.plain("errors.done_button", visitor.voice))
        return
    await query.answer()
    await query.edit_message_reply_markup(None)
    if answer == "no":
        await say(context, visitor, "nps.call_declined")
        return
    await tickets.hand_over(context, visitor, survey.reason, f"nps:{survey.id}", kind=domain_tickets.NPS,
                            score=survey.score, survey_id=survey.id)

