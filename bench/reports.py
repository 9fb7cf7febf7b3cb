"""The owner's key figures (``/bericht``) at scale: ``domain.reports.build`` over the synthetic
shop of ``bench.segments`` (1,000,000 customers, 4.4 million purchases), on SQLite (the cached
file) and on PostgreSQL (a fresh database on 127.0.0.1, loaded here, dropped after; skipped with
a notice when unreachable), each part of the report timed on its own; then the dashboard picture
rendered (``bot.dashboard.render``, the second of two renders, so font loading is not counted).
First the bot's job keeps the standing at every midnight of the last ``report_days.KEEP_DAYS``
days (timed: what an import or the upgrade costs once, in the background). The whole report is
timed twice: first with nothing in ``report_cache``, then again, when the costly figures of a
period that has ended come from there.

Goals (issue 18): the report in 2 s on either database, the picture in 1 s.

``./stammgast bench reports``; ``python -m bench.reports 100000`` for a quick look;
``STAMMGAST_BENCH_SQLITE_ONLY=1`` skips PostgreSQL.
"""

from __future__ import annotations

import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from zoneinfo import ZoneInfo

from sqlalchemy import delete

from bench import segments as shop
from bot import dashboard
from bot.texts import Texts, Voice
from domain import report_days, reports, surveys
from storage.db import Store
from storage.models import ReportCache, ReportDay

REPORT_GOAL, RENDER_GOAL = 2.0, 1.0
ZONE = "Europe/Berlin"
RULES = reports.Rules(active_days=365, timezone=ZONE, loyalty=shop.LOYALTY)
COUNTING = reports.counting_of(RULES)
PERIODS = ("", "90", "oktober 2026")


def _parts(period, rules: reports.Rules):
    start, end = period.start, period.end
    return {
        "customers at the start (S), counted": lambda s: report_days.customers_at(s, start, rules.active_days),
        "customers at the end per tier (E), counted": lambda s: reports.customers_per_tier(s, end, rules, shop.NOW),
        "standing at the start from the kept midnight": lambda s: report_days.standing_at(s, start, COUNTING),
        "standing at the end from the kept midnight": lambda s: report_days.standing_at(s, end, COUNTING),
        "new customers (N)": lambda s: reports._new_customers(s, start, end),
        "purchases, buyers, revenue": lambda s: reports._purchase_figures(s, start, end),
        "ABC (12 months), counted": lambda s: reports.abc(s, end, shop.NOW),
        "points issued, redeemed, moved": lambda s: reports._points_moved(s, start, end),
        "NPS": lambda s: surveys.report(s, period, ZONE),
        "tickets": lambda s: reports._ticket_figures(s, start, end, rules),
        "campaigns": lambda s: reports._campaign_figures(s, start, end),
    }


def keep_days(store: Store) -> None:
    """The bot's job after an import (or the first start after the upgrade): every midnight of
    the last ``report_days.KEEP_DAYS`` days counted, a round of a few days per transaction; then
    the job's round when nothing changed, and after a day's purchases."""
    with store.session() as session:
        session.execute(delete(ReportDay))  # the cached file may hold them from an earlier run
    rounds, started = [], time.perf_counter()
    while True:
        began = time.perf_counter()
        with store.session() as session:
            added = report_days.keep(session, COUNTING, ZoneInfo(ZONE), shop.NOW)
        rounds.append(time.perf_counter() - began)
        if not added:
            break
    print(f"\n  kept midnights: {report_days.KEEP_DAYS + 1} days in {time.perf_counter() - started:.1f} s "
          f"({len(rounds)} rounds of up to {report_days.DAYS_PER_CALL} days; the first, counted from the purchases "
          f"and the ledger, {rounds[0]:.1f} s, the longest of the others {max(rounds[1:]):.1f} s)", flush=True)
    with store.session() as session:
        began = time.perf_counter()
        report_days.keep(session, COUNTING, ZoneInfo(ZONE), shop.NOW)
    print(f"  the job's round with nothing to add: {time.perf_counter() - began:.3f} s", flush=True)


