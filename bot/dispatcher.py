"""The outbox dispatcher: the one place that sends proactive messages. It claims due rows,
paces them, sends them and records the outcome; it knows no feature.

Each row is rendered in its recipient's language and sent; the outcome is sent, retried later
(429, 5xx, timeouts), skipped (blocked bot, deleted chat) or failed (rejected message). What a
feature adds to its own rows (personal parameters at send time, the consequence of a row that
ends undelivered) comes from the hooks it registered in ``domain.outbox``: ``Hooks.personalize``
while rendering, and ``Hooks.record_outcome``, which records an outcome and runs the row's
``undelivered`` hook in the same transaction.

The hooks are handed in by the wiring (``bot.app``, from ``domain.features``). May import
telegram, ``bot`` helpers and, of ``domain``: ``outbox`` (rows and hooks), ``customers`` (the
recipient's language, an unreachable chat) and ``marketing``. Marketing admission (consent,
quiet hours, the weekly cap) is no feature's hook but the rule of a row category, ``MARKETING``,
whichever feature queued the row, so it is checked here for every marketing row.

Pacing. Telegram allows about 30 messages per second in all, 20 per minute in one group and
about one per second in one chat. The first two apply to everything the bot sends (direct
replies and the staff group too), so they live in the bot's rate limiter
(``bot.rate_limiter.TelegramRateLimiter``, set on the ApplicationBuilder): every request with a
chat id waits its turn there, and so does every message to one chat (a second apart). The
dispatcher adds its own per-chat order: a chat gets one row at a time and its next row no
sooner than ``PER_CHAT_SECONDS`` after Telegram answered the previous one, so rows of a chat
never wait in the limiter while other chats' rows could go.

Concurrency. ``SENDERS`` tasks send at once, so the network's round trip does not divide the
rate: each takes the next row that is ready, renders it, waits for the limiter and sends.
Rows are claimed about a second ahead (``backlog``), one per chat, in chunks of two thirds of it.

The staff group first. A group's rows wait for their turn in the database, not in the limiter:
when this dispatcher has sent a group its 20 messages of the last minute, the group is held
(no row of it is claimed) until the oldest of them leaves the minute. The claim then takes the
group's most urgent row (``outbox.claim_next_per_chat``: a ticket's alert, reminder or
escalation before relayed customer messages and notices), not the one that happened to be
claimed when the minute filled up.

Leases. A claimed row is leased to this process (``outbox.CLAIM_LEASE``, 30 s) and the lease
is renewed every ``RENEW_SECONDS`` while the row is held, so no wait (a 429, a full group, a
slow network) lets another dispatcher take a row this one still holds; if this process dies,
its rows return to pending when their lease runs out. A row is sent twice only if the process
died between Telegram's accepting it and the database's recording it: at most the rows in
flight, one per sender. Claims skip rows another dispatcher holds, so replicas on PostgreSQL
never send the same row twice (give each ``TELEGRAM_MAX_MESSAGES_PER_SECOND`` / replicas).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import math
from collections import deque
from datetime import timedelta

from telegram import ReplyParameters
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TimedOut

from bot import keyboards, rate_limiter
from bot.chat import send_html
from bot.rate_limiter import raise_refusals_at_once, retry_after_seconds
from bot.services import Services
from bot.texts import with_links
from domain import customers, marketing, outbox
from domain.outbox import Attachment, MessageSpec
from storage.models import OutboxMessage

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0  # picks up rows queued by other processes or due later
SENDERS = 8  # rows sent at once: enough for 30 msg/s with up to 250 ms per row (database and request)
PER_CHAT_SECONDS = 1.05  # between Telegram's answer to one row of a chat and the next row's start
LEASE_SECONDS = outbox.CLAIM_LEASE.total_seconds()
RENEW_SECONDS = LEASE_SECONDS / 6  # a held row's lease never has less than 25 s left ...
MIN_LEASE_LEFT = 20.0  # ... and a send (at most 15 s with PTB's timeouts) starts only with this much left
STOP_GRACE_SECONDS = 5.0  # a stopping dispatcher lets the sends in flight finish for this long
GROUP_WINDOW_SECONDS = 60.0  # Telegram's group limit is per minute (rate_limiter.GROUP_MESSAGES_PER_MINUTE)
GONE_CHAT_ERRORS = ("chat not found", "user is deactivated", "bot was blocked", "bot was kicked")

_RUNNING: dict[int, "OutboxDispatcher"] = {}  # by id(bot), for stop_sending


async def stop_sending(application) -> None:
    """Stop the application's dispatcher while its bot can still send (PTB's post_stop): the
    sends in flight finish and are recorded, the rows not yet started go back to pending."""
    dispatcher = _RUNNING.get(id(application.bot))
    if dispatcher is not None:
        await dispatcher.stop()


class OutboxDispatcher:
    def __init__(self, services: Services, bot, hooks: outbox.Hooks):
        self.services = services
        self.bot = bot
        self.hooks = hooks  # what the features add to their rows
        rate = services.settings.max_messages_per_second
        self.backlog = max(2 * SENDERS, math.ceil(rate))  # rows claimed ahead: about a second of sending
        self.low_water = self.backlog // 3  # claim again when so few are left
        self._queue: list[tuple[float, int, OutboxMessage]] = []  # (ready at, order, row), claimed, not started
        self._order = itertools.count()
        self._held: dict[int, float] = {}  # row id -> local time its lease ends (queued or in flight)
        self._lost: set[int] = set()  # held rows whose lease another dispatcher took over
        self._chat_free_at: dict[int, float] = {}  # chat -> earliest start of its next row
        self._holds: dict[int, float] = {}  # chat -> until when it gets nothing (retry_after, a retry's backoff)
        self._group_sends: dict[int, deque[float]] = {}  # group chat -> when Telegram answered its rows, last minute
        self._queue_changed = asyncio.Event()
        self._room = asyncio.Event()  # a row finished
        self._tasks: list[asyncio.Task] = []
        self._senders: list[asyncio.Task] = []
        self._stopping = False

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._claim_loop(), name="outbox-claims"),
                       asyncio.create_task(self._renew_loop(), name="outbox-leases")]
        self._senders = [asyncio.create_task(self._send_loop(), name=f"outbox-sender-{n}") for n in range(SENDERS)]
        _RUNNING[id(self.bot)] = self

    async def stop(self) -> None:
        if self._stopping:
            return
        self._stopping = True
        _RUNNING.pop(id(self.bot), None)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._queue_changed.set()  # idle senders leave; busy ones finish their row
        if self._senders:
            _, late = await asyncio.wait(self._senders, timeout=STOP_GRACE_SECONDS)
            for task in late:
                task.cancel()
            await asyncio.gather(*self._senders, return_exceptions=True)
        unstarted = [row.id for _, _, row in self._queue]
        self._queue.clear()
        if unstarted:
            try:
                await self.services.db(outbox.release_claims, unstarted, self.services.now())
            except Exception:  # their leases run out instead
                log.exception("could not give back claimed outbox rows")

    # -- claiming ---------------------------------------------------------------------------------

    async def _claim_loop(self) -> None:
        s = self.services
        while True:
            s.outbox_wakeup.clear()
            self._room.clear()
            try:
                claimed, room = await self._claim()
            except Exception:
                log.exception("outbox dispatch failed; retrying")
                claimed, room = 0, 1
            while len(self._queue) > self.low_water:  # enough to send: wait for the senders
                self._room.clear()
                await _first_of(self._room, timeout=POLL_SECONDS)
            if claimed < room:  # everything due was taken: wait for news, or poll
                await _first_of(s.outbox_wakeup, self._room, timeout=POLL_SECONDS)

    async def _release_expired(self) -> None:
        s = self.services
        released = await s.db(outbox.release_expired_claims, s.now(), set(self._held))
        if released:
            log.info("outbox rows of a stopped dispatcher resumed", extra={"rows": released})

    async def _claim(self) -> tuple[int, int]:
        s = self.services
        room = self.backlog - len(self._queue)  # plus at most SENDERS rows being sent
        if room <= 0:
            return 0, 0
        loop = asyncio.get_running_loop()
        now = loop.time()
        self._holds = {chat: until for chat, until in self._holds.items() if until > now}
        if len(self._chat_free_at) > 4 * self.backlog:
            self._chat_free_at = {chat: at for chat, at in self._chat_free_at.items() if at > now}
        if len(self._group_sends) > 64:
            self._group_sends = {chat: sends for chat, sends in self._group_sends.items()
                                 if sends and sends[-1] > now - GROUP_WINDOW_SECONDS}
        claim = asyncio.ensure_future(s.db(outbox.claim_next_per_chat, s.now(), room, set(self._holds)))
        try:
            rows = await asyncio.shield(claim)
        except asyncio.CancelledError:  # stopping: the claim commits in its thread anyway, so give it back
            rows = await claim
            if rows:
                await s.db(outbox.release_claims, [row.id for row in rows], s.now())
            raise
        now = loop.time()
        for row in rows:
            self._held[row.id] = now + LEASE_SECONDS
            ready = max(now, self._chat_free_at.get(row.chat_id, now))
            heapq.heappush(self._queue, (ready, next(self._order), row))
        if rows:
            self._queue_changed.set()
        return len(rows), room

    async def _renew_loop(self) -> None:
        """Every RENEW_SECONDS: renew the leases of the rows held here, and take back the rows of
        a dispatcher that died (their lease ran out)."""
        s = self.services
        loop = asyncio.get_running_loop()
        while True:
            try:
                await self._release_expired()
            except Exception:
                log.exception("could not take back the outbox rows of a stopped dispatcher")
            await asyncio.sleep(RENEW_SECONDS)
            held = set(self._held)
            if not held:
                continue
            renewed_at = loop.time()
            try:
                kept = await s.db(outbox.renew_claims, held, s.now())
            except Exception:
                log.exception("could not renew the leases of claimed outbox rows")
                continue
            for row_id in held:
                if row_id not in self._held:
                    continue  # finished meanwhile
                if row_id in kept:
                    self._held[row_id] = renewed_at + LEASE_SECONDS
                else:
                    self._lost.add(row_id)

    # -- sending ----------------------------------------------------------------------------------

    async def _send_loop(self) -> None:
        raise_refusals_at_once()  # a 429 puts the row back (below); the limiter must not wait it out
        loop = asyncio.get_running_loop()
        while True:
            row = await self._next_ready(loop)
            if row is None:
                return
            try:
                if row.id in self._lost:
                    log.warning("outbox row taken over by another dispatcher; not sent here", extra={"outbox_id": row.id})
                elif self._held[row.id] - loop.time() < MIN_LEASE_LEFT:
                    # Its lease could run out mid-send (renewals failed): leave it to whoever takes it back.
                    log.warning("outbox row's lease is running out; not sent here", extra={"outbox_id": row.id})
                else:
                    await self._deliver(row)
            except Exception:
                log.exception("outbox row could not be handled", extra={"outbox_id": row.id})
            finally:
                self._held.pop(row.id, None)
                self._lost.discard(row.id)
                self._room.set()

    async def _next_ready(self, loop) -> OutboxMessage | None:
        while not self._stopping:
            now = loop.time()
            if self._queue and self._queue[0][0] <= now:
                return heapq.heappop(self._queue)[2]
            self._queue_changed.clear()
            await _first_of(self._queue_changed, timeout=self._queue[0][0] - now if self._queue else None)
        return None

    def _answered(self, chat_id: int, hold: float | None = None) -> None:
        """Telegram answered a send to this chat: its next row waits a second, or ``hold``."""
        now = asyncio.get_running_loop().time()
        self._chat_free_at[chat_id] = now + max(PER_CHAT_SECONDS, hold or 0.0)
        if hold:
            self._holds[chat_id] = now + hold
        if chat_id < 0:  # a group (or channel): its minute may be full
            self._hold_full_group(chat_id, now)

    def _hold_full_group(self, chat_id: int, now: float) -> None:
        """A group that had its GROUP_MESSAGES_PER_MINUTE from this dispatcher within the last
        minute gets no row claimed until the oldest of them is a minute old: its rows wait in
        the database, where the next claim picks the most urgent of them."""
        sends = self._group_sends.setdefault(chat_id, deque())
        sends.append(now)
        while sends and sends[0] <= now - GROUP_WINDOW_SECONDS:
            sends.popleft()
        limit = rate_limiter.GROUP_MESSAGES_PER_MINUTE
        if len(sends) >= limit:
            until = sends[len(sends) - limit] + GROUP_WINDOW_SECONDS
            self._holds[chat_id] = max(self._holds.get(chat_id, 0.0), until)

    async def _render(self, row: OutboxMessage, spec: MessageSpec) -> tuple[str, object]:
        s = self.services
        if row.category == outbox.STAFF or row.customer_id is None:
            voice = s.staff_voice
        else:
            voice = s.voice(await s.db(customers.preferred_language, row.customer_id, s.config.shop.language))
        params = spec.params
        if self.hooks.personalizes(row):  # e.g. a campaign's text with this customer's figures of today
            params = await s.db(self.hooks.personalize, row, params, voice.language, s.now())
        params = with_links(params, self.bot.username)  # a coupon code that opens its QR code
        text = spec.text if spec.template is None else s.texts.render(spec.template, voice, **params)
        return text, keyboards.from_spec(spec.buttons, s.texts, voice)

    async def _deliver(self, row: OutboxMessage) -> None:
        s = self.services
        context = {"outbox_id": row.id, "chat_id": row.chat_id, "category": row.category}
        if row.category == outbox.MARKETING:  # consent, reachability, quiet hours and the weekly cap, checked now
            verdict = await self._record(row, marketing.admit, row.id, s.marketing_rules, s.now())
            if verdict is not marketing.Verdict.SEND:
                log.info("marketing message not sent now", extra=context | {"verdict": verdict.value})
                return
        elif await self._record(row, outbox.skip_if_unreachable, row.id):
            log.info("outbox recipient unreachable; not sent", extra=context)
            return
        try:
            message = await self._send(row)
        except RetryAfter as error:
            # Telegram says when: the row (and its chat) waits that long, other chats go on, and
            # the attempt does not count (a long broadcast never gives up on rows for it).
            seconds = retry_after_seconds(error)
            self._answered(row.chat_id, hold=seconds)
            await s.db(outbox.mark_retry, row.id, f"429 retry after {seconds:g} s", s.now(),
                       timedelta(seconds=seconds), counts=False)
            log.warning("outbox send rate-limited", extra=context | {"retry_after_s": seconds})
        except ChatMigrated as error:
            # The group became a supergroup: its rows (this one too) go to the new id, at once.
            self._answered(row.chat_id)
            await s.follow_chat_migration(row.chat_id, error.new_chat_id)
            await s.db(outbox.mark_retry, row.id, f"chat migrated to {error.new_chat_id}", s.now(), timedelta(0),
                       counts=False)
            log.warning("outbox chat migrated; retrying at the new id", extra=context)
        except Forbidden as error:
            self._answered(row.chat_id)
            await self._give_up_on_chat(row, str(error), context)
        except BadRequest as error:
            self._answered(row.chat_id)
            if any(reason in str(error).lower() for reason in GONE_CHAT_ERRORS):
                await self._give_up_on_chat(row, str(error), context)
            else:
                await self._record(row, outbox.mark_failed, row.id, f"rejected: {error}")
                log.error("outbox message rejected by Telegram", extra=context | {"error": str(error)})
        except (TimedOut, NetworkError) as error:
            # The chat waits for the retry too, so its rows keep their order.
            self._answered(row.chat_id, hold=outbox.retry_delay(row.attempts).total_seconds())
            status = await self._record(row, outbox.mark_retry, row.id, f"{type(error).__name__}: {error}", s.now())
            log.warning("outbox send failed; will retry", extra=context | {"error": str(error), "status": status})
        except Exception as error:  # a rendering bug must not stop the other rows
            if self._stopping:  # e.g. the bot's connection closed under a send: try again after the restart
                await s.db(outbox.release_claims, [row.id], s.now())
                return
            await self._record(row, outbox.mark_failed, row.id, f"{type(error).__name__}: {error}")
            log.exception("outbox row could not be sent", extra=context)
        else:
            self._answered(row.chat_id)
            await s.db(outbox.mark_sent, row.id, message.message_id, s.now())
            log.info("outbox message sent", extra=context)

    async def _send(self, row: OutboxMessage):
        spec = MessageSpec.from_payload(row.payload)
        text, keyboard = await self._render(row, spec)
        extra = {"disable_notification": True} if spec.silent else {}
        if spec.reply_to_key:  # keep a thread together (a ticket's messages under its alert)
            reply_to = await self.services.db(outbox.sent_message_id, spec.reply_to_key)
            if reply_to is not None:
                extra["reply_parameters"] = ReplyParameters(reply_to, allow_sending_without_reply=True)
        if spec.attachment is not None:
            return await self._send_attachment(row.chat_id, spec.attachment, text, keyboard, extra)
        picture = spec.picture_png()
        if picture:
            return await self.bot.send_photo(row.chat_id, picture, caption=text or None,
                                             parse_mode=ParseMode.HTML, reply_markup=keyboard, **extra)
        return await send_html(self.bot, row.chat_id, text, keyboard, **extra)

    async def _send_attachment(self, chat_id: int, attachment: Attachment, caption: str, keyboard, extra: dict):
        """A photo, file, voice message ... by its file id, each with its own Bot API method; the
        text is its caption (a video note has none: ``MessageSpec`` keeps texts off it)."""
        send = {outbox.PHOTO: self.bot.send_photo, outbox.DOCUMENT: self.bot.send_document,
                outbox.VOICE: self.bot.send_voice, outbox.VIDEO: self.bot.send_video,
                outbox.VIDEO_NOTE: self.bot.send_video_note, outbox.AUDIO: self.bot.send_audio,
                outbox.ANIMATION: self.bot.send_animation}[attachment.kind]
        if attachment.takes_caption:
            extra = {**extra, "caption": caption or None, "parse_mode": ParseMode.HTML}
        return await send(chat_id, attachment.file_id, reply_markup=keyboard, **extra)

    async def _record(self, row: OutboxMessage, outcome, *args):
        """Record an outcome on the row (``outcome(session, *args)``). A row that thereby ends
        undelivered (skipped, failed for good) gets its feature's ``undelivered`` hook in the same
        transaction (a greeting takes its gift back, the team hears of a gone ticket recipient),
        so a crash cannot leave the outcome without it."""
        s = self.services
        result, note = await s.db(self.hooks.record_outcome, row, s.now(), outcome, *args)
        if note:
            log.info(note, extra={"outbox_id": row.id, "customer_id": row.customer_id})
        return result

    async def _give_up_on_chat(self, row: OutboxMessage, reason: str, context: dict) -> None:
        s = self.services
        await self._record(row, outbox.mark_failed, row.id, f"{outbox.UNREACHABLE}: {reason}")
        await s.db(customers.mark_unreachable, row.chat_id, s.now())
        log.info("outbox recipient unreachable", extra=context | {"reason": reason})


async def _first_of(*events: asyncio.Event, timeout: float | None) -> None:
    """Wait until one of the events is set, or ``timeout`` seconds (None: no limit)."""
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
