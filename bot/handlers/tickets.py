"""Tickets in the chat: a customer complains or asks for a person, the staff chat gets an alert
with buttons, and messages go both ways as one thread under the alert until the team marks it
solved; a few days later the customer is asked whether all is well again.

Without a staff group the owners are the team: the alert and the thread come to their private
chats, its buttons work there, and a reply to a ticket's message there goes to the customer (any
other private message of theirs is an ordinary one). Only without owners too does the customer
get the shop's contact instead of a ticket.

Customers see only their own tickets; every staff button checks that the presser is staff
(a forged or forwarded button gets the same "not active" answer as an old one).
"""

from __future__ import annotations

import html
import logging

from telegram import ForceReply, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot import keyboards, staff
from bot.chat import (Handler, Incoming, Visitor, answering_or, attachment_of, edit_unless_unchanged, identify,
                      incoming, replied_bot_message, say, say_html, say_quietly, send_html)
from bot.services import Services, services
from bot.texts import Html
from domain import customers, team, tickets
from domain.conversation import Step
from domain.outbox import Attachment
from nlu.client import ParseResult
from domain.rules import names, priority
from domain.rules.words import word_count
from domain.outbox import deadline_param, moment_param, text_param
from storage.models import Ticket

log = logging.getLogger(__name__)

STAFF_PATTERN = r"^tkt:(claim|reply|solved|confirm|goodwill|back):\d{1,12}$"
UNDO_PATTERN = r"^tkt:undo:\d{1,12}:\d{1,12}$"
GOODWILL_PATTERN = r"^tkt:gw:\d{1,12}:\d{1,6}$"
FOLLOW_UP_PATTERN = r"^tkt:ok:\d{1,12}:(yes|no)$"
CALL_PATTERN = r"^nps:call:\d{1,12}:(yes|no)$"


# --- customers --------------------------------------------------------------------------------

