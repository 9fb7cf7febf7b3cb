"""The NPS survey in the chat: a 0-10 button (or a typed "eine 8"), then an optional reason,
then a follow-up that fits the answer: promoters get their referral link, passives a thank
you, detractors an apology and the offer that someone gets in touch (its answer is the
tickets' ``call_button``); everyone is then offered the review page (``nps.review_url``).

Callback data names the survey; the use cases accept only the presser's own survey.
"""

from __future__ import annotations

import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot.chat import Incoming, Visitor, deep_link, identify, say
from bot.services import services
from domain import referrals, surveys
from domain.conversation import Step
from domain.rules import nps

log = logging.getLogger(__name__)

SCORE_PATTERN = r"^nps:\d{1,12}:(10|[0-9])$"
SKIP_PATTERN = r"^nps:skip:\d{1,12}$"
# "eine 8", "10!", "Ich gebe 7 Punkte": a typed score is short; longer texts are conversation.
TYPED_SCORE_MAX_WORDS = 4


def typed_score(text: str | None) -> int | None:
    """The score in a short typed answer ("eine 8"); None for anything else."""
    if not text or "?" in text or len(text.split()) > TYPED_SCORE_MAX_WORDS:
        return None  # "Habt ihr 2 Sorten Hafermilch?" is a question, not a score
    return nps.parse_score(text)


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


async def answer_typed_score(update: Update, context: ContextTypes.DEFAULT_TYPE, visitor: Visitor,
                             message: Incoming, survey_id: int) -> bool:
    """A typed "eine 8" while a survey is open counts as the answer; True when it did."""
    score = typed_score(message.text)
    if score is None:
        return False
    group = await _record_score(context, visitor, survey_id, score)
    if group is None:
        return False
    await say(context, visitor, "nps.chosen_typed", score=score)
    await _ask_reason(context, visitor, survey_id, group)
    return True


async def _record_score(context, visitor: Visitor, survey_id: int, score: int) -> nps.Group | None:
    s = services(context)
    try:
        return await s.db(surveys.answer_survey, visitor.customer_id, survey_id, score, s.now())
    except surveys.SurveyError as error:
        log.info("survey answer refused", extra={"reason": error.reason})
        return None


async def _ask_reason(context, visitor: Visitor, survey_id: int, group: nps.Group) -> None:
    s = services(context)
    skip = InlineKeyboardMarkup([[InlineKeyboardButton(s.texts.plain("nps.skip_button", visitor.voice),
                                                       callback_data=f"nps:skip:{survey_id}")]])
    await say(context, visitor, f"nps.ask_reason_{group.value}", skip)


async def take_reason(update: Update, context: ContextTypes.DEFAULT_TYPE, visitor: Visitor, message: Incoming,
                      step: Step) -> bool:
    """The reason typed after the score, then the follow-up (a photo is no reason)."""
    if not message.is_text:
        return False
    reasoned = await _record_reason(context, visitor, message.text)
    if reasoned is None:
        await say(context, visitor, "errors.done_button")
    else:
        await _follow_up(context, visitor, reasoned)
    return True


async def skip_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """"Überspringen" under the reason question: no reason, straight to the follow-up."""
    query = update.callback_query
    s = services(context)
    visitor = await identify(update, context)
    reasoned = await _record_reason(context, visitor, None, int(query.data.rsplit(":", 1)[1]))
    if reasoned is None:
        await query.answer(s.texts.plain("errors.done_button", visitor.voice))
        return
    await query.answer()
    await query.edit_message_reply_markup(None)
    await _follow_up(context, visitor, reasoned)


async def _record_reason(context, visitor: Visitor, text: str | None,
                         survey_id: int | None = None) -> surveys.Reasoned | None:
    """The reason (None: skipped); None when there is no such question (any more)."""
    s = services(context)
    try:
        return await s.db(surveys.give_reason, visitor.customer_id, text, s.now(), survey_id)
    except surveys.SurveyError:
        return None


async def _follow_up(context, visitor: Visitor, reasoned: surveys.Reasoned) -> None:
    s = services(context)
    if reasoned.group is nps.Group.PROMOTER:
        link = deep_link(context, referrals.payload_for(reasoned.customer))
        await say(context, visitor, "nps.thanks_promoter", link=link)
    elif reasoned.group is nps.Group.PASSIVE:
        await say(context, visitor, "nps.thanks_passive")
    else:
        survey_id = reasoned.survey_id
        keyboard = InlineKeyboardMarkup([[
            InlineKeyboardButton(s.texts.plain("nps.call_yes", visitor.voice), callback_data=f"nps:call:{survey_id}:yes"),
            InlineKeyboardButton(s.texts.plain("nps.call_no", visitor.voice), callback_data=f"nps:call:{survey_id}:no"),
        ]])
        await say(context, visitor, "nps.detractor_offer", keyboard)
    # The review page goes to everyone who answered, not only to promoters: asking only happy
    # customers for reviews ("review gating") is against Google's review policy and paints a
    # false picture. Only the wording follows the score.
    if s.config.nps.review_url:
        review = "nps.review" if reasoned.group is nps.Group.PROMOTER else f"reviews.ask_{reasoned.group.value}"
        await say(context, visitor, review, url=s.config.nps.review_url)
