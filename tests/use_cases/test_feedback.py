"""Feedback on SQLite and PostgreSQL: stored once per message, tagged, noticed by staff."""

from datetime import datetime, timezone

from sqlmodel import select

from domain import customers, feedback
from domain.customers import TelegramProfile
from storage.models import Feedback, OutboxMessage

NOW = datetime(2026, 11, 22, 9, 30, tzinfo=timezone.utc)


def test_feedback_is_tagged_and_noticed_once_per_message(store):
    with store.session() as session:
        anna = customers.register(session, TelegramProfile(1, 1, "Anna"), NOW).customer.id
    for _ in range(2):  # a redelivered update
        with store.session() as session:
            feedback.record(session, anna, "  Viel zu   teuer geworden ", -100, "1:42", NOW)
    with store.session() as session:
        notices = session.exec(select(OutboxMessage)).all()
        assert [n.payload["params"]["message"] for n in notices] == ["Viel zu teuer geworden"]
        assert [f.topics for f in session.exec(select(Feedback))] == [["preis"]]


def test_without_a_staff_group_feedback_is_only_stored(store):
    with store.session() as session:
        anna = customers.register(session, TelegramProfile(1, 1, "Anna"), NOW).customer.id
        feedback.record(session, anna, "Danke!", None, "1:1", NOW)
    with store.session() as session:
        assert session.exec(select(OutboxMessage)).all() == []
        assert [f.topics for f in session.exec(select(Feedback))] == [["sonstiges"]]
