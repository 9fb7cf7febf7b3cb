"""The outbox's feature hooks on SQLite and PostgreSQL: a row a feature owns (by key prefix) is
completed at send time with the feature's rules, and its ``undelivered`` hook runs in the very
transaction that records the row undelivered; a row no feature owns is sent and recorded as is."""

from datetime import datetime, timezone

import pytest
from sqlmodel import select

from domain import customers, features, outbox, tickets
from domain.config import ShopConfig
from domain.outbox import MessageSpec
from storage.models import OutboxMessage
from tests.use_cases.people import onboarded_customer

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)
CONFIG = ShopConfig.model_validate({"shop": {"name": "Kaffeehaus Morgenrot"}})
CALLS = []


def personalize(session, row, rules, params, language, now):
    return params | {"shop": rules, "language": language}


def undelivered(session, row, rules, now):
    CALLS.append((row.idempotency_key, row.status, rules))
    outbox.enqueue(session, f"told:{row.idempotency_key}", 99, MessageSpec(text="gone"), outbox.STAFF, now)
    if row.last_error == "rejected: boom":
        raise RuntimeError("the hook fails")
    return "told the team"


HOOKS = outbox.Hooks(CONFIG, [outbox.Feature("test", "test:", lambda config: config.shop.name,
                                             personalize=personalize, undelivered=undelivered)])


@pytest.fixture(autouse=True)
def _calls():
    CALLS.clear()


def claimed(store, key: str) -> OutboxMessage:
    with store.session() as session:
        outbox.enqueue(session, key, 1, MessageSpec(text=key), outbox.SERVICE, NOW)
        return next(row for row in outbox.claim_due(session, NOW) if row.idempotency_key == key)


def record(store, row, outcome, *args):
    with store.session() as session:
        return HOOKS.record_outcome(session, row, NOW, outcome, *args)


def stored(store, key: str) -> OutboxMessage | None:
    with store.session() as session:
        return session.exec(select(OutboxMessage).where(OutboxMessage.idempotency_key == key)).first()


def rows_starting(store, prefix: str) -> list[OutboxMessage]:
    with store.session() as session:
        return list(session.exec(select(OutboxMessage).where(OutboxMessage.idempotency_key.startswith(prefix))))


def test_a_feature_completes_its_rows_params_with_its_rules(store):
    row, other = claimed(store, "test:1"), claimed(store, "other:1")
    assert HOOKS.personalizes(row) and not HOOKS.personalizes(other)
    with store.session() as session:
        assert HOOKS.personalize(session, row, {"a": 1}, "en", NOW) == {
            "a": 1, "shop": "Kaffeehaus Morgenrot", "language": "en"}
        assert HOOKS.personalize(session, other, {"a": 1}, "en", NOW) == {"a": 1}


def test_an_undelivered_row_runs_its_features_hook_in_the_same_transaction(store):
    row = claimed(store, "test:1")
    assert record(store, row, outbox.mark_failed, row.id, "unreachable: blocked") == (None, "told the team")
    assert CALLS == [("test:1", outbox.FAILED, "Kaffeehaus Morgenrot")]  # the row as just recorded
    assert stored(store, "told:test:1") is not None

    failing = claimed(store, "test:2")  # the hook fails: the outcome is not recorded either
    with pytest.raises(RuntimeError):
        record(store, failing, outbox.mark_failed, failing.id, "rejected: boom")
    assert stored(store, "test:2").status == outbox.SENDING and stored(store, "told:test:2") is None


def test_a_row_still_on_its_way_or_of_no_feature_is_recorded_alone(store):
    row = claimed(store, "test:1")
    assert record(store, row, outbox.mark_retry, row.id, "TimedOut", NOW) == (outbox.PENDING, None)
    other = claimed(store, "other:1")
    assert record(store, other, outbox.skip_if_unreachable, other.id) == (False, None)
    assert record(store, other, outbox.mark_failed, other.id, "unreachable: blocked") == (None, None)
    assert CALLS == [] and stored(store, "told:test:1") is None


def test_the_features_with_outbox_hooks_have_registered_them():
    assert {"campaigns", "milestones", "tickets"} <= {f.name for f in outbox.registered()}
    assert features.WITH_OUTBOX_HOOKS


def test_a_ticket_reply_to_a_gone_customer_tells_the_team_as_it_is_recorded(store):
    config = CONFIG.model_copy(update={"staff": CONFIG.staff.model_copy(update={"staff_chat_id": -100500})})
    hooks, rules = features.outbox_hooks(config), tickets.rules_from(config)
    anna = onboarded_customer(store, 4242, NOW)
    with store.session() as session:
        ticket = tickets.open_ticket(session, anna, tickets.COMPLAINT, "Der Kuchen war trocken", "4242:1", rules, NOW)
        tickets.reply_to_customer(session, ticket.id, 1, "Bea", "Das tut uns leid", "s:1", NOW)
        tickets.reply_to_customer(session, ticket.id, 1, "Bea", "Noch da?", "s:2", NOW)
        ticket_id = ticket.id
    with store.session() as session:
        first, second = [row for row in outbox.claim_due(session, NOW, limit=10)
                         if row.idempotency_key.startswith(f"ticket:{ticket_id}:out:")]
    with store.session() as session:  # rejected, not gone: the team is not told
        assert hooks.record_outcome(session, first, NOW, outbox.mark_failed, first.id, "rejected: too long")[1] is None
        customers.mark_unreachable(session, 4242, NOW)
    with store.session() as session:
        assert hooks.record_outcome(session, second, NOW, outbox.skip_if_unreachable, second.id) == (
            True, "team told of an undeliverable ticket message")
    told = f"ticket:{ticket_id}:undeliverable:"
    assert [row.idempotency_key.removeprefix(told) for row in rows_starting(store, told)] == [second.idempotency_key]
