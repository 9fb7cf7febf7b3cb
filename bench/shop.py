"""Shop traffic with a realistic mix, shared by ``e2e_latency``, ``flood`` and ``broadcast``.

Customers each ask, wait for the bot's first reply (the measured time), read it (a quarter
of a second a word, as people read on a phone: ``READ_SECONDS_PER_WORD``), think a while
(exponential, mean 2 s) and ask again. ``E2E_BENCH_READING=0`` leaves the reading out, as the
runs before 2026-12-07 did: then about 40 % of the messages come less than a second after the
bot's previous answer, which nobody who read it can do. The mix, per customer (``plans``):

- most messages are FAQ questions (held-out phrases of ``nlu/heldout/de_clean.yml``), small
  talk and points questions ("Wie viele Punkte habe ich?");
- a few customers complain once: some tell the story at once (a ticket opens, the staff group
  gets an alert), some only say they are unhappy, so the bot asks what happened and their
  next message (the details, measured as a message of its own) opens the ticket;
- a few praise the shop (the feedback goes to the staff group);
- two customers have an open ticket from before the run (they asked for a person). While a
  customer has an open ticket, the bot answers their points questions itself and passes small
  talk and praise to the team; once something went to the ticket they count as talking with
  the team (two hours), and their FAQ questions go there too ("Die Lieferung kam nie an" is a
  detail for the team then, not a shipping question). "Weitergeleitet" comes once per burst;
  a customer who hears nothing writes on after ``RELAY_PATIENCE``, and such a message is
  measured until the staff group has it (``Sample.to_team``). The complaining customers are
  in the same position after their complaint.

Everything the bot sends to the staff group passes Telegram's 20 messages a minute there, so
the group is busy: that is the point of the mix.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.stats import percentile
from nlu.dataset import held_out_raw
from tests.e2e.harness import REPO, STAFF_CHAT_ID
from tests.fakebotapi import FakeBotApi

MEAN_THINK_SECONDS = 2.0
READ_SECONDS_PER_WORD = 0.25  # about 240 words a minute
READING = os.environ.get("E2E_BENCH_READING", "1") != "0"
PER_CHAT_SECONDS = 1.0  # Telegram: about one message a second per chat
REPLY_TIMEOUT = 30.0  # a reply later than this counts as lost
# A customer whose message on an open ticket gets no answer writes on after this long (the bot
# says "Weitergeleitet" once per burst and passes the later messages on without a word).
RELAY_PATIENCE = 5.0
RELAY_SETTLE_TIMEOUT = 180.0  # after the run: how long relayed messages may take to reach the group
OPEN_TICKET_USERS = 2  # customers 0 and 1 asked for a person before the run
COMPLAINING_USERS = range(2, 8)  # complain once; the even ones tell the story at once
PRAISING_USERS = range(8, 13)  # praise once
HANDOFF = "Kann ich bitte mit jemandem aus dem Team reden?"
SHORT_COMPLAINTS = ["Ich bin total unzufrieden", "Das war echt ärgerlich", "Ich muss mich beschweren"]
COMPLAINT_DETAILS = ["Der Milchschaum war heute ganz flach und der Cappuccino nur lauwarm",
                     "Ich habe zwanzig Minuten auf meinen Kuchen gewartet und keiner hat Bescheid gesagt",
                     "Die Bohnen aus meiner Bestellung 5521 schmecken muffig und alt"]
COMPLAINT_ASKED = "Das tut mir leid"  # the bot's "what happened?" after a short complaint
POINTS = ["Wie viele Punkte habe ich?", "Wie viele Punkte stehen gerade auf meinem Konto?",
          "Was ist mein Punktestand aktuell?", "Zeig mal meinen Punktestand",
          "Wie viele Punkte habe ich bisher gesammelt?"]
SLOW_DOWN = "das ging mir gerade zu schnell"
CANNOT_UNDERSTAND = "Freie Texte kann ich gerade leider nicht verstehen"


def held_out() -> dict:
    return held_out_raw("de_clean")


def texts_by_kind() -> dict[str, list[str]]:
    data = held_out()
    intents = data["intents"]
    return {
        "faq": [phrase for phrases in data["faq"].values() for phrase in phrases],
        "smalltalk": intents["greet"] + intents["thanks"],
        "points": POINTS,
        "complaint": [t for t in intents["complaint"] if len(t.split()) >= 5],
        "praise": ["Ich wollte einfach mal sagen, dass euer Kaffee klasse ist", "Ganz großes Lob an euer Team",
                   "Euer Café ist wirklich wunderschön, macht weiter so"],
    }


@dataclass
class Sample:
    user: int
    kind: str
    text: str
    latency: float | None  # None: no reply within REPLY_TIMEOUT (lost)
    reply: str = ""
    gap: float = 99.0  # seconds since the bot's previous message to this chat arrived
    arrived_wall: float = 0.0  # time.time() when the reply arrived (to match the bot's log lines)
    # Passed on to the team without a word to the customer (a message on an open ticket that is
    # not the first of a burst): ``latency`` is the time until the staff group had it.
    to_team: bool = False
    # From the Bot API's answer to getUpdates that delivered the message to the arrival of the
    # bot's reply request: the bot's share of ``latency`` (Telegram's own work and the two trips
    # over the network left out); None when it could not be told.
    bot_seconds: float | None = None
    sent_at: float = 0.0  # the fake Bot API's clock when it was sent

    @property
    def paced(self) -> bool:
        """Sent less than a second after the bot's previous message to this chat: Telegram's
        one message a second per chat (the fake enforces it, the bot paces its replies) makes
        this reply wait for the rest of that second."""
        return self.gap < PER_CHAT_SECONDS


@dataclass
class Traffic:
    samples: list[Sample] = field(default_factory=list)
    wall: float = 0.0
    extra_replies: int = 0  # replies that came after the first one to a message (drained unmeasured)

    def latencies(self, kinds: set[str] | None = None, paced: bool | None = None) -> list[float]:
        """Times to the bot's first reply to the customer (messages passed on quietly excluded)."""
        return [s.latency for s in self.samples if s.latency is not None and not s.to_team
                and (kinds is None or s.kind in kinds) and (paced is None or s.paced == paced)]

    def to_team_latencies(self) -> list[float]:
        """Times until the staff group had the messages passed on without a reply."""
        return [s.latency for s in self.samples if s.latency is not None and s.to_team]

    @property
    def lost(self) -> list[Sample]:
        return [s for s in self.samples if s.latency is None]

    @property
    def rate(self) -> float:
        return len(self.samples) / self.wall if self.wall else 0.0


