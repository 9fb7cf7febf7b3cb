"""Updates of different chats run concurrently; updates of one chat run in order.

PTB either processes all updates one after another (slow when fifty customers write at once)
or all concurrently (a customer's "ja" could overtake the question it answers). This
processor keeps one lock per chat, so only a chat's own updates wait for each other.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from telegram import Update
from telegram.ext import BaseUpdateProcessor


class PerChatUpdateProcessor(BaseUpdateProcessor):
    def __init__(self, max_concurrent_updates: int = 256):
        super().__init__(max_concurrent_updates)
        self._locks: dict[int | None, asyncio.Lock] = {}
        self._users: dict[int | None, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable) -> None:
        key = _chat_key(update)
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            self._users[key] -= 1
            if not self._users[key]:  # forget idle chats so the dict does not grow forever
                del self._users[key], self._locks[key]

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
