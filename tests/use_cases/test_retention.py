"""The retention purge on SQLite and PostgreSQL: texts older than their period are emptied,
younger ones stay, every figure (counts, scores, topics, categories, revenue) stays the same, a
second run changes nothing, and two processes purge once."""

from datetime import datetime, timedelta, timezone

from sqlmodel import select

from domain import counter, retention, surveys
from domain.config import RetentionConfig
from domain.rules import nps
from storage.models import (CounterPrompt, Customer, Feedback, MessageLog, OutboxMessage, Purchase, Survey, Ticket,
                            TicketEvent)
from tests.use_cases.at_once import at_once
from tests.use_cases.people import onboarded_customer

NOW = datetime(2027, 6, 15, 10, 0, tzinfo=timezone.utc)  # 12:00 in Berlin, after the purge hour
RULES = retention.Rules(RetentionConfig(), retention.ZoneInfo("Europe/Berlin"))
OLD, YOUNG = "old", "young"


def ago(days: int) -> datetime:
    return NOW - timedelta(days=days)


def fill(store) -> int:
    """For each kind of text one row past its period (marked "old") and one within it ("young")."""
    anna = onboarded_customer(store, 1, ago(1000))
    with store.session() as session:
        for text, days in ((OLD, 91), (YOUNG, 89)):
            session.add(MessageLog(customer_id=anna, chat_id=1, direction="in", kind="text", text=text,
                                   intent="faq", confidence=0.9, created_at=ago(days)))
            session.add(Feedback(request_ref=f"fb-{text}", customer_id=anna, text=text, topics=["service"],
                                 created_at=ago(days * 8 + 3)))  # 731 and 715 days
            purchase = Purchase(idempotency_key=f"p-{text}", customer_id=anna, amount_cents=1250, category="Kaffee",
                                source="counter", created_at=ago(days * 9))
            session.add(purchase)
            session.flush()
            session.add(Survey(customer_id=anna, purchase_id=purchase.id, status="done", created_at=ago(days * 8 + 3),
                               due_at=ago(days * 8 + 3), score=3 if text == OLD else 9, answered_at=ago(days * 8 + 3),
                               reason=text, topics=["qualitaet"]))
            ticket = Ticket(request_ref=f"t-{text}", customer_id=anna, kind="complaint", status="closed",
                            category="qualitaet", priority="high", priority_reasons=["health_risk"], text=text,
                            created_at=ago(days * 8 + 10), alert_key=f"ticket:{text}",
                            resolved_at=ago(days * 8 + 5), closed_at=ago(days * 8 + 3))
            session.add(ticket)
            session.flush()
            session.add(TicketEvent(ticket_id=ticket.id, at=ago(days * 8 + 9), kind="message_in", text=text))
            session.add(TicketEvent(ticket_id=ticket.id, at=ago(days * 8 + 3), kind="closed", text=None))
            for status in ("sent", "skipped", "pending"):
                session.add(OutboxMessage(idempotency_key=f"o-{text}-{status}", chat_id=1, customer_id=anna,
                                          category="service", payload={"text": text}, status=status,
                                          not_before=ago(days), created_at=ago(days),
                                          sent_at=ago(days) if status == "sent" else None))
        # A ticket solved long ago but open again is not over: its conversation stays.
        session.add(Ticket(request_ref="t-open", customer_id=anna, kind="question", status="open", category="service",
                           priority="normal", text=OLD, created_at=ago(900), alert_key="ticket:open",
                           resolved_at=None))
    return anna


def texts(store) -> dict[str, list]:
    with store.session() as session:
        return {
            "message_log": [r.text for r in session.exec(select(MessageLog).order_by(MessageLog.id))],
            "feedback": [r.text for r in session.exec(select(Feedback).order_by(Feedback.id))],
            "survey_reasons": [r.reason for r in session.exec(select(Survey).order_by(Survey.id))],
            "tickets": [r.text for r in session.exec(select(Ticket).order_by(Ticket.id))],
            "ticket_events": [r.text for r in session.exec(select(TicketEvent).order_by(TicketEvent.id))],
            "outbox": [(r.status, r.payload) for r in session.exec(select(OutboxMessage).order_by(OutboxMessage.id))],
        }


def figures(store) -> dict:
    """What the reports read: counts, scores, topics, categories, statuses, revenue."""
    with store.session() as session:
        report = surveys.report(session, nps.Period(ago(5000), NOW, "year"), "Europe/Berlin")
        return {
            "nps": report.summary, "topics": report.top_topics,
            "message_log": [(r.intent, r.confidence, r.created_at) for r in session.exec(select(MessageLog).order_by(MessageLog.id))],
            "feedback": [(r.topics, r.created_at) for r in session.exec(select(Feedback).order_by(Feedback.id))],
            "tickets": [(r.status, r.category, r.priority, r.priority_reasons, r.closed_at)
                        for r in session.exec(select(Ticket).order_by(Ticket.id))],
            "events": [(r.ticket_id, r.kind, r.at) for r in session.exec(select(TicketEvent).order_by(TicketEvent.id))],
            "outbox": [(r.status, r.category, r.sent_at) for r in session.exec(select(OutboxMessage).order_by(OutboxMessage.id))],
            "revenue": sum(r.amount_cents for r in session.exec(select(Purchase))),
            "customers": [(c.id, c.first_name, c.revenue_cents) for c in session.exec(select(Customer).order_by(Customer.id))],
        }


