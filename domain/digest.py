"""The Monday digest (issue 18): every Monday from ``reports.digest_hour`` (shop time) each owner
(``staff.admin_ids``) gets last week's key figures (``domain.reports``) and what changed most.

Which week. The digest of a Monday reports the calendar week before it, Monday 00:00 to Monday
00:00 in the shop's time zone, and compares it with the calendar week before that. Both are
taken as calendar weeks (not "the same length before", as ``reports.previous`` does): a week
with a change of daylight saving time has 167 or 169 hours, and its neighbour must still start
and end at midnight.

When. The digest of the current ISO week's Monday is due from that Monday's hour until the week
ends (Sunday 23:59, shop time). So a Monday the bot was down is sent at its next start in the
same week; from the next Monday on only the new week's digest is due, and a week missed
altogether is not sent later (old figures on a Wednesday of another week only confuse).

Once. One outbox row per owner and week, idempotency key ``digest:<ISO year>-W<week>:<owner
id>`` naming the week reported; queuing again (a second check, a restart, a second replica)
finds the key taken and adds nothing. That key is the only state: no job row, no migration.
The rows are staff messages to the owner (not marketing: no consent, quiet hours or weekly cap).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from domain import customers, outbox
from domain.rules import nps
from storage.models import OutboxMessage

KEY_PREFIX = "digest:"


def due_monday(now: datetime, digest_hour: int, zone: ZoneInfo) -> date | None:
    """The Monday whose digest is due at ``now``: this week's (shop time) once its hour has come,
    and on every later day of the week; None on a Monday before the hour."""
    local = now.astimezone(zone)
    monday = local.date() - timedelta(days=local.weekday())
    if local.date() == monday and local.hour < digest_hour:
        return None
    return monday


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(timezone.utc)


def calendar_week(monday: date, zone: ZoneInfo) -> nps.Period:
    """The week that starts on ``monday``, from its midnight to the next Monday's (shop time)."""
    return nps.Period(_midnight(monday, zone), _midnight(monday + timedelta(days=7), zone), "week")


def reported_week(monday: date, zone: ZoneInfo) -> nps.Period:
    """The week the digest of ``monday`` reports: the one before it."""
    return calendar_week(monday - timedelta(days=7), zone)


def week_label(monday: date) -> str:
    """The reported week's ISO name, "2026-W48" (the ISO year: 29 Dec 2025 is in 2026-W01)."""
    year, week, _ = (monday - timedelta(days=7)).isocalendar()
    return f"{year}-W{week:02d}"


def key(monday: date, owner_id: int) -> str:
    return f"{KEY_PREFIX}{week_label(monday)}:{owner_id}"


def owners_waiting(session: Session, monday: date, owner_ids: Iterable[int]) -> list[int]:
    """The owners who have no digest row for this Monday yet (one indexed look-up per owner)."""
    owners = list(dict.fromkeys(owner_ids))
    taken = set(session.exec(select(OutboxMessage.idempotency_key)
                             .where(OutboxMessage.idempotency_key.in_([key(monday, o) for o in owners]))))
    return [owner for owner in owners if key(monday, owner) not in taken]


def weeks(monday: date, zone: ZoneInfo) -> tuple[nps.Period, nps.Period]:
    """The week the digest of ``monday`` reports, and the calendar week before it (compared)."""
    return reported_week(monday, zone), calendar_week(monday - timedelta(days=14), zone)


def owner_language(session: Session, owner_id: int, shop_language: str) -> str:
    """The language of the owner's own customer record (chosen, else their app's), else the
    shop's: an owner who never wrote to the bot privately has no record."""
    account = customers.find_account(session, owner_id)
    if account is None:
        return shop_language
    return customers.preferred_language(session, account.customer_id, shop_language)


def queue(session: Session, monday: date, owner_id: int, picture: bytes, text: str, now: datetime) -> bool:
    """Queue one owner's digest for the week (picture and caption, drawn in their language);
    False if it was queued before (by this process, before a restart, or by a replica)."""
    digest_key = key(monday, owner_id)
    if outbox.key_taken(session, digest_key):
        return False  # checked first: the picture is large, and the row would not be kept anyway
    # a replica that queues the same key at this very moment keeps its row, and this one is dropped
    outbox.enqueue(session, digest_key, owner_id, outbox.MessageSpec.with_picture(picture, text), outbox.STAFF, now)
    return True
