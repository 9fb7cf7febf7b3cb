"""The bot's rate limiter: Telegram's flood limits for everything the bot sends (direct replies,
the staff group and the outbox alike), set on the ApplicationBuilder.

Telegram allows about 30 messages per second in all, 20 per minute in one group and about one
per second in one chat
(https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this): every
request with a chat id waits its turn in :class:`TelegramRateLimiter`, so a chat that writes
fast gets its answers at Telegram's pace instead of 429 errors.

Imports telegram (PTB's ``BaseRateLimiter``) and nothing of the project.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import math
from collections import deque
from contextvars import ContextVar
from datetime import timedelta

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

log = logging.getLogger(__name__)

CATCH_UP = 3  # starts the even pacing may make up for at once after a late wake-up
GROUP_MESSAGES_PER_MINUTE = 20  # Telegram's limit for one group (see above)
CHAT_SECONDS = 1.0  # one message per second in one chat, counted from Telegram's answer
# A reply refused with 429 anyway (Telegram counting differently) is sent again after the wait
# Telegram names, this often and only if the wait is short enough for a conversation.
REPLY_RETRIES, REPLY_MAX_WAIT_SECONDS = 2, 30.0
FORGET_IDLE_ABOVE = 512  # windows kept before idle ones are forgotten
# Several chats answering 429 within a short time means the bot as a whole is over the limit
# (another process with the same token, or Telegram counting differently): then all sends pause.
FLOOD_CHATS, FLOOD_WINDOW_SECONDS = 3, 2.0
# Methods that post a message (the group limits count these; edits and answers do not).
SEND_ENDPOINTS = frozenset(name.lower() for name in (
    "sendMessage", "sendPhoto", "sendDocument", "sendAudio", "sendVideo", "sendAnimation", "sendVoice",
    "sendVideoNote", "sendSticker", "sendContact", "sendLocation", "sendVenue", "sendPoll", "sendDice",
    "sendMediaGroup", "sendInvoice", "sendPaidMedia", "copyMessage", "copyMessages", "forwardMessage",
    "forwardMessages"))


# Set by a sender that handles 429s itself (the outbox dispatcher puts the row back and sends
# other chats meanwhile): its refused requests are raised at once instead of retried.
_RAISE_REFUSALS: ContextVar[bool] = ContextVar("raise_refusals", default=False)


def raise_refusals_at_once() -> None:
    """From now on, in this task, a 429 is raised to the caller at once (never waited out).
    Such a sender works in the background, so its requests also wait behind replies."""
    _RAISE_REFUSALS.set(True)


# Who waits for a window: a customer waiting for an answer goes before background sends
# (the outbox's rows), which only lose a few milliseconds of a broadcast's hour.
REPLY, BACKGROUND = 0, 1


def _priority() -> int:
    return BACKGROUND if _RAISE_REFUSALS.get() else REPLY


class PriorityTurn:
    """A lock whose waiters are served by priority (lower first), then first come, first
    served. asyncio.Lock serves strictly in order, which made a reply wait behind every
    dispatcher sender already queued for the bot's overall window."""

    def __init__(self) -> None:
        self._locked = False
        self._waiters: list[tuple[int, int, asyncio.Future]] = []
        self._arrival = itertools.count()

    async def acquire(self, priority: int) -> None:
        if not self._locked and not self._waiters:
            self._locked = True
            return
        handed = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (priority, next(self._arrival), handed))
        try:
            await handed
        except asyncio.CancelledError:
            if handed.done() and not handed.cancelled():
                self.release()  # the turn was handed over just as we were cancelled: pass it on
            raise

    def release(self) -> None:
        """Hand the turn to the first waiter still waiting (cancelled ones are skipped)."""
        while self._waiters:
            handed = heapq.heappop(self._waiters)[2]
            if not handed.done():
                handed.set_result(None)
                return
        self._locked = False

    @contextlib.asynccontextmanager
    async def held(self, priority: int):
        await self.acquire(priority)
        try:
            yield
        finally:
            self.release()


def retry_after_seconds(error: RetryAfter) -> float:
    """How long Telegram said to wait (PTB gives seconds or a timedelta)."""
    delay = error.retry_after
    return delay.total_seconds() if isinstance(delay, timedelta) else float(delay)


