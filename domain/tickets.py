"""Tickets: a complaint, a question for a person or an NPS detractor's "please get in touch",
handled by the team in the staff chat and followed up a few days after it was solved.

Service recovery in the data: the customer's words open a ticket (category and priority from
the text), the staff chat gets an alert with buttons, replies go both ways through the outbox
as one thread under the alert, and the first answer is due within the SLA's business minutes.
Deadlines, reminders, escalations and follow-ups are stored on the ticket; ``process_timers``
acts on the due ones, so a restart re-arms everything by reading the table.

Every message a use case wants sent is an outbox row whose key starts with ``ticket:<id>:``;
that is also how a staff member's Telegram reply to any of them finds its ticket.

The staff group gets 20 messages a minute, so a flood must not crowd out what the team needs
first: the alert, reminders and escalations are ``outbox.URGENT`` and overtake the customer's
relayed messages, and a customer's texts that arrive while their previous one still waits in
the outbox join it (one group message, up to ``MERGED_RELAY_LIMIT`` characters). A customer has
one open ticket: a complaint or a request for a person while one is open goes to it.

Without a staff group the owners (``escalate_to``, by default the admins) are the team: each
gets the alert and the thread in their private chat (``team_chats``; each copy has its own
outbox key) and answers there. Only when there is nobody at all is no ticket opened.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, ScalarSelect, Select, func
from sqlmodel import Session, select

from domain import conversation, customers, ledger, opening_hours, outbox, surveys, team
from domain.rules import business_hours, loyalty, priority, topics
from domain.rules.words import word_count
from domain.clock import days_later_at
from domain.config import LoyaltySection, ShopConfig
from domain.outbox import (Attachment, Button, MessageSpec, deadline_param, money_param, text_param,
                           texts_param)
from storage.models import Customer, OutboxMessage, Purchase, Survey, Ticket, TicketEvent

OPEN, RESOLVED, CLOSED = "open", "resolved", "closed"
COMPLAINT, QUESTION, NPS = "complaint", "question", "nps"
KINDS = (COMPLAINT, QUESTION, NPS)
CALLBACK = "tkt"
MAX_TEXT = 2000
ALERT_EXCERPT = 1200
RELAY_EXCERPT = 1500
# Consecutive texts of a customer waiting for the staff group are sent as one message of at most
# this many characters of text (Telegram allows 4096; the name and the ticket number come on top).
MERGED_RELAY_LIMIT = 3500
CAPTION_EXCERPT = 600
# "Gelöst" can be undone for this long; the customer hears of the solution only after it, so an
# undone "Gelöst" never reaches them.
UNDO_WINDOW = timedelta(minutes=1)
# After pressing "Antworten" the staff member's next message in the staff chat is the reply.
REPLY_WINDOW = timedelta(minutes=15)
STAFF_NAME_LIMIT = 128  # Ticket.claimed_by_name, TicketEvent.actor
# While a customer and the team are talking, all of the customer's messages go to the ticket.
CHAT_STEP = "ticket_chat"
CHAT_WINDOW = timedelta(hours=2)
# A customer who sends several messages in a row hears "Weitergeleitet" once, for the first: a
# message is acknowledged only when their previous one on the ticket came longer ago than this.
QUIET_ACKNOWLEDGEMENT_PAUSE = timedelta(minutes=3)
# The ticket events of what a customer sent on their ticket: a text, or a photo, a voice message ...
CUSTOMER_MESSAGE_EVENTS = ("customer_message",) + tuple(f"customer_{kind}" for kind in outbox.ATTACHMENT_KINDS)
_KEY = re.compile(r"^ticket:(\d+):")


@dataclass(frozen=True)
class Rules:
    """What the ticket use cases need from config.yml (see ``rules_from``)."""

    hours: business_hours.BusinessHours
    first_response_minutes: int
    reminder_minutes_before: int
    follow_up_days: int
    follow_up_hour: int
    staff_chat_id: int | None
    escalate_to: tuple[int, ...]
    goodwill_points: tuple[int, ...]
    priority: priority.PriorityRules
    priority_lexicon: topics.Lexicon
    loyalty: LoyaltySection
    timezone: str


def rules_from(config: ShopConfig) -> Rules:
    c = config.complaints
    return Rules(
        hours=config.opening_hours(), first_response_minutes=c.first_response_minutes,
        reminder_minutes_before=c.reminder_minutes_before, follow_up_days=c.follow_up_days,
        follow_up_hour=c.follow_up_hour, staff_chat_id=config.staff.staff_chat_id,
        escalate_to=c.escalate_to or config.staff.admin_ids, goodwill_points=c.goodwill_points,
        priority=priority.PriorityRules(high_score_max=c.priority.high_score_max,
                                        repeat_window_days=c.priority.repeat_window_days,
                                        vip_is_high=c.priority.vip_is_high),
        priority_lexicon=priority.priority_lexicon(c.priority.extra_keywords),
        loyalty=config.loyalty, timezone=config.shop.timezone,
    )


def _clean(text: str | None, limit: int = MAX_TEXT) -> str:
    return " ".join((text or "").split())[:limit]


def _keep_lines(text: str | None, limit: int) -> str:
    """Tidy spaces within each line but keep the lines: a staff member's answer reaches the
    customer as they wrote it (a list stays a list), with at most one empty line in a row."""
    lines = [" ".join(line.split()) for line in (text or "").splitlines()]
    tidy = "\n".join(line for index, line in enumerate(lines) if line or (index and lines[index - 1]))
    return tidy.strip()[:limit]


def _excerpt(text: str | None, limit: int) -> str:
    cleaned = " ".join((text or "").split())
    return cleaned[:limit] + ("…" if len(cleaned) > limit else "")


# "Bestellnummer 4711", "Bon-Nr. 0815", "Rechnung: RE-2026-42", "order no. A123"; a number is needed.
_ORDER = re.compile(
    r"(?:bestell(?:ung)?s?|auftrags?|bon|beleg|quittung|rechnungs?|kassenbon|order)[\s-]*"
    r"(?:nummer|nr\.?|no\.?|number)?\s*[:#]?\s*([A-Z0-9][A-Z0-9/-]{1,29})", re.IGNORECASE)
_HASH_NUMBER = re.compile(r"(?<![\w#])#\s?(\d{3,12})\b")


def order_reference(text: str | None) -> str | None:
    """An order or receipt number the customer mentioned, if any."""
    for match in _ORDER.finditer(text or ""):
        if any(char.isdigit() for char in match.group(1)):
            return match.group(1).strip("-/")
    match = _HASH_NUMBER.search(text or "")
    return match.group(1) if match else None


# --- opening ----------------------------------------------------------------------------------

def open_ticket_of(session: Session, customer_id: int) -> Ticket | None:
    """The customer's ticket that the team is still working on, if any (the newest)."""
    return session.exec(_newest_open_ticket(select(Ticket), customer_id)).first()


