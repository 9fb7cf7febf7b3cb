"""Tickets in the chat: a customer complains or asks for a person, the staff chat gets an alert
with buttons, and messages go both ways as one thread under the alert until the team marks it
solved; a few days later the customer is asked whether all is well again.

Customers see only their own tickets; every staff button checks that the presser is staff
(a forged or forwarded button gets the same "not active" answer as an old one).
"""

from __future__ import annotations

import html
import logging
from datetime import timedelta

from telegram import ForceReply, Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot import keyboards, staff
from bot.chat import Visitor, edit_unless_unchanged, identify, say, say_html, send_html
from bot.services import Services, services
from bot.texts import Html
from domain import conversation, customers, tickets
from domain.rules import priority
from domain.outbox import moment_param, text_param
from storage.models import Ticket

log = logging.getLogger(__name__)

DETAILS_STEP = "awaiting_complaint_details"
CHAT_STEP = tickets.CHAT_STEP
DETAILS_LIFETIME = timedelta(hours=2)
# "Ich will mich beschweren" asks for the details; a message that already tells the story is them.
MIN_WORDS = 5
# Intents the bot answers itself even while a ticket is open; everything else goes to the team.
# While the customer is in the middle of talking with the team, FAQ and help are not among them:
# "Die Lieferung kam nie an" is a detail for the team there, not a question about shipping.
CHAT_SELF_SERVICE = {"check_points", "rewards_catalog", "redeem_reward", "set_birthday", "opt_out", "opt_in",
                     "export_data", "delete_data"}
SELF_SERVICE = CHAT_SELF_SERVICE | {"faq", "help"}
STAFF_PATTERN = r"^tkt:(claim|reply|solved|goodwill|back):\d{1,12}$"
GOODWILL_PATTERN = r"^tkt:gw:\d{1,12}:\d{1,6}$"
FOLLOW_UP_PATTERN = r"^tkt:ok:\d{1,12}:(yes|no)$"


# --- customers --------------------------------------------------------------------------------

