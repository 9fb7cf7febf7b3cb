"""Customer segments at scale: ``domain.segments.count`` and ``recipients`` over 1,000,000
synthetic customers, on SQLite (a file) and on PostgreSQL (a fresh database on 127.0.0.1,
created and dropped here; skipped with a notice when unreachable).

The generator writes customers (most with a Telegram account, some with marketing consent,
birthdays), their purchases (categories, a few reversed), the figures kept on the customer rows
(purchase figures, the revenue of the year before now, categories bought from, latest NPS score)
and the revenue groups, the points
ledger (one entry per purchase with
``tier_at``, corrections for reversals, some rewards) and NPS surveys, straight through the
driver (executemany on SQLite, COPY on PostgreSQL) after ``Store.migrate()``; then the tier
points kept on the customer rows are filled by the bot's own ``ledger.refresh_tier_points``
(timed). The SQLite file is cached under
``~/.cache/stammgast/bench/``, keyed by the generator version, the size and the schema, so a
second run only measures.

Then every term and a few combinations are timed (``count`` three times, the median is shown;
``recipients`` once), against the goal of 0.5 s for a segment count, with the process's peak
memory. When ``domain.milestones`` exists, its daily scan ``find_due`` is timed too (goal 2 s).

``./stammgast bench segments``; a smaller size for a quick look:
``STAMMGAST_BENCH_CUSTOMERS=100000 ./stammgast bench segments``, or
``python -m bench.segments 100000``. ``STAMMGAST_BENCH_SQLITE_ONLY=1`` skips PostgreSQL.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import math
import os
import random
import resource
import statistics
import sys
import time
import tracemalloc
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from domain import ledger, segments
from domain import purchases as purchases_domain
from domain.rules.codes import ALPHABET, CUSTOMER_CODE_LENGTH
from domain.config import LoyaltySection, ShopConfig, ShopSection, TierConfig
from storage.db import MIGRATIONS_DIR, Store

GENERATOR_VERSION = 3
CUSTOMERS = int(os.environ.get("STAMMGAST_BENCH_CUSTOMERS", "1000000"))
POSTGRES_ADMIN_URL = os.environ.get("STAMMGAST_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
CACHE_DIR = Path.home() / ".cache" / "stammgast" / "bench"
CHUNK = 20_000  # customers generated and written at a time
COUNT_GOAL = 0.5  # seconds for a segment count
SCAN_GOAL = 2.0  # seconds for the daily milestone scan
REPEATS = 3

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)
LOYALTY = LoyaltySection(
    points_per_euro=Decimal(1), rounding="down", tier_window_months=12,
    tiers=(TierConfig(name="Bronze", threshold=0),
           TierConfig(name="Silber", threshold=250, multiplier=Decimal("1.25")),
           TierConfig(name="Gold", threshold=600, multiplier=Decimal("1.5"))),
    expiry_months=24,
)
CONFIG = ShopConfig(shop=ShopSection(name="Kaffeehaus Benchmark"), loyalty=LOYALTY)
RULES = segments.rules_from(CONFIG)

SEGMENTS = (
    "alle", "neu", "stamm", "inaktiv:90", "inaktiv:365", "vip", "stufe:bronze", "stufe:silber", "stufe:gold",
    "geburtstag", "kategorie:kaffee", 'kategorie:"kaffee to go"', "kategorie:tee", "kategorie:gibtsnicht",
    "nps:promoter", "nps:passiv", "nps:detraktor",
    "stamm ohne vip", "neu, inaktiv:90", "stufe:gold -nps:detraktor", "vip geburtstag",
    "kategorie:bohnen ohne stamm oder nps:promoter", "ohne inaktiv:180 ohne vip ohne nps:detraktor",
)

FIRST_NAMES = ("Anna", "Ben", "Clara", "David", "Emma", "Felix", "Greta", "Hannah", "Ida", "Jonas", "Karl", "Lea",
               "Mia", "Noah", "Ole", "Paula", "Quirin", "Rosa", "Sophie", "Tim", "Uwe", "Vera", "Wilma", "Yusuf",
               "Zoe", "Ömer", "Jürgen", "Änne", "Lukas", "Marie")
LAST_NAMES = ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann",
              "Koch", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz", "Braun", "Zimmermann", "Krüger",
              "Hartmann", "Lange", "Werner", "Krause", "Lehmann", "Köhler", "Yılmaz", "Nowak", "Özdemir", None)
CATEGORIES = (("Kaffee", 30), ("kaffee", 2), ("Kuchen", 14), ("Gebäck", 8), ("Gebaeck", 1), ("Bohnen", 10),
              ("Tee", 5), ("Frühstück", 7), ("Kaffee to go", 8), ("Geschenke", 2), ("Barista-Kurs", 1),
              ("Zubehör", 2), (None, 10))
_CATEGORY_NAMES = [name for name, _ in CATEGORIES]
_CATEGORY_WEIGHTS = [weight for _, weight in CATEGORIES]
SCORES = (10, 10, 9, 9, 9, 10, 8, 8, 7, 7, 8, 6, 5, 3, 0, 9, 10, 8, 4, 9)

STAMP = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores datetimes in SQLite

COLUMNS = {
    "customer": ("id", "code", "first_name", "last_name", "marketing_consent", "consent_asked", "created_at",
                 "last_seen_at", "birthday_day", "birthday_month", "birthday_year", "points_version",
                 "purchase_count", "revenue_cents", "first_purchase_at", "last_purchase_at", "telegram_reachable",
                 "year_revenue_cents", "year_revenue_oldest", "category_keys", "nps_score"),
    "telegram_account": ("telegram_user_id", "customer_id", "chat_id", "language_code", "unreachable_since"),
    "purchase": ("id", "idempotency_key", "customer_id", "amount_cents", "category", "source", "booked_by",
                 "created_at", "reversed_at", "reversal_reason"),
    "points_entry": ("idempotency_key", "customer_id", "amount", "reason", "purchase_id", "tier_at", "expires_at",
                     "created_at"),
    "survey": ("customer_id", "purchase_id", "status", "created_at", "due_at", "score", "answered_at", "topics"),
}


# --- the synthetic shop -----------------------------------------------------------------------

def customer_code(customer_id: int) -> str:
    """A unique code per id (a bijection onto 32**6 codes, spread so neighbours differ)."""
    n = (customer_id * 387_420_489) % len(ALPHABET) ** CUSTOMER_CODE_LENGTH  # 3**18 is coprime to 2**30
    chars = []
    for _ in range(CUSTOMER_CODE_LENGTH):
        n, digit = divmod(n, len(ALPHABET))
        chars.append(ALPHABET[digit])
    return "".join(chars)


def _moment(rng: random.Random, start: datetime, end: datetime) -> datetime:
    seconds = max(0, int((end - start).total_seconds()))
    return start + timedelta(seconds=rng.randrange(seconds + 1))


def generate(first_id: int, count: int, seed: int, next_purchase_id: int) -> tuple[dict[str, list[tuple]], int]:
    """The rows of ``count`` customers from ``first_id`` (timezone-aware datetimes), and the
    next free purchase id."""
    rng = random.Random(seed)
    rows: dict[str, list[tuple]] = {table: [] for table in COLUMNS}
    for customer_id in range(first_id, first_id + count):
        created = NOW - timedelta(seconds=rng.randrange(1100 * 86400))
        telegram = rng.random() < 0.85
        consent = telegram and rng.random() < 0.45
        # What kind of customer: a fifth never bought, about a third once, the others came back.
        kind = rng.random()
        if kind < 0.2:
            times: list[datetime] = []
        elif kind < 0.52:
            times = [_moment(rng, created, NOW)]
        else:
            visits = 2 + min(300, int(rng.expovariate(1 / 7)))
            end = NOW if rng.random() < 0.6 else _moment(rng, created, NOW)  # the others stopped coming
            times = sorted(_moment(rng, created, end) for _ in range(visits))
        basket = 7.0 * min(rng.paretovariate(2.0), 40.0)  # a few spend far more than the rest
        purchases = []
        for at in times:
            purchase_id = next_purchase_id
            next_purchase_id += 1
            cents = min(100_000, max(150, int(rng.lognormvariate(math.log(basket), 0.5) * 100)))
            category = rng.choices(_CATEGORY_NAMES, _CATEGORY_WEIGHTS)[0]
            reversed_at = at + timedelta(hours=1) if rng.random() < 0.015 else None
            purchases.append((purchase_id, cents, category, at, reversed_at))
        valid = [p for p in purchases if p[4] is None]
        this_year = [p for p in valid if p[3] >= NOW - purchases_domain.YEAR]  # as refresh_year_revenue keeps it
        birthday = rng.random() < 0.6
        unreachable = created + DAY if telegram and rng.random() < 0.03 else None
        customer = (  # the kept categories and NPS score are added once the surveys are made
            customer_id, customer_code(customer_id), rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES), consent,
            telegram, created, max([created] + times),
            rng.randint(1, 28) if birthday else None, rng.randint(1, 12) if birthday else None,
            rng.randint(1940, 2008) if birthday and rng.random() < 0.4 else None, 0,
            len(valid), sum(p[1] for p in valid), min((p[3] for p in valid), default=None),
            max((p[3] for p in valid), default=None), telegram and unreachable is None,
            sum(p[1] for p in this_year), math.floor(this_year[0][3].timestamp()) if this_year else None)
        if telegram:
            rows["telegram_account"].append((10**10 + customer_id, customer_id, 10**10 + customer_id, "de", unreachable))
        balance = 0
        answers: list[tuple[datetime, int, int]] = []  # (answered, order, score): the latest is kept on the row
        for purchase_id, cents, category, at, reversed_at in purchases:
            rows["purchase"].append((purchase_id, f"bench:{purchase_id}", customer_id, cents, category, "counter", 1,
                                     at, reversed_at, "Tippfehler" if reversed_at else None))
            points = cents // 100
            rows["points_entry"].append((f"purchase:{purchase_id}", customer_id, points, "purchase", purchase_id, at,
                                         at + 730 * DAY, at))
            balance += points
            if reversed_at is not None:
                rows["points_entry"].append((f"storno:{purchase_id}", customer_id, -points, "correction", purchase_id,
                                             at, None, reversed_at))
                balance -= points
            elif consent and rng.random() < 0.25:  # asked three days later, answered by most
                due = at + 3 * DAY
                answered = due + timedelta(hours=rng.randrange(1, 30)) if rng.random() < 0.7 else None
                if due < NOW:
                    score = rng.choice(SCORES) if answered is not None and answered < NOW else None
                    rows["survey"].append((customer_id, purchase_id, "done" if score is not None else "scheduled",
                                           at, due, score, answered if score is not None else None))
                    if score is not None:
                        answers.append((answered, len(answers), score))
        rows["customer"].append(customer + (
            purchases_domain.category_keys(p[2] for p in valid if p[2] is not None),
            max(answers)[2] if answers else None))
        if balance >= 40 and purchases and rng.random() < 0.3:
            at = min(NOW, purchases[-1][3] + DAY)
            rows["points_entry"].append((f"reward:{customer_id}", customer_id, -40, "reward", None, None, None, at))
    return rows, next_purchase_id


def _sqlite_value(value):
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).replace(tzinfo=None).strftime(STAMP)
    if isinstance(value, bool):
        return int(value)
    return value


def _postgres_value(value):
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


def _without_indexes(cursor, dialect: str) -> list[str]:
    """Drop the secondary indexes, unique and foreign key constraints of the loaded tables (a
    bulk load is much faster without them); returns the statements that make them again,
    exactly as the migrations made them."""
    tables = tuple(COLUMNS)
    if dialect == "sqlite":
        cursor.execute(f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                       f"AND tbl_name IN ({', '.join('?' * len(tables))})", tables)
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        return [sql for _, sql in indexes]
    cursor.execute("SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), contype FROM pg_constraint "
                   "WHERE contype IN ('u', 'f') AND conrelid::regclass::text = ANY(%s)", (list(tables),))
    constraints = cursor.fetchall()
    cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) AND indexname <> ALL(%s) "
                   "AND indexname NOT LIKE '%%pkey'", (list(tables), [name for _, name, _, _ in constraints]))
    indexes = cursor.fetchall()
    for table, name, _, _ in sorted(constraints, key=lambda c: c[3] != "f"):  # foreign keys first
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    return ([f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'
             for table, name, definition, _ in sorted(constraints, key=lambda c: c[3] == "f")]  # unique first
            + [definition for _, definition in indexes])


def load(store: Store, customers: int, progress: Callable[[str], None]) -> dict[str, int]:
    """Generate and write the shop in chunks; returns the row counts per table."""
    counts = dict.fromkeys(COLUMNS, 0)
    raw = store.engine.raw_connection()
    try:
        cursor = raw.cursor()
        if store.dialect == "sqlite":
            cursor.execute("PRAGMA synchronous=OFF")  # a file built for measuring; rebuilt if lost
            cursor.execute("PRAGMA foreign_keys=OFF")
            cursor.execute("BEGIN")
        recreate = _without_indexes(cursor, store.dialect)
        if store.dialect == "sqlite":
            cursor.execute("COMMIT")
        else:
            raw.commit()
        started = time.perf_counter()
        next_purchase_id = 1
        for first in range(1, customers + 1, CHUNK):
            chunk, next_purchase_id = generate(first, min(CHUNK, customers + 1 - first), first, next_purchase_id)
            if store.dialect == "sqlite":
                cursor.execute("BEGIN")
            for table, rows in chunk.items():
                columns = COLUMNS[table]
                if table == "survey":
                    rows = [row + ("[]",) for row in rows]
                if store.dialect == "sqlite":
                    cursor.executemany(
                        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                        [tuple(_sqlite_value(v) for v in row) for row in rows])
                else:
                    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row([_postgres_value(v) for v in row])
                counts[table] += len(rows)
            if store.dialect == "sqlite":
                cursor.execute("COMMIT")
            else:
                raw.commit()
            done = min(customers, first + CHUNK - 1)
            if done % (CHUNK * 10) == 0 or done == customers:
                elapsed = time.perf_counter() - started
                progress(f"  {done:,} customers written ({elapsed:.0f} s, {done / elapsed:,.0f} customers/s)")
        progress(f"  rows written in {time.perf_counter() - started:.0f} s; making the indexes and constraints again")
        if store.dialect == "sqlite":
            cursor.execute("BEGIN")
        for statement in recreate:
            cursor.execute(statement)
        if store.dialect == "sqlite":
            cursor.execute("COMMIT")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA foreign_key_check")
            broken = cursor.fetchall()
            assert not broken, f"generated rows break foreign keys: {broken[:3]}"
        else:
            raw.commit()
        progress(f"  indexes and constraints made ({time.perf_counter() - started:.0f} s in all)")
        cursor.execute(REVENUE_GROUPS)  # SQLite's raw connection commits each statement by itself
        if store.dialect == "postgresql":
            raw.commit()
        refreshed, elapsed = refresh_tier_points(store)
        progress(f"  tier points kept on {refreshed:,} customer rows by ledger.refresh_tier_points in {elapsed:.0f} s "
                 f"(what the bot's job does once after migration 0006)")
        if store.dialect == "postgresql":
            for table in ("customer", "purchase", "points_entry", "survey"):
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                               f"(SELECT coalesce(max(id), 1) FROM {table}))")
            raw.commit()
            raw.driver_connection.autocommit = True
            raw.driver_connection.execute("VACUUM ANALYZE")  # what autovacuum does after a load like this
            raw.driver_connection.autocommit = False
        else:
            cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        raw.close()
    return counts


# What migration 0007 fills the revenue groups with (purchases.refresh_stats keeps them after).
REVENUE_GROUPS = ("INSERT INTO revenue_group (revenue_cents, customers) "
                  "SELECT revenue_cents, count(*) FROM customer WHERE revenue_cents > 0 GROUP BY revenue_cents")


def refresh_tier_points(store: Store) -> tuple[int, float]:
    """The bot's job (bot.timers): batches of ``ledger.refresh_tier_points`` until none is left."""
    started, refreshed, after = time.perf_counter(), 0, 0
    while True:
        with store.session() as session:
            done = ledger.refresh_tier_points(session, LOYALTY, NOW, after)
        if done is None:
            return refreshed, time.perf_counter() - started
        refreshed, after = refreshed + done[0], done[1]


