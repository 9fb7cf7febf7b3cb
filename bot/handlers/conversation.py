"""Free text: ask the NLU what the customer means and answer it, or continue the step the
conversation is in (a pending yes/no question)."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ContextTypes

from bot import keyboards
from bot.chat import Visitor, identify, say
from bot.handlers import campaigns, feedback, loyalty, menu, surveys, tickets
from bot.handlers.onboarding import welcome
from bot.services import Services, services
from domain import conversation
from domain.message_log import log_inbound
from nlu.client import NluUnavailable, ParseResult

log = logging.getLogger(__name__)

SMALLTALK = {"greet": "smalltalk.greet", "goodbye": "smalltalk.goodbye", "thanks": "smalltalk.thanks",
             "affirm": "smalltalk.affirm", "deny": "smalltalk.deny"}
# Features that arrive with later releases; until then the customer is offered a person.
NOT_YET = {"export_data", "delete_data"}


async def understand(s: Services, text: str) -> ParseResult | None:
    if s.nlu is None:
        return None
    try:
        return await s.nlu.parse(text)
    except NluUnavailable:
        return None


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any text that is not a command."""
    s = services(context)
    visitor = await identify(update, context)
    text = update.effective_message.text or ""
    if visitor.is_new:
        await welcome(update, context, visitor)
    step = await s.db(conversation.current_step, visitor.customer_id, s.now())
    if step and step.name == campaigns.TEXT_STEP and await campaigns.take_message(update, context, visitor, text):
        return  # the owner's campaign text, after /broadcast or /planen
    if step and step.name == surveys.REASON_STEP:
        await surveys.take_reason(update, context, visitor, text, step)  # why they gave that score
        return
    if step is None and await surveys.answer_typed_score(context, visitor, text):
        return
    if step and step.name == tickets.DETAILS_STEP:
        await tickets.take_details(update, context, visitor, text)  # what went wrong, after /beschwerde
        return
    if step and step.name == feedback.FEEDBACK_STEP:
        await feedback.take(update, context, visitor, text)  # the answer to /feedback
        return
    if step and step.name == loyalty.BIRTHDAY_ASK_STEP and loyalty.looks_like_a_date(s, text):
        await loyalty.propose_birthday(context, visitor, text)  # the answer to /geburtstag
        return
    result = await understand(s, text)
    await s.db(log_inbound, visitor.customer_id, visitor.chat_id, "text", text, s.now(),
               result.label if result else None, result.confidence if result else None)
    intent = result.intent if result else None
    if intent in ("affirm", "deny") and await _answer_pending_question(context, visitor, intent == "affirm"):
        return
    chatting = step is not None and step.name == tickets.CHAT_STEP  # talking with the team right now
    if await tickets.relay_if_open(update, context, visitor, text, intent=intent, chatting=chatting):
        return
    if result is None:
        await say(context, visitor, "understanding.nlu_down", keyboards.main_menu(s.texts, visitor.voice))
        return
    await route(update, context, visitor, result, text)


async def route(update: Update, context: ContextTypes.DEFAULT_TYPE, visitor: Visitor,
                result: ParseResult, text: str) -> None:
    s = services(context)
    intent = result.intent
    if intent == "faq" and result.faq_topic in s.faq.topics and result.faq_confidence >= s.config.nlu.faq_min_confidence:
        await menu.answer_faq(context, visitor, result.faq_topic)
    elif intent in SMALLTALK:
        await say(context, visitor, SMALLTALK[intent])
    elif intent == "help":
        await say(context, visitor, "help.text")
        await say(context, visitor, "menu.prompt", keyboards.main_menu(s.texts, visitor.voice))
    elif intent == "human_handoff":
        await tickets.hand_over(context, visitor, text, f"{visitor.chat_id}:{update.effective_message.message_id}")
    elif intent in ("opt_out", "opt_in"):
        await menu.ask_marketing_change(context, visitor, granted=intent == "opt_in")
    elif intent == "complaint":
        await tickets.on_complaint_intent(update, context, visitor, text)
    elif intent == "check_points":
        await loyalty.show_points(context, visitor)
    elif intent in ("rewards_catalog", "redeem_reward"):
        await loyalty.show_rewards(context, visitor)
    elif intent == "set_birthday":
        await loyalty.propose_birthday(context, visitor, result.entity("date") or text)
    elif intent == "feedback":
        await feedback.on_feedback_intent(update, context, visitor, text)
    elif intent in NOT_YET:
        await say(context, visitor, "understanding.not_yet", keyboards.offer_handoff(s.texts, visitor.voice))
    else:
        await say(context, visitor, "understanding.fallback", keyboards.fallback_menu(s.texts, visitor.voice))


async def _answer_pending_question(context, visitor: Visitor, yes: bool) -> bool:
    """A typed yes/no answers the open question, if there is one; True when it did."""
    s = services(context)
    step = await s.db(conversation.current_step, visitor.customer_id, s.now())
    if step is None or step.name != menu.MARKETING_STEP:
        return False
    await s.db(conversation.clear_step, visitor.customer_id)
    if not yes:
        await say(context, visitor, "marketing.unchanged")
        return True
    granted = bool(step.data.get("granted"))
    question = s.texts.plain("marketing.confirm_start", visitor.voice) if granted else None
    await menu.set_marketing(context, visitor, granted, "chat", question)
    return True


async def on_other_content(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A photo for a complaint or an open ticket goes to the team; for stickers, voice
    messages and the like, explain kindly what works."""
    s = services(context)
    visitor = await identify(update, context)
    photo, caption = tickets.photo_of(update), update.effective_message.caption
    if photo:
        step = await s.db(conversation.current_step, visitor.customer_id, s.now())
        if step and step.name == campaigns.TEXT_STEP and await campaigns.take_message(update, context, visitor,
                                                                                      caption, photo):
            return
        if step and step.name == tickets.DETAILS_STEP:
            await tickets.take_details(update, context, visitor, caption, photo)
            return
        if await tickets.relay_if_open(update, context, visitor, caption, photo):
            return
    await say(context, visitor, "understanding.not_text")
