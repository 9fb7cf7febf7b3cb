"""Waiting for state changes without sleep-polling.

All mutations of the fake's state call :meth:`ChangeNotifier.notify`, which wakes every
coroutine blocked in :meth:`ChangeNotifier.wait_for`. Waiters re-check their predicate
after each wake-up, so there is no polling interval and no race between "check" and
"wait": the event a waiter sleeps on is taken *before* the predicate is evaluated.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class ChangeNotifier:
    """A broadcast "something changed" signal built on :class:`asyncio.Event`."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        """Wake all current waiters (synchronous, callable from any state mutator)."""
        event, self._event = self._event, asyncio.Event()
        event.set()

    async def wait_for(self, predicate: Callable[[], T | None], timeout: float | None) -> T:
        """Return the first truthy value of ``predicate()``; raise ``TimeoutError`` on timeout.

        ``timeout=None`` waits forever.
        """
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            event = self._event  # taken before checking, so no notification is missed
            result = predicate()
            if result:
                return result
            if deadline is None:
                await event.wait()
                continue
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                result = predicate()
                if result:
                    return result
                raise