def side_by_side(store: Store, period) -> reports.Report:
    """The report as ``Services.count_report`` counts it: each period in a read of its own, in
    two threads (the bot's ``asyncio.to_thread``)."""
    cache = reports.cached_for(period, shop.NOW)

    def one(each):
        with store.reading() as session:
            return reports.count(session, each, RULES, shop.NOW, cache)

    with ThreadPoolExecutor(max_workers=2) as pool:
        current, before = pool.map(one, (period, reports.previous(period)))
    return reports.report_of(current, before)


def measure(store: Store) -> reports.Report:
    keep_days(store)
    report = None
    for text in PERIODS:
        period = reports.parse_period(text, shop.NOW, ZONE)
        print(f"\n  /bericht {text or '(last 30 days)'}: {period.start:%Y-%m-%d} - {period.end:%Y-%m-%d}", flush=True)
        for name, part in _parts(period, RULES).items():
            with store.session() as session:
                started = time.perf_counter()
                part(session)
                print(f"    {name:36} {time.perf_counter() - started:6.2f} s", flush=True)
        with store.session() as session:
            session.execute(delete(ReportCache))  # the cached file may hold them from an earlier run
        with store.reading() as session:
            started = time.perf_counter()
            reports.build(session, period, RULES, shop.NOW)
            print(f"    whole report, the two periods one after the other: {time.perf_counter() - started:.2f} s",
                  flush=True)
        for label in ("first, nothing cached", "again, the past periods cached"):
            started = time.perf_counter()
            report = side_by_side(store, period)
            elapsed = time.perf_counter() - started
            with store.session() as session:
                reports.remember(session, report)  # as /bericht does after reading
            print(f"    whole report (the period and the one before side by side, as the bot counts it), {label}: "
                  f"{elapsed:.2f} s (goal {REPORT_GOAL:.0f} s: {'met' if elapsed <= REPORT_GOAL else 'MISSED'})",
                  flush=True)
        now = report.current
        print(f"    S {now.customers_start:,}, E {now.customers_end:,}, N {now.new_customers:,}, "
              f"Kundenbindungsrate {now.retention_rate} %, Wiederkaufrate {now.repeat_rate} %, "
              f"Kauffrequenz {now.frequency}, Bon {now.average_cents} ct, NPS {now.nps.summary.nps}, "
              f"ABC A {now.abc.customer_share(now.abc.a)} % of customers bring {now.abc.revenue_share(now.abc.a)} %",
              flush=True)
    return report


def render(report: reports.Report) -> None:
    texts = Texts("Kaffeehaus Benchmark")
    timings = []
    for _ in range(2):
        started = time.perf_counter()
        picture = dashboard.render(report, texts, Voice("de"), ZoneInfo(ZONE))
        timings.append(time.perf_counter() - started)
    print(f"\n  dashboard: {len(picture) / 1024:.0f} KB PNG, first render {timings[0]:.2f} s, then {timings[1]:.2f} s "
          f"(goal {RENDER_GOAL:.0f} s: {'met' if timings[1] <= RENDER_GOAL else 'MISSED'})", flush=True)


def run_all() -> None:
    print(f"{os.cpu_count()} CPU cores; {shop.CUSTOMERS:,} customers; now = {shop.NOW:%Y-%m-%d %H:%M} UTC")
    path, built = shop.cached_sqlite(shop.CUSTOMERS)
    print(f"\n--- SQLite (file, {'built' if built else 'cached'}: {path.name}) ---", flush=True)
    store = Store(f"sqlite:///{path}")
    try:
        report = measure(store)
    finally:
        store.dispose()
    render(report)
    if os.environ.get("STAMMGAST_BENCH_SQLITE_ONLY") == "1":
        return
    postgres = shop.postgres_database()
    if postgres is None:
        return
    url, drop = postgres
    store = Store(url)
    try:
        print("\n--- PostgreSQL (127.0.0.1:5432) ---", flush=True)
        store.migrate()
        started = time.perf_counter()
        shop.load(store, shop.CUSTOMERS, lambda line: print(line, flush=True))
        print(f"  loaded in {time.perf_counter() - started:.0f} s", flush=True)
        measure(store)
    finally:
        store.dispose()
        drop()


async def main() -> None:
    run_all()  # synchronous database work, as the bot's handlers do it in their threads


if __name__ == "__main__":
    if len(sys.argv) > 1:
        shop.CUSTOMERS = int(sys.argv[1].replace("_", ""))
    run_all()
