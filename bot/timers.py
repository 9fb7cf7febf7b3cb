"""Timed work beside the chat: SLA reminders and escalations, and follow-ups after a ticket was
solved. APScheduler triggers a short check every second; the deadlines themselves live in
the database (see ``domain.tickets.process_timers``), so a restart loses none of them and a
clock moved forward in tests is seen at the next check."""

from __future__ import annotations

import logging

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.services import Services
from domain import tickets

log = logging.getLogger(__name__)

CHECK_SECONDS = 1.0  # one indexed query; a deadline is never more than this late


class Timers:
    def __init__(self, services: Services):
        self.services = services
        self.scheduler = AsyncIOScheduler(timezone="UTC")

    def start(self) -> None:
        # One run at a time; a run that was late is not repeated (the next one catches up).
        self.scheduler.add_job(self.check, "interval", seconds=CHECK_SECONDS, id="ticket-timers",
                               max_instances=1, coalesce=True, misfire_grace_time=None)
        self.scheduler.start()

    def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    async def check(self) -> int:
        s = self.services
        try:
            queued = await s.db(tickets.process_timers, s.ticket_rules, s.now())
        except Exception:
            log.exception("ticket timers failed; trying again at the next check")
            return 0
        if queued:
            log.info("ticket timers queued messages", extra={"messages": queued})
            s.outbox_changed()
        return queued
