"""One-off closures on SQLite and PostgreSQL: stored, listed, removed, refused when they add
nothing, and counted as closed for ticket deadlines, /tickets and the reports."""

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlmodel import select

from domain import opening_hours, reports, tickets
from domain.rules import business_hours
from domain.rules.errors import Refusal
from storage.models import Closure
from tests.use_cases.test_tickets import NOW, RULES, customer, open_complaint

OWNER_ID = 777
# NOW is Tuesday 24 Nov 2026, 16:30 in Berlin; the team works Mon-Fri 08-18, Sat 09-14.
TUESDAY = date(2026, 11, 24)


def close(store, first: date, last: date | None = None, reason: str | None = None, now=NOW):
    with store.session() as session:
        return opening_hours.close(session, opening_hours.WantedClosure(first, last or first, reason), OWNER_ID, now)


def closures(store) -> list[Closure]:
    with store.session() as session:
        return list(session.exec(select(Closure).order_by(Closure.first_day)))


def test_a_closed_day_counts_no_business_minutes_for_a_new_ticket(store):
    close(store, TUESDAY + timedelta(days=1), reason="Inventur")  # Wednesday
    # Tuesday 17:50 Berlin: 10 minutes on Tuesday, Wednesday is closed, 50 on Thursday from 08:00.
    ticket = open_complaint(store, customer(store), now=datetime(2026, 11, 24, 16, 50, tzinfo=timezone.utc))
    assert ticket.response_due_at == datetime(2026, 11, 26, 7, 50, tzinfo=timezone.utc)
    with store.session() as session:
        hours = opening_hours.with_closures(session, RULES.hours)
    assert business_hours.business_minutes_between(datetime(2026, 11, 24, 16, 50, tzinfo=timezone.utc),
                                                   ticket.response_due_at, hours) == 60


def test_heute_geschlossen_moves_a_ticket_of_today_to_the_next_opening(store):
    close(store, TUESDAY, reason="Wasserschaden")
    ticket = open_complaint(store, customer(store))  # Tuesday 16:30: closed all day
    assert ticket.response_due_at == datetime(2026, 11, 25, 8, 0, tzinfo=timezone.utc)  # Wed 09:00 Berlin
    with store.session() as session:
        (line,) = tickets.open_tickets(session, RULES, NOW)
    assert line.sla_minutes_left == 60  # none of today's minutes count


def test_the_reports_count_first_answers_in_business_minutes_without_closed_days(store):
    close(store, TUESDAY + timedelta(days=1))
    ticket = open_complaint(store, customer(store), now=datetime(2026, 11, 24, 16, 50, tzinfo=timezone.utc))
    with store.session() as session:
        answered = session.get(type(ticket), ticket.id)
        answered.first_response_at = datetime(2026, 11, 26, 7, 30, tzinfo=timezone.utc)  # Thu 08:30 Berlin
        session.add(answered)
    rules = reports.Rules(timezone="Europe/Berlin", hours=RULES.hours, first_response_minutes=60)
    with store.reading() as session:
        count, median, missed, _ = reports._ticket_figures(session, NOW - timedelta(days=1), NOW + timedelta(days=7),
                                                            rules)
    assert (count, median, missed) == (1, 40, 0)  # 10 minutes Tuesday + 30 Thursday, in time


def test_closures_are_listed_from_today_and_removed_as_a_whole_run(store):
    close(store, date(2026, 11, 20))  # in the past by now: not listed, kept for the reports
    close(store, date(2026, 12, 24), date(2026, 12, 26), "Betriebsferien")
    close(store, date(2026, 12, 1))
    with store.reading() as session:
        coming = opening_hours.coming_closures(session, TUESDAY)
    assert [(c.first_day, c.last_day, c.reason) for c in coming] == [
        (date(2026, 12, 1), date(2026, 12, 1), None), (date(2026, 12, 24), date(2026, 12, 26), "Betriebsferien")]
    with store.session() as session:
        (removed,) = opening_hours.reopen(session, date(2026, 12, 25))
    assert (removed.first_day, removed.last_day) == (date(2026, 12, 24), date(2026, 12, 26))
    assert [c.first_day for c in closures(store)] == [date(2026, 11, 20), date(2026, 12, 1)]


def test_a_closure_that_adds_nothing_or_a_day_without_closure_is_refused_and_changes_nothing(store):
    close(store, date(2026, 12, 24), date(2026, 12, 26))
    with pytest.raises(Refusal) as refused:
        close(store, date(2026, 12, 25))
    assert refused.value.reason == "already"
    with pytest.raises(Refusal) as refused:
        with store.session() as session:
            opening_hours.reopen(session, date(2026, 12, 27))
    assert refused.value.reason == "not_found"
    assert len(closures(store)) == 1
    close(store, date(2026, 12, 26), date(2026, 12, 27))  # one day more: stored
    assert len(closures(store)) == 2


def test_the_faq_facts_read_the_stored_closures(store):
    close(store, TUESDAY, reason="Inventur")
    with store.reading() as session:
        facts = opening_hours.answer_facts(session, RULES.hours, NOW)
    assert facts.closed_today.reason == "Inventur"
    assert facts.reopens_at == datetime(2026, 11, 25, 7, 0, tzinfo=timezone.utc)  # Wednesday 08:00 Berlin