async def complaint_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/beschwerde: an open ticket takes more messages; otherwise ask what happened."""
    visitor = await identify(update, context)
    s = services(context)
    ticket = await s.db(tickets.start_complaint, visitor.customer_id, s.now())
    if ticket is None:
        await say(context, visitor, "tickets.complaint_ask")
    else:
        await say(context, visitor, "tickets.already_open", number=ticket.id)


async def on_complaint_intent(update: Update, context: ContextTypes.DEFAULT_TYPE, visitor: Visitor,
                              message: Incoming, result: ParseResult) -> None:
    """The complaint intent: a message that tells the story opens the ticket at once."""
    if tickets.tells_the_story(message.text):
        await _complain(context, visitor, message.text, message.ref)
        return
    s = services(context)
    await s.db(tickets.ask_complaint_details, visitor.customer_id, s.now())
    await say(context, visitor, "tickets.complaint_ask")


async def take_details(update: Update, context: ContextTypes.DEFAULT_TYPE, visitor: Visitor, message: Incoming,
                       step: Step) -> bool:
    """The answer to "what happened?" (text, or a photo with or without a caption)."""
    if not message.is_text and message.photo is None:
        return False  # a sticker, a voice message: not the details
    await _complain(context, visitor, message.text, message.ref, attachment=message.attachment)
    return True


async def on_handoff_intent(update: Update, context: ContextTypes.DEFAULT_TYPE, visitor: Visitor,
                            message: Incoming, result: ParseResult) -> None:
    """"Ich möchte mit einem Mitarbeiter sprechen"."""
    if not word_count(message.text):  # "‰e££slx€%yex‰k€B" (the model said human_handoff, 0.48): not understood
        s = services(context)
        await say(context, visitor, "understanding.fallback", keyboards.fallback_menu(s.texts, visitor.voice))
        return
    await _hand_over(context, visitor, message.text, message.ref)


async def handoff_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """"Mit dem Team sprechen": the menu becomes "Worum geht es?" with a cancel button; the
    ticket opens with the answer (``take_topic``). An open ticket just takes the next messages."""
    query = update.callback_query
    s = services(context)
    visitor = await identify(update, context)
    await query.answer()
    if not tickets.team_reachable(s.ticket_rules):
        await _point_to_the_shop(context, visitor)
        return
    ticket = await s.db(tickets.start_request, visitor.customer_id, s.now())
    if ticket is not None:
        await say(context, visitor, "tickets.already_open", number=ticket.id)
        return
    question = s.texts.render("tickets.request_ask", visitor.voice)
    await edit_unless_unchanged(query.edit_message_text(question, parse_mode=ParseMode.HTML,
                                                        reply_markup=keyboards.cancel_request(s.texts, visitor.voice)))


async def take_topic(update: Update, context: ContextTypes.DEFAULT_TYPE, visitor: Visitor, message: Incoming,
                     step: Step) -> bool:
    """The answer to "Worum geht es?" (a text, or a photo with or without a caption) opens the ticket."""
    if not message.is_text and message.photo is None:
        return False  # a sticker, a voice message: not what it is about
    s = services(context)
    handover = await s.db(tickets.ask_for_person, visitor.customer_id, message.text, message.ref, s.ticket_rules,
                          s.now(), attachment=message.attachment)
    await _tell_about_hand_over(context, visitor, handover)
    return True


async def cancel_request_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """"Abbrechen" under "Worum geht es?": no ticket; the message becomes the menu again."""
    query = update.callback_query
    s = services(context)
    visitor = await identify(update, context)
    await query.answer()
    await s.db(tickets.cancel_request, visitor.customer_id, s.now())
    await edit_unless_unchanged(query.edit_message_text(
        s.texts.render("menu.prompt", visitor.voice, name=visitor.first_name), parse_mode=ParseMode.HTML,
        reply_markup=keyboards.main_menu(s.texts, visitor.voice)))


async def call_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A detractor's answer to "shall we get in touch?"; yes: the team hears of it with score
    and reason."""
    query = update.callback_query
    s = services(context)
    visitor = await identify(update, context)
    _, _, survey_id, answer = query.data.split(":")
    offer = await s.db(tickets.answer_call_offer, visitor.customer_id, int(survey_id), answer == "yes",
                       s.ticket_rules, s.now(), team_reachable=tickets.team_reachable(s.ticket_rules))
    if offer is None:
        await query.answer(s.texts.plain("errors.done_button", visitor.voice))
        return
    await query.answer()
    await query.edit_message_reply_markup(None)
    if not offer.wants_call:
        await say(context, visitor, "nps.call_declined")
    elif offer.handover is None:
        await _point_to_the_shop(context, visitor)
    else:
        await _tell_about_hand_over(context, visitor, offer.handover)


async def _hand_over(context: ContextTypes.DEFAULT_TYPE, visitor: Visitor, text: str | None, ref: str) -> None:
    """The customer wants a person: a ticket for the team (or their open one takes the text)."""
    s = services(context)
    if not tickets.team_reachable(s.ticket_rules):
        await _point_to_the_shop(context, visitor)
        return
    handover = await s.db(tickets.ask_for_person, visitor.customer_id, text, ref, s.ticket_rules, s.now())
    await _tell_about_hand_over(context, visitor, handover, asked_again=not text)


async def _tell_about_hand_over(context: ContextTypes.DEFAULT_TYPE, visitor: Visitor, handover: tickets.HandOver,
                                asked_again: bool = True) -> None:
    if handover.opened:
        await _tell_opened(context, visitor, handover.ticket)
    elif handover.relayed is not None:
        if handover.relayed.acknowledge:
            await say_quietly(context, visitor, "tickets.relayed", number=handover.ticket.id)
    elif asked_again:
        await say(context, visitor, "tickets.already_open", number=handover.ticket.id)


async def _complain(context: ContextTypes.DEFAULT_TYPE, visitor: Visitor, text: str | None, ref: str, *,
                    attachment: Attachment | None = None) -> None:
    """A complaint that tells the story: a ticket opens, or the customer's open one takes it."""
    s = services(context)
    if not tickets.team_reachable(s.ticket_rules):
        await _point_to_the_shop(context, visitor)
        return
    handover = await s.db(tickets.complain, visitor.customer_id, text, ref, s.ticket_rules, s.now(),
                          attachment=attachment)
    await _tell_about_hand_over(context, visitor, handover)


