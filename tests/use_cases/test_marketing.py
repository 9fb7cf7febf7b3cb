"""The marketing rules at send time, on SQLite and PostgreSQL: consent, reachability, quiet
hours and no-send days (deferred to the next allowed time), the weekly cap (skipped)."""

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from domain import customers, marketing, outbox
from domain.rules import business_hours
from domain.consent import record_marketing_consent
from domain.outbox import MessageSpec
from storage.models import OutboxMessage
from tests.use_cases.people import onboarded_customer

TZ = "Europe/Berlin"
RULES = marketing.Rules(marketing.sending_hours("20:00-09:00", ("so",), (date(2026, 12, 25),), TZ), max_per_week=2)
# Tuesday 24 Nov 2026, 11:00 in Berlin
NOON = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)


def berlin(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=ZoneInfo(TZ)).astimezone(timezone.utc)


def test_quiet_hours_across_midnight_and_no_send_days_defer_to_the_next_allowed_time():
    hours = RULES.hours
    assert business_hours.next_opening(berlin(24, 11), hours) == berlin(24, 11)
    assert business_hours.next_opening(berlin(24, 20, 30), hours) == berlin(25, 9)   # evening -> morning
    assert business_hours.next_opening(berlin(25, 3), hours) == berlin(25, 9)        # night -> morning
    assert business_hours.next_opening(berlin(28, 20, 1), hours) == berlin(30, 9)    # Saturday night: not Sunday
    assert business_hours.next_opening(berlin(24, 10, month=12), hours) == berlin(24, 10, month=12)
    assert business_hours.next_opening(berlin(24, 21, month=12), hours) == berlin(26, 9, month=12)  # 25th is off


def test_quiet_hours_within_the_day_and_none_at_all():
    lunch = marketing.sending_hours("12:00-14:00", (), (), TZ)
    assert business_hours.next_opening(berlin(24, 12, 30), lunch) == berlin(24, 14)
    assert business_hours.next_opening(berlin(24, 23, 59), lunch) == berlin(24, 23, 59)
    always = marketing.sending_hours(None, (), (), TZ)
    assert business_hours.next_opening(berlin(25, 3), always) == berlin(25, 3)


def queue(store, customer_id: int, key: str, now=NOON) -> int:
    with store.session() as session:
        row = outbox.enqueue(session, key, 4242, MessageSpec(text="Angebot"), outbox.MARKETING, now,
                             customer_id=customer_id)
        session.flush()
        return row.id


def admit(store, row_id: int, now=NOON) -> marketing.Verdict:
    with store.session() as session:
        return marketing.admit(session, row_id, RULES, now)


def row(store, row_id: int) -> OutboxMessage:
    with store.session() as session:
        found = session.get(OutboxMessage, row_id)
        session.expunge(found)
        return found


def mark_sent(store, row_id: int, at: datetime) -> None:
    with store.session() as session:
        outbox.mark_sent(session, row_id, 1, at)


def test_a_row_in_quiet_hours_waits_and_one_over_the_cap_is_skipped(store):
    anna = onboarded_customer(store, 4242, NOON)
    night = queue(store, anna, "night")
    assert admit(store, night, berlin(24, 22)) is marketing.Verdict.DEFERRED
    assert (row(store, night).status, row(store, night).not_before) == ("pending", berlin(25, 9))
    for key in ("a", "b"):
        row_id = queue(store, anna, key)
        assert admit(store, row_id) is marketing.Verdict.SEND
        mark_sent(store, row_id, NOON)
    third = queue(store, anna, "c")
    assert admit(store, third) is marketing.Verdict.SKIPPED
    assert (row(store, third).status, row(store, third).last_error) == ("skipped", "weekly_cap")
    next_week = queue(store, anna, "d", NOON + timedelta(days=7, hours=1))
    assert admit(store, next_week, NOON + timedelta(days=7, hours=1)) is marketing.Verdict.SEND


def test_consent_withdrawn_or_a_blocked_chat_skips_with_the_reason(store):
    anna = onboarded_customer(store, 4242, NOON)
    ben = onboarded_customer(store, 4343, NOON)
    first, second = queue(store, anna, "a"), queue(store, ben, "b")
    with store.session() as session:
        record_marketing_consent(session, anna, False, "stop_command", NOON)
    with store.session() as session:
        customers.mark_unreachable(session, 4343, NOON)
    assert admit(store, first) is marketing.Verdict.SKIPPED and row(store, first).last_error == "no_consent"
    assert admit(store, second) is marketing.Verdict.SKIPPED and row(store, second).last_error == "unreachable"