def plans(users: int, per_user: int, seed: int = 7) -> list[list[tuple[str, str]]]:
    """What each customer will send: (kind, text); follow-ups (complaint details) are added
    during the run when the bot asks for them."""
    kinds = texts_by_kind()
    rng = random.Random(seed)
    everyday = ["faq"] * 11 + ["smalltalk"] * 4 + ["points"] * 5
    result = []
    for user in range(users):
        plan = []
        for _ in range(per_user):
            kind = rng.choice(everyday)
            if user < OPEN_TICKET_USERS and kind == "smalltalk":
                kind = "relay"  # small talk on an open ticket goes to the team
            plan.append((kind, rng.choice(kinds["smalltalk" if kind == "relay" else kind])))
        if user < OPEN_TICKET_USERS:
            for position in rng.sample(range(per_user), 2):
                plan[position] = ("relay", rng.choice(kinds["praise"]))
        if user in COMPLAINING_USERS:
            position = rng.randrange(per_user // 2)
            if user % 2 == 0:
                plan[position] = ("complaint", rng.choice(kinds["complaint"]))
            else:
                plan[position] = ("complaint_short", rng.choice(SHORT_COMPLAINTS))
            # after the ticket opened, the customer's small talk is relayed to it
            plan[position + 1:] = [("relay" if k == "smalltalk" else k, t) for k, t in plan[position + 1:]]
        if user in PRAISING_USERS:
            position = rng.randrange(per_user)
            plan[position] = ("praise", rng.choice(kinds["praise"]))
        result.append(plan)
    return result


async def open_tickets_before(users) -> None:
    """Customers 0 and 1 ask for a person: a ticket opens for each (alert to the staff group)."""
    for user in users[:OPEN_TICKET_USERS]:
        await user.send_text(HANDOFF)
        reply = await user.next_message(timeout=60)
        assert "Bescheid gesagt" in (reply.text or ""), reply.text


def _relayed(message_text: str, user, text: str) -> bool:
    """Whether a staff-group text carries ``text`` from ``user`` ("💬 Name (#12): text", later
    lines of a burst merged below it)."""
    return message_text.startswith(f"💬 {user.first_name} (#") and text in message_text


def _relayed_html(html_text: str, user, text: str) -> bool:
    """``_relayed`` for the HTML of a send request."""
    return (html_text.startswith(f"💬 <b>{user.first_name}</b> (#")
            and any(form in html_text for form in {text, html.escape(text), html.escape(text, quote=False)}))


async def first_sign(user, text: str, staff_chat_id: int, timeout: float = REPLY_TIMEOUT):
    """The bot's first reply to ``user``, or None when the staff group got ``text`` first: a
    message on an open ticket that is not the first of a burst goes to the team without a word
    to the customer ("Weitergeleitet" comes once per burst)."""
    replies_before, group_before = len(user.messages), len(user.api.sent_messages(staff_chat_id))

    def seen() -> str | None:
        if len(user.messages) > replies_before:
            return "customer"
        relayed = user.api.sent_messages(staff_chat_id)[group_before:]
        return "team" if any(_relayed(m.text or "", user, text) for m in relayed) else None

    if await user.api.wait_until(seen, timeout, "a reply or the message in the staff group") == "customer":
        return await user.next_message(timeout=timeout)
    return None


async def shop_traffic(users, user_plans, think: float = MEAN_THINK_SECONDS, seed: int = 42,
                       staff_chat_id: int = STAFF_CHAT_ID) -> Traffic:
    """Each user sends its plan; the time to the bot's first reply to each message is measured
    (for a message passed on to the team without a reply: the time until the staff group had
    it); further replies are drained before the next message (counted as ``extra_replies``)."""
    traffic = Traffic()

    async def converse(index, user, plan):
        rng = random.Random(seed * 1000 + index)
        queue = list(plan)
        last_reply, reading = -99.0, 0.0
        has_ticket = index < OPEN_TICKET_USERS  # then all they write goes to the team (see above)
        while queue:
            kind, text = queue.pop(0)
            await asyncio.sleep(reading + rng.expovariate(1 / think))  # load generation, not a test
            reading = 0.0
            drained = user.drain_messages()
            if drained:
                traffic.extra_replies += len(drained)
                last_reply = time.perf_counter()  # (at the latest)
            started, sent_at = time.perf_counter(), user.api.clock()
            await user.send_text(text)
            try:
                reply = await first_sign(user, text, staff_chat_id, RELAY_PATIENCE if has_ticket else REPLY_TIMEOUT)
            except AssertionError:  # lost, or passed on to the team and not there yet (settled below)
                traffic.samples.append(Sample(index, kind, text, None, gap=started - last_reply,
                                              to_team=has_ticket, sent_at=sent_at))
                continue
            arrived = time.perf_counter()
            if reply is None:
                traffic.samples.append(Sample(index, kind, text, arrived - started, gap=started - last_reply,
                                              to_team=True, sent_at=sent_at))
                continue
            traffic.samples.append(Sample(index, kind, text, arrived - started, reply.text or "",
                                          gap=started - last_reply, arrived_wall=time.time(),
                                          bot_seconds=bot_seconds(user.api, user.chat_id, sent_at)))
            last_reply = arrived
            if READING:
                reading = READ_SECONDS_PER_WORD * len((reply.text or "").split())
            has_ticket = has_ticket or kind.startswith("complaint")  # (a short one may open it at once)
            if kind == "complaint_short" and (reply.text or "").startswith(COMPLAINT_ASKED):
                queue.insert(0, ("complaint_details", rng.choice(COMPLAINT_DETAILS)))

    started = time.perf_counter()
    await asyncio.gather(*(converse(i, u, p) for i, (u, p) in enumerate(zip(users, user_plans))))
    traffic.wall = time.perf_counter() - started
    await _settle_relays(traffic, users, staff_chat_id)
    return traffic


async def _settle_relays(traffic: Traffic, users, staff_chat_id: int) -> None:
    """Messages passed on to the team that were not in the staff group yet when their customer
    wrote on: wait (at most ``RELAY_SETTLE_TIMEOUT``) until the group has them all, then take
    each one's time from the Bot API's log (the send request that carried it); one that never
    arrives stays lost."""
    waiting = [s for s in traffic.samples if s.to_team and s.latency is None]
    if not waiting:
        return
    api = users[0].api

    def all_there() -> bool:
        texts = [m.text or "" for m in api.sent_messages(staff_chat_id)]
        return all(any(_relayed(t, users[s.user], s.text) for t in texts) for s in waiting)

    with contextlib.suppress(AssertionError):
        await api.wait_until(all_there, RELAY_SETTLE_TIMEOUT, "the relayed messages in the staff group")
    for sample in waiting:
        user = users[sample.user]
        arrivals = [call.time for call in api.state.calls if call.method == "sendMessage" and call.time >= sample.sent_at
                    and str(call.chat_id) == str(staff_chat_id)
                    and _relayed_html(str(call.params.get("text", "")), user, sample.text)]
        sample.latency = min(arrivals) - sample.sent_at if arrivals else None


def bot_seconds(api: FakeBotApi, chat_id: int, sent_at: float) -> float | None:
    """The bot's share of the reply to a message ``chat_id`` sent at ``sent_at`` (the fake's
    clock): from the getUpdates answer that delivered it to the arrival of the bot's next send
    request to the chat."""
    calls = api.state.calls[-400:]  # the delivering long poll began shortly before the message
    delivered = min((call.finished for call in calls if call.method == "getUpdates" and call.finished is not None
                     and call.finished >= sent_at and any(_chat_of(u) == chat_id for u in call.result or [])),
                    default=None)
    if delivered is None:
        return None
    replies = [call.time for call in calls if call.method.startswith("send") and call.time >= delivered
               and str(call.chat_id) == str(chat_id)]
    return min(replies) - delivered if replies else None


def _chat_of(update: dict) -> int | None:
    return (update.get("message") or {}).get("chat", {}).get("id")


async def raw_parse_times(url: str, texts: list[str]) -> list[float]:
    """One direct HTTP POST to Rasa's /model/parse per text, one after another."""
    times = []
    async with httpx.AsyncClient(base_url=url, timeout=30) as raw:
        for text in texts[:10]:
            await raw.post("/model/parse", json={"text": text})  # warm the connection
        for text in texts:
            started = time.perf_counter()
            response = await raw.post("/model/parse", json={"text": text})
            times.append(time.perf_counter() - started)
            response.raise_for_status()
    return times


def handled_lines(log_lines: list[str]) -> list[dict]:
    """The bot's DEBUG "message handled" entries (fields ms and nlu_ms)."""
    entries = []
    for line in log_lines:
        if '"message handled"' in line and line.startswith("{"):
            entries.append(json.loads(line))
    return entries


def match(traffic: Traffic, entries: list[dict]) -> list[tuple[Sample, dict]]:
    """Pair the bot's "message handled" lines with the measured messages. The log line names no
    chat, so this goes by time: a handler logs its line just after its reply arrived (the message
    log is written in between), and its ``ms`` cannot be much more than the message's end-to-end
    time. Each line goes to the message that fits best (reply 0-100 ms before the line, ``ms``
    at most 20 ms over the end-to-end time, the smallest misfit of both); lines that fit none
    (the flooder's, or ambiguous ones) stay unpaired."""
    import bisect
    from datetime import datetime

    pending = sorted((s for s in traffic.samples if s.latency is not None and not s.to_team),
                     key=lambda s: s.arrived_wall)
    stamps = [s.arrived_wall for s in pending]
    taken: set[int] = set()
    pairs = []
    for entry in sorted(entries, key=lambda e: e["time"]):
        at = datetime.fromisoformat(entry["time"]).timestamp()
        low, high = bisect.bisect_left(stamps, at - 0.1), bisect.bisect_right(stamps, at + 0.01)

        def misfit(i: int) -> float:
            return abs(at - stamps[i]) + abs(pending[i].latency - entry["ms"] / 1000)

        fitting = [i for i in range(low, high) if i not in taken
                   and entry["ms"] / 1000 <= pending[i].latency + 0.02]
        if fitting:
            best = min(fitting, key=misfit)
            taken.add(best)
            pairs.append((pending[best], entry))
    return pairs


def own_times_ms(entries: list[dict]) -> list[float]:
    return [e["ms"] - e["nlu_ms"] for e in entries]


def staff_messages(api: FakeBotApi, chat_id: int) -> list:
    return api.sent_messages(chat_id)


def ms(values: list[float], share: float) -> float:
    return percentile(values, share) * 1000 if values else float("nan")


def error_lines(log: str) -> list[str]:
    return [line for line in log.splitlines()
            if '"level": "error"' in line or "failed" in line.lower() or '"level": "critical"' in line]


def log_path_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8", errors="replace").splitlines() if path.exists() else []