class SlidingWindow:
    """An async context manager around one request: it starts when, for every ``(limit,
    period)``, fewer than ``limit`` requests are in flight or were *answered* less than
    ``period`` seconds ago, and no sooner than ``spacing`` after the previous start.

    Telegram counts a message at some moment between our sending it and its answer. Counting
    from the answer therefore keeps every window Telegram can see within the limit, however the
    network delays single requests; pacing by start times alone (aiolimiter's leaky bucket, even
    as ``AsyncLimiter(1, 1/rate)``) would let jitter put 31 messages into Telegram's second, and
    ``AsyncLimiter(20, 60)`` allows a burst of 20 and then one every 3 s, which a sliding
    minute refuses. The price is one round trip per window (30 per 1.01 s at 10 ms). Replies
    are served before background sends (:class:`PriorityTurn`), each kind first come, first
    served, so a customer's reply waits for at most one background send already started.
    """

    def __init__(self, limits: tuple[tuple[int, float], ...], spacing: float = 0.0):
        self.limits = tuple(limits)
        self.spacing = spacing
        self.max_rate = max(limit for limit, _ in self.limits)
        self._span = max(period for _, period in self.limits)
        self._in_flight = 0
        self._answered: deque[float] = deque()
        self._next_start = -math.inf
        self._turn = PriorityTurn()
        self._released = asyncio.Event()

    def _delay(self, now: float) -> float | None:
        """Seconds until a request may start (0: now; None: when one in flight is answered)."""
        answered = self._answered
        while answered and answered[0] <= now - self._span:
            answered.popleft()
        delay = max(0.0, self._next_start - now)
        for limit, period in self.limits:
            recent = [t for t in answered if t > now - period]
            excess = self._in_flight + len(recent) - limit + 1
            if excess > 0:
                if excess > len(recent):
                    return None
                delay = max(delay, recent[excess - 1] + period - now)
        return delay

    def idle(self) -> bool:
        now = asyncio.get_running_loop().time()
        return self._in_flight == 0 and self._delay(now) == 0

    async def __aenter__(self) -> "SlidingWindow":
        loop = asyncio.get_running_loop()
        async with self._turn.held(_priority()):
            while True:
                now = loop.time()
                delay = self._delay(now)
                if delay == 0:
                    break
                if delay is None:
                    self._released.clear()
                    await self._released.wait()
                else:
                    await asyncio.sleep(delay)
            self._in_flight += 1
            # Paced by the schedule, not by the moment we woke up: a late wake-up (a busy machine)
            # is made up for, by up to CATCH_UP starts in quick succession, which the windows
            # still bound; a request after a pause does not earn a longer burst.
            self._next_start = max(self._next_start, now - CATCH_UP * self.spacing) + self.spacing
        return self

    async def __aexit__(self, *exc_info) -> None:
        self._in_flight -= 1
        self._answered.append(asyncio.get_running_loop().time())
        self._released.set()


class TelegramRateLimiter(BaseRateLimiter[None]):
    """The bot's rate limiter (PTB's public ``BaseRateLimiter`` interface), with exact windows:
    at most ``messages_per_second`` requests with a chat id in any second, evenly paced; per
    group 20 messages a minute and one a second; per private chat one message a second. Written
    on the interface rather than on PTB's ``AIORateLimiter``, whose leaky buckets let bursts
    through (see :class:`SlidingWindow`).

    A handler's reply refused with 429 is sent again after Telegram's ``retry_after`` (up to
    ``REPLY_RETRIES`` times); the dispatcher's are raised at once (``raise_refusals_at_once``:
    it puts the row back and sends other chats meanwhile). When several chats are refused
    within a short time, every request waits for ``retry_after``: the bot as a whole is over
    the limit."""

    def __init__(self, messages_per_second: float = 30.0):
        if messages_per_second <= 0:
            raise ValueError("messages_per_second must be positive")
        self.messages_per_second = messages_per_second
        self._overall = SlidingWindow(((max(1, int(messages_per_second)), 1.0),), spacing=1.0 / messages_per_second)
        self._groups: dict[int | str, SlidingWindow] = {}
        self._chats: dict[int, SlidingWindow] = {}
        self._refusals: deque[tuple[float, object]] = deque()
        self._paused_until = 0.0
        self._running = asyncio.Event()  # cleared while all sends pause
        self._running.set()

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    def _chat_window(self, chat_id: int | str, endpoint: str) -> SlidingWindow | None:
        """The window of the chat a message goes to: a group's (20 a minute) or a private
        chat's (one a second). Edits, callback answers and the like count against neither."""
        if endpoint.lower() not in SEND_ENDPOINTS:
            return None
        is_group = (isinstance(chat_id, int) and chat_id < 0) or isinstance(chat_id, str)
        windows = self._groups if is_group else self._chats
        if len(windows) > FORGET_IDLE_ABOVE:
            for key, window in list(windows.items()):
                if key != chat_id and window.idle():
                    del windows[key]
        if chat_id not in windows:
            limits = ((GROUP_MESSAGES_PER_MINUTE, 60.0), (1, 1.0)) if is_group else ((1, CHAT_SECONDS),)
            windows[chat_id] = SlidingWindow(limits)
        return windows[chat_id]

    async def process_request(self, callback, args, kwargs, endpoint, data, rate_limit_args):
        chat_id = data.get("chat_id")
        with contextlib.suppress(ValueError, TypeError):
            chat_id = int(chat_id)
        in_chat = self._chat_window(chat_id, endpoint) if chat_id is not None else None
        overall = self._overall if chat_id is not None else None
        retries = 0 if _RAISE_REFUSALS.get() else REPLY_RETRIES
        while True:
            try:
                async with in_chat or contextlib.nullcontext(), overall or contextlib.nullcontext():
                    await self._running.wait()
                    return await callback(*args, **kwargs)
            except RetryAfter as error:
                wait = retry_after_seconds(error)
                self._refused(chat_id, wait)
                if retries <= 0 or wait > REPLY_MAX_WAIT_SECONDS:
                    raise
                retries -= 1
                log.info("telegram refused a reply for now; sending it again", extra={"chat_id": chat_id,
                                                                                     "seconds": wait})
                await asyncio.sleep(wait)

    def _refused(self, chat_id: object, retry_after: float) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        self._refusals.append((now, chat_id))
        while self._refusals[0][0] < now - FLOOD_WINDOW_SECONDS:
            self._refusals.popleft()
        if len({chat for _, chat in self._refusals}) < FLOOD_CHATS or now + retry_after <= self._paused_until:
            return
        self._paused_until = now + retry_after
        self._running.clear()  # every request waits for it (see process_request)
        loop.call_at(self._paused_until, self._resume)
        log.warning("telegram rate-limits the bot as a whole; all sends pause", extra={"seconds": retry_after})

    def _resume(self) -> None:
        if asyncio.get_running_loop().time() >= self._paused_until - 0.001:
            self._running.set()