def open_ticket_id_of(customer_id: ColumnElement[int]) -> ScalarSelect[int]:
    """``open_ticket_of``'s id as a column of a query about the customer ``customer_id`` (a
    column of that query), so the ticket comes with the customer in one round trip."""
    return _newest_open_ticket(select(Ticket.id), customer_id).scalar_subquery()


def _newest_open_ticket(query: Select, customer_id: int | ColumnElement[int]) -> Select:
    return query.where(Ticket.customer_id == customer_id, Ticket.status == OPEN).order_by(Ticket.id.desc()).limit(1)


def open_ticket(session: Session, customer_id: int, kind: str, text: str | None, request_ref: str,
                rules: Rules, now: datetime, *, score: int | None = None, survey_id: int | None = None,
                attachment: Attachment | None = None) -> Ticket:
    """Open a ticket and alert the staff chat; ``request_ref`` names what opened it, so a
    redelivered update returns the same ticket instead of a second one."""
    if kind not in KINDS:
        raise ValueError(f"unknown ticket kind {kind!r}")
    existing = session.exec(select(Ticket).where(Ticket.request_ref == request_ref)).first()
    if existing is not None:
        return existing
    cleaned = _clean(text)
    assessment = _assess(session, customer_id, kind, cleaned, score, rules, now)
    ticket = Ticket(request_ref=request_ref, customer_id=customer_id, kind=kind, status=OPEN,
                    category=priority.guess_category(cleaned) if cleaned else topics.OTHER,
                    priority=assessment.priority.value, priority_reasons=list(assessment.reasons),
                    text=cleaned, order_ref=order_reference(cleaned), survey_id=survey_id, created_at=now,
                    alert_key="")
    session.add(ticket)
    session.flush()
    _start_sla(session, ticket, rules, now)
    _record(session, ticket, "opened", now, text=cleaned or None)
    _alert_staff(session, ticket, rules, now)
    if attachment is not None:  # its caption is the ticket's text, in the alert
        _relay_attachment(session, ticket, attachment, None, f"open:{request_ref}", rules, now)
    if assessment.priority is not priority.Priority.NORMAL:
        _tell_owners(session, ticket, "tickets.owner_priority", "priority", rules, now)
    return ticket


def _assess(session: Session, customer_id: int, kind: str, text: str, score: int | None, rules: Rules,
            now: datetime) -> priority.Assessment:
    # A question to the team after a complaint is not a second complaint.
    earlier = [] if kind == QUESTION else session.exec(
        select(Ticket.created_at).where(Ticket.customer_id == customer_id, Ticket.kind != QUESTION)).all()
    tier = ledger.tier_status(session, customer_id, rules.loyalty, now).tier
    return priority.assess_priority(text, score=score, now=now, previous_complaints=earlier,
                                    vip=priority.is_vip(tier, rules.loyalty), rules=rules.priority,
                                    lexicon=rules.priority_lexicon)


def _hours(session: Session, rules: Rules) -> business_hours.BusinessHours:
    """The opening hours with the owner's closures (/geschlossen): closed days count no minutes."""
    return opening_hours.with_closures(session, rules.hours)


def _start_sla(session: Session, ticket: Ticket, rules: Rules, now: datetime) -> None:
    hours = _hours(session, rules)
    deadline = business_hours.add_business_minutes(now, rules.first_response_minutes, hours)
    ticket.response_due_at, ticket.first_response_at = deadline, None
    ticket.reminded_at = ticket.escalated_at = None
    ticket.reminder_due_at = (business_hours.reminder_at(deadline, rules.reminder_minutes_before, hours, now)
                              if rules.reminder_minutes_before else None)
    ticket.alert_key = f"ticket:{ticket.id}:alert:{ticket.times_reopened}"


def keep_chatting(session: Session, customer_id: int, ticket_id: int, now: datetime) -> None:
    """For the next ``CHAT_WINDOW``, whatever the customer writes belongs to this ticket."""
    conversation.set_step(session, customer_id, CHAT_STEP, now, {"ticket": ticket_id}, lifetime=CHAT_WINDOW)


# --- what customers do -----------------------------------------------------------------------

DETAILS_STEP = "awaiting_complaint_details"
TOPIC_STEP = "awaiting_request_topic"  # "Worum geht es?" after the "Mit dem Team sprechen" button
DETAILS_LIFETIME = timedelta(hours=2)
# "Ich will mich beschweren" asks for the details; a message that already tells the story is them.
MIN_WORDS = 5
# Intents the bot answers itself even while a ticket is open; everything else goes to the team.
# While the customer is in the middle of talking with the team, FAQ and help are not among them:
# "Die Lieferung kam nie an" is a detail for the team there, not a question about shipping.
CHAT_SELF_SERVICE = frozenset({"check_points", "rewards_catalog", "redeem_reward", "set_birthday", "opt_out",
                               "opt_in", "export_data", "delete_data"})
SELF_SERVICE = CHAT_SELF_SERVICE | {"faq", "help"}


def tells_the_story(text: str) -> bool:
    return word_count(text) >= MIN_WORDS  # words, not any five tokens: "<a> `=> '' //" says nothing


def belongs_to_ticket(intent: str | None, chatting: bool) -> bool:
    """Whether a customer's message goes to their open ticket rather than being answered by
    the bot (``chatting``: they are in the middle of talking with the team)."""
    return intent not in (CHAT_SELF_SERVICE if chatting else SELF_SERVICE)


def start_complaint(session: Session, customer_id: int, now: datetime) -> Ticket | None:
    """/beschwerde: an open ticket takes the next messages (returned); otherwise the customer
    is asked what happened and their next message is the details (None)."""
    ticket = open_ticket_of(session, customer_id)
    if ticket is not None:
        keep_chatting(session, customer_id, ticket.id, now)
        return ticket
    conversation.set_step(session, customer_id, DETAILS_STEP, now, lifetime=DETAILS_LIFETIME)
    return None


def ask_complaint_details(session: Session, customer_id: int, now: datetime) -> None:
    conversation.set_step(session, customer_id, DETAILS_STEP, now, lifetime=DETAILS_LIFETIME)


def start_request(session: Session, customer_id: int, now: datetime) -> Ticket | None:
    """"Mit dem Team sprechen" (the button): an open ticket takes the next messages (returned);
    otherwise the customer is asked what it is about, and the ticket opens with their answer,
    so its clock starts with something the team can answer (None)."""
    ticket = open_ticket_of(session, customer_id)
    if ticket is not None:
        keep_chatting(session, customer_id, ticket.id, now)
        return ticket
    conversation.set_step(session, customer_id, TOPIC_STEP, now, lifetime=DETAILS_LIFETIME)
    return None


def cancel_request(session: Session, customer_id: int, now: datetime) -> bool:
    """"Abbrechen" under "Worum geht es?": no ticket; False when nothing was asked (any more)."""
    return conversation.take_step(session, customer_id, TOPIC_STEP, now) is not None


