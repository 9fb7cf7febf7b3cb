"""A big broadcast through the outbox: the real bot process (``python -m bot run``) against the
fake Bot API with Telegram's flood limits (sliding windows: 30 messages/s in all, 1/s per
chat, 20/min per group) and, on top, occasional random 429s (probability 0.2 %, seeded).

1. 10,000 customers with a Telegram account and marketing consent, one marketing row each
   (distinct chats), inserted in bulk before the bot starts. Reports the achieved rate (first
   to last accepted message) against Telegram's 30 msg/s (goal >= 0.95), lost rows (goal 0),
   duplicates (goal 0) and the 429s the bot received (the limiter's and the random ones).
2. The same with a crash: kill -9 when about 40 % were delivered, then a restart. Reports
   duplicates (at most the rows in flight at the crash), lost rows, the gap in sending and
   when the dead process's claimed rows came back (their lease, 30 s).

3. (``chat``: ``python -m bench.broadcast chat`` or ``BROADCAST_BENCH_CHAT=1``) the plain run once
   more and then the same broadcast while 30 customers chat at shop traffic (``bench.shop``: FAQ,
   small talk, points, complaints, praise, open tickets; the real Rasa server): the broadcast's
   rate, loss and duplicates as above, plus the chatting customers' p50/p95 (time to the bot's
   first reply) and all messages the bot sent per second while they chatted.

SQLite (a file in a temporary directory) by default; PostgreSQL (a fresh database on
127.0.0.1:5432, dropped afterwards) with ``python -m bench.broadcast postgres`` or
``BROADCAST_BENCH_DATABASE=postgres python -m bench broadcast``; both with ``all``.
Fewer recipients for a quick look: ``BROADCAST_BENCH_RECIPIENTS=2000``.

The bot gets NLU_URL pointing at an unused port on 127.0.0.1: it answers free text with the
fallback then, which does not matter here, and no Rasa server has to start.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import insert, select

from bench.loyalty import postgres_database
from domain import outbox
from domain.outbox import MessageSpec
from storage.db import Store
from storage.models import Customer, OutboxMessage, TelegramAccount
from tests.e2e.harness import SEND_ANY_TIME, BotProcess, bot_environment, config_file
from tests.fakebotapi import FakeBotApi

RECIPIENTS = int(os.environ.get("BROADCAST_BENCH_RECIPIENTS", "10000"))
TELEGRAM_RATE = 30.0
RANDOM_429 = 0.002
RANDOM_429_RETRY_AFTER = 2
SEED = 20261123
CRASH_SHARE = 0.40
CHUNK = 2_000


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def seed_database(url: str, users) -> None:
    """Customers, their Telegram accounts and one marketing row each, in bulk."""
    store = Store(url)
    store.migrate()
    now = datetime.now(timezone.utc)
    payload = MessageSpec(text="Nur diese Woche: 2 Stück Kuchen zum Preis von einem. Bis bald im Morgenrot!").to_payload()
    try:
        with store.session() as session:
            for first in range(0, len(users), CHUNK):
                chunk = users[first:first + CHUNK]
                ids = session.execute(insert(Customer).returning(Customer.id), [
                    {"first_name": user.first_name, "marketing_consent": True, "consent_asked": True,
                     "created_at": now, "last_seen_at": now} for user in chunk]).scalars().all()
                session.execute(insert(TelegramAccount), [
                    {"telegram_user_id": user.id, "customer_id": customer_id, "chat_id": user.id, "language_code": "de"}
                    for user, customer_id in zip(chunk, ids)])
                session.execute(insert(OutboxMessage), [
                    {"idempotency_key": f"bench:offer:{customer_id}", "chat_id": user.id, "customer_id": customer_id,
                     "category": outbox.MARKETING, "payload": payload, "status": outbox.PENDING, "attempts": 0,
                     "not_before": now, "created_at": now} for user, customer_id in zip(chunk, ids)])
    finally:
        store.dispose()


def row_statuses(url: str) -> dict[str, int]:
    store = Store(url)
    try:
        with store.session() as session:
            counted: dict[str, int] = {}
            for status in session.execute(select(OutboxMessage.status)).scalars():
                counted[status] = counted.get(status, 0) + 1
            return counted
    finally:
        store.dispose()


def claimed_chats(url: str) -> set[int]:
    """Chats whose row a (dead) dispatcher holds."""
    store = Store(url)
    try:
        with store.session() as session:
            return set(session.execute(select(OutboxMessage.chat_id).where(OutboxMessage.status == outbox.SENDING)).scalars())
    finally:
        store.dispose()


class Reach:
    """Which of the recipients' chats got at least one message, updated incrementally (cheap
    in wait_until)."""

    def __init__(self, api: FakeBotApi, recipients: set[int]):
        self.api = api
        self.recipients = recipients
        self.chats: set[int] = set()
        self._seen = 0

    def __call__(self) -> int:
        sent = self.api.state.bot_messages
        self.chats.update(m.chat.id for m in sent[self._seen:] if m.chat.id in self.recipients)
        self._seen = len(sent)
        return len(self.chats)


CHATTERS = 30
CHAT_MESSAGES = int(os.environ.get("BROADCAST_BENCH_CHAT_MESSAGES", "20"))


async def chat_during(api: FakeBotApi, nlu_url: str):
    """30 customers register and then chat at shop traffic (bench.shop); returns their Traffic."""
    from bench import shop
    from tests.e2e.journeys import onboarded

    users = await asyncio.gather(*(onboarded(api, f"Kunde{i}") for i in range(CHATTERS)))
    await shop.open_tickets_before(users)
    return await shop.shop_traffic(users, shop.plans(CHATTERS, CHAT_MESSAGES))


async def broadcast(url: str, tmp: Path, crash: bool, nlu_url: str | None = None) -> None:
    """With ``nlu_url``, 30 customers chat during the broadcast (the bot uses that Rasa server)."""
    async with FakeBotApi() as api:
        api.enforce_rate_limits()
        random_429s = api.inject_random_errors(RANDOM_429, 429, retry_after=RANDOM_429_RETRY_AFTER, seed=SEED)
        users = [api.new_user(first_name=f"Gast{n}") for n in range(RECIPIENTS)]
        api.new_group(title="Team Morgenrot", chat_id=-1001234567890)
        seed_database(url, users)
        env = bot_environment(api, url, nlu_url or f"http://127.0.0.1:{unused_port()}",
                              STAMMGAST_CONFIG=config_file(tmp, {"campaigns": SEND_ANY_TIME["campaigns"]}))
        reach = Reach(api, {user.id for user in users})
        started = time.perf_counter()
        bot = await BotProcess(api, env, tmp / f"bot-{int(crash)}-{int(bool(nlu_url))}-0.log").start()
        chat = asyncio.ensure_future(chat_during(api, nlu_url)) if nlu_url else None
        if crash:
            await api.wait_until(lambda: reach() >= CRASH_SHARE * RECIPIENTS, timeout=RECIPIENTS,
                                 description="40 % of the broadcast")
            await bot.kill()
            killed_at = api.clock()
            accepted_at_crash, recorded = api.count("sendMessage"), row_statuses(url).get("sent", 0)
            held = claimed_chats(url)
            bot = await BotProcess(api, env, tmp / f"bot-{int(crash)}-1.log").start()
            restarted_at = api.clock()
        await api.wait_until(lambda: reach() >= RECIPIENTS, timeout=RECIPIENTS, description="every recipient")
        traffic = await chat if chat is not None else None
        await bot.stop()
        wall = time.perf_counter() - started

        everything = sorted(api.calls("sendMessage", status=200), key=lambda call: call.time)
        accepted = [call for call in everything if call.chat_id in reach.recipients]
        times = [call.time for call in accepted]
        statuses = row_statuses(url)
        lost = RECIPIENTS - reach()
        duplicates = len(accepted) - reach()
        limiter_429s = api.rate_limit_hits
        print(f"  {RECIPIENTS:,} recipients, {wall:.0f} s with the bot's start and stop; rows: {statuses}", flush=True)
        print(f"  429s received: {limiter_429s + random_429s.given} ({limiter_429s} from the flood limits, "
              f"{random_429s.given} random); lost {lost}, duplicates {duplicates}", flush=True)
        span = times[-1] - times[0]
        if not crash:
            rate = (len(times) - 1) / span
            print(f"  rate: {len(times):,} messages in {span:.1f} s = {rate:.2f} msg/s "
                  f"= {rate / TELEGRAM_RATE:.3f} x {TELEGRAM_RATE:g} msg/s (goal >= 0.95)", flush=True)
            if traffic is not None:
                from bench.stats import summary_ms

                within = [c for c in everything if times[0] <= c.time <= times[-1]]
                others = len(within) - len(times)
                print(f"  chatting customers: {len(traffic.samples)} messages in {traffic.wall:.0f} s, lost "
                      f"{len(traffic.lost)}: {summary_ms(traffic.latencies())}", flush=True)
                print(f"    sent >= 1 s after the bot's previous message to the chat: "
                      f"{summary_ms(traffic.latencies(paced=False))}", flush=True)
                print(f"  all messages the bot sent during the broadcast: {len(within):,} in {span:.1f} s = "
                      f"{(len(within) - 1) / span:.2f} msg/s ({others:,} of them replies and staff-group messages)",
                      flush=True)
                errors = [line for line in bot.log().splitlines() if '"level": "error"' in line
                          or "failed" in line.lower()]
                print(f"  bot log: {len(errors)} error/failed lines" + "".join(f"\n    {e[:300]}" for e in errors[:5]),
                      flush=True)
            return
        before = [t for t in times if t < killed_at]
        after = [t for t in times if t > killed_at]
        print(f"  kill -9 after {accepted_at_crash:,} accepted messages ({recorded:,} recorded as sent, "
              f"{len(held)} rows claimed); restarted in {restarted_at - killed_at:.1f} s; no message for "
              f"{after[0] - before[-1]:.1f} s (last before the kill to the first after the restart)", flush=True)
        returned = [call.time - killed_at for call in accepted if call.time > killed_at and call.chat_id in held]
        if returned:
            print(f"  the dead process's {len(returned)} claimed rows went out {min(returned):.0f}-"
                  f"{max(returned):.0f} s after the kill (their lease: {outbox.CLAIM_LEASE.total_seconds():.0f} s)",
                  flush=True)
        rate = (len(after) - 1) / (after[-1] - after[0])
        print(f"  whole broadcast {span:.0f} s; after the restart {len(after):,} messages at {rate:.2f} msg/s",
              flush=True)


async def run(label: str, database: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for crash in (False, True):
            print(f"\n{label}, {'kill -9 at ~40 % and a restart' if crash else 'one run'}:", flush=True)
            if database == "sqlite":
                await broadcast(f"sqlite:///{tmp}/broadcast-{int(crash)}.db", Path(tmp), crash)
                continue
            postgres = postgres_database()  # a fresh database for each run, dropped afterwards
            if postgres is None:
                return
            url, drop = postgres
            try:
                await broadcast(url, Path(tmp), crash)
            finally:
                drop()


async def run_chatting() -> None:
    """The plain broadcast, then the same while 30 customers chat (SQLite, the real Rasa)."""
    from nlu.server import RasaServer
    from nlu.settings import NluSettings
    from nlu.training import ensure_model

    settings = NluSettings()
    with tempfile.TemporaryDirectory() as tmp:
        async with RasaServer(ensure_model(settings), settings) as nlu:
            print("\nSQLite (file, WAL), one run without chatting customers:", flush=True)
            await broadcast(f"sqlite:///{tmp}/broadcast-plain.db", Path(tmp), False)
            print(f"\nSQLite (file, WAL), {CHATTERS} customers chatting at shop traffic during the broadcast:",
                  flush=True)
            await broadcast(f"sqlite:///{tmp}/broadcast-chat.db", Path(tmp), False, nlu_url=nlu.url)


async def main(argv: list[str] | None = None) -> None:
    which = (argv[0] if argv else os.environ.get("BROADCAST_BENCH_DATABASE", "sqlite")).lower()
    if which == "chat" or os.environ.get("BROADCAST_BENCH_CHAT"):
        print(f"{os.cpu_count()} CPU cores; {RECIPIENTS:,} recipients; fake Bot API with Telegram's limits "
              f"and {RANDOM_429:.1%} random 429s (retry_after {RANDOM_429_RETRY_AFTER} s, seed {SEED})", flush=True)
        await run_chatting()
        return
    print(f"{os.cpu_count()} CPU cores; {RECIPIENTS:,} recipients; fake Bot API with Telegram's limits "
          f"and {RANDOM_429:.1%} random 429s (retry_after {RANDOM_429_RETRY_AFTER} s, seed {SEED})", flush=True)
    if which in ("sqlite", "all"):
        await run("SQLite (file, WAL)", "sqlite")
    if which in ("postgres", "postgresql", "all"):
        await run("PostgreSQL (127.0.0.1:5432)", "postgres")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