async def complaint_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/beschwerde: an open ticket takes more messages; otherwise ask what happened."""
    visitor = await identify(update, context)
    s = services(context)
    ticket = await s.db(tickets.open_ticket_of, visitor.customer_id)
    if ticket is not None:
        await say(context, visitor, "tickets.already_open", number=ticket.id)
        await s.db(tickets.keep_chatting, visitor.customer_id, ticket.id, s.now())
        return
    await ask_details(context, visitor)


async def ask_details(context: ContextTypes.DEFAULT_TYPE, visitor: Visitor) -> None:
    s = services(context)
    await s.db(conversation.set_step, visitor.customer_id, DETAILS_STEP, s.now(), lifetime=DETAILS_LIFETIME)
    await say(context, visitor, "tickets.complaint_ask")


async def on_complaint_intent(update: Update, context: ContextTypes.DEFAULT_TYPE, visitor: Visitor, text: str) -> None:
    """The complaint intent: a message that tells the story opens the ticket at once."""
    if len(text.split()) >= MIN_WORDS:
        await open_for_customer(context, visitor, tickets.COMPLAINT, text, _ref(update))
    else:
        await ask_details(context, visitor)


async def take_details(update: Update, context: ContextTypes.DEFAULT_TYPE, visitor: Visitor, text: str | None,
                       photo: str | None = None) -> None:
    """The answer to "what happened?" (text, or a photo with or without a caption)."""
    s = services(context)
    await s.db(conversation.clear_step, visitor.customer_id)
    await open_for_customer(context, visitor, tickets.COMPLAINT, text, _ref(update), photo=photo)


async def hand_over(context: ContextTypes.DEFAULT_TYPE, visitor: Visitor, text: str | None, ref: str, *,
                    kind: str = tickets.QUESTION, score: int | None = None, survey_id: int | None = None) -> None:
    """The customer wants a person (or a detractor asked to be called): a ticket for the team."""
    s = services(context)
    ticket = await s.db(tickets.open_ticket_of, visitor.customer_id)
    if ticket is not None and s.config.staff.staff_chat_id is not None:
        if text:
            await relay(context, visitor, ticket.id, text, None, ref)
        else:
            await say(context, visitor, "tickets.already_open", number=ticket.id)
        return
    await open_for_customer(context, visitor, kind, text, ref, score=score, survey_id=survey_id)


async def open_for_customer(context: ContextTypes.DEFAULT_TYPE, visitor: Visitor, kind: str, text: str | None,
                            ref: str, *, photo: str | None = None, score: int | None = None,
                            survey_id: int | None = None) -> Ticket | None:
    s = services(context)
    if s.config.staff.staff_chat_id is None:  # nobody would see the ticket: point to the shop directly
        contact = s.faq.get("contact")
        await say_html(context, visitor, s.texts.render("handoff.no_staff_chat", visitor.voice) + "\n\n"
                       + contact.answer_for(visitor.voice.language, visitor.voice.formal))
        return None
    ticket = await s.db(_open, visitor.customer_id, kind, text, ref, photo, score, survey_id, s)
    s.outbox_changed()
    due = moment_param(ticket.response_due_at or s.now())
    key = "tickets.complaint_opened" if kind == tickets.COMPLAINT else "tickets.question_opened"
    await say(context, visitor, key, number=ticket.id, due=due)
    if ticket.priority == priority.Priority.URGENT and "health_risk" in ticket.priority_reasons:
        await say(context, visitor, "tickets.health_advice")
    return ticket


def _open(session, customer_id, kind, text, ref, photo, score, survey_id, s: Services) -> Ticket:
    ticket = tickets.open_ticket(session, customer_id, kind, text, ref, s.ticket_rules, s.now(), score=score,
                                 survey_id=survey_id, photo=photo)
    tickets.keep_chatting(session, customer_id, ticket.id, s.now())
    return ticket


async def relay(context: ContextTypes.DEFAULT_TYPE, visitor: Visitor, ticket_id: int, text: str | None,
                photo: str | None, ref: str) -> bool:
    """A customer's message on their open ticket goes to the staff chat; True when it did."""
    s = services(context)
    ticket = await s.db(_relay, visitor.customer_id, ticket_id, text, photo, ref, s)
    if ticket is None:
        return False
    s.outbox_changed()
    await say(context, visitor, "tickets.relayed", number=ticket.id)
    return True


def _relay(session, customer_id, ticket_id, text, photo, ref, s: Services) -> Ticket | None:
    ticket = tickets.relay_from_customer(session, ticket_id, customer_id, text, photo, ref, s.ticket_rules, s.now())
    if ticket is not None:
        tickets.keep_chatting(session, customer_id, ticket.id, s.now())
    return ticket


async def relay_if_open(update: Update, context: ContextTypes.DEFAULT_TYPE, visitor: Visitor, text: str | None,
                        photo: str | None = None, intent: str | None = None, chatting: bool = False) -> bool:
    """While a ticket is open, the customer's messages belong to it - except questions the bot
    answers itself (points, opening hours ...). True when the message was relayed."""
    if intent in (CHAT_SELF_SERVICE if chatting else SELF_SERVICE):
        return False
    s = services(context)
    ticket = await s.db(tickets.open_ticket_of, visitor.customer_id)
    if ticket is None:
        return False
    return await relay(context, visitor, ticket.id, text, photo, _ref(update))