def open_for_customer(session: Session, customer_id: int, kind: str, text: str | None, request_ref: str,
                      rules: Rules, now: datetime, *, attachment: Attachment | None = None,
                      score: int | None = None, survey_id: int | None = None) -> Ticket:
    """A complaint (its details), a request for a person: the ticket opens, the team is
    alerted, and the customer's next messages belong to it."""
    conversation.take_step(session, customer_id, DETAILS_STEP, now)
    ticket = open_ticket(session, customer_id, kind, text, request_ref, rules, now, score=score,
                         survey_id=survey_id, attachment=attachment)
    keep_chatting(session, customer_id, ticket.id, now)
    return ticket


@dataclass(frozen=True)
class Relayed:
    """A customer's message went to the team on ``ticket``."""

    ticket: Ticket
    # The first of a burst of messages (``QUIET_ACKNOWLEDGEMENT_PAUSE``): the customer is told it
    # went to the team; the ones right after it go without a word.
    acknowledge: bool


def relay_customer_message(session: Session, customer_id: int, ticket_id: int, text: str | None,
                           attachment: Attachment | None, message_ref: str, rules: Rules,
                           now: datetime) -> Relayed | None:
    """A customer's message on their open ticket goes to the team; None if the ticket is not theirs
    or closed."""
    relayed = relay_from_customer(session, ticket_id, customer_id, text, attachment, message_ref, rules, now)
    if relayed is not None:
        keep_chatting(session, customer_id, relayed.ticket.id, now)
    return relayed


@dataclass(frozen=True)
class HandOver:
    ticket: Ticket
    opened: bool  # a new ticket; else the customer's open one
    relayed: Relayed | None = None  # the open one took the text along (there was a text)


def ask_for_person(session: Session, customer_id: int, text: str | None, request_ref: str, rules: Rules,
                   now: datetime, *, kind: str = QUESTION, score: int | None = None,
                   survey_id: int | None = None, attachment: Attachment | None = None) -> HandOver:
    """The customer wants a person (or a detractor asked to be called back): their open ticket
    takes the message, or a new one opens."""
    conversation.take_step(session, customer_id, TOPIC_STEP, now)
    return _to_open_ticket_or_new(session, customer_id, kind, text, attachment, request_ref, rules, now, score=score,
                                  survey_id=survey_id)


def complain(session: Session, customer_id: int, text: str | None, request_ref: str, rules: Rules, now: datetime,
             *, attachment: Attachment | None = None) -> HandOver:
    """A complaint that tells the story (text, or a photo with or without a caption): a new
    ticket, or, when the customer has one open, that ticket takes it. A customer who sends the
    same complaint ten times in a row, quicker than each is answered, has one ticket."""
    conversation.take_step(session, customer_id, DETAILS_STEP, now)
    return _to_open_ticket_or_new(session, customer_id, COMPLAINT, text, attachment, request_ref, rules, now)


def _to_open_ticket_or_new(session: Session, customer_id: int, kind: str, text: str | None,
                           attachment: Attachment | None, request_ref: str, rules: Rules, now: datetime, *,
                           score: int | None = None, survey_id: int | None = None) -> HandOver:
    """One open ticket per customer: the customer's row is locked first, so two messages handled
    at once (two replicas, two updates) cannot both find no ticket and open one each."""
    session.exec(select(Customer.id).where(Customer.id == customer_id).with_for_update()).first()
    same = session.exec(select(Ticket).where(Ticket.request_ref == request_ref)).first()
    if same is not None:  # the same update again: the ticket it opened
        return HandOver(same, opened=True)
    ticket = open_ticket_of(session, customer_id)
    if ticket is not None:
        relayed = None
        if text or attachment is not None:
            relayed = relay_customer_message(session, customer_id, ticket.id, text, attachment, request_ref, rules,
                                             now)
        return HandOver(ticket, opened=False, relayed=relayed)
    return HandOver(open_for_customer(session, customer_id, kind, text, request_ref, rules, now,
                                      attachment=attachment, score=score, survey_id=survey_id), opened=True)


@dataclass(frozen=True)
class CallOffer:
    wants_call: bool
    handover: HandOver | None = None  # None: no ticket (declined, or no team to see it)


def answer_call_offer(session: Session, customer_id: int, survey_id: int, wants_call: bool, rules: Rules,
                      now: datetime, *, team_reachable: bool = True) -> CallOffer | None:
    """A detractor's answer to "shall we get in touch?"; yes opens a ticket with score and
    reason (when there is a team to see it). None for a survey that is not theirs or not answered."""
    survey = surveys.answered(session, customer_id, survey_id)
    if survey is None:
        return None
    if not (wants_call and team_reachable):
        return CallOffer(wants_call)
    return CallOffer(True, ask_for_person(session, customer_id, survey.reason, f"nps:{survey.id}", rules, now,
                                          kind=NPS, score=survey.score, survey_id=survey.id))


def settle_follow_up(session: Session, ticket_id: int, customer_id: int, all_good: bool, rules: Rules,
                     now: datetime) -> ActionOutcome:
    """"Ist alles wieder gut?" answered; a reopened ticket takes the customer's next messages."""
    outcome = answer_follow_up(session, ticket_id, customer_id, all_good, rules, now)
    if outcome.action is Action.DONE and not all_good:
        keep_chatting(session, customer_id, ticket_id, now)
    return outcome


def _record(session: Session, ticket: Ticket, kind: str, now: datetime, actor: str | None = None,
            text: str | None = None) -> None:
    session.add(TicketEvent(ticket_id=ticket.id, at=now, kind=kind, actor=actor[:STAFF_NAME_LIMIT] if actor else None,
                            text=_clean(text) if text else None))


def _customer_chat(session: Session, customer_id: int):
    account = customers.chat_of(session, customer_id)
    return account if account is not None and account.unreachable_since is None else None


# --- the staff alert --------------------------------------------------------------------------

@dataclass(frozen=True)
class AlertCopies:
    spec: MessageSpec
    messages: tuple[tuple[int, int], ...]  # (chat id, message id) of each sent copy


