"""The Monday digest through the real timers and dispatcher (bot.timers, bot.digest,
bot.dispatcher): one outbox row per owner and week however often the check runs (twice, after a
restart, two processes at once), in the owner's language, sent as a photo with its caption;
and none for a week in which the shop had nobody to report on."""

from __future__ import annotations

import asyncio
from base64 import b64decode
from datetime import datetime, timezone
from decimal import Decimal

from sqlmodel import select

from bot.dispatcher import OutboxDispatcher
from bot.timers import Timers
from domain import customers, outbox, purchases
from storage.models import OutboxMessage
from tests.handlers.conftest import ADMIN_ID, STAFF_CHAT_ID

SECOND_OWNER = 701
CUSTOMER = 501
MONDAY_9 = datetime(2026, 12, 7, 8, 0, tzinfo=timezone.utc)  # 09:00 in Berlin, digest_hour 8


def digest_rows(shop) -> list[OutboxMessage]:
    with shop.services.store.session() as session:
        rows = session.exec(select(OutboxMessage).where(OutboxMessage.idempotency_key.startswith("digest:"))
                            .order_by(OutboxMessage.id)).all()
        session.expunge_all()
        return list(rows)


async def two_owners_one_english(shop) -> None:
    """Two owners, and a customer who bought in the week before MONDAY_9 (a week without any
    customer gets no digest)."""
    shop.services.config = shop.services.config.with_overrides((ADMIN_ID, SECOND_OWNER), STAFF_CHAT_ID)
    await a_customer_bought(shop)
    await shop.chat.send(ADMIN_ID, "/start")  # the first owner has a customer record ...
    with shop.services.store.session() as session:  # ... and chose English
        customers.choose_language(session, customers.find_account(session, ADMIN_ID).customer_id, "en")


async def a_customer_bought(shop) -> None:
    """A customer who bought in the week before MONDAY_9."""
    await shop.chat.send(CUSTOMER, "/start")
    with shop.services.store.session() as session:
        buyer = customers.find_account(session, CUSTOMER).customer_id
        purchases.book_purchase(session, buyer, Decimal(12), shop.services.config.loyalty,
                                datetime(2026, 12, 2, 10, 0, tzinfo=timezone.utc), "digest-test:1", purchases.COUNTER)


async def test_running_the_job_twice_queues_one_digest_per_owner_and_week(shop):
    await two_owners_one_english(shop)
    shop.services.clock.moment = MONDAY_9
    timers = Timers(shop.services)
    assert await timers.run_digest() == 2
    assert await timers.run_digest() == 0
    assert await Timers(shop.services).run_digest() == 0  # a restart finds the keys taken
    shop.services.clock.moment = datetime(2026, 12, 10, 12, 0, tzinfo=timezone.utc)  # Thursday, same week
    assert await Timers(shop.services).run_digest() == 0

    rows = digest_rows(shop)
    assert [row.idempotency_key for row in rows] == ["digest:2026-W49:700", "digest:2026-W49:701"]
    assert {row.category for row in rows} == {outbox.STAFF}  # not marketing: no consent, quiet hours, cap
    english, german = (outbox.MessageSpec.from_payload(row.payload) for row in rows)
    assert english.text.startswith("📊 <b>Your weekly report: week 49")
    assert german.text.startswith("📊 <b>Dein Wochenbericht: KW 49")  # the shop's language: no record
    assert b64decode(german.picture).startswith(b"\x89PNG")

    shop.services.clock.moment = datetime(2026, 12, 14, 6, 59, tzinfo=timezone.utc)  # next Monday, 07:59
    assert await Timers(shop.services).run_digest() == 0
    shop.services.clock.moment = datetime(2026, 12, 14, 7, 0, tzinfo=timezone.utc)  # 08:00
    assert await Timers(shop.services).run_digest() == 2
    assert [row.idempotency_key for row in digest_rows(shop)][2:] == ["digest:2026-W50:700", "digest:2026-W50:701"]
    assert not shop.errors


async def test_a_monday_missed_is_sent_that_week_but_not_the_next(shop):
    await a_customer_bought(shop)
    shop.services.clock.moment = datetime(2026, 12, 12, 15, 0, tzinfo=timezone.utc)  # Saturday: started late
    assert await Timers(shop.services).run_digest() == 1
    shop.services.clock.moment = datetime(2026, 12, 21, 15, 0, tzinfo=timezone.utc)  # down all of the next week
    assert await Timers(shop.services).run_digest() == 1
    assert [row.idempotency_key for row in digest_rows(shop)] == ["digest:2026-W49:700", "digest:2026-W51:700"]


async def test_two_processes_at_once_queue_one_digest_per_owner(shop, caplog):
    await two_owners_one_english(shop)
    shop.services.clock.moment = MONDAY_9
    queued = await asyncio.gather(Timers(shop.services).run_digest(), Timers(shop.services).run_digest())
    assert len(digest_rows(shop)) == 2 and sum(queued) == 2
    assert "Monday digest failed" not in caplog.text


async def test_the_dispatcher_sends_the_digest_as_a_photo_with_its_caption(shop):
    await a_customer_bought(shop)
    shop.services.clock.moment = MONDAY_9
    await Timers(shop.services).run_digest()
    dispatcher = OutboxDispatcher(shop.services, shop.application.bot, outbox.Hooks(shop.services.config))
    with shop.services.store.session() as session:
        row = next(row for row in outbox.claim_next_per_chat(session, MONDAY_9)
                   if row.idempotency_key.startswith("digest:"))
        session.expunge(row)
    await dispatcher._deliver(row)

    photos = [params for name, params in shop.telegram.calls if name == "sendPhoto"]
    assert len(photos) == 1 and int(photos[0]["chat_id"]) == ADMIN_ID
    assert photos[0]["caption"].startswith("📊 <b>Dein Wochenbericht: KW 49 (30.11.2026 – 06.12.2026)</b>")
    assert digest_rows(shop)[0].status == outbox.SENT


async def test_a_shop_without_any_customer_gets_no_empty_digest(shop):
    shop.services.clock.moment = MONDAY_9
    assert await Timers(shop.services).run_digest() == 0
    assert digest_rows(shop) == []


async def test_a_shop_that_switched_the_digest_off_gets_none(shop):
    """``reports.digest_hour: null``: no digest on Monday or at a start later in the week."""
    await a_customer_bought(shop)
    config = shop.services.config
    shop.services.config = config.model_copy(update={"reports": config.reports.model_copy(update={"digest_hour": None})})
    shop.services.clock.moment = datetime(2026, 12, 14, 10, 0, tzinfo=timezone.utc)  # a Monday after 8
    assert await Timers(shop.services).run_digest() == 0
    assert digest_rows(shop) == []
