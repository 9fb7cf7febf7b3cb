"""The rules every marketing message passes at the moment it is sent (offers, "you said it,
we changed it", later campaigns and greetings): only with consent, never in quiet hours or on
no-send days (it waits for the next allowed time in the shop's time zone), and at most
``max_per_week`` per customer (more are skipped with a recorded reason).

Checked at send time, not when queued, because consent can be withdrawn and the week fills up
between the two. Allowed sending time is the complement of the quiet hours, expressed as
business hours, so the arithmetic across midnight and daylight saving time is the one
``business_hours`` already gets right.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, select

from domain import outbox
from domain.rules import business_hours
from domain.rules.business_hours import BusinessHours, Interval
from domain.config import ShopConfig
from storage.models import Campaign, Customer, OutboxMessage, TelegramAccount

WEEK = timedelta(days=7)


def _minutes(text: str) -> int:
    hours, _, minutes = text.strip().partition(":")
    return int(hours) * 60 + int(minutes or 0)


def sending_hours(quiet_hours: str | None, no_send_days: tuple[str, ...], no_send_dates: tuple[date, ...],
                  timezone_name: str) -> BusinessHours:
    """When marketing may go out: every day outside ``quiet_hours`` ("20:00-09:00", may cross
    midnight; None or "" for none), except the weekdays and dates named."""
    if quiet_hours:
        start, _, end = quiet_hours.partition("-")
        quiet_from, quiet_to = _minutes(start), _minutes(end)
    else:
        quiet_from = quiet_to = 0
    if quiet_from == quiet_to:
        open_day: tuple[Interval, ...] = (Interval(0, 24 * 60),)
    elif quiet_from > quiet_to:  # across midnight: open in the middle of the day
        open_day = (Interval(quiet_to, quiet_from),)
    else:  # quiet within the day: open before and after
        open_day = tuple(i for i in (Interval(0, quiet_from), Interval(quiet_to, 24 * 60)) if i.opens < i.closes)
    blocked = {business_hours.DAY_KEYS.index(day) for day in no_send_days}
    week = tuple(() if index in blocked else open_day for index in range(7))
    return BusinessHours(ZoneInfo(timezone_name), week, frozenset(no_send_dates))


@dataclass(frozen=True)
class Rules:
    hours: BusinessHours
    max_per_week: int


def rules_from(config: ShopConfig) -> Rules:
    c = config.campaigns
    return Rules(sending_hours(c.quiet_hours, c.no_send_days, c.no_send_dates, config.shop.timezone),
                 c.max_marketing_per_week)


class Verdict(enum.Enum):
    SEND = "send"
    DEFERRED = "deferred"
    SKIPPED = "skipped"


def admit(session: Session, row_id: int, rules: Rules, now: datetime) -> Verdict:
    """Decide about one claimed marketing row and record the outcome on it: send it now, put
    it back until the next allowed time, or skip it with the reason in ``last_error``."""
    row = session.get(OutboxMessage, row_id)
    reason = _skip_reason(session, row, rules, now)
    if reason is not None:
        row.status, row.last_error = outbox.SKIPPED, reason
        session.add(row)
        return Verdict.SKIPPED
    allowed = business_hours.next_opening(now, rules.hours)
    if allowed > now:
        row.status, row.not_before, row.attempts = outbox.PENDING, allowed, max(row.attempts - 1, 0)
        session.add(row)
        return Verdict.DEFERRED
    return Verdict.SEND


def _skip_reason(session: Session, row: OutboxMessage, rules: Rules, now: datetime) -> str | None:
    if row.campaign_id is not None and session.get(Campaign, row.campaign_id).status == "cancelled":
        return "cancelled"  # /abbrechen came while this row was already claimed
    if row.customer_id is None:
        return None
    customer = session.get(Customer, row.customer_id)
    if customer is None or not customer.marketing_consent:
        return "no_consent"
    account = session.exec(select(TelegramAccount).where(TelegramAccount.customer_id == row.customer_id)).first()
    if account is None or account.unreachable_since is not None:
        return "unreachable"
    if sent_this_week(session, row.customer_id, now) >= rules.max_per_week:
        return "weekly_cap"
    return None


def sent_this_week(session: Session, customer_id: int, now: datetime) -> int:
    return session.exec(select(func.count(OutboxMessage.id)).where(
        OutboxMessage.customer_id == customer_id, OutboxMessage.category == outbox.MARKETING,
        OutboxMessage.status == outbox.SENT, OutboxMessage.sent_at > now - WEEK)).one()
