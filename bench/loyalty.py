"""Loyalty at scale, on SQLite (a file in a temporary directory) and on PostgreSQL (a fresh
database on 127.0.0.1:5432, dropped afterwards; skipped with a notice when unreachable).

1. Bookings: 10,000 customers (10 % with a Telegram account, so the outbox path runs);
   10,000 purchases through ``domain.purchases.book_purchase``, each in its own transaction
   as the bot books them. Reports purchases per second and the latency per booking.
2. Balances: 100,000 ``domain.ledger.balance`` calls for random customers, in batches of
   1,000 per session. Reports the total time and the latency per balance.
3. Growth: the ledger is grown to 100,000 and to 1,000,000 entries with a direct bulk insert
   and the balance timing is repeated. The growth entries go to 9,000 "regular" customers;
   1,000 "control" customers keep exactly one entry of their own throughout. A balance reads
   the customer's own entries through the index (customer_id, id), never the ledger of all
   customers, so the control group's time stays flat while the ledger grows 100-fold; the
   regulars' time grows only with their own entries. The query plan is printed as proof.
4. ``domain.ledger.account_status`` (what /punkte shows, a locked transaction of its own) at
   the largest size.

Sizes can be lowered for a quick run: ``LOYALTY_BENCH_SCALE=0.1 python -m bench loyalty``.
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from bench.stats import percentile
from domain import ledger, purchases
from domain.rules import codes
from domain.config import LoyaltySection, RewardConfig, TierConfig
from storage.db import Store
from storage.models import Customer, TelegramAccount

SCALE = float(os.environ.get("LOYALTY_BENCH_SCALE", "1"))
CUSTOMERS = int(10_000 * SCALE)
CONTROL = CUSTOMERS // 10           # customers whose own ledger never grows
PURCHASES = int(10_000 * SCALE)
TELEGRAM_SHARE = 0.10
BALANCES = int(100_000 * SCALE)     # at the starting size
BALANCES_GROWN = int(20_000 * SCALE)  # per grown size, over all customers and over the control group each
ACCOUNT_STATUS_CALLS = int(1_000 * SCALE)
LEDGER_SIZES = (int(100_000 * SCALE), int(1_000_000 * SCALE))
BATCH = 1_000
INSERT_CHUNK = 50_000

BASE = datetime(2026, 11, 22, 8, 0, tzinfo=timezone.utc)
RULES = LoyaltySection(
    points_per_euro=Decimal(1), rounding="down", tier_window_months=12,
    tiers=(TierConfig(name="Bronze", threshold=0),
           TierConfig(name="Silber", threshold=250, multiplier=Decimal("1.25")),
           TierConfig(name="Gold", threshold=600, multiplier=Decimal("1.5"))),
    expiry_months=24, rewards=(RewardConfig(key="kaffee", name="Ein Kaffee", cost=40),), referral_bonus=0,
)
POSTGRES_ADMIN_URL = os.environ.get("STAMMGAST_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def us(seconds: float) -> str:
    return f"{seconds * 1e6:,.0f} µs"


def latency_line(values: list[float]) -> str:
    return (f"p50 {us(percentile(values, 0.5))}, p95 {us(percentile(values, 0.95))}, "
            f"mean {us(statistics.fmean(values))}")


# --- set-up -----------------------------------------------------------------------------------

def create_customers(store: Store) -> list[int]:
    taken: set[str] = set()
    while len(taken) < CUSTOMERS:
        taken.add(codes.new_code(codes.CUSTOMER_CODE_LENGTH))
    with store.session() as session:
        people = [Customer(code=code, first_name=f"Kunde {i}", created_at=BASE - timedelta(days=800),
                           last_seen_at=BASE) for i, code in enumerate(sorted(taken))]
        session.add_all(people)
        session.flush()
        ids = [c.id for c in people]
        rng = random.Random(1)
        with_telegram = rng.sample(ids, int(len(ids) * TELEGRAM_SHARE))
        session.add_all([TelegramAccount(telegram_user_id=10**9 + cid, customer_id=cid, chat_id=10**9 + cid)
                         for cid in with_telegram])
    return ids


def book_purchases(store: Store, control: list[int], regulars: list[int]) -> list[float]:
    """One booking per control customer first, the rest for random regulars."""
    rng = random.Random(2)
    targets = control + [rng.choice(regulars) for _ in range(PURCHASES - len(control))]
    latencies = []
    for i, customer_id in enumerate(targets):
        amount = Decimal(rng.randrange(150, 4000)) / 100
        started = time.perf_counter()
        with store.session() as session:
            purchases.book_purchase(session, customer_id, amount, RULES, BASE + timedelta(seconds=i),
                                    key=f"bench:{i}", source=purchases.COUNTER, booked_by=1)
        latencies.append(time.perf_counter() - started)
    return latencies


def ledger_size(store: Store) -> int:
    with store.engine.connect() as connection:
        return connection.execute(text("SELECT count(*) FROM points_entry")).scalar_one()


COLUMNS = ("idempotency_key", "customer_id", "amount", "reason", "tier_at", "expires_at", "created_at")


def grow_ledger(store: Store, regulars: list[int], target: int) -> float:
    """Bulk-insert entries for the regulars until the ledger holds ``target`` entries.

    Straight through the driver (COPY on PostgreSQL, executemany on SQLite): this only builds
    the data to measure against. Times are naive UTC, as ``UTCDateTime`` stores them.
    """
    missing = target - ledger_size(store)
    rng = random.Random(target)
    naive_base = BASE.replace(tzinfo=None)
    started = time.perf_counter()
    done = 0
    raw = store.engine.raw_connection()
    try:
        cursor = raw.cursor()
        while done < missing:
            rows = []
            for n in range(done, min(missing, done + INSERT_CHUNK)):
                created = naive_base - timedelta(minutes=rng.randrange(600 * 24 * 60))  # the last 600 days
                expires = created + timedelta(days=730)
                rows.append((f"bench:grow:{target}:{n}", rng.choice(regulars), rng.randrange(1, 40), ledger.IMPORT,
                             created, expires, created))
            if store.dialect == "sqlite":
                stamp = "%Y-%m-%d %H:%M:%S.%f"  # SQLAlchemy's SQLite datetime format
                cursor.executemany(
                    f"INSERT INTO points_entry ({', '.join(COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [(k, c, a, r, t.strftime(stamp), e.strftime(stamp), t.strftime(stamp)) for k, c, a, r, t, e, _ in rows])
            else:
                with cursor.copy(f"COPY points_entry ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                    for values in rows:
                        copy.write_row(values)
            raw.commit()
            done += len(rows)
        cursor.execute("ANALYZE")  # fresh planner statistics, as autovacuum/ANALYZE would give
        raw.commit()
    finally:
        raw.close()
    return time.perf_counter() - started


# --- measurements -----------------------------------------------------------------------------

def time_balances(store: Store, customer_ids: list[int], calls: int, seed: int) -> tuple[float, list[float]]:
    rng = random.Random(seed)
    latencies = []
    started = time.perf_counter()
    for first in range(0, calls, BATCH):
        with store.session() as session:
            for _ in range(min(BATCH, calls - first)):
                customer_id = rng.choice(customer_ids)
                t = time.perf_counter()
                ledger.balance(session, customer_id)
                latencies.append(time.perf_counter() - t)
    return time.perf_counter() - started, latencies


def time_account_status(store: Store, customer_ids: list[int], calls: int) -> list[float]:
    rng = random.Random(5)
    now = BASE + timedelta(days=1)
    latencies = []
    for _ in range(calls):
        customer_id = rng.choice(customer_ids)
        started = time.perf_counter()
        with store.session() as session:  # one /punkte request: its own (locking) transaction
            ledger.account_status(session, customer_id, RULES, now)
        latencies.append(time.perf_counter() - started)
    return latencies


def own_entries(store: Store, customer_ids: list[int]) -> float:
    with store.engine.connect() as connection:
        counts = dict(connection.execute(text(
            "SELECT customer_id, count(*) FROM points_entry GROUP BY customer_id")).all())
    return statistics.fmean(counts.get(cid, 0) for cid in customer_ids)


def query_plan(store: Store, customer_id: int) -> list[str]:
    query = f"SELECT coalesce(sum(amount), 0) FROM points_entry WHERE customer_id = {int(customer_id)}"
    with store.engine.connect() as connection:
        if store.dialect == "sqlite":
            return [row[-1] for row in connection.execute(text("EXPLAIN QUERY PLAN " + query))]
        return [row[0] for row in connection.execute(text("EXPLAIN (ANALYZE, BUFFERS, TIMING OFF) " + query))]


def row(store: Store, ids: list[int], control: list[int], everyone: list[float], seed: int) -> tuple:
    """One line of the growth table: all customers (latencies given) and the control group."""
    _, controls = time_balances(store, control, BALANCES_GROWN, seed=seed)
    return (ledger_size(store), own_entries(store, ids), percentile(everyone, 0.5), percentile(everyone, 0.95),
            own_entries(store, control), percentile(controls, 0.5), percentile(controls, 0.95))


def run(label: str, url: str) -> None:
    print(f"\n--- {label} --- (load average {os.getloadavg()[0]:.2f})", flush=True)
    store = Store(url)
    store.migrate()
    try:
        started = time.perf_counter()
        ids = create_customers(store)
        control, regulars = ids[:CONTROL], ids[CONTROL:]
        print(f"{len(ids):,} customers ({int(len(ids) * TELEGRAM_SHARE):,} with Telegram) created in "
              f"{time.perf_counter() - started:.1f} s", flush=True)

        started = time.perf_counter()
        bookings = book_purchases(store, control, regulars)
        elapsed = time.perf_counter() - started
        with store.engine.connect() as connection:
            queued = connection.execute(text("SELECT count(*) FROM outbox_message")).scalar_one()
        print(f"bookings: {len(bookings):,} purchases in {elapsed:.1f} s = {len(bookings) / elapsed:,.0f} purchases/s "
              f"(one transaction each); per booking {latency_line(bookings)}; {queued:,} outbox rows", flush=True)

        started = time.perf_counter()
        total, latencies = time_balances(store, ids, BALANCES, seed=3)
        print(f"balances: {BALANCES:,} in {total:.1f} s ({BALANCES / total:,.0f}/s, batches of {BATCH:,} per session); "
              f"per balance {latency_line(latencies)}", flush=True)

        table = [row(store, ids, control, latencies, seed=4)]
        for size in LEDGER_SIZES:
            grown = grow_ledger(store, regulars, size)
            print(f"ledger grown to {ledger_size(store):,} entries ({grown:.1f} s bulk insert)", flush=True)
            _, everyone = time_balances(store, ids, BALANCES_GROWN, seed=size)
            table.append(row(store, ids, control, everyone, seed=size + 1))

        print(f"\nµs per balance as the ledger grows ({label}; random customers: {BALANCES:,} calls at the first "
              f"size, {BALANCES_GROWN:,} after; control group: {BALANCES_GROWN:,} calls each)")
        print("ledger entries in all | own entries, mean | µs p50 | µs p95 | control: own entries | µs p50 | µs p95")
        for size, mean_own, p50, p95, control_own, c50, c95 in table:
            print(f"{size:>21,} | {mean_own:>17.1f} | {p50 * 1e6:>6.0f} | {p95 * 1e6:>6.0f} | "
                  f"{control_own:>20.1f} | {c50 * 1e6:>6.0f} | {c95 * 1e6:>6.0f}")

        print(f"\nquery plan of a balance at {ledger_size(store):,} entries:")
        for line in query_plan(store, regulars[0]):
            print("   ", line)

        statuses = time_account_status(store, regulars, ACCOUNT_STATUS_CALLS)
        print(f"\naccount_status (/punkte) at {ledger_size(store):,} entries, regular customers "
              f"(~{own_entries(store, regulars):.0f} entries each), {len(statuses):,} calls, one transaction each: "
              f"{latency_line(statuses)}", flush=True)
    finally:
        store.dispose()


def postgres_database() -> tuple[str, Callable[[], None]] | None:
    name = f"stammgast_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as error:
        print(f"\nPostgreSQL not reachable at {make_url(POSTGRES_ADMIN_URL).render_as_string()}: "
              f"{str(error).splitlines()[0]} - measuring SQLite only")
        admin.dispose()
        return None

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False), drop


def run_all() -> None:
    print(f"{os.cpu_count()} CPU cores; scale {SCALE:g}: {CUSTOMERS:,} customers, {PURCHASES:,} purchases, "
          f"{BALANCES:,} balances, ledger grown to {', '.join(f'{s:,}' for s in LEDGER_SIZES)} entries")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        run("SQLite (file, WAL)", f"sqlite:///{tmp}/bench.db")
    postgres = postgres_database()
    if postgres is not None:
        url, drop = postgres
        try:
            run("PostgreSQL (127.0.0.1:5432)", url)
        finally:
            drop()
    print(f"\ntotal run time {time.perf_counter() - started:.0f} s (load average now {os.getloadavg()[0]:.2f})")


async def main() -> None:
    run_all()  # synchronous database work, as the bot's handlers do it in their threads
