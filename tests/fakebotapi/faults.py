"""Failure injection: scripted errors, response latency and Telegram-like flood limits.

* :class:`ErrorInjector` — "the next N matching calls fail with status X".
* :class:`RandomErrors` — "each matching call fails with probability p" (seeded, repeatable).
* :class:`LatencyPolicy` — delay responses (the call still takes effect, like a slow
  network: the client may time out although Telegram delivered the message).
* :class:`RateLimiter` — sliding-window limits per bot, per chat and per group; answers
  429 with ``retry_after`` computed from the window, deterministic for a given clock.
"""

from __future__ import annotations

import math
import random
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass

from .errors import ApiError, error_for_status, too_many_requests

# Methods that count as "sending a message" for flood control.
SEND_METHODS = frozenset(
    {
        "sendmessage", "sendphoto", "senddocument", "sendaudio", "sendvideo",
        "sendanimation", "sendvoice", "sendvideonote", "sendsticker", "sendcontact", "sendlocation",
        "sendpoll", "sendmediagroup", "copymessage", "forwardmessage",
    }
)  # fmt: skip


@dataclass
class InjectedError:
    method: str | None  # lower-case method name; None matches every method
    status: int
    description: str | None
    retry_after: int | None
    chat_id: int | str | None
    remaining: int

    def matches(self, method: str, chat_id: int | str | None) -> bool:
        if self.remaining <= 0:
            return False
        if self.method is not None and self.method != method:
            return False
        return self.chat_id is None or self.chat_id == chat_id


class ErrorInjector:
    def __init__(self) -> None:
        self._pending: list[InjectedError] = []

    def add(
        self,
        method: str | None,
        status: int,
        description: str | None = None,
        retry_after: int | None = None,
        chat_id: int | str | None = None,
        times: int = 1,
    ) -> None:
        name = None if method in (None, "*") else method.lower()
        self._pending.append(InjectedError(name, status, description, retry_after, chat_id, times))

    def take(self, method: str, chat_id: int | str | None) -> ApiError | None:
        """Consume one matching injection (oldest first) and return its error."""
        for injected in self._pending:
            if injected.matches(method, chat_id):
                injected.remaining -= 1
                return error_for_status(injected.status, injected.description, injected.retry_after)
        return None

    def clear(self) -> None:
        self._pending.clear()

    @property
    def pending(self) -> int:
        return sum(max(i.remaining, 0) for i in self._pending)


class RandomErrors:
    """Each call of the given methods fails with ``probability`` (e.g. occasional 429s, as
    Telegram gives them now and then); a seed makes a run repeatable."""

    def __init__(
        self,
        probability: float,
        status: int = 429,
        retry_after: int | None = 1,
        methods: frozenset[str] | None = SEND_METHODS,
        seed: int | None = 0,
    ) -> None:
        self.probability = probability
        self.status = status
        self.retry_after = retry_after
        self.methods = methods
        self._random = random.Random(seed)
        self.given = 0

    def take(self, method: str) -> ApiError | None:
        if self.methods is not None and method not in self.methods:
            return None
        if self._random.random() >= self.probability:
            return None
        self.given += 1
        return error_for_status(self.status, None, self.retry_after)


class LatencyPolicy:
    """Delay applied to responses; getUpdates is excluded unless named explicitly."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.methods: frozenset[str] | None = None
        self.chat_id: int | str | None = None

    def set(self, seconds: float, methods: list[str] | None = None, chat_id: int | str | None = None) -> None:
        self.seconds = float(seconds)
        self.methods = None if methods is None else frozenset(m.lower() for m in methods)
        self.chat_id = chat_id

    def delay_for(self, method: str, chat_id: int | str | None = None) -> float:
        if self.seconds <= 0:
            return 0.0
        if self.chat_id is not None and chat_id != self.chat_id:
            return 0.0
        if self.methods is None:
            return 0.0 if method == "getupdates" else self.seconds
        return self.seconds if method in self.methods else 0.0


class ArrivalJitter:
    """Requests reach the fake late by a random time (a congested uplink): the flood limits
    count them when they arrive, so even pacing at the client is not enough."""

    def __init__(self, max_seconds: float, methods: frozenset[str] | None = SEND_METHODS, seed: int | None = 0):
        self.max_seconds = max_seconds
        self.methods = methods
        self._random = random.Random(seed)

    def delay_for(self, method: str) -> float:
        if self.methods is not None and method not in self.methods:
            return 0.0
        return self._random.uniform(0.0, self.max_seconds)


class _SlidingWindow:
    def __init__(self, limit: int, period: float) -> None:
        self.limit = limit
        self.period = period
        self.stamps: deque[float] = deque()

    def retry_after(self, now: float) -> float | None:
        while self.stamps and self.stamps[0] <= now - self.period:
            self.stamps.popleft()
        if len(self.stamps) < self.limit:
            return None
        return self.stamps[0] + self.period - now

    def add(self, now: float) -> None:
        self.stamps.append(now)


class RateLimiter:
    """Telegram's documented limits: ~30 msg/s overall, 1 msg/s per chat, 20 msg/min per group."""

    def __init__(
        self,
        clock: Callable[[], float],
        global_per_second: int = 30,
        per_chat_per_second: int = 1,
        per_group_per_minute: int = 20,
    ) -> None:
        self._clock = clock
        self._global = _SlidingWindow(global_per_second, 1.0)
        self._per_chat_limit = per_chat_per_second
        self._per_group_limit = per_group_per_minute
        self._chats: dict[int | str, _SlidingWindow] = {}
        self._groups: dict[int | str, _SlidingWindow] = {}
        self.hits = 0
        self.hits_by_chat: Counter[int | str] = Counter()

    def _windows(self, chat_id: int | str, is_group: bool) -> list[_SlidingWindow]:
        windows = [
            self._global,
            self._chats.setdefault(chat_id, _SlidingWindow(self._per_chat_limit, 1.0)),
        ]
        if is_group:
            windows.append(
                self._groups.setdefault(chat_id, _SlidingWindow(self._per_group_limit, 60.0))
            )
        return windows

    def check(self, chat_id: int | str, is_group: bool) -> ApiError | None:
        """Return a 429 error if sending now would exceed a limit (and count it)."""
        now = self._clock()
        waits = [w.retry_after(now) for w in self._windows(chat_id, is_group)]
        blocking = [wait for wait in waits if wait is not None]
        if not blocking:
            return None
        self.hits += 1
        self.hits_by_chat[chat_id] += 1
        return too_many_requests(max(1, math.ceil(max(blocking))))

    def record(self, chat_id: int | str, is_group: bool) -> None:
        """Count a successful send."""
        now = self._clock()
        for window in self._windows(chat_id, is_group):
            window.add(now)
