"""Nonsense from everywhere, with a fixed seed: a few hundred pieces of bad input reach the real
bot through the fake Bot API (and free text the real Rasa server) - random Unicode (right-to-left,
zero-width, emoji, control characters), huge texts, stickers, photos with and without captions,
voice, documents, locations, other people's contacts, edited messages, forged and over-long
callback data (also other people's real-looking data), deep links with garbage, customer
commands with garbage arguments and (as owners) staff and owner commands with garbage
arguments, and messages in groups the bot does not know.

Afterwards the bot still runs and answers a normal question, no nonsense changed what only a
customer's real action or the team may change (tickets, purchases, points, campaigns ...), the
log holds no unhandled error, every pressed button got its answer and nobody was told that
something went wrong. Many chats send a few things each (not one chat a flood), and each chat
ends with /datenschutz: updates of one chat are handled in order, so its answer means
everything before it was handled too. STAMMGAST_FUZZ_SEED=<n> sends other nonsense.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time

from sqlmodel import func, select

from domain import ledger
from storage.models import (Campaign, Coupon, DataRequest, Feedback, HeldBooking, MessageLog, OutboxMessage,
                            PointsEntry, Purchase, Redemption, Survey, Ticket, UsedReceipt)
from tests.e2e.harness import ADMIN_ID, STAFF_CHAT_ID, config_file
from tests.e2e.journeys import customer_of, faq_answer, onboarded
from tests.e2e.test_conversation import HELD_OUT
from tests.fakebotapi.driver import user_text
from tests.fakebotapi.models import MessageContent

SEED = int(os.environ.get("STAMMGAST_FUZZ_SEED", "20261205"))  # another seed: other nonsense, same checks
CUSTOMERS = 60  # chats of customers, each sending INPUTS_EACH pieces of nonsense after a first message
INPUTS_EACH = 4
OWNERS = 4  # owners (admin ids), each sending OWNER_INPUTS_EACH staff and owner commands
OWNER_INPUTS_EACH = 8
STRANGE_GROUPS = 3
WAVE = 16  # chats at a time
WAIT = 90.0  # for an answer while hundreds of others are being answered (30 sends a second in all)

# What a customer cannot change by nonsense (a purchase needs the team, points a purchase ...).
GUARDED = (Purchase, PointsEntry, Redemption, UsedReceipt, Survey, Campaign, Coupon, HeldBooking)
# Feedback and tickets go to people; nonsense may reach them only where the NLU read it as a
# complaint, feedback or a wish to talk to the team (and it told enough, or answered the bot's
# question for it). The rules behind that are checked; what the model reads is its own matter.
TO_PEOPLE = ("complaint", "feedback", "human_handoff")
WENT_WRONG = ("da ist bei mir gerade etwas schiefgelaufen", "something went wrong on my side")  # errors.generic

ALPHABETS = [
    "abcdefghijklmnopqrstuvwxyzABCXYZ", "0123456789", "äöüßÄÖÜéèçñ", " \t\n",
    "\u200b\u200c\u200d\u2060\ufeff\u00ad",  # zero-width and soft hyphen
    "\u202e\u202d\u202a\u202b\u202c\u200f\u200e\u2066\u2067\u2069",  # direction overrides and marks
    "مرحبا بك في المتجر", "שלום עולם", "你好世界", "привет", "ﷺ ﷽",
    "😀👍🏽👨‍👩‍👧🇩🇪🏳️‍🌈❤️‍🔥🫠", "\U0001d54f\U0001d538\U0001f9ea",  # emoji (with joiners), astral letters
    "\x01\x02\x07\x08\x0b\x0c\x1b\x1f\x7f\x85\u2028\u2029",  # control characters, line/paragraph separators
    "<>&\"'`</b><a href='x'>", "{name}{0}%s%d{{}}\\n\\", ":;,.-_/\\|@#*", "€$£%‰", "٠١٢٣٤٥٦٧٨٩",
    "e\u0301\u0308\u0336\u0489",  # combining marks
    "²³¹½⅓①",  # digits to str.isdigit(), not to int()
]

CUSTOMER_COMMANDS = ["start", "punkte", "points", "karte", "card", "praemien", "rewards", "empfehlen", "invite",
                     "geburtstag", "birthday", "hilfe", "help", "sprache", "language", "einstellungen", "settings",
                     "stop", "verbinden", "link", "meinedaten", "mydata", "loeschen", "delete",
                     "kauf", "einloesen", "kunde_loeschen", "broadcast",  # not theirs: refused
                     "gibtsnicht", "Punkte", "start@morgenrot_bot", "punkte@other_bot"]
TEAM_COMMANDS = ["kauf", "storno", "beleg", "kunde", "einloesen", "tickets", "ticket", "nps", "loop", "broadcast",
                 "planen", "kampagnen", "abbrechen", "segment", "kunde_export", "kunde_loeschen"]
DEEP_LINK_PREFIXES = ["r_", "ref_", "c_", "code_", "", "r_r_", "ref_ref_", "c_0", "code_K7QX", "r_AAAA", "ref_K-", "x_"]
FORGED = ["redeem:999999", "redeem:cancel", "redeem:0123456789ab", "survey:1:11", "nps:1:10", "nps:999999999999:0",
          "nps:skip:1", "nps:call:1:yes", "nps:١:5", "tkt:claim:1", "tkt:reply:2", "tkt:solved:999999999999",
          "tkt:goodwill:1", "tkt:gw:1:500", "tkt:gw:999999999999:999999", "tkt:ok:1:no", "held:ok:1:0123456789ab",
          "camp:ok:1:0123456789ab", "camp:no:999:ffffffffffff", "loop:send:0123456789ab", "erase:0123456789ab",
          "erase:cancel", "erase_for:0123456789ab", "erase_for:cancel", "bday:yes:0123456789ab", "import:yes",
          "import:no", "reward:kaffee", "reward:", "faq:nichts", "faq:opening_hours", "menu:main", "menu:faq",
          "menu:language", "lang:xx", "lang:", "loyalty:points", "loyalty:card", "consent:maybe", "marketing:keep",
          "settings:nothing", "", "redeem:", ":", "::::", "tkt:claim:-1", "tkt:claim:1.5", "nps:1:011"]


def garbage(rng: random.Random, length: int | None = None) -> str:
    """Random text from a few alphabets at once (never a lone surrogate: JSON cannot carry it)."""
    length = rng.choice([1, 2, 5, 12, 40, 120]) if length is None else length
    alphabets = rng.sample(ALPHABETS, rng.randint(1, 4))
    return "".join(rng.choice(rng.choice(alphabets)) for _ in range(length))


def visible_garbage(rng: random.Random, length: int | None = None) -> str:
    """Garbage that is not only whitespace (Telegram sends no empty messages)."""
    text = garbage(rng, length)
    return text if text.strip() else text + rng.choice("x😀ب")


def huge_text(rng: random.Random) -> str:
    if rng.random() < 0.3:  # a number of more digits than int() reads
        return rng.choice(["7", "1", "9"]) * rng.choice([4301, 5000]) + rng.choice(["", " von 10", " Tage"])
    return visible_garbage(rng, rng.choice([4096, 4097, 5000, 12000]))


def forged_data(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.45:
        return rng.choice(FORGED)
    if kind < 0.6:
        return rng.choice(FORGED) + rng.choice(["\n", " ", "0", "x", "\u200b", ":1"])
    if kind < 0.8:
        return rng.choice(["redeem:", "tkt:claim:", "nps:", "camp:ok:", "lang:", "faq:", "reward:", "erase:",
                           "held:no:", "loyalty:"]) + garbage(rng)
    if kind < 0.9:
        return garbage(rng, rng.choice([64, 65, 300, 2000]))  # Telegram allows 64 bytes; a forger does not care
    return garbage(rng)


def state(db, anna) -> dict:
    """What nonsense must not change: the guarded tables, the staff group's alerts, Anna."""
    customer = customer_of(db, anna)
    with db.session() as session:
        # A ticket's alert and what its customer sends on it later (texts, voice, files) are relayed;
        # nothing else of theirs may reach the staff group.
        alerts = session.exec(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.chat_id == STAFF_CHAT_ID, ~OutboxMessage.idempotency_key.like("ticket:%"))).one()
        # (a customer's export of their own data, /meinedaten, is recorded too: that is no nonsense)
        erasures = session.exec(select(func.count()).select_from(DataRequest).where(
            (DataRequest.kind != "export") | (DataRequest.executed_by != None))).one()  # noqa: E711
        kept = {table.__name__: session.exec(select(func.count()).select_from(table)).one() for table in GUARDED}
        to_people = [*session.exec(select(Ticket.customer_id)), *session.exec(select(Feedback.customer_id))]
        feedback = session.exec(select(func.count()).select_from(Feedback)).one()
        kept.update(staff_alerts_beside_tickets=alerts - feedback, to_people=sorted(to_people),
                    erasures_and_owners_requests=erasures, anna_balance=ledger.balance(session, customer.id),
                    anna=(customer.first_name, customer.language, customer.marketing_consent,
                          customer.birthday_month, customer.birthday_day, customer.code))
    return kept