def current_alert(session: Session, ticket_id: int, rules: Rules, now: datetime) -> AlertCopies | None:
    """The alert as it should look now and where it was sent: the staff group's message, or each
    owner's copy without a group. None before any copy was sent."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        return None
    sent = [(chat_id, outbox.sent_message_id(session, _copy_key(ticket.alert_key, chat_id, rules)))
            for chat_id in team_chats(rules)]
    messages = tuple((chat_id, message_id) for chat_id, message_id in sent if message_id is not None)
    return AlertCopies(alert_spec(session, ticket, rules, now), messages) if messages else None


def alert_spec(session: Session, ticket: Ticket, rules: Rules, now: datetime) -> MessageSpec:
    """The staff alert as it should look now (the bot edits it after a claim or a resolution)."""
    customer = session.get(Customer, ticket.customer_id)
    account = customers.chat_of(session, ticket.customer_id)
    spent, count = session.exec(
        select(func.coalesce(func.sum(Purchase.amount_cents), 0), func.count(Purchase.id))
        .where(Purchase.customer_id == ticket.customer_id, Purchase.reversed_at.is_(None))).one()
    tier = ledger.tier_status(session, ticket.customer_id, rules.loyalty, now).tier
    params = {
        "number": ticket.id, "kind": text_param(f"tickets.kind.{ticket.kind}"),
        "priority": text_param(f"tickets.priority.{ticket.priority}"),
        "name": " ".join(filter(None, [customer.first_name, customer.last_name])),
        "username": f" (@{account.username})" if account and account.username else "",
        "code": customer.code or str(customer.id), "tier": tier.name_param(), "purchases": count,
        "spent": money_param(spent), "category": text_param(f"topics.{ticket.category}"),
        "details": _alert_details(session, ticket, now), "text": _excerpt(ticket.text, ALERT_EXCERPT) or "–",
        "footer": _alert_footer(ticket, answered=ticket.status == OPEN or staff_answered(session, ticket.id)),
    }
    return MessageSpec("tickets.alert", params, buttons=_alert_buttons(ticket, now))


def _alert_details(session: Session, ticket: Ticket, now: datetime) -> dict | str:
    lines = []
    survey = session.get(Survey, ticket.survey_id) if ticket.survey_id else None
    if survey is not None and survey.score is not None:
        lines.append(("tickets.alert_score", {"score": survey.score}))
    if ticket.order_ref:
        lines.append(("tickets.alert_order", {"order": ticket.order_ref}))
    if ticket.priority_reasons:
        lines.append(("tickets.alert_reasons", {"reasons": texts_param(
            [f"tickets.reason.{reason}" for reason in ticket.priority_reasons])}))
    if ticket.times_reopened:
        lines.append(("tickets.alert_reopened", {"times": ticket.times_reopened}))
    if ticket.goodwill_points:
        lines.append(("tickets.alert_goodwill", {"points": ticket.goodwill_points}))
    if ticket.status == OPEN and ticket.response_due_at is not None:
        lines.append(("tickets.alert_due", {"due": deadline_param(ticket.response_due_at, now)}))
    return texts_param([text_param(key, **params) for key, params in lines], "") if lines else ""


def _alert_footer(ticket: Ticket, answered: bool) -> dict | str:
    """Who has the ticket or how it ended; a ticket solved without a word to the customer says so."""
    if ticket.status == CLOSED:
        return text_param("tickets.footer_closed" if answered else "tickets.footer_closed_unanswered")
    if ticket.status == RESOLVED:
        return text_param("tickets.footer_resolved" if answered else "tickets.footer_resolved_unanswered",
                          staff=ticket.claimed_by_name or "–")
    if ticket.claimed_by_name:
        return text_param("tickets.footer_claimed", staff=ticket.claimed_by_name)
    return ""


def _button(label: str, action: str, ticket: Ticket) -> Button:
    return Button(label, callback=f"{CALLBACK}:{action}:{ticket.id}")


def _alert_buttons(ticket: Ticket, now: datetime) -> tuple[tuple[Button, ...], ...]:
    if can_undo(ticket, now):
        return ((Button("tickets.button_undo", callback=f"{CALLBACK}:undo:{ticket.id}:{undo_stamp(ticket)}"),),)
    if ticket.status != OPEN:
        return ()
    first = (_button("tickets.button_reply", "reply", ticket),)
    if ticket.claimed_by_id is None:
        first = (_button("tickets.button_claim", "claim", ticket),) + first
    return first, (_button("tickets.button_solved", "solved", ticket), _button("tickets.button_goodwill", "goodwill", ticket))


def confirm_solved_buttons(ticket_id: int) -> tuple[tuple[Button, ...], ...]:
    """"Wirklich gelöst? ✅ Ja / Abbrechen" in place of the alert's buttons: a rushed tap on
    "Gelöst" does not tell the customer yet. Abbrechen brings the alert's buttons back."""
    return ((Button("tickets.button_confirm_solved", callback=f"{CALLBACK}:confirm:{ticket_id}"),
             Button("tickets.button_cancel", callback=f"{CALLBACK}:back:{ticket_id}")),)


def goodwill_buttons(ticket_id: int, rules: Rules) -> tuple[tuple[Button, ...], ...]:
    presets = tuple(Button("", callback=f"{CALLBACK}:gw:{ticket_id}:{points}", text=f"+{points}")
                    for points in rules.goodwill_points)
    return presets, (Button("tickets.button_back", callback=f"{CALLBACK}:back:{ticket_id}"),)


def team_chats(rules: Rules) -> tuple[int, ...]:
    """Where the team works on tickets: the staff group, or without one the owners' private chats
    (``escalate_to``; a private chat's id is the user's id). Empty: nobody would see a ticket."""
    return (rules.staff_chat_id,) if rules.staff_chat_id is not None else tuple(rules.escalate_to)


def team_reachable(rules: Rules) -> bool:
    return bool(team_chats(rules))


def _copy_key(key: str, chat_id: int, rules: Rules) -> str:
    """The outbox key of a ticket message in one of the team's chats: the staff group's keeps the
    plain key, each owner's copy gets one of its own (sent once per owner, found again by it)."""
    return key if chat_id == rules.staff_chat_id else f"{key}:{chat_id}"


def _alert_staff(session: Session, ticket: Ticket, rules: Rules, now: datetime) -> None:
    spec = alert_spec(session, ticket, rules, now)
    for chat_id in team_chats(rules):
        outbox.enqueue(session, _copy_key(ticket.alert_key, chat_id, rules), chat_id, spec, outbox.STAFF, now,
                       customer_id=ticket.customer_id, priority=outbox.URGENT)


def _to_staff(session: Session, ticket: Ticket, key: str, message: MessageSpec, rules: Rules, now: datetime,
              priority: int = outbox.URGENT) -> None:
    """A message in the ticket's thread in each of the team's chats (a reply to its alert there).
    The team's reminders, escalations and news of an unreachable customer are urgent: in a full
    staff group they go before relayed customer messages (``outbox.NORMAL``) and notices."""
    for chat_id in team_chats(rules):
        threaded = replace(message, reply_to_key=_copy_key(ticket.alert_key, chat_id, rules))
        outbox.enqueue(session, _copy_key(f"ticket:{ticket.id}:{key}", chat_id, rules), chat_id, threaded,
                       outbox.STAFF, now, customer_id=ticket.customer_id, priority=priority)


def _owner_notice(session: Session, ticket: Ticket, template: str) -> MessageSpec:
    customer = session.get(Customer, ticket.customer_id)
    return MessageSpec(template, {"number": ticket.id, "name": customer.first_name,
                                  "priority": text_param(f"tickets.priority.{ticket.priority}"),
                                  "text": _excerpt(ticket.text, 300) or "–",
                                  "claimed": ticket.claimed_by_name or "–"})


