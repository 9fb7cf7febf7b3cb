"""Updates of different chats run concurrently; updates of one chat run in order; a chat that
floods the bot is slowed down before its updates cost anything.

PTB either processes all updates one after another (slow when fifty customers write at once)
or all concurrently (a customer's "ja" could overtake the question it answers). This
processor keeps one lock per chat, so only a chat's own updates wait for each other.

PTB's own processor takes one of its slots before an update waits for anything, so a long
queue of one chat could hold every slot. Here an update first passes the chat's inbound limit
(:class:`InboundLimit`), then waits for its chat's turn, and only then takes a slot. What the
limit drops never reaches the NLU or the database; the chat is told once to slow down.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from telegram import Update
from telegram.ext import BaseUpdateProcessor

DEFAULT_BURST = 5  # messages a chat may send at once ...
DEFAULT_REFILL_SECONDS = 2.0  # ... and then one every this many seconds
FORGET_AFTER_SECONDS = 600.0  # a chat's bucket is forgotten when it has been full this long


@dataclass
class _Bucket:
    tokens: float
    updated: float
    flooding: bool = False  # dropped something since the bucket was last full


class InboundLimit:
    """A token bucket per chat: ``burst`` updates at once, then one per ``refill_seconds``.

    A chat that waits for the bot's answer before it writes again is never limited: while it
    is not flooding, an update of a chat with nothing in progress passes even without a token
    (a customer tapping through menus, a barista booking quickly). Once a chat had an update
    dropped, only tokens count until its bucket is full again."""

    def __init__(self, burst: int = DEFAULT_BURST, refill_seconds: float = DEFAULT_REFILL_SECONDS,
                 clock: Callable[[], float] = time.monotonic):
        if burst < 1 or refill_seconds <= 0:
            raise ValueError("the inbound limit needs a burst of at least 1 and a positive refill time")
        self.burst = burst
        self.refill_seconds = refill_seconds
        self._clock = clock
        self._buckets: dict[int, _Bucket] = {}

    def admit(self, chat: int, idle: bool) -> bool | None:
        """True: handle the update. False: drop it. None: drop it, and it is the first drop of
        this flood (the moment to tell the chat to slow down)."""
        now = self._clock()
        bucket = self._refilled(chat, now)
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return True
        if idle and not bucket.flooding:
            return True
        first = not bucket.flooding
        bucket.flooding = True
        return None if first else False

    def _refilled(self, chat: int, now: float) -> _Bucket:
        bucket = self._buckets.get(chat)
        if bucket is None:
            if len(self._buckets) > 10_000:
                self._forget_calm(now)
            bucket = self._buckets[chat] = _Bucket(float(self.burst), now)
            return bucket
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.updated) / self.refill_seconds)
        bucket.updated = now
        if bucket.tokens >= self.burst:
            bucket.flooding = False
        return bucket

    def _forget_calm(self, now: float) -> None:
        full_after = self.burst * self.refill_seconds + FORGET_AFTER_SECONDS
        for chat in [chat for chat, bucket in self._buckets.items() if now - bucket.updated > full_after]:
            del self._buckets[chat]


# Told to a chat, once per flood, that its messages are being dropped: (update) -> None
SlowDownNotice = Callable[[Update], None]


class PerChatUpdateProcessor(BaseUpdateProcessor):
    def __init__(self, max_concurrent_updates: int = 256, inbound: InboundLimit | None = None,
                 on_flood: SlowDownNotice | None = None):
        super().__init__(max_concurrent_updates)
        self.inbound = inbound
        self.on_flood = on_flood
        self._locks: dict[int | None, asyncio.Lock] = {}
        self._users: dict[int | None, int] = {}

    async def process_update(self, update: object, coroutine: Awaitable) -> None:
        key = _chat_key(update)
        limited = _limited_chat(update)
        if self.inbound is not None and limited is not None:
            # A customer who waited for the answer may find their previous update still finishing
            # (the message log is written after the reply): one update in progress is still idle.
            admitted = self.inbound.admit(limited, idle=self._users.get(key, 0) <= 1)
            if not admitted:
                _discard(coroutine)
                if admitted is None and self.on_flood is not None:
                    self.on_flood(update)
                return
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:  # the chat's turn first, then a slot: a waiting chat holds no slot
                async with self._semaphore:
                    await coroutine
        finally:
            self._users[key] -= 1
            if not self._users[key]:  # forget idle chats so the dict does not grow forever
                del self._users[key], self._locks[key]

    async def do_process_update(self, update: object, coroutine: Awaitable) -> None:
        await coroutine  # process_update above does the ordering; this is only PTB's interface

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass


def _chat_key(update: object) -> int | None:
    if isinstance(update, Update):
        if update.effective_chat is not None:
            return update.effective_chat.id
        if update.effective_user is not None:
            return update.effective_user.id
    return None


def _limited_chat(update: object) -> int | None:
    """The private chat whose messages and button presses count against the inbound limit.
    Groups (the staff group) and updates about the chat itself (blocked, unblocked) are not
    limited: staff are not flooders, and a block must always be recorded."""
    if not isinstance(update, Update) or update.my_chat_member is not None:
        return None
    chat = update.effective_chat
    if chat is None or chat.type != "private":
        return None
    return chat.id


def _discard(coroutine: Awaitable) -> None:
    close = getattr(coroutine, "close", None)
    if close is not None:
        close()  # never awaited: close it so Python does not warn about it
