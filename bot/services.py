"""Everything a handler needs, in one object stored in ``application.bot_data``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cached_property
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from telegram.ext import ContextTypes

from bot.settings import Settings
from bot.texts import Texts, Voice
from domain.clock import Clock
from domain import campaigns, ledger, marketing, tickets
from domain.config import ShopConfig
from nlu.client import NluClient
from nlu.faq import FaqCatalog
from storage.db import OUTBOX_WRITTEN, Store
from sqlmodel import Session

T = TypeVar("T")


@dataclass
class Services:
    settings: Settings
    config: ShopConfig
    store: Store
    texts: Texts
    faq: FaqCatalog
    clock: Clock
    nlu: NluClient | None = None  # None until the NLU server is ready
    # Set once the NLU is ready or will not be (the bundled server failed, no model): free text
    # that arrives before waits for it instead of being answered "I can't understand".
    nlu_settled: asyncio.Event = field(default_factory=asyncio.Event)
    outbox_wakeup: asyncio.Event = field(default_factory=asyncio.Event)

    async def db(self, use_case: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a use case in one transaction, off the event loop (database calls block).

        Writes deferred by the update being handled (``defer``) go into the same transaction,
        first; when the transaction queued outbox rows, the dispatcher is woken once it is
        committed (nobody has to remember to)."""
        deferred = _take_deferred()

        def unit_of_work() -> tuple[T, bool]:
            with self.store.session() as session:
                for write in deferred:
                    write(session)
                result = use_case(session, *args, **kwargs)
            return result, session.info.get(OUTBOX_WRITTEN, False)

        try:
            result, queued = await asyncio.to_thread(unit_of_work)
        except BaseException:
            if deferred:  # a refused use case (rolled back) must not lose what the update deferred
                await self.db(_write_all, deferred)
            raise
        if queued:
            self.outbox_changed()
        return result

    def defer(self, write: Callable[..., None], *args: Any) -> None:
        """Do ``write(session, *args)`` in the next transaction of the update being handled
        (``db``), or at its end (``flush_deferred``): a message's bookkeeping (the message
        log) then shares the transaction of the message's answer instead of costing its own."""
        _DEFERRED.set([*_DEFERRED.get(), _bound(write, args)])

    async def flush_deferred(self) -> None:
        """Write what the update deferred and no transaction took along."""
        if _DEFERRED.get():
            await self.db(_nothing)

    async def refresh_tier_points(self) -> int:
        """Sum the kept tier points again where they no longer fit, a batch per transaction
        (``ledger.refresh_tier_points``); returns how many customers were refreshed."""
        now, after, refreshed = self.now(), 0, 0
        while (done := await self.db(ledger.refresh_tier_points, self.config.loyalty, now, after)) is not None:
            refreshed, after = refreshed + done[0], done[1]
        return refreshed

    @cached_property
    def ticket_rules(self) -> tickets.Rules:
        return tickets.rules_from(self.config)

    @cached_property
    def marketing_rules(self) -> marketing.Rules:
        return marketing.rules_from(self.config)

    @cached_property
    def campaign_rules(self) -> campaigns.Rules:
        return campaigns.rules_from(self.config)

    def now(self) -> datetime:
        return self.clock.now()

    def local(self, moment: datetime) -> datetime:
        """A stored (UTC) time in the shop's time zone, for showing it to people."""
        return moment.astimezone(ZoneInfo(self.config.shop.timezone))

    @property
    def staff_voice(self) -> Voice:
        return Voice(self.config.shop.language, self.config.formal)

    def voice(self, language: str) -> Voice:
        return Voice(language, self.config.formal and language == "de")

    def outbox_changed(self) -> None:
        """Tell the dispatcher that rows are waiting, so it need not wait for its next poll."""
        self.outbox_wakeup.set()


# Writes deferred by the update being handled. PTB handles every update in a task of its own,
# and each task has its own copy of the context, so updates never see each other's writes.
_DEFERRED: ContextVar[list[Callable[[Session], None]]] = ContextVar("deferred_writes", default=[])


def _bound(write: Callable[..., None], args: tuple) -> Callable[[Session], None]:
    return lambda session: write(session, *args)


def _take_deferred() -> list[Callable[[Session], None]]:
    deferred = _DEFERRED.get()
    if deferred:
        _DEFERRED.set([])
    return deferred


def _write_all(session: Session, writes: list[Callable[[Session], None]]) -> None:
    for write in writes:
        write(session)


def _nothing(_session: Session) -> None:
    """A use case that does nothing: the deferred writes before it are the transaction."""


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    return context.application.bot_data["services"]