class Fuzzer:
    def __init__(self, api, rng: random.Random):
        self.api, self.rng = api, rng
        self.queries: list[str] = []  # every forged press, to check each got an answer
        self.sent = 0  # pieces of nonsense sent

    # -- what a chat can receive -------------------------------------------------------------
    def post(self, user, kind: str, fields: dict) -> dict:
        """A message Telegram would deliver that the driver has no method for (sticker, voice ...)."""
        user._act()
        return user._post(user.record, MessageContent(kind, service=fields))

    def edit(self, user, original: dict, text: str) -> None:
        """The user edits an earlier message of theirs: an ``edited_message`` update."""
        edited = {key: value for key, value in original.items() if key not in ("entities", "text", "caption")}
        formatted = user_text(text)
        edited.update(text=formatted.text, edit_date=int(time.time()))
        if formatted.entities:
            edited["entities"] = formatted.entities
        self.api.state.enqueue_update("edited_message", edited)

    async def press(self, user, data: str) -> None:
        self.queries.append(await user.press_forged(data))

    async def command(self, user, names: list[str]) -> dict:
        rng = self.rng
        arguments = rng.choice([None, visible_garbage(rng), f"{visible_garbage(rng)} {visible_garbage(rng)}",
                                f"{rng.randint(0, 10**12)} {visible_garbage(rng, 3)}", huge_text(rng),
                                "#" + visible_garbage(rng, 4), "-1", "0", "999999999999999999999", "1,5 €",
                                "\n".join(visible_garbage(rng) for _ in range(3))])
        return await user.send_command("/" + rng.choice(names), arguments)

    async def nonsense(self, user, earlier: list[dict]) -> None:
        """One random piece of nonsense from a customer in their private chat."""
        rng = self.rng
        self.sent += 1
        kind = rng.choice(["text", "text", "huge", "command", "command", "deep_link", "press", "press", "photo",
                           "sticker", "voice", "document", "location", "contact", "edit", "dice"])
        if kind == "text":
            earlier.append(await user.send_text(visible_garbage(rng)))
        elif kind == "huge":
            earlier.append(await user.send_text(huge_text(rng)))
        elif kind == "command":
            earlier.append(await self.command(user, CUSTOMER_COMMANDS))
        elif kind == "deep_link":
            payload = rng.choice(DEEP_LINK_PREFIXES) + rng.choice([garbage(rng), "", "A" * 64, "0" * 200])
            await user.send_command("/start", payload.strip() or None)
        elif kind == "press":
            await self.press(user, forged_data(rng))
        elif kind == "photo":
            caption = rng.choice([None, "", " ", visible_garbage(rng), visible_garbage(rng, 1100)])
            await user.send_photo(rng.randbytes(rng.choice([0, 10, 3000])), caption=caption)
        elif kind == "sticker":
            self.post(user, "sticker", {"sticker": {"file_id": "CAACAgIAAxkBAAI" + garbage(rng, 4),
                                                    "file_unique_id": "AgAD1", "type": "regular", "width": 512,
                                                    "height": 512, "is_animated": False, "is_video": False,
                                                    "emoji": "🤡"}})
        elif kind == "voice":  # a real file of the fake's: on an open ticket the bot relays it by its id
            await user.send_voice(rng.randbytes(rng.choice([1, 3000])), duration=rng.randint(0, 3600),
                                  caption=rng.choice([None, visible_garbage(rng)]))
        elif kind == "document":
            name = garbage(rng, 8) + rng.choice([".csv", ".CSV", ".exe", ".pdf", "", ".csv.zip"])
            await user.send_document(name, rng.randbytes(rng.choice([0, 50, 5000])),
                                     rng.choice(["text/csv", "application/pdf", None, "application/x-msdownload"]),
                                     caption=rng.choice([None, visible_garbage(rng)]))
        elif kind == "location":
            self.post(user, "location", {"location": {"latitude": rng.uniform(-90, 90),
                                                      "longitude": rng.uniform(-180, 180)}})
        elif kind == "contact":  # somebody else's card, or one with a nonsense number
            await user.share_contact(rng.choice([f"+49151{rng.randint(0, 10**8):08d}", visible_garbage(rng, 12),
                                                 "+", "0"]), own=False, first_name=visible_garbage(rng, 6))
        elif kind == "edit" and earlier:
            self.edit(user, rng.choice(earlier), rng.choice([visible_garbage(rng), "/kauf " + visible_garbage(rng),
                                                             "/start " + garbage(rng), huge_text(rng)]))
        else:
            self.post(user, "dice", {"dice": {"emoji": "🎲", "value": rng.randint(1, 6)}})

    async def team_nonsense(self, owner, earlier: list[dict]) -> None:
        """An owner's staff or owner command with garbage, a forged owner button or an edit."""
        rng = self.rng
        self.sent += 1
        kind = rng.random()
        if kind < 0.7:
            earlier.append(await self.command(owner, TEAM_COMMANDS))
        elif kind < 0.9:
            await self.press(owner, forged_data(rng))
        elif earlier:
            self.edit(owner, rng.choice(earlier), "/" + rng.choice(TEAM_COMMANDS) + " " + visible_garbage(rng))
        else:
            earlier.append(await self.command(owner, TEAM_COMMANDS))