async def _point_to_the_shop(context: ContextTypes.DEFAULT_TYPE, visitor: Visitor,
                             lead: str = "handoff.no_staff_chat") -> None:
    """The shop's contact after ``lead``: instead of a ticket when there is nobody to see one
    (no staff group, no owners)."""
    s = services(context)
    contact = s.faq.get("contact")
    await say_html(context, visitor, s.texts.render(lead, visitor.voice) + "\n\n"
                   + contact.answer_for(visitor.voice.language, visitor.voice.formal))


async def _tell_opened(context: ContextTypes.DEFAULT_TYPE, visitor: Visitor, ticket: Ticket) -> None:
    s = services(context)
    due = deadline_param(ticket.response_due_at or s.now(), s.now())
    key = "tickets.complaint_opened" if ticket.kind == tickets.COMPLAINT else "tickets.question_opened"
    await say(context, visitor, key, number=ticket.id, due=due)
    if ticket.priority == priority.Priority.URGENT and "health_risk" in ticket.priority_reasons:
        await say(context, visitor, "tickets.health_advice")
    if s.ticket_rules.staff_chat_id is None:  # only the owners see it, and they may be busy in the shop
        await _point_to_the_shop(context, visitor, "handoff.urgent_contact")


async def relay_to_ticket(update: Update, context: ContextTypes.DEFAULT_TYPE, visitor: Visitor,
                          message: Incoming, ticket_id: int) -> bool:
    """A customer's message (a text, photo, file, voice message ...) on their open ticket goes to
    the staff chat; True when it did. "Weitergeleitet" comes once for a burst of messages, and
    without a sound: the customer is looking at the chat anyway."""
    s = services(context)
    relayed = await s.db(tickets.relay_customer_message, visitor.customer_id, ticket_id, message.text,
                         message.attachment, message.ref, s.ticket_rules, s.now())
    if relayed is None:
        return False
    if relayed.acknowledge:
        await say_quietly(context, visitor, "tickets.relayed", number=relayed.ticket.id)
    return True