def _tell_owners(session: Session, ticket: Ticket, template: str, key: str, rules: Rules, now: datetime) -> None:
    """Privately to the owners (escalation target): high priority at once, missed deadlines.
    Without a staff group the owners are the team: the alert in their chat tells them already."""
    if rules.staff_chat_id is None:
        return
    message = _owner_notice(session, ticket, template)
    for owner in rules.escalate_to:
        outbox.enqueue(session, f"ticket:{ticket.id}:{key}:{ticket.times_reopened}:{owner}", owner, message,
                       outbox.STAFF, now, priority=outbox.URGENT)


def _escalate(session: Session, ticket: Ticket, rules: Rules, now: datetime) -> None:
    """The first answer is overdue: the owners hear of it privately and the team in the ticket's
    thread. Without a staff group both are the owners, so each gets one notice, under their alert."""
    key = f"breach:{ticket.times_reopened}"
    if rules.staff_chat_id is None:
        _to_staff(session, ticket, key, _owner_notice(session, ticket, "tickets.owner_breach"), rules, now)
        return
    _tell_owners(session, ticket, "tickets.owner_breach", "breach", rules, now)
    _to_staff(session, ticket, key, MessageSpec("tickets.breach_staff", {"number": ticket.id}), rules, now)


def _to_customer(session: Session, ticket: Ticket, key: str, message: MessageSpec, now: datetime,
                 not_before: datetime | None = None) -> bool:
    account = _customer_chat(session, ticket.customer_id)
    if account is None:
        return False
    outbox.enqueue(session, f"ticket:{ticket.id}:{key}", account.chat_id, message, outbox.SERVICE, now,
                   customer_id=ticket.customer_id, not_before=not_before)
    return True


# --- messages both ways -----------------------------------------------------------------------

def relay_from_customer(session: Session, ticket_id: int, customer_id: int, text: str | None,
                        attachment: Attachment | None, message_ref: str, rules: Rules,
                        now: datetime) -> Relayed | None:
    """A further message from the customer (a text, or a photo, file, voice message ... with its
    caption), into the staff chat under the alert. While the ticket's previous text is still
    waiting in the outbox, a text joins it (``_merge_relay``): a customer writing ten lines in a
    row costs the staff group one message, not ten, and hears "Weitergeleitet" once."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or ticket.customer_id != customer_id or ticket.status == CLOSED:
        return None
    customer = session.get(Customer, customer_id)
    acknowledge = _starts_a_burst(session, ticket, now)
    if attachment is not None:
        _relay_attachment(session, ticket, attachment, text, message_ref, rules, now)
    else:
        excerpt = _excerpt(text, RELAY_EXCERPT)
        key = f"in:{message_ref}"
        if not _merge_relay(session, ticket, key, excerpt, rules, now):
            message = MessageSpec("tickets.customer_message", {"number": ticket.id, "name": customer.first_name,
                                                               "text": excerpt})
            _to_staff(session, ticket, key, message, rules, now, priority=outbox.NORMAL)
    _record(session, ticket, f"customer_{attachment.kind}" if attachment else "customer_message", now, text=text)
    return Relayed(ticket, acknowledge)


def _starts_a_burst(session: Session, ticket: Ticket, now: datetime) -> bool:
    """Whether the customer's previous message on the ticket (if any) came longer than
    ``QUIET_ACKNOWLEDGEMENT_PAUSE`` before ``now``."""
    previous = session.exec(select(TicketEvent.at).where(TicketEvent.ticket_id == ticket.id,
                                                         TicketEvent.kind.in_(CUSTOMER_MESSAGE_EVENTS))
                            .order_by(TicketEvent.at.desc()).limit(1)).first()
    return previous is None or now - previous > QUIET_ACKNOWLEDGEMENT_PAUSE


def _merge_relay(session: Session, ticket: Ticket, key: str, excerpt: str, rules: Rules, now: datetime) -> bool:
    """Add the customer's text to the ticket's latest relayed text when that is still waiting in
    the outbox (not yet claimed by a dispatcher) and the two fit into ``MERGED_RELAY_LIMIT``
    characters; True when it was added (or the message had been relayed already). A photo (or
    any attachment), a row being sent or a full row: the text gets a row of its own, so the
    order stays as written."""
    if rules.staff_chat_id is None:
        return False
    full_key = f"ticket:{ticket.id}:{key}"
    if outbox.key_taken(session, full_key):
        return True  # the same update again
    latest = session.exec(select(OutboxMessage.id, OutboxMessage.status).where(
        OutboxMessage.customer_id == ticket.customer_id,  # indexed; few rows per customer
        OutboxMessage.idempotency_key.like(f"ticket:{ticket.id}:in:%"),
        OutboxMessage.status != outbox.MERGED).order_by(OutboxMessage.id.desc()).limit(1)).first()
    if latest is None or latest.status != outbox.PENDING:
        return False
    row = outbox.waiting(session, latest.id)
    if row is None:
        return False  # a dispatcher is taking it right now
    payload = row.payload or {}
    params = payload.get("params") or {}
    if payload.get("template") != "tickets.customer_message":  # a caption line (photo, file ...) takes no text
        return False
    joined = f"{params.get('text', '')}\n{excerpt}"
    if len(joined) > MERGED_RELAY_LIMIT:
        return False
    return outbox.merge(session, full_key, row, {**payload, "params": {**params, "text": joined}}, now)


def _relay_attachment(session: Session, ticket: Ticket, attachment: Attachment, caption: str | None, ref: str,
                      rules: Rules, now: datetime) -> None:
    """A customer's photo, file, voice message ... into the ticket's thread, captioned with who
    sent it on which ticket (``tickets.customer_<kind>``), so the team can answer it with a reply.
    A video note shows no caption: that line goes just before it, as a message of its own."""
    customer = session.get(Customer, ticket.customer_id)
    line = MessageSpec(f"tickets.customer_{attachment.kind}", {"number": ticket.id, "name": customer.first_name,
                                                               "text": _excerpt(caption, CAPTION_EXCERPT)})
    key = f"in:{ref}"
    if attachment.takes_caption:
        _to_staff(session, ticket, key, replace(line, attachment=attachment), rules, now, priority=outbox.NORMAL)
        return
    _to_staff(session, ticket, key, line, rules, now, priority=outbox.NORMAL)
    _to_staff(session, ticket, f"{key}:{attachment.kind}", MessageSpec(attachment=attachment), rules, now,
              priority=outbox.NORMAL)


def ticket_of_staff_message(session: Session, staff_chat_id: int, replied_message_id: int) -> int | None:
    """The ticket a message in the staff chat belongs to (an alert, a relayed message ...)."""
    key = outbox.key_of_sent_message(session, staff_chat_id, replied_message_id)
    match = _KEY.match(key or "")
    return int(match.group(1)) if match else None


class Reply(enum.Enum):
    SENT = "sent"
    UNREACHABLE = "unreachable"  # the customer blocked the bot or deleted the chat
    CLOSED = "closed"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class ReplyOutcome:
    result: Reply
    ticket_id: int | None = None
    customer_name: str = ""
    phone: str | None = None


def start_reply(session: Session, ticket_id: int, staff_id: int, staff_name: str, now: datetime) -> Ticket | None:
    """"Antworten": the staff member is asked for the answer; their reply to that prompt goes to
    the customer (``note_reply_prompt``, ``ticket_of_reply``)."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or ticket.status == CLOSED:
        return None
    ticket.replying_id, ticket.replying_until = staff_id, now + REPLY_WINDOW
    _claim_if_free(session, ticket, staff_id, staff_name, now)
    session.add(ticket)
    return ticket


