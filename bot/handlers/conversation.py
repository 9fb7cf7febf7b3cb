"""A customer's message that is not a command: continue the step their conversation is in,
or ask the NLU what they mean and answer it.

Which handler takes what is not decided here but in ``bot.app``'s tables (``Routes``): the
step a conversation is in names the handler of its next message, an intent names the
handler of its answer. This module only walks through them, in this order:

1. a new customer's text is answered first; after the answer comes the consent question
   (text only: what they asked matters more than our greeting);
2. the conversation's step takes the message (the campaign text after /broadcast, the
   reason after a survey score, a complaint's details ...), if its handler accepts it;
3. a typed score ("eine 8") answers an open survey;
4. a photo, voice message, video ... goes no further than the open ticket (files come from
   ``bot.app``'s file handler); a sticker, or any of them without an open ticket, gets a kind note;
5. the NLU reads the text; a typed yes/no answers the step's open question, a message on an
   open ticket goes to the team unless the bot answers it itself, and the intent's handler
   answers the rest.

Transactions: the customer, their step, their open ticket and survey are read in one
(``domain.turns.peek``, no write lock; ``turns.begin`` only for a new customer or a changed
profile); the message log is written with the answer's own (``Services.defer``), so a free text
costs one read and one write transaction besides the NLU call, and the answer goes out before
the write.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, replace

from telegram import Update
from telegram.ext import ContextTypes

from bot import keyboards
from bot.handlers import clarify
from bot.chat import Incoming, Visitor, incoming, profile_of, say, visitor_of
from bot.menus import ask_consent_after_answer, show_help
from bot.services import Services, services
from domain import customers, languages, tickets, turns
from domain.conversation import Step
from domain.message_log import log_inbound
from nlu.client import NluUnavailable, ParseResult

log = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE
# (update, context, visitor, message, step) -> True when it took the message
StepHandler = Callable[[Update, Context, Visitor, Incoming, Step], Awaitable[bool]]
# (update, context, visitor, message, what the NLU understood)
IntentHandler = Callable[[Update, Context, Visitor, Incoming, ParseResult], Awaitable[None]]
# (update, context, visitor, step, yes)
AnswerHandler = Callable[[Update, Context, Visitor, Step, bool], Awaitable[None]]
# (update, context, visitor, message, survey id) -> True when it was a score
ScoreHandler = Callable[[Update, Context, Visitor, Incoming, int], Awaitable[bool]]
# (update, context, visitor, message, ticket id) -> True when it went to the ticket
RelayHandler = Callable[[Update, Context, Visitor, Incoming, int], Awaitable[bool]]

# The time the message handled by this task spent waiting for the NLU (for the debug log).
_NLU_SECONDS: ContextVar[float] = ContextVar("nlu_seconds", default=0.0)
NLU_START_WAIT_SECONDS = 240  # Rasa loads in 20-70 s on two cores; after this, the "down" note
SMALLTALK = {"greet": "smalltalk.greet", "goodbye": "smalltalk.goodbye", "thanks": "smalltalk.thanks",
             "affirm": "smalltalk.affirm", "deny": "smalltalk.deny"}


@dataclass(frozen=True)
class Routes:
    steps: Mapping[str, StepHandler]  # a step's next message
    answers: Mapping[str, AnswerHandler]  # a typed yes/no to a step's open question
    intents: Mapping[str, IntentHandler]  # what the NLU understood
    typed_score: ScoreHandler
    relay: RelayHandler
    looks_like_a_score: Callable[[str | None], bool]


def message_handler(routes: Routes):
    """The handler of every private message that is not a command (text, photo, sticker ...)."""

    async def on_message(update: Update, context: Context) -> None:
        began = time.perf_counter()
        s = services(context)
        message = incoming(update)
        profile = profile_of(update)
        may_be_a_score = message.is_text and routes.looks_like_a_score(message.text)
        turn = (await s.read(turns.peek, profile, s.now(), open_survey=may_be_a_score)  # a regular: no write lock
                or await s.db(turns.begin, profile, s.now(), open_survey=may_be_a_score))
        visitor = await _in_written_language(s, visitor_of(s, profile, turn.registration), turn, message)
        try:
            await _answer(update, context, s, routes, turn, visitor, message)
        finally:
            await s.flush_deferred()
            if log.isEnabledFor(logging.DEBUG):
                log.debug("message handled", extra={"ms": round(1000 * (time.perf_counter() - began), 2),
                                                    "nlu_ms": round(1000 * _NLU_SECONDS.get(), 2)})

    return on_message


async def _in_written_language(s: Services, visitor: Visitor, turn: turns.Turn, message: Incoming) -> Visitor:
    """A customer who clearly writes in another language than the bot speaks to them is
    answered in it, and from now on (unless they chose a language with /sprache)."""
    written = languages.written_in(message.text) if message.is_text else None
    if written is None or written == visitor.voice.language or turn.registration.customer.language_chosen:
        return visitor
    await s.db(customers.follow_written_language, visitor.customer_id, written)
    return replace(visitor, voice=s.voice(written))


async def _answer(update: Update, context: Context, s: Services, routes: Routes, turn: turns.Turn,
                  visitor: Visitor, message: Incoming) -> None:
    await _take(update, context, s, routes, turn, visitor, message)
    if visitor.is_new and message.is_text:
        await ask_consent_after_answer(context, visitor)


async def _take(update: Update, context: Context, s: Services, routes: Routes, turn: turns.Turn,
                visitor: Visitor, message: Incoming) -> None:
    step = turn.step
    take_step = routes.steps.get(step.name) if step else None
    if take_step is not None and await take_step(update, context, visitor, message, step):
        return
    if turn.open_survey_id is not None and await routes.typed_score(update, context, visitor, message,
                                                                    turn.open_survey_id):
        return
    if not message.is_text:
        if message.attachment is not None and turn.open_ticket_id is not None and await routes.relay(
                update, context, visitor, message, turn.open_ticket_id):
            return
        await say(context, visitor, "understanding.not_text")
        return
    result = await _understand(s, message.text)
    s.defer(log_inbound, visitor.customer_id, visitor.chat_id, "text", message.text, s.now(),
            result.label if result else None, result.confidence if result else None)
    intent = result.intent if result else None
    answer = routes.answers.get(step.name) if step else None
    if intent in ("affirm", "deny") and answer is not None:
        await answer(update, context, visitor, step, intent == "affirm")
        return
    chatting = step is not None and step.name == tickets.CHAT_STEP  # talking with the team right now
    if turn.open_ticket_id is not None and tickets.belongs_to_ticket(intent, chatting) and await routes.relay(
            update, context, visitor, message, turn.open_ticket_id):
        return
    if result is None:
        await say(context, visitor, "understanding.nlu_down", keyboards.main_menu(s.texts, visitor.voice))
        return
    await _route(update, context, s, routes, visitor, message, result)


async def _understand(s: Services, text: str) -> ParseResult | None:
    began = time.perf_counter()
    try:
        return await _parse(s, text)
    finally:
        _NLU_SECONDS.set(time.perf_counter() - began)


async def _parse(s: Services, text: str) -> ParseResult | None:
    await _wait_for_nlu(s)
    if s.nlu is None:
        return None
    try:
        return await s.nlu.parse(text)
    except NluUnavailable:
        if s.nlu_lost is None or not await s.nlu_lost():
            return None
    # The NLU server died under this message and is starting again: wait for it, as after a start.
    await _wait_for_nlu(s)
    try:
        return await s.nlu.parse(text) if s.nlu is not None else None
    except NluUnavailable:
        return None


async def _wait_for_nlu(s: Services) -> None:
    if not s.nlu_settled.is_set():
        # The NLU server is still loading (the bot has just started, or the server is starting
        # again): the message waits for it (this chat's next updates wait behind it, other chats
        # go on) rather than being answered "I can't understand".
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(s.nlu_settled.wait(), timeout=NLU_START_WAIT_SECONDS)


async def _route(update: Update, context: Context, s: Services, routes: Routes, visitor: Visitor,
                 message: Incoming, result: ParseResult) -> None:
    intent = result.intent
    if intent == "faq" and not (result.faq_topic in s.faq.topics
                                and result.faq_confidence >= s.config.nlu.faq_min_confidence):
        intent = None  # a question the FAQ may not answer: better say so than answer wrongly
    handler = routes.intents.get(intent)
    if handler is not None and (torn_between := clarify.close_call(result)):
        await clarify.ask_which(context, visitor, message, torn_between)
    elif handler is not None:
        await handler(update, context, visitor, message, result)
    elif intent in SMALLTALK:
        await say(context, visitor, SMALLTALK[intent])
    elif intent == "help":
        await show_help(context, visitor)
    else:
        await say(context, visitor, "understanding.fallback", keyboards.fallback_menu(s.texts, visitor.voice))