async def follow_up_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """"Ist alles wieder gut?" yes closes the ticket, no reopens it."""
    query = update.callback_query
    s = services(context)
    visitor = await identify(update, context)
    _, _, ticket_id, answer = query.data.split(":")
    outcome = await s.db(tickets.answer_follow_up, int(ticket_id), visitor.customer_id, answer == "yes",
                         s.ticket_rules, s.now())
    if outcome.action is not tickets.Action.DONE:
        await query.answer(s.texts.plain("errors.done_button", visitor.voice))
        return
    await query.answer()
    await query.edit_message_reply_markup(None)
    s.outbox_changed()
    if answer == "yes":
        await say(context, visitor, "tickets.follow_up_closed")
    else:
        await s.db(tickets.keep_chatting, visitor.customer_id, int(ticket_id), s.now())
        await say(context, visitor, "tickets.follow_up_reopened", number=int(ticket_id))


def photo_of(update: Update) -> str | None:
    message = update.effective_message
    return message.photo[-1].file_id if message is not None and message.photo else None


def _ref(update: Update) -> str:
    message = update.effective_message
    return f"{message.chat_id}:{message.message_id}" if message else f"update:{update.update_id}"


# --- staff ------------------------------------------------------------------------------------

def _staff_name(update: Update) -> str:
    user = update.effective_user
    return " ".join(filter(None, [user.first_name, user.last_name])) or str(user.id)