def customer_files_on_ticket_or(otherwise: Handler) -> Handler:
    """Files in a private chat: a customer's file goes to their open ticket (as their photos and
    voice messages do); an owner's file (a CSV import), and a file from a customer without an
    open ticket, goes on to ``otherwise``."""

    async def on_private_file(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not staff.is_admin(context, update.effective_user.id) and await _relayed_to_open_ticket(update, context):
            return
        await otherwise(update, context)

    return on_private_file


async def _relayed_to_open_ticket(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    s = services(context)
    visitor = await identify(update, context)
    ticket = await s.read(tickets.open_ticket_of, visitor.customer_id)
    return ticket is not None and await relay_to_ticket(update, context, visitor, incoming(update), ticket.id)


async def follow_up_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """"Ist alles wieder gut?" yes closes the ticket, no reopens it."""
    query = update.callback_query
    s = services(context)
    visitor = await identify(update, context)
    _, _, ticket_id, answer = query.data.split(":")
    outcome = await s.db(tickets.settle_follow_up, int(ticket_id), visitor.customer_id, answer == "yes",
                         s.ticket_rules, s.now())
    if outcome.action is not tickets.Action.DONE:
        await query.answer(s.texts.plain("errors.done_button", visitor.voice))
        return
    await query.answer()
    await query.edit_message_reply_markup(None)
    if answer == "yes":
        await say(context, visitor, "tickets.follow_up_closed")
    else:
        await say(context, visitor, "tickets.follow_up_reopened", number=int(ticket_id))


# --- staff ------------------------------------------------------------------------------------

async def staff_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Übernehmen, Antworten, Gelöst (and its confirmation), Kulanz (and back from the goodwill
    choice or the confirmation)."""
    _, action, ticket_id = update.callback_query.data.split(":")
    await STAFF_ACTIONS[action](update, context, int(ticket_id))


async def _claim(update: Update, context: ContextTypes.DEFAULT_TYPE, ticket_id: int) -> None:
    s = services(context)
    outcome = await s.db(tickets.claim, ticket_id, update.effective_user.id, staff.staff_name(update), s.now())
    await _answer_action(update, context, outcome, "tickets.claimed_toast")


async def _ask_to_confirm_solved(update: Update, context: ContextTypes.DEFAULT_TYPE, ticket_id: int) -> None:
    """"Gelöst": first "Wirklich gelöst? ✅ Ja / Abbrechen" in the alert's keyboard, as solving
    tells the customer."""
    s = services(context)
    query = update.callback_query
    outcome = await s.db(tickets.check_open, ticket_id)
    if outcome.action is not tickets.Action.DONE:
        await _answer_action(update, context, outcome, "tickets.not_open_toast")
        return
    await query.answer(s.texts.plain("tickets.confirm_solved_toast", s.staff_voice, number=ticket_id))
    await edit_unless_unchanged(query.edit_message_reply_markup(
        keyboards.from_spec(tickets.confirm_solved_buttons(ticket_id), s.texts, s.staff_voice)))


async def _solve(update: Update, context: ContextTypes.DEFAULT_TYPE, ticket_id: int) -> None:
    """"Wirklich gelöst? ✅ Ja": solved; the alert offers "Rückgängig" for a minute."""
    s = services(context)
    outcome = await s.db(tickets.resolve, ticket_id, update.effective_user.id, staff.staff_name(update),
                         s.ticket_rules, s.now())
    await _answer_action(update, context, outcome, "tickets.solved_toast")


async def undo_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """tkt:undo:<ticket>:<stamp>: "Rückgängig" in the minute after "Gelöst" opens the ticket again.
    A later press, or one after the ticket was reopened, gets a toast and changes nothing."""
    query = update.callback_query
    s = services(context)
    _, _, ticket_id, stamp = query.data.split(":")
    outcome = await s.db(tickets.undo_resolve, int(ticket_id), int(stamp), staff.staff_name(update),
                         s.ticket_rules, s.now())
    voice = s.staff_voice
    if outcome.action is tickets.Action.DONE:
        await query.answer(s.texts.plain("tickets.undone_toast", voice, number=outcome.ticket.id))
    elif outcome.action is tickets.Action.EXPIRED:
        await query.answer(s.texts.plain("tickets.undo_expired_toast", voice, number=outcome.ticket.id))
    else:  # an earlier resolution's button, or forged data
        await query.answer(s.texts.plain("errors.stale_button", voice))
        return
    await refresh_alert(context, outcome.ticket.id)  # an expired button leaves the alert


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
    if current is None:
        return
    text = s.texts.render(current.spec.template, s.staff_voice, **current.spec.params)
    for chat_id, message_id in current.messages:  # the staff group's alert, or each owner's copy
        try:
            await edit_unless_unchanged(context.bot.edit_message_text(
                text, chat_id=chat_id, message_id=message_id, parse_mode=ParseMode.HTML,
                reply_markup=keyboards.from_spec(current.spec.buttons, s.texts, s.staff_voice)))
        except TelegramError as error:  # a deleted copy, an owner who blocked the bot: the others still change
            log.warning("ticket alert not updated", extra={"ticket_id": ticket_id, "error": str(error)})


async def _start_reply(update: Update, context: ContextTypes.DEFAULT_TYPE, ticket_id: int) -> None:
    """Antworten: ask for the answer with a reply prompt aimed at the one who pressed."""
    s = services(context)
    user = update.effective_user
    ticket = await s.db(tickets.start_reply, ticket_id, user.id, staff.staff_name(update), s.now())
    query = update.callback_query
    if ticket is None:
        await query.answer(s.texts.plain("tickets.not_open_toast", s.staff_voice))
        return
    await query.answer()
    customer_name = (await s.db(customers.get, ticket.customer_id)).first_name
    mention = f'<a href="tg://user?id={user.id}">{html.escape(names.clean_name(user.first_name, 64) or str(user.id))}</a>'
    text = s.texts.render("tickets.reply_prompt", s.staff_voice, staff=Html(mention), name=customer_name,
                          number=ticket_id)
    placeholder = s.texts.plain("tickets.reply_placeholder", s.staff_voice, name=customer_name)[:64]
    # selective: only the mentioned staff member's app opens the reply field
    prompt = await send_html(context.bot, query.message.chat_id, text,
                             ForceReply(selective=True, input_field_placeholder=placeholder))
    await s.db(tickets.note_reply_prompt, ticket_id, prompt.message_id)
    await refresh_alert(context, ticket_id)


async def _choose_goodwill(update: Update, context: ContextTypes.DEFAULT_TYPE, ticket_id: int) -> None:
    s = services(context)
    await update.callback_query.answer(s.texts.plain("tickets.goodwill_choose", s.staff_voice, number=ticket_id))
    await edit_unless_unchanged(update.callback_query.edit_message_reply_markup(
        keyboards.from_spec(tickets.goodwill_buttons(ticket_id, s.ticket_rules), s.texts, s.staff_voice)))


async def _back(update: Update, context: ContextTypes.DEFAULT_TYPE, ticket_id: int) -> None:
    await update.callback_query.answer()
    await refresh_alert(context, ticket_id)


STAFF_ACTIONS = {"claim": _claim, "reply": _start_reply, "solved": _ask_to_confirm_solved, "confirm": _solve,
                 "goodwill": _choose_goodwill, "back": _back}


async def goodwill_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """tkt:gw:<ticket>:<points>: book a preset amount of goodwill points once."""
    query = update.callback_query
    s = services(context)
    _, _, ticket_id, points = query.data.split(":")
    try:
        outcome = await s.db(tickets.grant_goodwill, int(ticket_id), int(points), update.effective_user.id,
                             staff.staff_name(update), s.ticket_rules, s.now())
    except team.SelfService as refusal:
        await staff.refuse_self_service(update, context, refusal, f"+{points} (#{ticket_id})")
        return
    if outcome.action in (tickets.Action.BAD_POINTS, tickets.Action.UNKNOWN):
        await query.answer(s.texts.plain("errors.stale_button", s.staff_voice))
        return
    if outcome.action is tickets.Action.ALREADY:
        await query.answer(s.texts.plain("tickets.goodwill_already", s.staff_voice, points=outcome.points))
    elif outcome.action is tickets.Action.NOT_OPEN:
        await query.answer(s.texts.plain("tickets.not_open_toast", s.staff_voice))
    else:
        await query.answer()
        name = (await s.db(customers.get, outcome.ticket.customer_id)).first_name
        await staff.answer(update, context, "tickets.goodwill_done", points=outcome.points, name=name,
                           balance=outcome.balance)
    await refresh_alert(context, int(ticket_id))


async def on_staff_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A text, photo or file in the staff chat: a Telegram reply to a ticket's message (its alert, a relayed
    message, or the prompt after pressing Antworten) goes to the customer; anything else, even
    right after Antworten, is the team talking among themselves."""
    s = services(context)
    replied_id = replied_bot_message(update, context)
    if replied_id is None:
        return  # not a reply to the bot: the team talking among themselves
    ticket_id = await s.db(tickets.ticket_of_reply, update.effective_message.chat_id, replied_id)
    if ticket_id is not None:
        await _answer_customer(update, context, ticket_id)


def owner_answers_or(customer_messages: Handler) -> Handler:
    """Private messages: without a staff group, an owner's reply to a ticket's message in their
    chat (its alert copy, a relayed message, their Antworten prompt) goes to the customer; every
    other private message, theirs too, goes on to ``customer_messages``."""
    return answering_or(_ticket_an_owner_answers, _answer_customer, customer_messages)


async def _ticket_an_owner_answers(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int | None:
    s = services(context)
    if s.ticket_rules.staff_chat_id is not None:
        return None  # the team answers in the staff group
    replied_id = replied_bot_message(update, context)
    if replied_id is None:
        return None
    ticket_id = await s.read(tickets.ticket_of_private_reply, update.effective_chat.id, replied_id, s.ticket_rules)
    if ticket_id is None or not await staff.is_staff(update, context):
        return None
    return ticket_id


async def _answer_customer(update: Update, context: ContextTypes.DEFAULT_TYPE, ticket_id: int) -> None:
    """A staff member's reply on a ticket goes to its customer; they are told it did (or why not)."""
    s = services(context)
    message = update.effective_message
    user = update.effective_user
    outcome = await s.db(tickets.reply_to_customer, ticket_id, user.id, staff.staff_name(update),
                         message.text or message.caption or "", incoming(update).ref, s.now(),
                         attachment=attachment_of(message))
    keys = {tickets.Reply.SENT: "tickets.reply_sent", tickets.Reply.UNREACHABLE: "tickets.reply_unreachable",
            tickets.Reply.CLOSED: "tickets.reply_closed"}
    if outcome.result is tickets.Reply.SENT:
        await refresh_alert(context, ticket_id)  # the deadline is met: it leaves the alert
    if outcome.result in keys:
        await send_html(context.bot, message.chat_id,
                        s.texts.render(keys[outcome.result], s.staff_voice, name=outcome.customer_name,
                                       number=outcome.ticket_id, phone=outcome.phone or "–"),
                        reply_to_message_id=message.message_id, disable_notification=True)  # for the one who wrote it


# --- /tickets and /ticket <n> -----------------------------------------------------------------

async def tickets_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/tickets: open tickets, most urgent first, with age and SLA state; below them the tickets
    solved in the last day without a word to the customer."""
    s = services(context)
    lines = await s.db(tickets.open_tickets, s.ticket_rules, s.now())
    unanswered = await s.db(tickets.solved_without_answer, s.now())
    if not lines and not unanswered:
        await staff.answer(update, context, "tickets.list_empty")
        return
    voice = s.staff_voice
    rendered = [s.texts.render("tickets.list_title" if lines else "tickets.list_empty", voice, count=len(lines))]
    for line in lines:
        ticket = line.ticket
        rendered.append(s.texts.render(
            "tickets.list_line", voice, priority_icon=_priority_icon(ticket.priority), number=ticket.id,
            kind=text_param(f"tickets.kind.{ticket.kind}"), name=line.customer_name,
            category=text_param(f"topics.{ticket.category}"), age=_age(s, ticket),
            claimed=text_param("tickets.list_claimed", staff=ticket.claimed_by_name) if ticket.claimed_by_name else "",
            sla=_sla(line.sla_minutes_left)))
    if unanswered:
        rendered.append(s.texts.render("tickets.list_unanswered_title", voice))
        rendered.extend(s.texts.render("tickets.list_unanswered_line", voice, number=ticket.id, name=name,
                                       kind=text_param(f"tickets.kind.{ticket.kind}"),
                                       staff=ticket.claimed_by_name or "–")
                        for ticket, name in unanswered)
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


def ticket_number(text: str) -> int | None:
    """"#12" or "12" -> 12; None for anything else. ASCII digits only, as for /storno:
    str.isdigit() also calls "²" a digit, and int() refuses it (ValueError)."""
    number = text.lstrip("#")
    return int(number) if number.isascii() and number.isdigit() and len(number) <= 12 else None


async def ticket_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/ticket <n>: the whole history of one ticket."""
    s = services(context)
    number = ticket_number(context.args[0] if context.args else "")
    if number is None:
        await staff.answer(update, context, "tickets.usage_ticket")
        return
    found = await s.db(tickets.history, number)
    if found is None:
        await staff.answer(update, context, "tickets.unknown_ticket", number=number)
        return
    ticket, customer, events = found
    voice = s.staff_voice
    status = text_param(f"tickets.status.{ticket.status}")
    if ticket.status != tickets.OPEN and not any(event.kind == "staff_reply" for event in events):
        status = text_param("tickets.status_unanswered", status=status)
    lines = [s.texts.render("tickets.history_title", voice, kind=text_param(f"tickets.kind.{ticket.kind}"),
                            number=ticket.id, name=customer.first_name, code=customer.code or customer.id,
                            status=status,
                            priority=text_param(f"tickets.priority.{ticket.priority}"))]
    for event in events:
        lines.append(s.texts.render(
            "tickets.history_line", voice, when=moment_param(event.at),
            event=text_param(f"tickets.event.{event.kind}"), actor=f" ({event.actor})" if event.actor else "",
            text=f": {event.text}" if event.text else ""))
    await send_html(context.bot, update.effective_chat.id, "\n".join(lines))
