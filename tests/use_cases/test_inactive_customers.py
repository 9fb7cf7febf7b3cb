"""Inactive customers (privacy.inactive_years) on SQLite and PostgreSQL: told once, NOTICE_DAYS
before, that their account will be erased; erased after the notice (or at once when the bot
cannot reach them); coming back keeps the account."""

from datetime import datetime, timedelta, timezone

from sqlmodel import select

from domain import customers, data_rights, retention
from domain.config import RetentionConfig
from storage.models import Customer, OutboxMessage, TelegramAccount
from tests.use_cases.people import onboarded_customer

NOW = datetime(2027, 6, 15, 10, 0, tzinfo=timezone.utc)
RULES = retention.Rules(RetentionConfig(), retention.ZoneInfo("Europe/Berlin"), inactive_years=3)
YEAR = timedelta(days=365)


def last_seen(store, customer_id: int, moment: datetime, reachable: bool = True) -> None:
    with store.session() as session:
        customer = session.get(Customer, customer_id)
        customer.created_at = customer.last_seen_at = moment
        account = session.exec(select(TelegramAccount).where(TelegramAccount.customer_id == customer_id)).one()
        account.unreachable_since = None if reachable else moment
        session.add_all([customer, account])


def notices(store) -> list[OutboxMessage]:
    with store.session() as session:
        return list(session.exec(select(OutboxMessage).where(
            OutboxMessage.idempotency_key.startswith(retention.NOTICE_KEY_PREFIX))))


def run(store, use_case, now):
    with store.session() as session:
        return use_case(session, RULES, now)


def test_an_inactive_customer_is_told_once_and_erased_after_the_notice(store):
    anna = onboarded_customer(store, 1, NOW)
    last_seen(store, anna, NOW - 3 * YEAR + timedelta(days=20))  # erased in 20 days, were they told
    assert run(store, retention.tell_inactive_batch, NOW) == 1
    assert run(store, retention.tell_inactive_batch, NOW) == 0  # once
    (notice,) = notices(store)
    assert notice.customer_id == anna and notice.category == "service"
    assert notice.payload["params"]["days"] == retention.NOTICE_DAYS
    assert run(store, retention.inactive_to_erase, NOW + timedelta(days=25)) == []  # the notice's month runs
    due = run(store, retention.inactive_to_erase, NOW + timedelta(days=retention.NOTICE_DAYS))
    assert due == [anna]
    with store.session() as session:
        assert data_rights.erase_customer(session, anna, NOW, data_rights.RETENTION_JOB)
    assert run(store, retention.inactive_to_erase, NOW + timedelta(days=60)) == []
    with store.session() as session:
        assert session.get(Customer, anna).erased_at is not None


def test_active_customers_are_left_alone(store):
    ben = onboarded_customer(store, 2, NOW)
    last_seen(store, ben, NOW - 2 * YEAR)
    assert run(store, retention.tell_inactive_batch, NOW) == 0
    assert run(store, retention.inactive_to_erase, NOW) == []


def test_coming_back_after_the_notice_keeps_the_account(store):
    cem = onboarded_customer(store, 3, NOW)
    last_seen(store, cem, NOW - 3 * YEAR + timedelta(days=10))
    assert run(store, retention.tell_inactive_batch, NOW) == 1
    later = NOW + timedelta(days=5)
    with store.session() as session:  # Cem writes to the bot
        customers.register(session, customers.TelegramProfile(3, 3, "Cem"), later)
    assert run(store, retention.inactive_to_erase, NOW + timedelta(days=40)) == []
    assert run(store, retention.tell_inactive_batch, NOW + timedelta(days=40)) == 0  # active again


def test_customers_the_bot_cannot_reach_are_erased_without_a_notice(store):
    dora = onboarded_customer(store, 4, NOW)
    last_seen(store, dora, NOW - 3 * YEAR - timedelta(days=1), reachable=False)
    assert run(store, retention.tell_inactive_batch, NOW) == 0
    assert run(store, retention.inactive_to_erase, NOW) == [dora]
