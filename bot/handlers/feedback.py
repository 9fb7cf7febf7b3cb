"""/feedback and the feedback intent: praise, criticism and ideas go to the team."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.chat import Visitor, identify, say
from bot.services import Services, services
from domain import conversation, feedback

FEEDBACK_STEP = "awaiting_feedback"
# "Ich hab Feedback" asks for it; a message that already says something is the feedback.
MIN_WORDS = 5


async def feedback_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/feedback: the next text is the feedback."""
    await ask(context, await identify(update, context))


async def ask(context: ContextTypes.DEFAULT_TYPE, visitor: Visitor) -> None:
    s = services(context)
    await s.db(conversation.set_step, visitor.customer_id, FEEDBACK_STEP, s.now())
    await say(context, visitor, "feedback.ask")


async def on_feedback_intent(update: Update, context: ContextTypes.DEFAULT_TYPE, visitor: Visitor, text: str) -> None:
    if len(text.split()) >= MIN_WORDS:
        await take(update, context, visitor, text)
    else:
        await ask(context, visitor)


async def take(update: Update, context: ContextTypes.DEFAULT_TYPE, visitor: Visitor, text: str) -> None:
    s = services(context)
    message = update.effective_message
    await s.db(_record, visitor.customer_id, text, f"{message.chat_id}:{message.message_id}", s)
    s.outbox_changed()
    await say(context, visitor, "feedback.thanks")


def _record(session, customer_id: int, text: str, request_ref: str, s: Services) -> None:
    conversation.take_step(session, customer_id, FEEDBACK_STEP, s.now())
    feedback.record(session, customer_id, text, s.config.staff.staff_chat_id, request_ref, s.now())
