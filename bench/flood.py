"""One chat floods the bot while 30 customers chat at shop traffic (issue 16).

The real bot process, the real Rasa server, SQLite, and the fake Bot API with Telegram's limits
(30/s in all, 1/s per chat, 20/min per group) and the staff group. Three runs, each with a
fresh bot and database (so the bot's parse cache starts empty each time), the same 30
customers' plans (``bench.shop``: FAQ, small talk, points, complaints, praise, two open
tickets) and the same thinking times:

1. baseline: the 30 customers alone;
2. burst flood: one more (onboarded) chat sends 400 messages as fast as it can (all within a
   few milliseconds), 3 s after the others started;
3. steady flood: the same chat sends 400 messages at 10 a second (40 s, most of the run).

The flood texts mix FAQ questions, small talk, complaints that tell a story (each could open a
ticket) and requests for a person. Reported per run: the others' p50/p95/max and lost messages
(no reply within 30 s), the 429s the flooder's chat got from the fake's flood limits, the
tickets the flooder opened and the staff-group messages about it, the "slow down" notes it got
and how many of its 400 the bot answered. Targets: others' p95 within 1.5 x the baseline, none
of theirs lost, no 429 for the flooder, at most one ticket from it.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import tempfile
from pathlib import Path

from sqlmodel import select

from bench import shop
from bench.stats import summary_ms
from nlu.server import RasaServer
from nlu.settings import NluSettings
from nlu.training import ensure_model
from storage.db import Store
from storage.models import Ticket
from tests.e2e.harness import STAFF_CHAT_ID, BotProcess, bot_environment
from tests.e2e.journeys import customer_of, onboarded
from tests.fakebotapi import FakeBotApi

USERS = int(os.environ.get("FLOOD_BENCH_USERS", "30"))
MESSAGES = int(os.environ.get("FLOOD_BENCH_MESSAGES", "20"))
FLOOD = 400
FLOOD_DELAY = 3.0  # seconds after the others started
STEADY_RATE = 10.0  # messages a second in the steady flood


def flood_texts() -> list[str]:
    kinds = shop.texts_by_kind()
    mixed = list(itertools.chain.from_iterable(zip(kinds["faq"], itertools.cycle(kinds["smalltalk"]),
                                                   itertools.cycle(kinds["complaint"]),
                                                   itertools.cycle([shop.HANDOFF, "Ich will sofort mit dem Chef reden"]))))
    return list(itertools.islice(itertools.cycle(mixed), FLOOD))


async def flood(user, texts: list[str], rate: float | None) -> float:
    await asyncio.sleep(FLOOD_DELAY)
    loop = asyncio.get_running_loop()
    started = loop.time()
    for index, text in enumerate(texts):
        await user.send_text(text)
        if rate:
            await asyncio.sleep(max(0.0, started + (index + 1) / rate - loop.time()))
        else:
            await asyncio.sleep(0)
    return loop.time() - started


def tickets_of(url: str, customer_id: int) -> list[Ticket]:
    store = Store(url)
    try:
        with store.session() as session:
            return list(session.exec(select(Ticket).where(Ticket.customer_id == customer_id)))
    finally:
        store.dispose()


async def run(label: str, nlu_url: str, tmp: Path, mode: str | None) -> dict:
    url = f"sqlite:///{tmp}/flood-{label}.db"
    async with FakeBotApi() as api:
        api.enforce_rate_limits()
        staff = api.new_group(title="Team Morgenrot", chat_id=STAFF_CHAT_ID)
        env = bot_environment(api, url, nlu_url, STAMMGAST_LOG_LEVEL="DEBUG")
        bot = await BotProcess(api, env, tmp / f"bot-{label}.log").start()
        users = await asyncio.gather(*(onboarded(api, f"Gast{i}") for i in range(USERS)))
        flooder = await onboarded(api, "Flo")
        await shop.open_tickets_before(users)
        staff.drain_messages()
        lines_before = len(bot.log().splitlines())
        traffic_task = asyncio.ensure_future(shop.shop_traffic(users, shop.plans(USERS, MESSAGES)))
        flood_seconds = None
        if mode is not None:
            flood_seconds = await flood(flooder, flood_texts(), STEADY_RATE if mode == "steady" else None)
        traffic = await traffic_task
        await asyncio.sleep(5)  # the flooder's last answers
        handled = shop.handled_lines(bot.log().splitlines()[lines_before:])
        others = traffic.latencies()
        print(f"\n{label}: {len(traffic.samples)} messages of {USERS} customers in {traffic.wall:.0f} s; "
              f"lost {len(traffic.lost)}", flush=True)
        print(f"  others end-to-end: {summary_ms(others)}", flush=True)
        free = traffic.latencies(paced=False)
        print(f"    sent >= 1 s after the bot's previous message to the chat: {summary_ms(free)}", flush=True)
        result = {"p50": shop.ms(others, .5), "p95": shop.ms(others, .95), "max": max(others) * 1000,
                  "lost": len(traffic.lost), "n": len(traffic.samples), "free_p95": shop.ms(free, .95),
                  "free_p50": shop.ms(free, .5)}
        if mode is not None:
            to_flooder = [m.text or "" for m in flooder.drain_messages()]
            slow = sum(1 for t in to_flooder if shop.SLOW_DOWN in t)
            flooder_429 = len([c for c in api.calls(status=429) if str(c.chat_id) == str(flooder.id)])
            store = Store(url)
            try:
                tickets = tickets_of(url, customer_of(store, flooder).id)
            finally:
                store.dispose()
            group = [m.text or "" for m in staff.drain_messages()]
            about = [t for t in group if "Flo" in t]
            print(f"  flooder: 400 messages in {flood_seconds:.2f} s; bot messages to it: {len(to_flooder)} "
                  f"({slow} 'slow down', {len(to_flooder) - slow} answers); 429s for its chat: {flooder_429}; "
                  f"tickets opened: {len(tickets)}; staff-group messages about it: {len(about)} "
                  f"(of {len(group)} in the group during the run)", flush=True)
            print(f"  'message handled' lines during the run: {len(handled)} (the others sent "
                  f"{len(traffic.samples)})", flush=True)
            result.update(slow=slow, answered=len(to_flooder) - slow, flooder_429=flooder_429,
                          tickets=len(tickets), staff_about=len(about), staff_all=len(group))
        pairs = shop.match(traffic, handled)
        unpaced = [e["ms"] - e["nlu_ms"] for sample, e in pairs if not sample.paced]
        print(f"  429s from the fake's flood limits, all chats: {api.rate_limit_hits}; "
              f"bot's own time (ms - nlu_ms) p50 {shop.percentile(shop.own_times_ms(handled), .5):.1f} ms, "
              f"of the others' messages not paced p50 {shop.percentile(unpaced, .5):.1f} ms (n={len(unpaced)})",
              flush=True)
        await bot.stop()
        errors = shop.error_lines(bot.log())
        print(f"  bot log: {len(errors)} error/failed lines" + "".join(f"\n    {e[:300]}" for e in errors[:5]),
              flush=True)
        result["errors"] = len(errors)
        return result


async def main(argv: list[str] | None = None) -> None:
    settings = NluSettings()
    model = ensure_model(settings)
    modes = os.environ.get("FLOOD_BENCH_RUNS", "baseline,burst,steady").split(",")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        async with RasaServer(model, settings) as nlu:
            print(f"{os.cpu_count()} CPU cores; {USERS} customers x {MESSAGES} messages; flood {FLOOD} messages",
                  flush=True)
            for mode in modes:
                results[mode] = await run(mode, nlu.url, Path(tmp), None if mode == "baseline" else mode)
    if "baseline" in results:
        base = results["baseline"]["p95"]
        for mode in modes:
            if mode != "baseline":
                print(f"{mode}: others' p95 {results[mode]['p95']:.0f} ms vs {base:.0f} ms without a flood = "
                      f"{results[mode]['p95'] / base:.2f} x (target <= 1.5); not paced: "
                      f"{results[mode]['free_p95']:.0f} ms vs {results['baseline']['free_p95']:.0f} ms = "
                      f"{results[mode]['free_p95'] / results['baseline']['free_p95']:.2f} x", flush=True)
