"""/feedback and the feedback intent: praise, criticism and ideas go to the team."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.chat import Incoming, Visitor, identify, say
from bot.services import services
from domain import feedback
from domain.conversation import Step
from nlu.client import ParseResult


async def feedback_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/feedback: the next text is the feedback."""
    await _ask(context, await identify(update, context))


async def _ask(context: ContextTypes.DEFAULT_TYPE, visitor: Visitor) -> None:
    s = services(context)
    await s.db(feedback.ask_for_feedback, visitor.customer_id, s.now())
    await say(context, visitor, "feedback.ask")


async def on_feedback_intent(update: Update, context: ContextTypes.DEFAULT_TYPE, visitor: Visitor,
                             message: Incoming, result: ParseResult) -> None:
    """"Ich hab Feedback" asks for it; a message that already says something is the feedback."""
    if feedback.says_enough(message.text):
        await _take(context, visitor, message)
    else:
        await _ask(context, visitor)


async def take_feedback(update: Update, context: ContextTypes.DEFAULT_TYPE, visitor: Visitor, message: Incoming,
                        step: Step) -> bool:
    """The text after /feedback (a photo is not feedback)."""
    if not message.is_text:
        return False
    await _take(context, visitor, message)
    return True


async def _take(context: ContextTypes.DEFAULT_TYPE, visitor: Visitor, message: Incoming) -> None:
    s = services(context)
    await s.db(feedback.give_feedback, visitor.customer_id, message.text, s.config.staff.staff_chat_id, message.ref,
               s.now())
    await say(context, visitor, "feedback.thanks")