def measure_tier_fallback(store: Store) -> list[str]:
    """What a count of a tier costs when many kept tier points were set aside by purchases
    since the job last ran (1 % of all customers), and what the job then takes."""
    segment = segments.parse("stufe:gold", RULES)
    _, fresh = timed(store, lambda s: segments.count(s, segment, RULES, NOW))
    with store.session() as session:
        stale = session.execute(text("UPDATE customer SET tier_points_since = NULL WHERE id % 100 = 0")).rowcount
    elapsed, counted = timed(store, lambda s: segments.count(s, segment, RULES, NOW))
    assert counted == fresh, (counted, fresh)  # the ledger's sums where kept ones are missing: the same count
    refreshed, refresh_time = refresh_tier_points(store)
    idle, _ = timed(store, lambda s: ledger.refresh_tier_points(s, LOYALTY, NOW))
    return [f"stufe:gold with {stale:,} customers' kept tier points set aside: count {elapsed:.3f} s (same result); "
            f"the job refreshed {refreshed:,} rows in {refresh_time:.2f} s; with nothing to refresh it takes "
            f"{idle:.3f} s"]


def schema_fingerprint() -> str:
    digest = hashlib.sha256()
    for path in sorted(MIGRATIONS_DIR.rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def cached_sqlite(customers: int) -> tuple[Path, bool]:
    """The SQLite file of this size, generator and schema; built when missing."""
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    path = CACHE_DIR / f"segments-v{GENERATOR_VERSION}-{customers}-{schema_fingerprint()}.db"
    if path.exists():
        return path, False
    building = path.with_suffix(f".building-{os.getpid()}")
    store = Store(f"sqlite:///{building}")
    try:
        store.migrate()
        started = time.perf_counter()
        counts = load(store, customers, lambda line: print(line, flush=True))
        print(f"  SQLite file built in {time.perf_counter() - started:.0f} s: {_counts(counts)}", flush=True)
    finally:
        store.dispose()
    for suffix in ("-wal", "-shm"):
        Path(f"{building}{suffix}").unlink(missing_ok=True)
    building.rename(path)
    for stale in CACHE_DIR.glob(f"segments-v*-{customers}-*.db"):  # older generators or schemas
        if stale != path:
            stale.unlink()
    return path, True


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{table} {n:,}" for table, n in counts.items())


# --- measurements -----------------------------------------------------------------------------

def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def timed(store: Store, work: Callable) -> tuple[float, object]:
    with store.session() as session:
        started = time.perf_counter()
        result = work(session)
        return time.perf_counter() - started, result


def measure_segments(store: Store) -> list[tuple]:
    table = []
    for text_ in SEGMENTS:
        segment = segments.parse(text_, RULES)
        times, result = [], None
        for _ in range(REPEATS):
            elapsed, result = timed(store, lambda s: segments.count(s, segment, RULES, NOW))
            times.append(elapsed)
        elapsed_recipients, rows = timed(store, lambda s: segments.recipients(s, segment, RULES, NOW))
        table.append((segment.text, result.matching, result.reachable, statistics.median(times), max(times),
                      elapsed_recipients, len(rows)))
        print(f"  {segment.text:<46} {result.matching:>9,} {result.reachable:>9,}  count {statistics.median(times):6.3f} s"
              f"  recipients {elapsed_recipients:6.3f} s", flush=True)
    return table


def recipients_memory(store: Store) -> tuple[int, float]:
    """Python memory of the largest recipients list (tracemalloc peak, measured on its own)."""
    segment = segments.parse("alle", RULES)
    tracemalloc.start()
    try:
        with store.session() as session:
            rows = segments.recipients(session, segment, RULES, NOW)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return len(rows), peak / 2**20


def measure_milestones(store: Store) -> str:
    if importlib.util.find_spec("domain.milestones") is None:
        return "domain.milestones does not exist yet: the milestone scan was not timed"
    milestones = importlib.import_module("domain.milestones")
    rules = milestones.rules_from(CONFIG)
    times, due = [], None
    for _ in range(REPEATS):
        elapsed, due = timed(store, lambda s: milestones.find_due(s, rules, NOW))
        times.append(elapsed)
    size = len(due) if hasattr(due, "__len__") else due
    verdict = "ok" if statistics.median(times) <= SCAN_GOAL else "OVER THE GOAL"
    return (f"milestones.find_due: median {statistics.median(times):.3f} s, max {max(times):.3f} s "
            f"(goal ≤ {SCAN_GOAL:g} s: {verdict}); {size:,} due" if isinstance(size, int) else
            f"milestones.find_due: median {statistics.median(times):.3f} s, max {max(times):.3f} s "
            f"(goal ≤ {SCAN_GOAL:g} s: {verdict})")


def query_plans(store: Store, texts: tuple[str, ...]) -> Iterator[str]:
    """The database's plan of the count query of some segments (EXPLAIN in front of the very
    statement ``count`` runs, with its parameters)."""
    prefix = "EXPLAIN QUERY PLAN " if store.dialect == "sqlite" else "EXPLAIN "

    def explain(conn, cursor, statement, parameters, context, executemany):
        return prefix + statement, parameters

    for text_ in texts:
        segment = segments.parse(text_, RULES)
        with store.session() as session:
            query = segments.count_query(session, segment, RULES, NOW)  # reads the VIP threshold first
            event.listen(store.engine, "before_cursor_execute", explain, retval=True)
            try:
                plan = session.execute(query).all()
            finally:
                event.remove(store.engine, "before_cursor_execute", explain)
        yield f"  {text_}:"
        for row in plan:
            yield "    " + str(row[-1] if store.dialect == "sqlite" else row[0])


def report(label: str, table: list[tuple], extra: list[str]) -> None:
    print(f"\n{label}: segment counts (goal ≤ {COUNT_GOAL:g} s; count = median of {REPEATS}, recipients once)")
    print(f"{'segment':<46} | {'matching':>9} | {'reachable':>9} | count s | max s | goal | recipients s")
    for text_, matching, reachable, median, worst, elapsed_recipients, _ in table:
        goal = "ok" if median <= COUNT_GOAL else "OVER"
        print(f"{text_:<46} | {matching:>9,} | {reachable:>9,} | {median:7.3f} | {worst:5.3f} | {goal:>4} | "
              f"{elapsed_recipients:8.3f}")
    for line in extra:
        print(line)


def run(label: str, url: str, build: bool) -> None:
    print(f"\n--- {label} --- (load average {os.getloadavg()[0]:.2f})", flush=True)
    store = Store(url)
    try:
        store.migrate()
        if build:
            started = time.perf_counter()
            counts = load(store, CUSTOMERS, lambda line: print(line, flush=True))
            print(f"  loaded in {time.perf_counter() - started:.0f} s: {_counts(counts)}", flush=True)
        with store.engine.connect() as connection:
            sizes = {t: connection.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in COLUMNS}
        print(f"  rows: {_counts(sizes)}", flush=True)
        rss_before = peak_rss_mb()
        table = measure_segments(store)
        rows, python_mb = recipients_memory(store)
        extra = [f"recipients('alle'): {rows:,} (customer id, chat id) pairs, {python_mb:.0f} MB of Python memory "
                 f"at the peak (tracemalloc)",
                 f"peak RSS of the process: {peak_rss_mb():.0f} MB (before measuring: {rss_before:.0f} MB)",
                 measure_milestones(store), *measure_tier_fallback(store)]
        slowest = tuple(t for t, *_ in sorted(table, key=lambda r: -r[3])[:2])
        extra += ["query plans of the two slowest counts:", *query_plans(store, slowest)]
        report(label, table, extra)
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
    print(f"{os.cpu_count()} CPU cores; {CUSTOMERS:,} customers; generator v{GENERATOR_VERSION}; "
          f"now = {NOW:%Y-%m-%d %H:%M} UTC")
    started = time.perf_counter()
    path, built = cached_sqlite(CUSTOMERS)
    print(f"SQLite file {'built' if built else 'cached'}: {path} ({path.stat().st_size / 2**20:,.0f} MB)")
    run("SQLite (file, WAL)", f"sqlite:///{path}", build=False)
    if os.environ.get("STAMMGAST_BENCH_SQLITE_ONLY") != "1":
        postgres = postgres_database()
        if postgres is not None:
            url, drop = postgres
            try:
                run("PostgreSQL (127.0.0.1:5432)", url, build=True)
            finally:
                drop()
    print(f"\ntotal run time {time.perf_counter() - started:.0f} s (load average now {os.getloadavg()[0]:.2f})")


async def main() -> None:
    run_all()  # synchronous database work, as the bot's handlers do it in their threads


if __name__ == "__main__":
    if len(sys.argv) > 1:
        CUSTOMERS = int(sys.argv[1].replace("_", ""))
    run_all()