def note_reply_prompt(session: Session, ticket_id: int, prompt_message_id: int) -> None:
    """The "Antworten" prompt was sent: a reply to it (and only a reply) goes to the customer."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is not None:
        ticket.reply_prompt_id = prompt_message_id
        session.add(ticket)


def ticket_of_private_reply(session: Session, owner_id: int, replied_message_id: int, rules: Rules) -> int | None:
    """The ticket whose thread an owner's reply in their private chat answers when there is no
    staff group (the team works there): a ticket message the bot sent them for the team (an alert
    copy, a relayed message, a reminder), or the "Antworten" prompt they asked for there. A reply
    to any other message (about their points, their own ticket as a customer) is no ticket answer;
    with a staff group, the owners' private notices are only notices (the thread is in the group)."""
    if rules.staff_chat_id is not None:
        return None
    key = session.exec(select(OutboxMessage.idempotency_key).where(
        OutboxMessage.chat_id == owner_id, OutboxMessage.telegram_message_id == replied_message_id,
        OutboxMessage.category == outbox.STAFF)).first()
    match = _KEY.match(key or "")
    if match:
        return int(match.group(1))
    # The prompt is sent where "Antworten" was pressed: in this owner's chat when they pressed it.
    return session.exec(select(Ticket.id).where(Ticket.reply_prompt_id == replied_message_id,
                                                Ticket.replying_id == owner_id)
                        .order_by(Ticket.id.desc()).limit(1)).first()


def ticket_of_reply(session: Session, staff_chat_id: int, replied_message_id: int) -> int | None:
    """The ticket whose thread a reply in the staff chat answers: its alert, one of its relayed
    messages, or its "Antworten" prompt. Other messages in the staff chat stay internal."""
    found = ticket_of_staff_message(session, staff_chat_id, replied_message_id)
    if found is None:
        found = session.exec(select(Ticket.id).where(Ticket.reply_prompt_id == replied_message_id)
                             .order_by(Ticket.id.desc()).limit(1)).first()
    return found


# A photo's or file's caption holds at most 1024 characters; the shop's name goes before it.
MEDIA_CAPTION_LIMIT = 900


def reply_to_customer(session: Session, ticket_id: int, staff_id: int, staff_name: str, text: str,
                      message_ref: str, now: datetime, attachment: Attachment | None = None) -> ReplyOutcome:
    """Relay a staff member's answer to the customer in the shop's name: a text, or a photo or
    file (Telegram file ids) with its caption."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        return ReplyOutcome(Reply.UNKNOWN)
    customer = session.get(Customer, ticket.customer_id)
    if ticket.status == CLOSED:
        return ReplyOutcome(Reply.CLOSED, ticket.id, customer.first_name)
    # ``replying_id`` stays: it names whose chat has the prompt (``ticket_of_private_reply``),
    # so a second reply to the same prompt reaches the customer too.
    kept = _keep_lines(text, 3500 if attachment is None else MEDIA_CAPTION_LIMIT)
    message = MessageSpec("tickets.staff_reply" if kept else "tickets.staff_reply_without_text",
                          {"number": ticket.id, "text": kept}, attachment=attachment)
    if not _to_customer(session, ticket, f"out:{message_ref}", message, now):
        session.add(ticket)
        return ReplyOutcome(Reply.UNREACHABLE, ticket.id, customer.first_name, customer.phone)
    _claim_if_free(session, ticket, staff_id, staff_name, now)
    _answered(ticket, now)
    _record(session, ticket, "staff_reply", now, actor=staff_name,
            text=text or _placeholder(attachment))
    # The customer's answer belongs to this thread, whatever it says.
    keep_chatting(session, ticket.customer_id, ticket.id, now)
    session.add(ticket)
    return ReplyOutcome(Reply.SENT, ticket.id, customer.first_name)


def _placeholder(attachment: Attachment | None) -> str:
    """What the ticket's history shows for an answer without words: "[photo]", "[file]"."""
    if attachment is None:
        return ""
    return "[file]" if attachment.kind == outbox.DOCUMENT else f"[{attachment.kind}]"


def _answered(ticket: Ticket, now: datetime) -> None:
    """The customer heard from the team: the SLA is met and its timers stop."""
    if ticket.first_response_at is None:
        ticket.first_response_at = now
    ticket.response_due_at = ticket.reminder_due_at = None


# --- staff actions ----------------------------------------------------------------------------

class Action(enum.Enum):
    DONE = "done"
    ALREADY = "already"            # pressed twice: nothing more to do
    TAKEN = "taken"                # someone else has claimed it
    NOT_OPEN = "not_open"          # resolved or closed meanwhile
    BAD_POINTS = "bad_points"      # goodwill points that are not a preset (forged)
    STALE = "stale"                # a button of an earlier state (or forged data): changes nothing
    EXPIRED = "expired"            # "Rückgängig" after its minute
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class ActionOutcome:
    action: Action
    ticket: Ticket | None = None
    by: str | None = None
    points: int = 0
    balance: int = 0


def _claim_if_free(session: Session, ticket: Ticket, staff_id: int, staff_name: str, now: datetime) -> bool:
    if ticket.claimed_by_id is not None:
        return False
    ticket.claimed_by_id, ticket.claimed_by_name = staff_id, staff_name[:STAFF_NAME_LIMIT]
    _record(session, ticket, "claimed", now, actor=staff_name)
    return True


def claim(session: Session, ticket_id: int, staff_id: int, staff_name: str, now: datetime) -> ActionOutcome:
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        return ActionOutcome(Action.UNKNOWN)
    if ticket.status != OPEN:
        return ActionOutcome(Action.NOT_OPEN, ticket)
    if ticket.claimed_by_id == staff_id:
        return ActionOutcome(Action.ALREADY, ticket, ticket.claimed_by_name)
    if not _claim_if_free(session, ticket, staff_id, staff_name, now):
        return ActionOutcome(Action.TAKEN, ticket, ticket.claimed_by_name)
    session.add(ticket)
    return ActionOutcome(Action.DONE, ticket, staff_name)