async def handled(user, since: int, closing: set[str]) -> None:
    """Wait until the answer to the chat's closing /datenschutz arrived after message ``since``."""
    await user.api.wait_until(lambda: any(m.text in closing for m in user.messages[since:]), WAIT,
                              f"the answer to /datenschutz in {user.describe()}")


# The fuzz chats send their nonsense without waiting for answers: with the shop's inbound limit
# most of it would be dropped before any handler saw it (tests/e2e/test_flood.py checks that).
# Here every piece of nonsense is to reach the handlers.
NO_INBOUND_LIMIT = {"limits": {"messages_at_once": 100, "then_one_every_seconds": 0.01}}


async def test_nonsense_from_hundreds_of_chats_changes_nothing_and_breaks_nothing(bots, api, staff, db, tmp_path):
    rng = random.Random(SEED)
    owner_ids = [ADMIN_ID + number for number in range(OWNERS)]
    bot = await bots(STAMMGAST_ADMIN_IDS=",".join(map(str, owner_ids)),
                     STAMMGAST_CONFIG=config_file(tmp_path, NO_INBOUND_LIMIT))
    began = time.monotonic()

    # Anna is a customer with points; Bea books at the counter. Their data is what others try to reach.
    anna = await onboarded(api)
    bea = api.new_user(first_name="Bea")
    staff.add_member(bea)
    await staff.send_command(bea, "/kauf", f"{customer_of(db, anna).code} 25,00")
    assert (await staff.next_message()).text.startswith("✅ Gebucht")
    await anna.next_message(timeout=WAIT)  # her points
    closing = set()
    for language in ("de", "en"):  # the last message of the answer to /datenschutz: a chat's closing mark
        reader = api.new_user(first_name="Rita", language_code=language)
        await reader.send_command("/datenschutz")
        await reader.next_message()
        await asyncio.sleep(0)
        closing.add(reader.messages[-1].text)
    before = state(db, anna)
    fuzz = Fuzzer(api, rng)

    # Groups the bot does not know: commands for it (privacy mode lets those through), mentions.
    strangers = []
    for number in range(STRANGE_GROUPS):
        group = api.new_group(title=garbage(rng, 10), chat_id=-1002000000000 - number)
        strangers.append(group)
        for _ in range(5):
            member = api.new_user(first_name=visible_garbage(rng, 6), language_code=rng.choice(["de", "en", None]))
            fuzz.sent += 1
            if rng.random() < 0.7:
                await group.send_command(member, "/" + rng.choice(CUSTOMER_COMMANDS + TEAM_COMMANDS).split("@")[0],
                                         rng.choice([None, visible_garbage(rng)]), with_username=True)
            else:
                await group.send_text(member, "@morgenrot_bot " + visible_garbage(rng))

    # The staff group: a non-member presses its buttons; a member sends garbage to the counter commands.
    booked = staff.messages[-1]
    outsider = api.new_user(first_name="Eve")
    for data in ("tkt:claim:1", "tkt:gw:1:50", "held:ok:1:0123456789ab", forged_data(rng)):
        fuzz.queries.append(await staff.press_forged(outsider, data, message=booked))
        fuzz.sent += 1
    staff_since = len(staff.messages)
    for _ in range(4):
        await staff.send_command(bea, "/" + rng.choice(["kauf", "storno", "kunde", "ticket", "einloesen", "beleg"]),
                                 visible_garbage(rng))
        fuzz.sent += 1

    async def customer_chat(number: int) -> None:
        user = api.new_user(first_name=rng.choice([visible_garbage(rng, 8), "Lena", "\u202eanneL", "😀"]),
                            last_name=rng.choice([None, garbage(rng, 5)]),
                            username=rng.choice([None, f"user{number}"]),
                            language_code=rng.choice(["de", "en", "de", None, "ar", "pt-br", "xx"]))
        earlier = []
        if rng.random() < 0.5:
            payload = rng.choice(DEEP_LINK_PREFIXES) + garbage(rng)
            await user.send_command("/start", payload.strip() or None)
        else:
            earlier.append(await user.send_text(visible_garbage(rng)))
        fuzz.sent += 1
        await user.next_message(timeout=WAIT)  # then there is a message to forge presses on
        for _ in range(INPUTS_EACH):
            await fuzz.nonsense(user, earlier)
        since = len(user.messages)
        await user.send_command("/datenschutz")
        await handled(user, since, closing)

    async def owner_chat(owner_id: int) -> None:
        owner = api.new_user(first_name="Ines", user_id=owner_id, language_code=rng.choice(["de", "en"]))
        earlier = [await fuzz.command(owner, TEAM_COMMANDS)]
        fuzz.sent += 1
        await owner.next_message(timeout=WAIT)
        for _ in range(OWNER_INPUTS_EACH - 1):
            await fuzz.team_nonsense(owner, earlier)
        since = len(owner.messages)
        await owner.send_command("/datenschutz")
        await handled(owner, since, closing)

    chats = [owner_chat(owner_id) for owner_id in owner_ids] + [customer_chat(n) for n in range(CUSTOMERS)]
    for start in range(0, len(chats), WAVE):
        await asyncio.gather(*chats[start:start + WAVE])
    await staff.send_command(bea, "/tickets")  # the staff group's closing mark
    await api.wait_until(lambda: any((m.text or "").startswith(("Keine offenen Tickets", "Offene Tickets"))
                                     for m in staff.messages[staff_since:]), WAIT, "the answer to /tickets")
    assert fuzz.sent >= 300

    # Still there, and still answering a normal question.
    assert bot.process.returncode is None
    carla = await onboarded(api, first_name="Carla")
    await carla.send_text(HELD_OUT["faq"]["opening_hours"][0])
    answer = await carla.next_message(timeout=WAIT)
    assert answer.text == faq_answer("opening_hours")
    assert bot.process.returncode is None

    # Nothing a customer could only cause by a real action changed.
    after = state(db, anna)
    reached_people = after.pop("to_people")
    assert before.pop("to_people") == [] and after == before
    with db.session() as session:
        understood = set(session.exec(select(MessageLog.customer_id).where(MessageLog.intent.in_(TO_PEOPLE))))
    assert set(reached_people) <= understood, "a ticket or feedback without the NLU reading one"

    # Every press was answered (no spinning button), nobody heard "something went wrong", the
    # groups the bot does not know heard nothing, and the log has no unhandled error.
    answered = {query.id for query in api.state.callback_answers}
    assert not [query for query in fuzz.queries if query not in answered]
    told = [message.text for message in api.sent_messages() if message.text]
    assert not [text for text in told if any(phrase in text for phrase in WENT_WRONG)]
    assert not [message for group in strangers for message in group.messages]
    problems = []
    for line in bot.log().split("\n"):  # (not splitlines(): a logged "\u2028" is no line break of the log)
        try:
            entry = json.loads(line)
        except ValueError:
            entry = {"level": "raw", "message": line}
        if entry.get("level") in ("error", "critical", "raw") or "Traceback" in line:
            problems.append(line[:2000])
    assert not problems, "\n".join(problems[:10])
    print(f"fuzz: {fuzz.sent} pieces of nonsense, {len(fuzz.queries)} forged presses, "
          f"{time.monotonic() - began:.0f} s")
