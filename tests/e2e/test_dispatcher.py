"""The outbox dispatcher against a fake Telegram that enforces Telegram's flood limits: a
broadcast at full speed without a single 429, one chat's rows a second apart and in order;
429s, 5xx and timeouts retried; blocked and deleted chats no longer written to; and a crash
(kill -9) in the middle of a broadcast that loses nothing and repeats at most the rows in flight.

The rows are written into the database directly (as a campaign would queue them) with
customers who agreed to marketing; quiet hours are off (the tests run at any time)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

from sqlmodel import select
from telegram.error import RetryAfter
from telegram.ext import AIORateLimiter, ExtBot
from telegram.request import HTTPXRequest

from bot.dispatcher import SENDERS
from bot.rate_limiter import TelegramRateLimiter
from domain import outbox
from domain.outbox import MessageSpec
from storage.models import Customer, OutboxMessage, TelegramAccount
from tests.e2e.harness import SEND_ANY_TIME, config_file
from tests.e2e.journeys import customer_of, onboarded
from tests.fakebotapi import DEFAULT_TOKEN

RATE = 30  # Telegram's (and the fake's) messages per second; the bot's default setting


def broadcast_config(tmp_path, per_week: int = 2) -> str:
    return config_file(tmp_path, {"campaigns": {**SEND_ANY_TIME["campaigns"], "max_marketing_per_week": per_week}})


def add_customers(db, users, consent: bool = True) -> dict[int, int]:
    """Customers with a Telegram account, as onboarding would have created them: user id -> customer id."""
    now = datetime.now(timezone.utc)
    ids = {}
    with db.session() as session:
        for user in users:
            customer = Customer(first_name=user.first_name, marketing_consent=consent, consent_asked=True,
                                created_at=now, last_seen_at=now, telegram_reachable=True)
            session.add(customer)
            session.flush()
            session.add(TelegramAccount(telegram_user_id=user.id, customer_id=customer.id, chat_id=user.id,
                                        language_code="de"))
            ids[user.id] = customer.id
    return ids


def queue(db, rows, category=outbox.MARKETING, not_before=None) -> list[int]:
    """rows: (key, chat id, customer id or None, text); returns the row ids."""
    now = datetime.now(timezone.utc)
    with db.session() as session:
        queued = [outbox.enqueue(session, key, chat_id, MessageSpec(text=text), category, now,
                                 customer_id=customer_id, not_before=not_before) for key, chat_id, customer_id, text in rows]
        session.flush()
        return [row.id for row in queued]


def row(db, row_id) -> OutboxMessage:
    with db.session() as session:
        return session.get(OutboxMessage, row_id)


def statuses(db) -> dict[str, int]:
    with db.session() as session:
        counted: dict[str, int] = {}
        for status in session.exec(select(OutboxMessage.status)):
            counted[status] = counted.get(status, 0) + 1
        return counted


def delivered_times(api, chat_id) -> list[float]:
    return [call.time for call in api.calls("sendMessage", chat_id=chat_id, status=200)]


async def test_the_rate_limiter_keeps_telegrams_window_whatever_the_network_does(api):
    """PTB's own client with the bot's limiter against the fake's sliding windows, while every
    request reaches the fake late by a random 0-40 ms: no 429, close to 30 messages a second.
    (For comparison the test prints what the same client paced evenly by start times,
    aiolimiter's AsyncLimiter(1, 1/30), meets with more jitter: now and then two requests
    arrive closer than they were sent and put 31 into one of Telegram's seconds.)"""
    api.enforce_rate_limits()
    api.set_arrival_jitter(0.04, seed=1)

    async def blast(limiter, users) -> tuple[int, list[float]]:
        refused = 0

        async def send(bot, user):
            nonlocal refused
            try:
                await bot.send_message(user.id, "Hallo")
            except RetryAfter:
                refused += 1

        async with ExtBot(DEFAULT_TOKEN, base_url=api.base_url, rate_limiter=limiter,
                          request=HTTPXRequest(connection_pool_size=32)) as bot:
            await asyncio.gather(*(send(bot, user) for user in users))
        return refused, sorted(call.time for call in api.calls("sendMessage", status=200)
                               if call.chat_id in {user.id for user in users})

    refused, times = await blast(TelegramRateLimiter(RATE), [api.new_user(first_name=f"A{n}") for n in range(150)])
    rate = (len(times) - 1) / (times[-1] - times[0])
    print(f"\nthe bot's limiter: {rate:.1f} msg/s, {refused} refused")
    assert refused == 0 and api.rate_limit_hits == 0
    assert rate >= 0.9 * RATE

    api.enforce_rate_limits()  # fresh windows
    api.set_arrival_jitter(0.15, seed=2)
    even = AIORateLimiter(overall_max_rate=1, overall_time_period=1 / RATE, max_retries=0)
    refused, _ = await blast(even, [api.new_user(first_name=f"B{n}") for n in range(150)])
    print(f"evenly paced by start times: {refused} of 150 refused")  # for comparison; not the bot's


async def test_a_broadcast_keeps_telegrams_limits_at_full_speed(bots, api, staff, db, tmp_path):
    """300 customers and one regular with five offers, each send taking 50 ms at the fake (a
    real network's round trip): all delivered once, no 429 from the fake's sliding windows
    (30/s overall, 1/s per chat), the regular's five in order and at least a second apart, and
    close to 30 messages per second, which takes sends overlapping (one at a time it would be
    less than 15 per second: round trip plus database work)."""
    db.migrate()
    api.enforce_rate_limits()
    api.set_latency(0.05, ["sendMessage"])
    users = [api.new_user(first_name=f"Gast {n}") for n in range(300)]
    regular = api.new_user(first_name="Stammkundin")
    customer = add_customers(db, users + [regular])
    queue(db, [(f"regular:{n}", regular.id, customer[regular.id], f"Angebot {n}") for n in range(5)]
          + [(f"offer:{u.id}", u.id, customer[u.id], f"Angebot für {u.first_name}") for u in users])
    total = len(users) + 5
    bot = await bots(STAMMGAST_CONFIG=broadcast_config(tmp_path, per_week=10))
    await api.wait_until(lambda: api.count("sendMessage") >= total, timeout=60, description="the broadcast")
    await bot.stop()  # a graceful stop records every send in flight

    assert api.rate_limit_hits == 0, api.describe_calls()
    assert [len(u.messages) for u in users] == [1] * len(users)
    assert [m.text for m in regular.messages] == [f"Angebot {n}" for n in range(5)]
    times = delivered_times(api, regular.id)
    assert min(b - a for a, b in zip(times, times[1:])) >= 1.0
    assert statuses(db) == {"sent": total}
    sends = sorted(call.time for call in api.calls("sendMessage", status=200))
    elapsed = sends[-1] - sends[0]
    rate = (len(sends) - 1) / elapsed
    print(f"\n{len(sends)} messages in {elapsed:.1f} s = {rate:.1f} msg/s ({rate / RATE:.0%} of {RATE}/s), "
          f"at most {api.max_in_flight['sendMessage']} in flight at once, no 429")
    assert elapsed < (total / RATE) * 1.5, f"{rate:.1f} msg/s"
    assert api.max_in_flight["sendMessage"] > 1
    # The fake's window is 30 per second; the bot never needed it (no 429), and stayed under it.
    assert max(sum(1 for t in sends[i:i + RATE + 1] if t - sends[i] < 1.0) for i in range(len(sends))) <= RATE


async def test_429_5xx_and_timeouts_are_retried_and_recorded(bots, api, staff, db, tmp_path):
    limited, flaky, slow = (api.new_user(first_name=name) for name in ("Limitiert", "Wackelig", "Langsam"))
    db.migrate()
    api.inject_error("sendMessage", 429, retry_after=2, chat_id=limited.id)
    api.inject_error("sendMessage", 500, chat_id=flaky.id)
    api.inject_error("sendMessage", 502, chat_id=flaky.id)
    api.set_latency(6.0, ["sendMessage"], chat_id=slow.id)  # PTB's read timeout is 5 s
    rate_limited, failing, timing_out = queue(
        db, [(f"service:{u.id}", u.id, None, f"Hallo {u.first_name}") for u in (limited, flaky, slow)],
        category=outbox.SERVICE)
    bot = await bots()

    await bot.wait_for_log('"outbox send rate-limited"')
    waiting = row(db, rate_limited)  # back in line for Telegram's retry_after; the attempt does not count
    assert (waiting.status, waiting.attempts, waiting.last_error) == ("pending", 0, "429 retry after 2 s")
    assert (await limited.next_message()).text == "Hallo Limitiert"
    (refused,) = api.calls("sendMessage", chat_id=limited.id, status=429)
    assert delivered_times(api, limited.id)[0] - refused.time >= 2.0

    await api.wait_for_call("sendMessage", lambda call: call.chat_id == slow.id and call.ok)
    api.set_latency(0)  # the first send took effect; its answer comes too late for the bot
    await bot.wait_for_log(f'"outbox send failed; will retry", "outbox_id": {timing_out},', timeout=15)
    assert row(db, timing_out).last_error.startswith("TimedOut")
    assert (await flaky.next_message(timeout=15)).text == "Hallo Wackelig"
    first, second = api.calls("sendMessage", chat_id=flaky.id)[:2]
    assert (first.status, second.status) == (500, 502)
    assert second.time - first.time >= 2.0 and delivered_times(api, flaky.id)[0] - second.time >= 4.0  # backoff
    await api.wait_until(lambda: len(slow.messages) == 2, timeout=15, description="the retried send")
    await bot.stop()
    # Every row sent once, except the timed-out one: Telegram had it, the bot could not know.
    assert [len(u.messages) for u in (limited, flaky, slow)] == [1, 1, 2]
    assert [(row(db, i).status, row(db, i).attempts) for i in (rate_limited, failing, timing_out)] == [
        ("sent", 1), ("sent", 3), ("sent", 2)]


async def test_many_chats_refused_at_once_pause_every_send(bots, api, staff, db):
    """429s from several chats within moments mean the bot as a whole is over the limit: every
    send waits for retry_after (a single chat's 429 holds only that chat, see above)."""
    db.migrate()
    refused = [api.new_user(first_name=f"Kunde {n}") for n in range(3)]
    later = api.new_user(first_name="Später")
    for user in refused:
        api.inject_error("sendMessage", 429, retry_after=3, chat_id=user.id)
    queue(db, [(f"flood:{u.id}", u.id, None, "Hallo") for u in refused], category=outbox.SERVICE)
    bot = await bots()
    await bot.wait_for_log("telegram rate-limits the bot as a whole")
    third = api.calls("sendMessage", status=429)[-1]
    queue(db, [("after-the-flood", later.id, None, "Hallo")], category=outbox.SERVICE)
    await later.next_message(timeout=15)
    assert delivered_times(api, later.id)[0] >= third.time + 3.0 - 0.05
    for user in refused:
        await user.next_message(timeout=15)


async def test_blocked_and_deleted_chats_are_not_written_to_again(bots, api, staff, db, tmp_path):
    bot = await bots(STAMMGAST_CONFIG=broadcast_config(tmp_path, per_week=10))
    bea = await onboarded(api, first_name="Bea")
    chris = await onboarded(api, first_name="Chris")
    dana = await onboarded(api, first_name="Dana")
    ids = {u.id: customer_of(db, u).id for u in (bea, chris, dana)}

    # Bea blocked the bot without the bot hearing of it: the next send answers 403.
    since = api.mark()
    bea.chat.blocked = True
    await dana.deactivate()  # Dana deleted her account: 403 "user is deactivated"
    queue(db, [("points:bea", bea.id, ids[bea.id], "+10 Punkte"), ("points:dana", dana.id, ids[dana.id], "+5 Punkte")],
          category=outbox.SERVICE)
    for user in (bea, dana):
        await api.wait_for_call("sendMessage", lambda call, u=user: call.chat_id == u.id and call.status == 403)
    await bot.wait_for_logs('"outbox recipient unreachable"', 2)
    for user, reason in ((bea, "bot was blocked by the user"), (dana, "user is deactivated")):
        assert customer_of(db, user) is not None
        with db.session() as session:
            assert session.get(TelegramAccount, user.id).unreachable_since is not None
            (failed,) = session.exec(select(OutboxMessage).where(OutboxMessage.chat_id == user.id)).all()
        assert failed.status == "failed" and reason in failed.last_error
    # Later rows for them are not sent at all: skipped, with the reason.
    (offer,) = queue(db, [("offer:bea", bea.id, ids[bea.id], "Angebot")])
    (notice,) = queue(db, [("notice:bea", bea.id, ids[bea.id], "Info")], category=outbox.SERVICE)
    await bot.wait_for_log(f'"marketing message not sent now", "outbox_id": {offer},')
    await bot.wait_for_log(f'"outbox recipient unreachable; not sent", "outbox_id": {notice},')
    assert [(row(db, i).status, row(db, i).last_error) for i in (offer, notice)] == [("skipped", "unreachable")] * 2
    to_bea = [c for c in api.state.calls[since:] if c.method == "sendMessage" and c.chat_id == bea.id]
    assert [c.status for c in to_bea] == [403]  # only the send that told the bot

    # Chris blocks the bot (Telegram sends my_chat_member "kicked"): no more messages ...
    await chris.block()
    await bot.wait_for_log("customer blocked the bot")
    (offer,) = queue(db, [("offer:chris:1", chris.id, ids[chris.id], "Angebot eins")])
    await bot.wait_for_log(f'"marketing message not sent now", "outbox_id": {offer},')
    assert (row(db, offer).status, row(db, offer).last_error) == ("skipped", "unreachable")
    # ... until he unblocks it ("member"): then he is reachable again.
    await chris.unblock()
    await chris.send_command("/hilfe")  # handled after the unblocking (one chat's updates go in order)
    await chris.next_message()
    chris.drain_messages()
    with db.session() as session:
        assert session.get(TelegramAccount, chris.id).unreachable_since is None
    queue(db, [("offer:chris:2", chris.id, ids[chris.id], "Angebot zwei")])
    await api.wait_until(lambda: any(m.text == "Angebot zwei" for m in chris.messages), description="the offer")
    assert not any(m.text == "Angebot eins" for m in chris.messages)


async def test_a_crash_in_the_middle_of_a_broadcast_loses_nothing(bots, api, staff, db, tmp_path):
    """kill -9 after about 500 of 2,000 offers, then a restart: every customer gets the offer;
    a row is sent twice only if the crash came between Telegram's accepting it and the
    database's recording it, which is at most one row per sender (SENDERS)."""
    db.migrate()
    api.enforce_rate_limits()
    users = [api.new_user(first_name=f"Gast {n}") for n in range(2000)]
    customer = add_customers(db, users)
    queue(db, [(f"offer:{u.id}", u.id, customer[u.id], f"Angebot für {u.first_name}") for u in users])
    config = broadcast_config(tmp_path)
    first = await bots(STAMMGAST_CONFIG=config)
    await api.wait_until(lambda: api.count("sendMessage") >= 500, timeout=60, description="500 offers")
    await first.kill()
    at_crash = api.count("sendMessage")
    with db.session() as session:
        recorded = len(session.exec(select(OutboxMessage.id).where(OutboxMessage.status == "sent")).all())
    second = await bots(STAMMGAST_CONFIG=config)

    reached: set[int] = set()
    seen = 0

    def everyone_reached() -> bool:
        nonlocal seen
        sent = api.state.bot_messages
        reached.update(m.chat.id for m in sent[seen:])
        seen = len(sent)
        return len(reached) == len(users)

    await api.wait_until(everyone_reached, timeout=150, description="every offer")
    await second.stop()
    assert statuses(db) == {"sent": len(users)}
    duplicates = api.count("sendMessage") - len(users)
    print(f"\nkilled after {at_crash} sends ({recorded} recorded as sent); duplicates after the restart: {duplicates}")
    assert 0 <= duplicates <= SENDERS
    assert api.rate_limit_hits == 0


async def test_a_graceful_stop_in_the_middle_of_a_broadcast_gives_the_claimed_rows_back(bots, api, staff, db,
                                                                                          tmp_path):
    """SIGTERM (a deployment) during a broadcast: the sends in flight finish and are recorded,
    the rows claimed ahead go back to pending at once, so the next process sends them without
    waiting for a lease, and nothing is sent twice."""
    db.migrate()
    api.enforce_rate_limits()
    users = [api.new_user(first_name=f"Gast {n}") for n in range(150)]
    customer = add_customers(db, users)
    queue(db, [(f"offer:{u.id}", u.id, customer[u.id], f"Angebot für {u.first_name}") for u in users])
    config = broadcast_config(tmp_path)
    first = await bots(STAMMGAST_CONFIG=config)
    await api.wait_until(lambda: api.count("sendMessage") >= 50, timeout=30, description="50 offers")
    await first.stop()
    counted = statuses(db)
    assert "sending" not in counted and counted["sent"] == api.count("sendMessage")
    second = await bots(STAMMGAST_CONFIG=config)
    await api.wait_until(lambda: api.count("sendMessage") >= len(users), timeout=30, description="the rest")
    await second.stop()
    assert [len(u.messages) for u in users] == [1] * len(users)
    assert statuses(db) == {"sent": len(users)}
