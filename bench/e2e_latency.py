"""End-to-end latency: from a user's message entering the fake Bot API to the bot's reply
arriving there, through the real bot process, the real Rasa server and a SQLite database.

1. Shop traffic: 50 users write 10 messages each (500 in all); each user waits for the
   answer and "thinks" a random while (exponential, mean 2.5 s) before the next message, so
   some 12 messages per second arrive in all (measured) - a very busy shop. Target p95 <= 150 ms on
   the 2-core machine.
2. Saturation: the same 50 users write without thinking; the latency then is mostly waiting
   in line, and the throughput is the most the machine answers.
3. Sustained rate: 500 messages sent at once; messages per second until all are answered.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import tempfile
import time
from pathlib import Path

import yaml

from bench.stats import summary_ms
from nlu.server import RasaServer
from nlu.settings import NluSettings
from nlu.training import ensure_model
from tests.e2e.harness import REPO, BotProcess, bot_environment
from tests.e2e.journeys import onboarded
from tests.fakebotapi import FakeBotApi

USERS = 50
MESSAGES_PER_USER = 10
MEAN_THINK_SECONDS = 2.5


def questions() -> list[str]:
    """FAQ questions and small talk that each get exactly one answer."""
    held_out = yaml.safe_load((REPO / "tests" / "nlu" / "heldout.yml").read_text(encoding="utf-8"))
    faq = [phrase for phrases in held_out["faq"].values() for phrase in phrases]
    return faq + held_out["intents"]["greet"] + held_out["intents"]["thanks"]


async def closed_loop(users, texts, think: float = 0.0) -> tuple[list[float], float]:
    latencies: list[float] = []
    rng = random.Random(42)

    async def converse(user, own_texts):
        for text in own_texts:
            if think:
                await asyncio.sleep(rng.expovariate(1 / think))  # load generation, not a test
            started = time.perf_counter()
            await user.send_text(text)
            await user.next_message(timeout=60)
            latencies.append(time.perf_counter() - started)

    cycle = itertools.cycle(texts)
    plans = [[next(cycle) for _ in range(MESSAGES_PER_USER)] for _ in users]
    started = time.perf_counter()
    await asyncio.gather(*(converse(u, plan) for u, plan in zip(users, plans)))
    return latencies, time.perf_counter() - started


async def burst(users, texts) -> float:
    cycle = itertools.cycle(texts)
    started = time.perf_counter()
    for _ in range(MESSAGES_PER_USER):
        for user in users:
            await user.send_text(next(cycle))

    async def collect(user):
        for _ in range(MESSAGES_PER_USER):
            await user.next_message(timeout=120)

    await asyncio.gather(*(collect(u) for u in users))
    return time.perf_counter() - started


async def main() -> None:
    settings = NluSettings()
    model = ensure_model(settings)
    texts = questions()
    with tempfile.TemporaryDirectory() as tmp:
        async with FakeBotApi() as api, RasaServer(model, settings) as nlu:
            env = bot_environment(api, f"sqlite:///{tmp}/bench.db", nlu.url)
            bot = await BotProcess(api, env, Path(tmp) / "bot.log").start()
            api.new_group(chat_id=int(env["STAMMGAST_STAFF_CHAT_ID"]))
            users = await asyncio.gather(*(onboarded(api, f"Gast{i}") for i in range(USERS)))
            latencies, wall = await closed_loop(users, texts, think=MEAN_THINK_SECONDS)
            print(f"shop traffic, {USERS} users x {MESSAGES_PER_USER} messages at {len(latencies) / wall:.1f} msg/s: "
                  f"{summary_ms(latencies)}  (target p95 <= 150 ms)")
            latencies, wall = await closed_loop(users, texts)
            print(f"saturation, {USERS} users writing without pause: {summary_ms(latencies)}, "
                  f"{len(latencies) / wall:.1f} msg/s")
            total = USERS * MESSAGES_PER_USER
            elapsed = await burst(users, texts)
            print(f"burst of {total} messages from {USERS} users: all answered in {elapsed:.1f} s "
                  f"= {total / elapsed:.1f} msg/s sustained")
            await bot.stop()
