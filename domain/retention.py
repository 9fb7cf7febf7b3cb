"""Personal texts have an end (DSGVO Art. 5 (1) e): once a night the texts whose retention
period (``privacy.retention``) has passed are emptied.

- what customers wrote to the bot (``message_log.text``), after ``message_log_days``;
- a ticket's conversation (its text and its events' texts), ``ticket_days`` after the ticket
  ended (solved or closed; a reopened ticket is not over);
- /feedback texts and survey reasons, after ``feedback_days`` and ``survey_reason_days``;
- the content of proactive messages that are done (sent, failed or skipped), and a staff
  member's decided self-booking request (who asked, what), after ``outbox_payload_days``;
- the counter's "Betrag?" questions that ran out (whose card a staff member scanned): deleted
  at once, they serve nothing after their few minutes.

Only the texts go: the rows with their topics, categories, scores, statuses, times and amounts
stay, so every count, the NPS, the topics and the revenue in the reports stay the same. An
emptied text is ``""`` (``NULL`` for ticket events, ``{}`` for an outbox payload), and every
purge only touches texts that are not empty yet: a second run changes nothing.

Customers inactive for ``privacy.inactive_years`` (no purchase, no message) are told
``NOTICE_DAYS`` days before (a service message: writing or buying keeps the account), then
erased (``domain.data_rights.erase_customer``; customers the bot cannot reach are erased
without the notice, which they could not get). Coming back resets the clock.

The job is claimed per day through the ``job_run`` table like the milestones (``claim_day``),
so of two replicas only one purges; the purge itself goes in batches, one transaction each
(``purge_batch``), so a large shop never holds long locks. Two purges running at once still
count every text once: each UPDATE checks again that its text is not empty yet.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Text, cast, exists, func, or_, update
from sqlmodel import Session, select

from domain import counter, daily_jobs, data_rights, outbox
from domain.config import RetentionConfig, ShopConfig
from domain.milestones import latest_day
from domain.outbox import MessageSpec
from storage.models import (Customer, Feedback, HeldBooking, MessageLog, OutboxMessage, Survey, TelegramAccount,
                            Ticket, TicketEvent)

JOB = "retention"
RUN_HOUR = 4  # shop time: a quiet hour; a start after it catches the day's purge up
BATCH = 500  # rows per kind and transaction
FINISHED_TICKETS = ("resolved", "closed")  # domain.tickets.RESOLVED, CLOSED
FINISHED_MESSAGES = ("sent", "failed", "skipped")


NOTICE_DAYS = 30  # an inactive customer is told this long before their account is erased
NOTICE_KEY_PREFIX = "privacy:inactive:"


@dataclass(frozen=True)
class Rules:
    periods: RetentionConfig
    zone: ZoneInfo
    inactive_years: int = 3


def rules_from(config: ShopConfig) -> Rules:
    return Rules(config.privacy.retention, ZoneInfo(config.shop.timezone), config.privacy.inactive_years)


@dataclass(frozen=True)
class Purged:
    """How many texts one batch (or a whole run) emptied, per kind."""

    message_log: int = 0
    tickets: int = 0
    ticket_events: int = 0
    feedback: int = 0
    survey_reasons: int = 0
    outbox_payloads: int = 0
    held_bookings: int = 0
    counter_questions: int = 0

    @property
    def total(self) -> int:
        return sum(asdict(self).values())

    def __add__(self, other: "Purged") -> "Purged":
        return Purged(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))


def purge_day(now: datetime, zone: ZoneInfo) -> date:
    """The day whose purge is due at ``now``: today from ``RUN_HOUR`` on, else yesterday."""
    return latest_day(now, RUN_HOUR, zone)


def claim_day(session: Session, rules: Rules, now: datetime) -> bool:
    """Claim the purge of the day due at ``now``; False when it was done (or claimed by another
    process) already. Days the bot was down need no catching up one by one: the next purge
    empties everything older than its period."""
    day = purge_day(now, rules.zone)
    previous = daily_jobs.last_done(session, JOB)
    if previous is not None and previous >= day:
        return False
    return daily_jobs.claim(session, JOB, previous, day, now)


def purge_batch(session: Session, rules: Rules, now: datetime, limit: int = BATCH) -> Purged:
    """Empty up to ``limit`` texts of each kind whose retention period has ended at ``now``
    (one transaction); call it again until it returns nothing (``Purged().total == 0``)."""
    periods = rules.periods

    def before(days: int) -> datetime:
        return now - timedelta(days=days)

    ended = func.coalesce(Ticket.closed_at, Ticket.resolved_at)
    old_tickets = (select(Ticket.id).where(Ticket.status.in_(FINISHED_TICKETS), ended < before(periods.ticket_days))
                   .correlate(None))  # a subquery of its own, also inside the UPDATE of ticket
    done_at = func.coalesce(OutboxMessage.sent_at, OutboxMessage.created_at)
    return Purged(
        message_log=_empty(session, MessageLog, {"text": ""}, limit,
                           MessageLog.created_at < before(periods.message_log_days), MessageLog.text != ""),
        tickets=_empty(session, Ticket, {"text": ""}, limit,
                       Ticket.id.in_(old_tickets), Ticket.text != ""),
        ticket_events=_empty(session, TicketEvent, {"text": None}, limit,
                             TicketEvent.ticket_id.in_(old_tickets), TicketEvent.text.is_not(None)),
        feedback=_empty(session, Feedback, {"text": ""}, limit,
                        Feedback.created_at < before(periods.feedback_days), Feedback.text != ""),
        # "" (not NULL): the survey still shows that a reason was given.
        survey_reasons=_empty(session, Survey, {"reason": ""}, limit,
                              Survey.answered_at < before(periods.survey_reason_days), Survey.reason.is_not(None),
                              Survey.reason != ""),
        outbox_payloads=_empty(session, OutboxMessage, {"payload": {}}, limit,
                               OutboxMessage.status.in_(FINISHED_MESSAGES),
                               done_at < before(periods.outbox_payload_days),
                               cast(OutboxMessage.payload, Text) != "{}"),
        # A staff member's own booking held for a colleague, once decided: who asked and what.
        held_bookings=_empty(session, HeldBooking, {"requested_name": "", "details": {}}, limit,
                             HeldBooking.status != "held", HeldBooking.decided_at < before(periods.outbox_payload_days),
                             HeldBooking.requested_name != ""),
        counter_questions=counter.forget_expired_questions(session, now),
    )


def _empty(session: Session, model, values: dict, limit: int, *conditions) -> int:
    """One UPDATE of at most ``limit`` rows matching ``conditions``; the conditions are checked
    again on every row it changes, so a row another transaction emptied meanwhile is skipped
    (and not counted)."""
    chosen = select(model.id).where(*conditions).order_by(model.id).limit(limit).correlate(None)
    statement = (update(model).where(model.id.in_(chosen), *conditions).values(values)
                 .execution_options(synchronize_session=False))
    return session.execute(statement).rowcount


# --- inactive customers ------------------------------------------------------------------------

def _told_since_last_seen(queued_before: datetime | None = None):
    """The customer got the notice after their last message and purchase (and, with
    ``queued_before``, that long ago)."""
    condition = exists().where(
        OutboxMessage.customer_id == Customer.id, OutboxMessage.idempotency_key.startswith(NOTICE_KEY_PREFIX),
        OutboxMessage.created_at > Customer.last_seen_at,
        or_(Customer.last_purchase_at.is_(None), OutboxMessage.created_at > Customer.last_purchase_at))
    if queued_before is not None:
        condition = condition.where(OutboxMessage.created_at <= queued_before)
    return condition


def _reachable():
    return exists().where(TelegramAccount.customer_id == Customer.id, TelegramAccount.unreachable_since.is_(None))


def tell_inactive_batch(session: Session, rules: Rules, now: datetime, limit: int = BATCH) -> int:
    """Queue the notice for up to ``limit`` customers whose account will be erased in
    ``NOTICE_DAYS`` days and who have not been told since they were last seen; returns how many.
    Call it again until it returns 0."""
    cutoff = data_rights.inactive_since(now + timedelta(days=NOTICE_DAYS), rules.inactive_years)
    due = session.execute(
        select(Customer.id, Customer.first_name, TelegramAccount.chat_id)
        .join(TelegramAccount, TelegramAccount.customer_id == Customer.id)
        .where(data_rights.inactive_before(cutoff), TelegramAccount.unreachable_since.is_(None),
               ~_told_since_last_seen())
        .order_by(Customer.id).limit(limit)).all()
    for customer_id, first_name, chat_id in due:
        notice = MessageSpec("privacy.inactive_notice", {"name": first_name, "days": NOTICE_DAYS})
        outbox.enqueue(session, f"{NOTICE_KEY_PREFIX}{customer_id}:{now.date().isoformat()}", chat_id, notice,
                       outbox.SERVICE, now, customer_id=customer_id)
    return len(due)


def inactive_to_erase(session: Session, rules: Rules, now: datetime, limit: int = BATCH) -> list[int]:
    """Customers inactive for ``inactive_years`` who were told at least ``NOTICE_DAYS`` ago (or
    whom the bot cannot reach); erase each with ``data_rights.erase_customer`` in a transaction
    of its own."""
    cutoff = data_rights.inactive_since(now, rules.inactive_years)
    told_long_ago = _told_since_last_seen(queued_before=now - timedelta(days=NOTICE_DAYS))
    return list(session.execute(
        select(Customer.id).where(data_rights.inactive_before(cutoff), or_(told_long_ago, ~_reachable()))
        .order_by(Customer.id).limit(limit)).scalars())