async def _refuse(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Not staff: the same answer as an outdated button, and nothing happens."""
    s = services(context)
    log.info("ticket button from a non-staff user", extra={"user_id": update.effective_user.id})
    await update.callback_query.answer(s.texts.plain("errors.stale_button", s.staff_voice))


async def staff_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Übernehmen, Antworten, Gelöst, Kulanz (and back from the goodwill choice)."""
    query = update.callback_query
    if not await staff.is_staff(update, context):
        await _refuse(update, context)
        return
    _, action, ticket_id = query.data.split(":")
    await STAFF_ACTIONS[action](update, context, int(ticket_id))


async def _claim(update: Update, context: ContextTypes.DEFAULT_TYPE, ticket_id: int) -> None:
    s = services(context)
    outcome = await s.db(tickets.claim, ticket_id, update.effective_user.id, _staff_name(update), s.now())
    await _answer_action(update, context, outcome, "tickets.claimed_toast")


async def _solve(update: Update, context: ContextTypes.DEFAULT_TYPE, ticket_id: int) -> None:
    s = services(context)
    outcome = await s.db(tickets.resolve, ticket_id, update.effective_user.id, _staff_name(update),
                         s.ticket_rules, s.now())
    s.outbox_changed()
    await _answer_action(update, context, outcome, "tickets.solved_toast")


async def _answer_action(update: Update, context, outcome: tickets.ActionOutcome, done_key: str) -> None:
    s = services(context)
    query = update.callback_query
    voice = s.staff_voice
    if outcome.action is tickets.Action.DONE:
        await query.answer(s.texts.plain(done_key, voice, number=outcome.ticket.id))
    elif outcome.action is tickets.Action.TAKEN:
        await query.answer(s.texts.plain("tickets.taken_toast", voice, staff=outcome.by))
    elif outcome.action is tickets.Action.UNKNOWN:
        await query.answer(s.texts.plain("errors.stale_button", voice))
        return
    else:
        await query.answer(s.texts.plain("tickets.not_open_toast", voice))
    await refresh_alert(context, outcome.ticket.id)


async def refresh_alert(context: ContextTypes.DEFAULT_TYPE, ticket_id: int) -> None:
    """Show the ticket's current state (who has it, the deadline, goodwill) in its alert."""
    s = services(context)
    current = await s.db(tickets.current_alert, ticket_id, s.ticket_rules, s.now())
    if current is None or s.config.staff.staff_chat_id is None:
        return
    spec, message_id = current
    text = s.texts.render(spec.template, s.staff_voice, **spec.params)
    await edit_unless_unchanged(context.bot.edit_message_text(
        text, chat_id=s.config.staff.staff_chat_id, message_id=message_id, parse_mode=ParseMode.HTML,
        reply_markup=keyboards.from_spec(spec.buttons, s.texts, s.staff_voice)))


async def _start_reply(update: Update, context: ContextTypes.DEFAULT_TYPE, ticket_id: int) -> None:
    """Antworten: ask for the answer with a reply prompt aimed at the one who pressed."""
    s = services(context)
    user = update.effective_user
    ticket = await s.db(tickets.start_reply, ticket_id, user.id, _staff_name(update), s.now())
    query = update.callback_query
    if ticket is None:
        await query.answer(s.texts.plain("tickets.not_open_toast", s.staff_voice))
        return
    await query.answer()
    customer_name = (await s.db(customers.get, ticket.customer_id)).first_name
    mention = f'<a href="tg://user?id={user.id}">{html.escape(user.first_name)}</a>'
    text = s.texts.render("tickets.reply_prompt", s.staff_voice, staff=Html(mention), name=customer_name,
                          number=ticket_id)
    placeholder = s.texts.plain("tickets.reply_placeholder", s.staff_voice, name=customer_name)[:64]
    # selective: only the mentioned staff member's app opens the reply field
    await send_html(context.bot, query.message.chat_id, text,
                    ForceReply(selective=True, input_field_placeholder=placeholder))
    await refresh_alert(context, ticket_id)


async def _choose_goodwill(update: Update, context: ContextTypes.DEFAULT_TYPE, ticket_id: int) -> None:
    s = services(context)
    await update.callback_query.answer(s.texts.plain("tickets.goodwill_choose", s.staff_voice, number=ticket_id))
    await edit_unless_unchanged(update.callback_query.edit_message_reply_markup(
        keyboards.from_spec(tickets.goodwill_buttons(ticket_id, s.ticket_rules), s.texts, s.staff_voice)))


async def _back(update: Update, context: ContextTypes.DEFAULT_TYPE, ticket_id: int) -> None:
    await update.callback_query.answer()
    await refresh_alert(context, ticket_id)


STAFF_ACTIONS = {"claim": _claim, "reply": _start_reply, "solved": _solve, "goodwill": _choose_goodwill,
                 "back": _back}


async def goodwill_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """tkt:gw:<ticket>:<points>: book a preset amount of goodwill points once."""
    query = update.callback_query
    if not await staff.is_staff(update, context):
        await _refuse(update, context)
        return
    s = services(context)
    _, _, ticket_id, points = query.data.split(":")
    outcome = await s.db(tickets.grant_goodwill, int(ticket_id), int(points), update.effective_user.id,
                         _staff_name(update), s.ticket_rules, s.now())
    if outcome.action in (tickets.Action.BAD_POINTS, tickets.Action.UNKNOWN):
        await query.answer(s.texts.plain("errors.stale_button", s.staff_voice))
        return
    if outcome.action is tickets.Action.ALREADY:
        await query.answer(s.texts.plain("tickets.goodwill_already", s.staff_voice, points=outcome.points))
    elif outcome.action is tickets.Action.NOT_OPEN:
        await query.answer(s.texts.plain("tickets.not_open_toast", s.staff_voice))
    else:
        s.outbox_changed()
        await query.answer()
        name = (await s.db(customers.get, outcome.ticket.customer_id)).first_name
        await staff.answer(update, context, "tickets.goodwill_done", points=outcome.points, name=name,
                           balance=outcome.balance)
    await refresh_alert(context, int(ticket_id))


async def on_staff_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A text in the staff chat: a reply to a ticket's message (or the answer after pressing
    Antworten) goes to the customer; anything else is the team talking among themselves."""
    s = services(context)
    message = update.effective_message
    user = update.effective_user
    if user is None or user.is_bot or not message.text:
        return
    ticket_id = None
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == context.bot.id:
        ticket_id = await s.db(tickets.ticket_of_staff_message, message.chat_id, replied.message_id)
    if ticket_id is None:
        ticket_id = await s.db(tickets.pending_reply_of, user.id, s.now())
    if ticket_id is None:
        return
    outcome = await s.db(tickets.reply_to_customer, ticket_id, user.id, _staff_name(update), message.text,
                         _ref(update), s.now())
    s.outbox_changed()
    keys = {tickets.Reply.SENT: "tickets.reply_sent", tickets.Reply.UNREACHABLE: "tickets.reply_unreachable",
            tickets.Reply.CLOSED: "tickets.reply_closed"}
    if outcome.result is tickets.Reply.SENT:
        await refresh_alert(context, ticket_id)  # the deadline is met: it leaves the alert
    if outcome.result in keys:
        await send_html(context.bot, message.chat_id,
                        s.texts.render(keys[outcome.result], s.staff_voice, name=outcome.customer_name,
                                       number=outcome.ticket_id, phone=outcome.phone or "–"),
                        reply_to_message_id=message.message_id)


# --- /tickets and /ticket <n> -----------------------------------------------------------------

async def tickets_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/tickets: open tickets, most urgent first, with age and SLA state."""
    if not await staff.staff_only(update, context):
        return
    s = services(context)
    lines = await s.db(tickets.open_tickets, s.ticket_rules, s.now())
    if not lines:
        await staff.answer(update, context, "tickets.list_empty")
        return
    voice = s.staff_voice
    rendered = [s.texts.render("tickets.list_title", voice, count=len(lines))]
    for line in lines:
        ticket = line.ticket
        rendered.append(s.texts.render(
            "tickets.list_line", voice, priority_icon=_priority_icon(ticket.priority), number=ticket.id,
            kind=text_param(f"tickets.kind.{ticket.kind}"), name=line.customer_name,
            category=text_param(f"topics.{ticket.category}"), age=_age(s, ticket),
            claimed=text_param("tickets.list_claimed", staff=ticket.claimed_by_name) if ticket.claimed_by_name else "",
            sla=_sla(line.sla_minutes_left)))
    await send_html(context.bot, update.effective_chat.id, "\n".join(rendered))


