"""Personal texts have an end (DSGVO Art. 5 (1) e): once a night the texts whose retention
period (``privacy.retention``) has passed are emptied.

- what customers wrote to the bot (``message_log.text``), after ``message_log_days``;
- a ticket's conversation (its text and its events' texts), ``ticket_days`` after the ticket
  ended (solved or closed; a reopened ticket is not over);
- /feedback texts and survey reasons, after ``feedback_days`` and ``survey_reason_days``;
- the content of proactive messages that are done (sent, failed or skipped), after
  ``outbox_payload_days``.

Only the texts go: the rows with their topics, categories, scores, statuses, times and amounts
stay, so every count, the NPS, the topics and the revenue in the reports stay the same. An
emptied text is ``""`` (``NULL`` for ticket events, ``{}`` for an outbox payload), and every
purge only touches texts that are not empty yet: a second run changes nothing.

The job is claimed per day through the ``job_run`` table like the milestones (``claim_day``),
so of two replicas only one purges; the purge itself goes in batches, one transaction each
(``purge_batch``), so a large shop never holds long locks. Two purges running at once still
count every text once: each UPDATE checks again that its text is not empty yet.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Text, cast, func, update
from sqlmodel import Session, select

from domain import daily_jobs
from domain.config import RetentionConfig, ShopConfig
from domain.milestones import latest_day
from storage.models import Feedback, MessageLog, OutboxMessage, Survey, Ticket, TicketEvent

JOB = "retention"
RUN_HOUR = 4  # shop time: a quiet hour; a start after it catches the day's purge up
BATCH = 500  # rows per kind and transaction
FINISHED_TICKETS = ("resolved", "closed")  # domain.tickets.RESOLVED, CLOSED
FINISHED_MESSAGES = ("sent", "failed", "skipped")


@dataclass(frozen=True)
class Rules:
    periods: RetentionConfig
    zone: ZoneInfo


def rules_from(config: ShopConfig) -> Rules:
    return Rules(config.privacy.retention, ZoneInfo(config.shop.timezone))


@dataclass(frozen=True)
class Purged:
    """How many texts one batch (or a whole run) emptied, per kind."""

    message_log: int = 0
    tickets: int = 0
    ticket_events: int = 0
    feedback: int = 0
    survey_reasons: int = 0
    outbox_payloads: int = 0

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
    )


def _empty(session: Session, model, values: dict, limit: int, *conditions) -> int:
    """One UPDATE of at most ``limit`` rows matching ``conditions``; the conditions are checked
    again on every row it changes, so a row another transaction emptied meanwhile is skipped
    (and not counted)."""
    chosen = select(model.id).where(*conditions).order_by(model.id).limit(limit).correlate(None)
    statement = (update(model).where(model.id.in_(chosen), *conditions).values(values)
                 .execution_options(synchronize_session=False))
    return session.execute(statement).rowcount
