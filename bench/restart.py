"""A start without a deaf minute (issue 16): the bot starts its own (bundled) Rasa server, as in
production without NLU_URL, and customers write free text while Rasa is still loading.

The real bot process (``python -m bot run`` without NLU_URL: it starts Rasa with the cached
model of ``nlu/project``), SQLite, the fake Bot API with Telegram's limits and the staff group.
As soon as the bot polls (Rasa is loading then):

- three customers go through /start and the consent button (commands and buttons work at once)
  and each sends two free texts: a FAQ question and a points question; one of them also asks for
  a person (a ticket must open);
- two new customers write a FAQ question as their very first message, 15 s later;
- one customer sends /hilfe (a command: answered at once).

Reported: the seconds from the process start to the bot polling, to the answer of /hilfe, and to
the first understood free-text answer; whether every free text got its proper answer (the FAQ
answer, the points, the ticket) and none "Freie Texte kann ich gerade leider nicht verstehen";
and the bot log's "nlu ready for the bot" (seconds after start, seconds Rasa took to load).
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import time
from pathlib import Path

from bench import shop
from nlu.faq import load_catalog
from tests.e2e.harness import STAFF_CHAT_ID, BotProcess, bot_environment
from tests.e2e.journeys import onboarded
from tests.fakebotapi import FakeBotApi, parse_html

WAIT_SECONDS = 300
LATE_SECONDS = 15.0


async def main(argv: list[str] | None = None) -> None:
    held_out = shop.held_out()["faq"]
    catalog = load_catalog()
    answer = {topic: parse_html(catalog.topics[topic].answer_for("de")).text for topic in held_out}
    # The opening hours are written from config.yml (bot/opening_hours.py), not from the FAQ's text.
    answer["opening_hours"] = "Unsere Öffnungszeiten"
    topics = ["opening_hours", "shipping", "payment", "location", "wifi_laptop"]
    with tempfile.TemporaryDirectory() as tmp:
        async with FakeBotApi() as api:
            api.enforce_rate_limits()
            staff = api.new_group(title="Team Morgenrot", chat_id=STAFF_CHAT_ID)
            env = bot_environment(api, f"sqlite:///{tmp}/restart.db", None)
            began = time.perf_counter()
            bot = await BotProcess(api, env, Path(tmp) / "bot.log").start(timeout=120)
            polling = time.perf_counter() - began
            expected: list[tuple[object, str, str, float]] = []  # user, what, check, sent at

            async def early(index: int):
                user = await onboarded(api, f"Gast{index}")
                topic = topics[index]
                await user.send_text(held_out[topic][1])
                expected.append((user, f"FAQ {topic}", answer[topic], time.perf_counter()))
                await user.send_text(shop.POINTS[index])
                expected.append((user, "points", "⭐ Deine Punkte", time.perf_counter()))
                if index == 0:
                    await user.send_text(shop.HANDOFF)
                    expected.append((user, "ticket", "Ich habe unserem Team Bescheid gesagt", time.perf_counter()))

            async def late(index: int):
                await asyncio.sleep(LATE_SECONDS)
                user = api.new_user(first_name=f"Neu{index}")
                topic = topics[index]
                await user.send_text(held_out[topic][2])
                expected.append((user, f"first message, FAQ {topic}", answer[topic], time.perf_counter()))

            async def command():
                user = await onboarded(api, "Hilde")
                sent = time.perf_counter()
                await user.send_command("/hilfe")
                reply = await user.next_message(timeout=60)
                return time.perf_counter() - began, time.perf_counter() - sent, "So funktioniert" in (reply.text or "")

            results = await asyncio.gather(early(0), early(1), early(2), late(3), late(4), command())
            help_at, help_latency, help_ok = results[-1]

            answered_at: dict[int, float] = {}

            def proper(entry) -> bool:
                user, _, check, _ = entry
                return any(check in (m.text or "") for m in user.messages)

            while len(answered_at) < len(expected) and time.perf_counter() - began < WAIT_SECONDS:
                for number, entry in enumerate(expected):
                    if number not in answered_at and proper(entry):
                        answered_at[number] = time.perf_counter()
                await asyncio.sleep(0.05)
            ready = json.loads(await bot.wait_for_log('"nlu ready for the bot"', timeout=WAIT_SECONDS))
            await asyncio.sleep(1)
            understood_ok = all(proper(e) for e in expected)
            deaf = sum(1 for e in expected for m in e[0].messages if shop.CANNOT_UNDERSTAND in (m.text or ""))
            first = min(answered_at.values()) - began if answered_at else float("nan")
            tickets = [m.text for m in staff.messages if (m.text or "").startswith("🆕")]
            print(f"{os.cpu_count()} CPU cores; bot without NLU_URL (bundled Rasa server, cached model)", flush=True)
            print(f"  process start -> polling: {polling:.1f} s; /hilfe answered {help_at:.1f} s after the start "
                  f"({help_latency * 1000:.0f} ms after it was sent, ok: {help_ok})", flush=True)
            print(f"  'nlu ready for the bot': {ready.get('seconds_after_start')} s after the start "
                  f"(Rasa loaded in {ready.get('seconds_to_load')} s, starts: {ready.get('starts')})", flush=True)
            print(f"  first understood answer: {first:.1f} s after the process start", flush=True)
            for number, (user, what, _, sent) in enumerate(expected):
                got = answered_at.get(number)
                print(f"    {user.first_name:<7} {what:<32} sent at {sent - began:5.1f} s, answered "
                      + (f"at {got - began:5.1f} s" if got else "NEVER"), flush=True)
            print(f"  free texts sent during the start: {len(expected)}; properly answered: {len(answered_at)} "
                  f"(all: {understood_ok}); 'Freie Texte kann ich gerade leider nicht verstehen': {deaf}; "
                  f"ticket alerts in the staff group: {len(tickets)}; 429s: {api.rate_limit_hits}", flush=True)
            await bot.stop()
            errors = shop.error_lines(bot.log())
            print(f"  bot log: {len(errors)} error/failed lines" + "".join(f"\n    {e[:300]}" for e in errors[:5]),
                  flush=True)