def _priority_icon(level: str) -> str:
    return {"urgent": "🚨 ", "high": "❗ "}.get(level, "")


def _age(s: Services, ticket: Ticket) -> dict:
    minutes = int((s.now() - ticket.created_at).total_seconds() // 60)
    if minutes < 120:
        return text_param("tickets.age_minutes", count=max(minutes, 0))
    if minutes < 48 * 60:
        return text_param("tickets.age_hours", count=minutes // 60)
    return text_param("tickets.age_days", count=minutes // (24 * 60))


def _sla(minutes_left: int | None) -> dict:
    if minutes_left is None:
        return text_param("tickets.sla_answered")
    if minutes_left < 0:
        return text_param("tickets.sla_overdue", minutes=-minutes_left)
    return text_param("tickets.sla_left", minutes=minutes_left)


async def ticket_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/ticket <n>: the whole history of one ticket."""
    if not await staff.staff_only(update, context):
        return
    s = services(context)
    number = (context.args[0].lstrip("#") if context.args else "")
    if not number.isdigit() or len(number) > 12:
        await staff.answer(update, context, "tickets.usage_ticket")
        return
    found = await s.db(tickets.history, int(number))
    if found is None:
        await staff.answer(update, context, "tickets.unknown_ticket", number=int(number))
        return
    ticket, customer, events = found
    voice = s.staff_voice
    lines = [s.texts.render("tickets.history_title", voice, kind=text_param(f"tickets.kind.{ticket.kind}"),
                            number=ticket.id, name=customer.first_name, code=customer.code or customer.id,
                            status=text_param(f"tickets.status.{ticket.status}"),
                            priority=text_param(f"tickets.priority.{ticket.priority}"))]
    for event in events:
        lines.append(s.texts.render(
            "tickets.history_line", voice, when=moment_param(event.at),
            event=text_param(f"tickets.event.{event.kind}"), actor=f" ({event.actor})" if event.actor else "",
            text=f": {event.text}" if event.text else ""))
    await send_html(context.bot, update.effective_chat.id, "\n".join(lines))
