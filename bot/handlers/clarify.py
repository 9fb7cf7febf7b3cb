"""When the NLU is torn between two intents that lead to different places (a complaint or
feedback, the points balance or the rewards, erasing one's data or only stopping offers),
the bot asks one short question with two buttons instead of guessing: a complaint answered
as praise loses a customer, and "delete" taken for "unsubscribe" (or the other way round)
does what the customer did not want.

The message waits in the conversation's step; the button the customer presses sends it on to
the chosen intent's handler as if the NLU had been sure.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot.chat import Incoming, Visitor, edit_unless_unchanged, identify, say
from bot.services import services
from domain import conversation
from nlu.client import ParseResult

CLARIFY_STEP = "clarify"
BUTTON_PATTERN = r"^clarify:[01]$"
# Pairs worth a question: each side leads somewhere else, and the model confuses them most.
CLOSE_CALLS = frozenset({
    frozenset({"complaint", "feedback"}),
    frozenset({"check_points", "rewards_catalog"}),
    frozenset({"check_points", "redeem_reward"}),
    frozenset({"delete_data", "opt_out"}),
})
SURE_ENOUGH = 0.80  # above this the first guess is taken as it is
CLOSE_MARGIN = 0.30  # ask when the runner-up is within this of the first guess
QUESTION_LIFETIME = timedelta(minutes=30)

IntentHandler = Callable[[Update, ContextTypes.DEFAULT_TYPE, Visitor, Incoming, ParseResult], Awaitable[None]]


def close_call(result: ParseResult) -> tuple[str, str] | None:
    """The two intents to choose between, the model's first guess first, or None when it is
    sure enough or the two lead to the same place anyway."""
    runner_up = next(((name, confidence) for name, confidence in result.ranking if name != result.intent), None)
    if runner_up is None or result.confidence >= SURE_ENOUGH:
        return None
    name, confidence = runner_up
    if frozenset({result.intent, name}) not in CLOSE_CALLS or result.confidence - confidence > CLOSE_MARGIN:
        return None
    return result.intent, name


async def ask_which(context: ContextTypes.DEFAULT_TYPE, visitor: Visitor, message: Incoming,
                    options: tuple[str, str]) -> None:
    s = services(context)
    await s.db(conversation.set_step, visitor.customer_id, CLARIFY_STEP, s.now(),
               {"text": message.text, "ref": message.ref, "options": list(options)}, QUESTION_LIFETIME)
    keyboard = InlineKeyboardMarkup([
        [InlineKeyboardButton(s.texts.plain(f"clarify.{option}", visitor.voice), callback_data=f"clarify:{index}")]
        for index, option in enumerate(options)
    ])
    await say(context, visitor, "clarify.question", keyboard)


def clarification_button(intents: Mapping[str, IntentHandler]):
    """The handler of the two buttons: the waiting message goes to the chosen intent."""

    async def on_clarification(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        s = services(context)
        visitor = await identify(update, context)
        step = await s.db(conversation.take_step, visitor.customer_id, CLARIFY_STEP, s.now())
        options = step.data.get("options") if step else None
        if not options or not step.data.get("text"):
            await query.answer(s.texts.plain("errors.stale_button", visitor.voice))
            return
        await query.answer()
        chosen = options[int(query.data.rsplit(":", 1)[1])]
        await edit_unless_unchanged(query.edit_message_text(
            s.texts.render("clarify.chosen", visitor.voice, choice=s.texts.plain(f"clarify.{chosen}", visitor.voice)),
            parse_mode=ParseMode.HTML))
        message = Incoming(step.data["text"], None, step.data.get("ref") or f"clarify:{query.id}", is_text=True)
        await intents[chosen](update, context, visitor, message, ParseResult(chosen, 1.0))

    return on_clarification