def purge_all(store, now=NOW, limit=retention.BATCH) -> retention.Purged:
    total = retention.Purged()
    while True:
        with store.session() as session:
            batch = retention.purge_batch(session, RULES, now, limit)
        if not batch.total:
            return total
        total += batch


def test_texts_past_their_period_are_emptied_and_younger_ones_stay(store):
    fill(store)
    before = figures(store)
    purged = purge_all(store)
    assert purged == retention.Purged(message_log=1, tickets=1, ticket_events=1, feedback=1, survey_reasons=1,
                                      outbox_payloads=2)
    after = texts(store)
    assert after["message_log"] == ["", YOUNG]
    assert after["feedback"] == ["", YOUNG]
    assert after["survey_reasons"] == ["", YOUNG]  # "" still says a reason was given
    assert after["tickets"] == ["", YOUNG, OLD]  # the reopened ticket keeps its text
    assert after["ticket_events"] == [None, None, YOUNG, None]
    # Sent and skipped rows lose their content (a skipped one counts from its creation); a
    # waiting one keeps it, whatever its age.
    assert after["outbox"] == [("sent", {}), ("skipped", {}), ("pending", {"text": OLD}),
                               ("sent", {"text": YOUNG}), ("skipped", {"text": YOUNG}), ("pending", {"text": YOUNG})]
    assert figures(store) == before


def test_a_second_run_changes_nothing(store):
    fill(store)
    purge_all(store)
    once = texts(store), figures(store)
    assert purge_all(store) == retention.Purged()
    assert (texts(store), figures(store)) == once


def test_counter_questions_that_ran_out_are_deleted_and_open_ones_stay(store):
    anna = onboarded_customer(store, 1, ago(10))
    with store.session() as session:
        counter.ask_for_amount(session, chat_id=-100, message_id=7, customer_id=anna, staff_user_id=501,
                               now=NOW - counter.AMOUNT_PROMPT_LIFETIME - timedelta(seconds=1))  # ran out
        counter.ask_for_amount(session, chat_id=-200, message_id=8, customer_id=anna, staff_user_id=502,
                               now=NOW - timedelta(seconds=30))  # still open
    assert purge_all(store) == retention.Purged(counter_questions=1)
    with store.session() as session:
        assert [(row.chat_id, row.message_id) for row in session.exec(select(CounterPrompt))] == [(-200, 8)]
        assert counter.open_amount_question(session, -200, 502, None, NOW) == 8


def test_large_shops_are_purged_in_batches(store):
    anna = onboarded_customer(store, 1, ago(1000))
    with store.session() as session:
        session.add_all([MessageLog(customer_id=anna, chat_id=1, direction="in", kind="text", text=f"t{n}",
                                    created_at=ago(100)) for n in range(25)])
    with store.session() as session:
        first = retention.purge_batch(session, RULES, NOW, limit=10)
    assert first.message_log == 10
    assert purge_all(store, limit=10).message_log == 15
    assert set(texts(store)["message_log"]) == {""}


def test_the_day_is_claimed_once_and_a_restart_the_same_day_does_not_claim_again(store):
    with store.session() as session:
        assert retention.claim_day(session, RULES, NOW)
    with store.session() as session:
        assert not retention.claim_day(session, RULES, NOW + timedelta(hours=5))
    early_next_day = datetime(2027, 6, 16, 1, 0, tzinfo=timezone.utc)  # 3:00 in Berlin, before the hour
    with store.session() as session:
        assert not retention.claim_day(session, RULES, early_next_day)
    with store.session() as session:
        assert retention.claim_day(session, RULES, early_next_day + timedelta(hours=1))  # 4:00
    with store.session() as session:  # days the bot was down: the next start claims at once
        assert retention.claim_day(session, RULES, NOW + timedelta(days=5))


def test_two_processes_purge_once(store):
    fill(store)
    before = figures(store)

    def replica() -> retention.Purged | None:
        with store.session() as session:
            mine = retention.claim_day(session, RULES, NOW)
        return purge_all(store) if mine else None

    results = at_once(replica)
    assert sorted(result is None for result in results) == [False, True]
    assert [result.total for result in results if result is not None] == [7]
    assert texts(store)["message_log"] == ["", YOUNG]
    assert figures(store) == before


def test_two_purges_at_once_count_every_text_once(store):
    """Even without the claim (say, an operator runs it by hand meanwhile) nothing is counted
    twice: each UPDATE checks again that its text is not empty yet."""
    anna = onboarded_customer(store, 1, ago(1000))
    with store.session() as session:
        session.add_all([MessageLog(customer_id=anna, chat_id=1, direction="in", kind="text", text=f"t{n}",
                                    created_at=ago(100)) for n in range(200)])
    purged = at_once(lambda: purge_all(store, limit=7))
    assert len(purged) == 2 and sum(p.message_log for p in purged) == 200
    assert set(texts(store)["message_log"]) == {""}
