"""Everything a handler needs, in one object stored in ``application.bot_data``."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
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
from domain import campaigns, ledger, marketing, owners, purchases, report_days, reports, team, tickets
from domain.config import ShopConfig
from domain.rules import nps
from nlu.client import NluClient
from nlu.faq import FaqCatalog
from storage.db import OUTBOX_WRITTEN, Store
from sqlmodel import Session

T = TypeVar("T")
log = logging.getLogger(__name__)


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
    # Cleared again while a bundled NLU server that died is starting again (same waiting rule).
    nlu_settled: asyncio.Event = field(default_factory=asyncio.Event)
    # After a failed parse: whether the bundled NLU server died (and is starting again).
    nlu_lost: Callable[[], Awaitable[bool]] | None = None
    outbox_wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    staff_chat_filter: Any = None  # the handlers' filters.Chat of the staff group (follows its moves)

    def __post_init__(self) -> None:
        if self.nlu is not None:  # given ready-made (an NLU_URL, the tests): nothing to wait for
            self.nlu_settled.set()
        # The owners and staff group of config.yml, before the database's (``stored_team``) apply.
        self._configured_team = (self.config.staff.admin_ids, self.config.staff.staff_chat_id)

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

    async def read(self, use_case: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a use case that only reads (``Store.reading``: no write lock on SQLite), off the
        event loop. What the update deferred waits for the next ``db``."""
        def read_only() -> T:
            with self.store.reading() as session:
                return use_case(session, *args, **kwargs)

        return await asyncio.to_thread(read_only)

    def defer(self, write: Callable[..., None], *args: Any) -> None:
        """Do ``write(session, *args)`` in the next transaction of the update being handled
        (``db``), or at its end (``flush_deferred``): a message's bookkeeping (the message
        log) then shares the transaction of the message's answer instead of costing its own."""
        _DEFERRED.set([*_DEFERRED.get(), _bound(write, args)])

    async def flush_deferred(self) -> None:
        """Write what the update deferred and no transaction took along."""
        if _DEFERRED.get():
            await self.db(_nothing)

    async def refresh_kept_figures(self) -> int:
        """Sum the kept tier points and year revenues again where they no longer fit, a batch per
        transaction (``ledger.refresh_tier_points``, ``purchases.refresh_year_revenue``);
        returns how many customer rows were refreshed."""
        now, after, refreshed = self.now(), 0, 0
        while (done := await self.db(ledger.refresh_tier_points, self.config.loyalty, now, after)) is not None:
            refreshed, after = refreshed + done[0], done[1]
        while done := await self.db(purchases.refresh_year_revenue, now):
            refreshed += done
        return refreshed

    async def keep_report_days(self) -> int:
        """Keep the shop's standing at every midnight of the report's last days
        (``report_days``): counted while reading, written in a short transaction, a few days
        per round; returns how many days were added."""
        counting = reports.counting_of(reports.rules_from(self.config))
        zone, added = ZoneInfo(self.config.shop.timezone), 0
        while done := await self.db(report_days.write, await self.read(report_days.look, counting, zone, self.now())):
            added += done
        return added

    async def count_report(self, period: nps.Period, before: nps.Period) -> reports.Report:
        """The figures of ``period`` and of ``before`` (the period it is compared with), counted
        side by side, each in a read of its own (two cores, and SQLite's queries let go of
        Python's lock): without SQLite's write lock, so bookings at the counter go on meanwhile.
        The past figures that had to be counted are cached afterwards in a short write of their
        own (``reports.remember``)."""
        rules, now = reports.rules_from(self.config), self.now()
        cache = reports.cached_for(period, now)
        current, previous = await asyncio.gather(*(self.read(reports.count, each, rules, now, cache)
                                                   for each in (period, before)))
        report = reports.report_of(current, previous)
        if report.counted:
            await self.db(reports.remember, report)
        return report

    async def follow_chat_migration(self, old_chat_id: int, new_chat_id: int) -> bool:
        """A group became a supergroup with a new id: waiting messages follow it, and when it is
        the staff group, everything uses the new id from now on (stored, so also after a
        restart; ``team.follow_chat_migration``). Returns whether the staff group moved."""
        moved = await self.db(team.follow_chat_migration, old_chat_id, new_chat_id, self.config.staff.staff_chat_id,
                              self.config.staff.admin_ids, self.now())
        if moved:
            self.use_staff_chat(new_chat_id)
            log.warning("the staff group became a supergroup; following it",
                        extra={"old_chat_id": old_chat_id, "new_chat_id": new_chat_id})
        return moved

    def stored_team(self, session: Session) -> tuple[int | None, tuple[int, ...]]:
        """The staff group and the owners as the environment, config.yml and the database say
        (owners made with the owner code, a group chosen with the button or one that moved)."""
        configured_owners, configured_chat = self._configured_team
        staff_chat = team.current_staff_chat(session, configured_chat, self.settings.staff_chat_id is not None)
        found = owners.owners(session, self.settings.parsed_admin_ids(), configured_owners)
        return staff_chat, tuple(owner.telegram_user_id for owner in found)

    def use_team(self, staff_chat: int | None, owner_ids: tuple[int, ...]) -> bool:
        """Use the staff group and owners ``stored_team`` read; returns whether anything changed."""
        staff_chat_changed = self.use_staff_chat(staff_chat)
        return self.use_owners(owner_ids) or staff_chat_changed

    async def follow_team(self) -> bool:
        """Another replica may have made an owner or chosen the staff group meanwhile: follow
        what the database says (a timer job). Returns whether anything changed."""
        changed = self.use_team(*await self.read(self.stored_team))
        if changed:
            log.info("the owners or the staff group changed elsewhere; following",
                     extra={"staff_chat_id": self.config.staff.staff_chat_id, "owners": len(self.config.staff.admin_ids)})
        return changed

    def use_staff_chat(self, chat_id: int | None) -> bool:
        """Use ``chat_id`` as the staff group (the id stored after a move, or at start); returns
        whether it changed."""
        if chat_id is None or chat_id == self.config.staff.staff_chat_id:
            return False
        self.config = self.config.with_overrides(None, chat_id)
        self._forget_derived_rules()
        if self.staff_chat_filter is not None:
            self.staff_chat_filter.chat_ids = {chat_id}
        return True

    def use_owners(self, owner_ids: tuple[int, ...]) -> bool:
        """Use ``owner_ids`` as the owners (``domain.owners``: the configured ones and those made
        in the chat, at start, or the first owner the moment they sent the owner code); returns
        whether they changed."""
        if tuple(owner_ids) == self.config.staff.admin_ids:
            return False
        self.config = self.config.with_overrides(tuple(owner_ids), None)
        self._forget_derived_rules()  # the escalation targets and the team's ids follow the owners
        return True

    def _forget_derived_rules(self) -> None:
        for derived in ("ticket_rules", "marketing_rules", "campaign_rules"):
            self.__dict__.pop(derived, None)  # cached from the old config

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