def resolve(session: Session, ticket_id: int, staff_id: int, staff_name: str, rules: Rules,
            now: datetime) -> ActionOutcome:
    """"Gelöst": the customer is told, and asked in a few days whether all is well again."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        return ActionOutcome(Action.UNKNOWN)
    if ticket.status != OPEN:
        return ActionOutcome(Action.ALREADY, ticket, ticket.claimed_by_name)
    _claim_if_free(session, ticket, staff_id, staff_name, now)
    ticket.status, ticket.resolved_at = RESOLVED, now
    ticket.replying_id = ticket.replying_until = None
    ticket.follow_up_due_at = days_later_at(now, rules.follow_up_days, rules.follow_up_hour, rules.timezone)
    ticket.follow_up_sent_at = None
    _to_customer(session, ticket, _resolved_key(ticket), MessageSpec("tickets.resolved_customer", {"number": ticket.id}),
                 now, not_before=now + UNDO_WINDOW)
    _answered(ticket, now)
    _record(session, ticket, "resolved", now, actor=staff_name)
    session.add(ticket)
    return ActionOutcome(Action.DONE, ticket, staff_name)


def undo_stamp(ticket: Ticket) -> int:
    """Names one resolution of a ticket (its second): the "Rückgängig" button carries it, so the
    button of an earlier resolution, or a forged one, matches nothing."""
    return int(ticket.resolved_at.timestamp())


def _resolved_key(ticket: Ticket) -> str:
    return f"resolved:{ticket.times_reopened}:{undo_stamp(ticket)}"


def can_undo(ticket: Ticket, now: datetime) -> bool:
    return ticket.status == RESOLVED and ticket.resolved_at is not None and now < ticket.resolved_at + UNDO_WINDOW


def undo_resolve(session: Session, ticket_id: int, stamp: int, staff_name: str, rules: Rules,
                 now: datetime) -> ActionOutcome:
    """"Rückgängig" in the first minute after "Gelöst": the ticket is open again as it was (its
    deadline too, when the solution was its first answer) and the customer's notice is taken
    back. Another resolution's button is STALE; after the minute it is EXPIRED."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        return ActionOutcome(Action.UNKNOWN)
    if ticket.status != RESOLVED or ticket.resolved_at is None or undo_stamp(ticket) != stamp:
        return ActionOutcome(Action.STALE, ticket)
    if not can_undo(ticket, now):
        return ActionOutcome(Action.EXPIRED, ticket)
    outbox.withdraw(session, f"ticket:{ticket.id}:{_resolved_key(ticket)}")
    if ticket.first_response_at == ticket.resolved_at:  # "Gelöst" was the first answer: the deadline runs again
        _restart_deadline(session, ticket, rules)
    ticket.status, ticket.resolved_at = OPEN, None
    ticket.follow_up_due_at = ticket.follow_up_sent_at = None
    _record(session, ticket, "resolve_undone", now, actor=staff_name)
    session.add(ticket)
    return ActionOutcome(Action.DONE, ticket, staff_name)


def _restart_deadline(session: Session, ticket: Ticket, rules: Rules) -> None:
    """The first-answer deadline as it was before "Gelöst": counted from the (re)opening. A
    reminder or escalation already sent is not sent again (``reminded_at``, ``escalated_at``)."""
    started = session.exec(select(TicketEvent.at).where(TicketEvent.ticket_id == ticket.id,
                                                        TicketEvent.kind.in_(("opened", "reopened")))
                           .order_by(TicketEvent.at.desc(), TicketEvent.id.desc()).limit(1)).first()
    started = started or ticket.created_at
    hours = _hours(session, rules)
    deadline = business_hours.add_business_minutes(started, rules.first_response_minutes, hours)
    ticket.first_response_at, ticket.response_due_at = None, deadline
    ticket.reminder_due_at = (business_hours.reminder_at(deadline, rules.reminder_minutes_before, hours, started)
                              if rules.reminder_minutes_before else None)


def staff_answered(session: Session, ticket_id: int) -> bool:
    """Whether a staff member ever wrote to the customer on this ticket (a reply, not a button)."""
    return session.exec(select(TicketEvent.id).where(TicketEvent.ticket_id == ticket_id,
                                                     TicketEvent.kind == "staff_reply").limit(1)).first() is not None


def check_open(session: Session, ticket_id: int) -> ActionOutcome:
    """Before asking "Wirklich gelöst?": DONE for an open ticket, NOT_OPEN, or UNKNOWN."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        return ActionOutcome(Action.UNKNOWN)
    return ActionOutcome(Action.DONE if ticket.status == OPEN else Action.NOT_OPEN, ticket)


def grant_goodwill(session: Session, ticket_id: int, points: int, staff_id: int, staff_name: str, rules: Rules,
                   now: datetime) -> ActionOutcome:
    """"Kulanz": a preset number of points, once per ticket (and once more after a reopening),
    booked in the ledger; the customer is told."""
    if points not in rules.goodwill_points:
        return ActionOutcome(Action.BAD_POINTS)
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        return ActionOutcome(Action.UNKNOWN)
    if ticket.status == CLOSED:
        return ActionOutcome(Action.NOT_OPEN, ticket)
    team.refuse_self_service(session, team.GOODWILL, ticket.customer_id, staff_id, ticket_id=ticket.id, points=points)
    ledger.lock(session, ticket.customer_id)
    entry = ledger.add_entry(session, ticket.customer_id, points, ledger.GOODWILL,
                             f"goodwill:ticket:{ticket.id}:{ticket.times_reopened}", now,
                             note=f"Ticket #{ticket.id} ({staff_name})"[:200],
                             expires_at=loyalty.expiry_of(now, rules.loyalty))
    if entry is None:
        return ActionOutcome(Action.ALREADY, ticket, points=ticket.goodwill_points)
    ticket.goodwill_points += points
    _claim_if_free(session, ticket, staff_id, staff_name, now)
    balance = ledger.balance(session, ticket.customer_id)
    _to_customer(session, ticket, f"goodwill:{ticket.times_reopened}",
                 MessageSpec("tickets.goodwill_customer", {"points": points, "balance": balance}), now)
    _answered(ticket, now)
    _record(session, ticket, "goodwill", now, actor=staff_name, text=f"+{points}")
    session.add(ticket)
    return ActionOutcome(Action.DONE, ticket, staff_name, points, balance)


# --- the customer's follow-up answer ----------------------------------------------------------

def follow_up_question(ticket_id: int, first_name: str) -> MessageSpec:
    return MessageSpec("tickets.follow_up", {"number": ticket_id, "name": first_name}, buttons=((
        Button("tickets.follow_up_yes", callback=f"{CALLBACK}:ok:{ticket_id}:yes"),
        Button("tickets.follow_up_no", callback=f"{CALLBACK}:ok:{ticket_id}:no"),
    ),))


def answer_follow_up(session: Session, ticket_id: int, customer_id: int, all_good: bool, rules: Rules,
                     now: datetime) -> ActionOutcome:
    """"Ist alles wieder gut?": yes closes the ticket, no reopens it and alerts the team again.
    Only the ticket's own customer, and only once per question."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or ticket.customer_id != customer_id:
        return ActionOutcome(Action.UNKNOWN)
    if ticket.status != RESOLVED or ticket.follow_up_sent_at is None:
        return ActionOutcome(Action.ALREADY, ticket)
    if all_good:
        ticket.status, ticket.closed_at = CLOSED, now
        _record(session, ticket, "closed", now)
    else:
        _reopen(session, ticket, rules, now)
    session.add(ticket)
    return ActionOutcome(Action.DONE, ticket)


def _reopen(session: Session, ticket: Ticket, rules: Rules, now: datetime) -> None:
    ticket.status, ticket.times_reopened = OPEN, ticket.times_reopened + 1
    ticket.resolved_at = ticket.follow_up_due_at = ticket.follow_up_sent_at = None
    ticket.claimed_by_id = ticket.claimed_by_name = None  # a fresh alert: whoever is free takes it
    _start_sla(session, ticket, rules, now)
    _record(session, ticket, "reopened", now)
    _alert_staff(session, ticket, rules, now)
    if ticket.priority != priority.Priority.NORMAL:
        _tell_owners(session, ticket, "tickets.owner_priority", "priority", rules, now)


# --- timers -----------------------------------------------------------------------------------

def process_timers(session: Session, rules: Rules, now: datetime) -> int:
    """Reminders before the deadline, escalations at it and follow-ups after a resolution that
    are due at ``now``; returns how many messages were queued. Safe to run often and in
    parallel: each step is marked on the ticket and its outbox key is unique."""
    done = 0
    for ticket in _due(session, OPEN, Ticket.reminder_due_at, Ticket.reminded_at, now):
        ticket.reminded_at = now
        minutes = business_hours.business_minutes_between(now, ticket.response_due_at, _hours(session, rules))
        _to_staff(session, ticket, f"reminder:{ticket.times_reopened}",
                  MessageSpec("tickets.reminder", {"number": ticket.id, "minutes": max(minutes, 0),
                                                   "due": deadline_param(ticket.response_due_at, now)}), rules, now)
        _record(session, ticket, "reminder", now)
        done += 1
    for ticket in _due(session, OPEN, Ticket.response_due_at, Ticket.escalated_at, now):
        ticket.escalated_at = now
        _escalate(session, ticket, rules, now)
        _record(session, ticket, "escalated", now)
        done += 1
    for ticket in _due(session, RESOLVED, Ticket.follow_up_due_at, Ticket.follow_up_sent_at, now):
        ticket.follow_up_sent_at = now
        name = session.get(Customer, ticket.customer_id).first_name
        _to_customer(session, ticket, f"followup:{ticket.times_reopened}", follow_up_question(ticket.id, name), now)
        _record(session, ticket, "follow_up", now)
        done += 1
    return done


def _due(session: Session, status: str, due_column, done_column, now: datetime) -> Iterator[Ticket]:
    """Tickets in ``status`` whose ``due_column`` has come and whose ``done_column`` is empty,
    locked (another process running the timers skips them)."""
    rows = session.exec(select(Ticket).where(Ticket.status == status, due_column <= now, done_column.is_(None))
                        .with_for_update(skip_locked=True)).all()
    for ticket in rows:
        yield ticket
        session.add(ticket)


def note_undeliverable(session: Session, outbox_key: str, rules: Rules, now: datetime) -> bool:
    """A ticket message to the customer could not be delivered (blocked bot, deleted chat):
    the team hears of it in the thread, so nobody waits for an answer that cannot come."""
    match = _KEY.match(outbox_key or "")
    if match is None or ":out:" not in outbox_key and ":resolved:" not in outbox_key:
        return False
    ticket = session.get(Ticket, int(match.group(1)))
    if ticket is None:
        return False
    customer = session.get(Customer, ticket.customer_id)
    # 170: room in the 200 characters of an outbox key for "ticket:<id>:" and an owner's chat id
    _to_staff(session, ticket, f"undeliverable:{outbox_key}"[:170],
              MessageSpec("tickets.undeliverable", {"number": ticket.id, "name": customer.first_name,
                                                    "phone": customer.phone or "–"}), rules, now)
    _record(session, ticket, "undeliverable", now)
    return True


def _tell_team_undeliverable(session: Session, row: OutboxMessage, rules: Rules, now: datetime) -> str | None:
    """The outbox hook for a ticket's row that ended undelivered: if its recipient is gone, the
    team hears of it (``note_undeliverable``)."""
    if row.category != outbox.SERVICE:
        return None  # a team member's copy (an owner blocked the bot): telling the team again would loop
    if outbox.was_unreachable(row) and note_undeliverable(session, row.idempotency_key, rules, now):
        return "team told of an undeliverable ticket message"
    return None


outbox.register(outbox.Feature("tickets", "ticket:", rules_from, undelivered=_tell_team_undeliverable))


# --- lists for staff --------------------------------------------------------------------------

@dataclass(frozen=True)
class TicketLine:
    ticket: Ticket
    customer_name: str
    sla_minutes_left: int | None  # business minutes to the deadline; negative: overdue; None: answered


def open_tickets(session: Session, rules: Rules, now: datetime, limit: int = 30) -> list[TicketLine]:
    """Open tickets, the most urgent first: priority, then the deadline."""
    rows = session.exec(select(Ticket, Customer.first_name).join(Customer, Customer.id == Ticket.customer_id)
                        .where(Ticket.status == OPEN)).all()
    rank = {p.value: p.rank for p in priority.Priority}
    far = datetime.max.replace(tzinfo=now.tzinfo)
    rows = sorted(rows, key=lambda row: (-rank.get(row[0].priority, 0), row[0].response_due_at or far, row[0].id))
    hours = _hours(session, rules)
    return [TicketLine(ticket, name, None if ticket.response_due_at is None
                       else business_hours.business_minutes_between(now, ticket.response_due_at, hours))
            for ticket, name in rows[:limit]]


def solved_without_answer(session: Session, now: datetime, within: timedelta = timedelta(hours=24),
                          limit: int = 10) -> list[tuple[Ticket, str]]:
    """Tickets solved in the last ``within`` without a staff member ever writing to the customer,
    newest first, with the customer's first name (for /tickets: a solution nobody explained)."""
    replied = select(TicketEvent.id).where(TicketEvent.ticket_id == Ticket.id, TicketEvent.kind == "staff_reply")
    rows = session.exec(select(Ticket, Customer.first_name).join(Customer, Customer.id == Ticket.customer_id)
                        .where(Ticket.status.in_((RESOLVED, CLOSED)), Ticket.resolved_at >= now - within,
                               ~replied.exists())
                        .order_by(Ticket.resolved_at.desc(), Ticket.id.desc()).limit(limit)).all()
    return [(ticket, name) for ticket, name in rows]


def history(session: Session, ticket_id: int) -> tuple[Ticket, Customer, list[TicketEvent]] | None:
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        return None
    events = list(session.exec(select(TicketEvent).where(TicketEvent.ticket_id == ticket_id)
                               .order_by(TicketEvent.at, TicketEvent.id)))
    return ticket, session.get(Customer, ticket.customer_id), events
